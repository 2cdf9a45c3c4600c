"""The « Tableau de bord » (issue 16): per class and période, the bilans imported, à compléter (and
what they lack), complete but not locked, locked, each count with the search that lists them.

Bilans are real ones: a generated file, checked and split, imported with `merge_import` (a Sconet
Notes partial bilan lacks the appréciation générale, the vie scolaire and the éléments de
programme), then completed with `apply_edit` and locked; the route on the in-memory runtime."""
from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from chalicelib.adapters.ports import BilanWrite, eleve_key
from chalicelib.api import dashboard as routes
from chalicelib.api.auth import Identity, issue_token
from chalicelib.api.bilans import search_views
from chalicelib.api.referentiel import store_referentiel
from chalicelib.domain.checks import EDITEUR, SCONET_NOTES
from chalicelib.domain.dashboard import tableau_de_bord
from chalicelib.domain.merge import BilanState, apply_edit, lock, merge_import, view
from chalicelib.domain.synthese import french_key
from chalicelib.runtime import memory_runtime
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from merge_data import CE, CPE, PP, T1, T2, split_file

SPEC = SchoolSpec(uai="0750456K", divisions_par_niveau=1, eleves_par_division=4)
VS = {"nb_retards": 0, "nb_abs_justifiees": 1, "nb_abs_injustifiees": 0, "nb_heures_manquees": 2,
      "commentaire": "Saisie CPE."}
P1, P3 = "P-2025-3-1", "P-2025-3-3"


def sconet(b: dict) -> dict:
    """The Sconet Notes partial version of a bilan: no AG, no vie scolaire, no éléments de programme."""
    out = copy.deepcopy(b)
    out.update(acquis_conseils=None, vie_scolaire=None, parcours=[], epis=[], acc_persos=[])
    for a in out.get("acquis", []):
        a["elements_programme"] = []
    return out


def imported(b: dict, mode: str) -> BilanState:
    r = merge_import(None, b, mode, "imp1", T1)
    assert r.state is not None, r.messages
    return r.state


def with_ag(s: BilanState) -> BilanState:
    return apply_edit(s, PP, "acquis_conseils", "Trimestre sérieux.", T2)


def completed(s: BilanState) -> BilanState:
    s = apply_edit(with_ag(s), CPE, "vie_scolaire", VS, T2)
    for key, a in view(s)["acquis"].items():
        if a["note"] and not a["elements_programme"]["valeur"]:
            s = apply_edit(s, CE, "elements_programme", [f"EP saisi en {a['discipline']}"], T2, code=key)
    return s


@pytest.fixture(scope="module")
def bilans(schema) -> list[dict]:
    return split_file(schema, SPEC.uai, generate_lsu_xml(SPEC, periodes=(1, 3)))


def of(bilans, division: str, cle: str) -> list[dict]:
    found = sorted((b for b in bilans if b["eleve"]["division"] == division and b["cle"] == cle),
                   key=lambda b: b["eleve"]["id_be"])
    assert found, (division, cle)
    return found


@pytest.fixture(scope="module")
def states(bilans) -> list[BilanState]:
    """4A (Sconet Notes): période 3 with one bilan in each state (partial, AG entered, complete,
    locked), période 1 partial; every other class imported from an Éditeur (complete and locked)."""
    out = []
    p3 = of(bilans, "4A", "P#2025#3#3")
    partial = [imported(sconet(b), SCONET_NOTES) for b in p3]
    out += [partial[0], with_ag(partial[1]), completed(partial[2]), lock(completed(partial[3]), PP)]
    out += [imported(sconet(b), SCONET_NOTES) for b in of(bilans, "4A", "P#2025#3#1")]
    out += [imported(b, EDITEUR) for b in bilans if b["eleve"]["division"] != "4A"]
    return out


def ep_lacks(s: BilanState) -> list[str]:
    return [a["discipline"] for a in view(s)["acquis"].values() if a["note"] and not a["elements_programme"]["valeur"]]


def divisions_of(bilans) -> dict:
    ref = generate_referentiel(SPEC)
    return {d["code"]: {**d, "mode_import": SCONET_NOTES if d["code"] == "4A" else d["mode_import"]}
            for d in ref["divisions"]}


# --- the pure function ------------------------------------------------------------------------------

def test_counts_per_class_and_periode_with_what_the_bilans_lack(bilans, states):
    views = [view(s) for s in states]
    classes = tableau_de_bord(views, divisions_of(bilans))
    assert [c["division"] for c in classes] == ["3A", "4A", "5A", "6A"]
    c4 = next(c for c in classes if c["division"] == "4A")
    assert (c4["niveau"], c4["mode"]) == ("4E", SCONET_NOTES)
    assert [(p["bilan"], p["libelle"]) for p in c4["periodes"]] == [
        (P1, "période 1/3 (2025)"), (P3, "période 3/3 (2025)")]
    p1, p3 = c4["periodes"]
    assert p3["importes"] == 4
    assert p3["a_completer"]["nombre"] == 2
    assert p3["complets_non_verrouilles"] == {"nombre": 1, "recherche": {"division": "4A", "bilan": P3, "statut": "COMPLET"}}
    assert p3["verrouilles"] == {"nombre": 1, "recherche": {"division": "4A", "bilan": P3, "statut": "VERROUILLE"}}
    assert p3["a_completer"]["recherche"] == {"division": "4A", "bilan": P3, "statut": "A_COMPLETER"}
    # Élève 1 lacks everything, élève 2 everything but the AG: each part counted once per bilan.
    first, second = states[0], states[1]
    expected = [{"partie": "appréciation générale", "nombre": 1}, {"partie": "vie scolaire", "nombre": 2}]
    lacks: dict[str, int] = {}
    for s in (first, second):
        for d in set(ep_lacks(s)):
            lacks[d] = lacks.get(d, 0) + 1
    assert lacks and max(lacks.values()) == 2
    manques = p3["a_completer"]["manques"]
    assert manques[:2] == expected
    assert {m["discipline"]: m["nombre"] for m in manques[2:]} == lacks
    assert all(m["partie"] == "éléments de programme" for m in manques[2:])
    assert [m["discipline"] for m in manques[2:]] == sorted(lacks, key=french_key)
    assert p1["importes"] == p1["a_completer"]["nombre"] == len(of(bilans, "4A", "P#2025#3#1"))
    assert p1["complets_non_verrouilles"]["nombre"] == p1["verrouilles"]["nombre"] == 0


def test_editeur_classes_and_fins_de_cycle_are_locked_and_sorted_after_the_periodes(bilans, states):
    classes = {c["division"]: c for c in tableau_de_bord([view(s) for s in states], divisions_of(bilans))}
    assert [p["bilan"] for p in classes["3A"]["periodes"]] == [P1, P3, "C-4-2025"]
    assert [p["bilan"] for p in classes["6A"]["periodes"]] == [P1, P3, "C-3-2025"]
    assert classes["3A"]["periodes"][2]["libelle"] == "fin de cycle 4 (2025)"
    for c in ("3A", "5A", "6A"):
        assert classes[c]["mode"] == EDITEUR
        for p in classes[c]["periodes"]:
            assert p["importes"] == p["verrouilles"]["nombre"] == SPEC.eleves_par_division
            assert p["a_completer"] == {"nombre": 0, "manques": [], "recherche": {
                "division": c, "bilan": p["bilan"], "statut": "A_COMPLETER"}}


def test_a_class_without_bilans_is_listed_empty_and_unknown_classes_are_left_out(bilans, states):
    views = [view(s) for s in states]
    assert tableau_de_bord(views, {"4B": {"niveau": "4E", "mode_import": SCONET_NOTES}}) == [
        {"division": "4B", "niveau": "4E", "mode": SCONET_NOTES, "periodes": []}]
    assert tableau_de_bord(views, {}) == []


def test_periodes_sort_by_number_not_by_text():
    views = [{"eleve": {"division": "4A"}, "cle": cle, "statut": "COMPLET", "verrouille": False, "manquants": []}
             for cle in ("C#4#2025", "P#2025#3#2", "P#2024#3#3", "P#2025#3#10", "P#2025#3#1")]
    (c,) = tableau_de_bord(views, {"4A": {}})
    assert [p["bilan"] for p in c["periodes"]] == ["P-2024-3-3", "P-2025-3-1", "P-2025-3-2", "P-2025-3-10", "C-4-2025"]
    assert (c["niveau"], c["mode"]) == (None, None)


MALFORMED_VIEWS = [
    None, "4A", 3, [], {}, {"eleve": "4A", "cle": "P#2025#3#1"}, {"eleve": {"division": 4}, "cle": "P#2025#3#1"},
    {"eleve": {"division": "4A"}}, {"eleve": {"division": "4A"}, "cle": "P#2025#3"},
    {"eleve": {"division": "4A"}, "cle": "P-2025-3-1"}, {"eleve": {"division": "4A"}, "cle": "P#20x5#3#1"},
    {"eleve": {"division": "4A"}, "cle": ["P#2025#3#1"]},
]


def test_malformed_views_are_left_out_and_odd_fields_never_count():
    odd = {"eleve": {"division": "4A"}, "cle": "P#2025#3#1", "statut": 5, "verrouille": "oui", "manquants": "tout"}
    lacking = {"eleve": {"division": "4A"}, "cle": "P#2025#3#1", "statut": "A_COMPLETER", "verrouille": None,
               "manquants": ["vie scolaire", 7, None, "", "éléments de programme en ", "vie scolaire"]}
    (c,) = tableau_de_bord([*MALFORMED_VIEWS, odd, lacking], {"4A": "pas un dict", 5: {}})
    (p,) = c["periodes"]
    assert (c["niveau"], p["importes"], p["a_completer"]["nombre"]) == (None, 2, 1)
    assert p["complets_non_verrouilles"]["nombre"] == p["verrouilles"]["nombre"] == 0
    assert p["a_completer"]["manques"] == [{"partie": "vie scolaire", "nombre": 1},
                                           {"partie": "éléments de programme", "discipline": "?", "nombre": 1}]
    assert tableau_de_bord(None, {}) == [] and tableau_de_bord(MALFORMED_VIEWS, {"4A": {}})[0]["periodes"] == []


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=10)
_view = st.fixed_dictionaries({"eleve": st.one_of(_json, st.fixed_dictionaries({"division": st.sampled_from(["4A", 4])})),
                               "cle": st.one_of(_json, st.sampled_from(["P#2025#3#1", "C#4#2025", "P#1#1"])),
                               "statut": st.one_of(_json, st.sampled_from(["A_COMPLETER", "COMPLET"])),
                               "verrouille": _json, "manquants": _json})


@hsettings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_json, _view), max_size=8))
def test_any_views_give_consistent_counts(views):
    for c in tableau_de_bord(views, {"4A": {}}):
        for p in c["periodes"]:
            total = p["a_completer"]["nombre"] + p["complets_non_verrouilles"]["nombre"] + p["verrouilles"]["nombre"]
            assert total <= p["importes"] and all(m["nombre"] <= p["a_completer"]["nombre"]
                                                  for m in p["a_completer"]["manques"])
            json.dumps(p)


# --- the route on the memory runtime ----------------------------------------------------------------

@pytest.fixture
def ref_data() -> dict:
    data = generate_referentiel(SPEC)
    for d in data["divisions"]:
        if d["code"] == "4A":
            d["mode_import"] = SCONET_NOTES
    return data


@pytest.fixture
def rt(settings, ref_data, states):
    rt = memory_runtime(settings)
    store_referentiel(rt, ref_data, None)
    for s in states:
        imp = s.importe
        rt.repos.bilans.save(BilanWrite((eleve_key(SPEC.uai, imp["eleve"]["id_be"]), imp["cle"]), s, None))
    return rt


def _request(rt, role: str, sub: str = "s1", params: dict | None = None, uai: str = SPEC.uai) -> SimpleNamespace:
    token = issue_token(rt.settings.token_secret, uai, role, sub=sub)
    return SimpleNamespace(headers={"authorization": f"Bearer {token}"}, query_params=params, context=None,
                           json_body=None)


def _get(rt, role: str, sub: str = "s1", params: dict | None = None, uai: str = SPEC.uai) -> tuple[int, dict]:
    r = routes.get_dashboard(_request(rt, role, sub, params, uai), rt)
    return r.status_code, json.loads(r.body)


def _codes(body: dict) -> list[str]:
    return [c["division"] for c in body["classes"]]


@pytest.mark.parametrize("role", ["CE", "DELEGUE_CE", "CPE"])
def test_the_head_the_delegates_and_the_cpe_see_every_class(rt, role):
    status, body = _get(rt, role)
    assert status == 200, body
    assert body["etablissement"] == {"uai": SPEC.uai, "nom": SPEC.nom}
    assert _codes(body) == ["3A", "4A", "5A", "6A"]
    c4 = body["classes"][1]
    assert (c4["niveau"], c4["mode"]) == ("4E", SCONET_NOTES)
    p3 = next(p for p in c4["periodes"] if p["bilan"] == P3)
    assert (p3["importes"], p3["a_completer"]["nombre"], p3["complets_non_verrouilles"]["nombre"],
            p3["verrouilles"]["nombre"]) == (4, 2, 1, 1)


def test_each_count_is_what_its_search_lists(rt):
    who = Identity(uai=SPEC.uai, role="CE", sub="s1")
    _, body = _get(rt, "CE")
    for c in body["classes"]:
        for p in c["periodes"]:
            assert len(search_views(rt, who, {"division": c["division"], "bilan": p["bilan"]})) == p["importes"]
            for count in ("a_completer", "complets_non_verrouilles", "verrouilles"):
                assert len(search_views(rt, who, p[count]["recherche"])) == p[count]["nombre"], (c, p, count)


def test_a_pp_sees_their_classes_and_a_teacher_their_services_classes(rt, ref_data):
    pp = next(d for d in ref_data["divisions"] if d["code"] == "4A")["profs_principaux"][0]
    pp_classes = sorted(d["code"] for d in ref_data["divisions"] if pp in d["profs_principaux"])
    status, body = _get(rt, "PP", pp)
    assert status == 200 and _codes(body) == pp_classes and "4A" in pp_classes
    teacher = next(s["enseignant"] for s in ref_data["services"] if s["division"] == "4A")
    taught = sorted({s["division"] for s in ref_data["services"] if s["enseignant"] == teacher})
    status, body = _get(rt, "ENSEIGNANT", teacher)
    assert status == 200 and _codes(body) == taught
    for role in ("PP", "ENSEIGNANT"):
        assert _get(rt, role, "inconnu") == (200, {"etablissement": {"uai": SPEC.uai, "nom": SPEC.nom}, "classes": []})


def test_one_class_by_its_code(rt, ref_data):
    status, body = _get(rt, "CE", params={"division": "4A"})
    assert status == 200 and _codes(body) == ["4A"]
    pp = next(d for d in ref_data["divisions"] if d["code"] == "4A")["profs_principaux"][0]
    other = next(d["code"] for d in ref_data["divisions"] if pp not in d["profs_principaux"])
    status, body = _get(rt, "PP", pp, {"division": other})
    assert status == 403 and body["erreur"]["code"] == "FORBIDDEN" and other in body["erreur"]["message"]
    status, body = _get(rt, "PP", pp, {"division": "4A"})
    assert status == 200 and _codes(body) == ["4A"]


@pytest.mark.parametrize("division, status, code", [("9Z", 404, "NOT_FOUND"), ("", 400, "BAD_REQUEST"),
                                                    (" ", 400, "BAD_REQUEST"), ("x" * 500, 404, "NOT_FOUND")])
def test_an_unknown_or_empty_class_is_a_french_error(rt, division, status, code):
    got, body = _get(rt, "CE", params={"division": division})
    assert got == status and body["erreur"]["code"] == code
    assert body["erreur"]["message"] and len(body["erreur"]["message"]) < 300
    if code == "NOT_FOUND":
        assert "référentiel" in body["erreur"]["message"]


def test_a_school_without_referentiel_is_a_409(settings):
    rt = memory_runtime(settings)
    status, body = _get(rt, "CE")
    assert status == 409 and body["erreur"]["code"] == "REFERENTIEL_ABSENT"


def test_another_school_and_no_token_are_refused(rt):
    status, body = _get(rt, "CE", params={"uai": "0750001A"})
    assert status == 403 and body["erreur"]["code"] == "FORBIDDEN"
    r = routes.get_dashboard(SimpleNamespace(headers={}, query_params=None, context=None, json_body=None), rt)
    assert r.status_code == 401


def test_malformed_stored_bilans_are_no_500(rt):
    key = eleve_key(SPEC.uai, "999")
    rt.repos.bilans.save(BilanWrite((key, "P#2025#3#3"), BilanState(
        importe={"eleve": {"division": "4A", "id_be": "999"}, "cle": "P#2025#3#3", "acquis": "x", "vie_scolaire": 3},
        mode=5, saisies="x", verrouille=False), None))
    rt.repos.bilans.save(BilanWrite((key, "???"), BilanState(importe={"eleve": {"division": "4A"}, "cle": 7}), None))
    status, body = _get(rt, "CE", params={"division": "4A"})
    assert status == 200, body
    p3 = next(p for p in body["classes"][0]["periodes"] if p["bilan"] == P3)
    assert (p3["importes"], p3["a_completer"]["nombre"]) == (5, 3)
    assert [p["bilan"] for p in body["classes"][0]["periodes"]] == [P1, P3]
