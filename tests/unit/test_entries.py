"""What LSU accepts as an entry completing a bilan (chalicelib/domain/entries.py): the shapes and
limits of the official XSD for the same data, one validator per part; then the route
`PUT /bilans/{id_be}/{bilan}/parties/{part}` answering 400 SAISIE_INVALIDE and changing nothing.
Lengths are in characters (code points), never bytes."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chalicelib.api import bilans as api
from chalicelib.api.auth import issue_token
from chalicelib.api.referentiel import store_referentiel
from chalicelib.domain import entries
from chalicelib.domain.catalogue import ERREUR
from chalicelib.domain.merge import EditRefused
from chalicelib.pipeline.split.file_checks import load_schema
from chalicelib.runtime import memory_runtime

VS = {"nb_retards": 1, "nb_abs_justifiees": 2, "nb_abs_injustifiees": 0}
E_ACUTE = "é"                          # 1 code point, 2 bytes in UTF-8
EMOJI = "🎓"                           # 1 code point, 4 bytes in UTF-8


def refused(fn, value, *words: str) -> str:
    with pytest.raises(EditRefused) as exc:
        fn(value)
    m = exc.value.message
    assert exc.value.code == m["code"] == "SAISIE_INVALIDE" and m["niveau"] == ERREUR
    for w in words:
        assert w in m["message"], (w, m["message"])
    return m["message"]


WRONG_TYPES = [None, True, 3, 1.5, "texte", [], {}, ["x"], {"a": 1}]


# --- texts (ChaineN) -------------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["a", E_ACUTE, EMOJI], ids=["ascii", "e-acute", "emoji"])
def test_appreciation_generale_is_at_most_1000_code_points(char):
    assert entries.acquis_conseils(char * 1000) == char * 1000
    refused(entries.acquis_conseils, char * 1001, "acquis_conseils", "1001 caractères", "1000 au plus")


@pytest.mark.parametrize("value", [v for v in WRONG_TYPES if not isinstance(v, str)], ids=repr)
def test_appreciation_generale_must_be_a_text(value):
    refused(entries.acquis_conseils, value, "acquis_conseils", "un texte est attendu")


@pytest.mark.parametrize("value", ["", "   ", "\n\t ", "\u00a0"])
def test_a_blank_text_is_refused(value):
    refused(entries.acquis_conseils, value, "vide")


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0b", "\x1f", "\ud800", "\ufffe", "\uffff"])
def test_a_character_xml_cannot_carry_is_refused(char):
    refused(entries.acquis_conseils, "Bon trimestre" + char, "caractère interdit", f"U+{ord(char):04X}", "position 14")


def test_tabs_and_line_breaks_are_text():
    assert entries.acquis_conseils("Bon trimestre.\r\n\tContinuer.") == "Bon trimestre.\r\n\tContinuer."


# --- vie scolaire ----------------------------------------------------------------------------------

def test_vie_scolaire_counts_0_to_999_and_an_optional_comment_of_600():
    full = {**VS, "nb_heures_manquees": 999, "commentaire": EMOJI * 600}
    assert entries.vie_scolaire(full) == full
    assert entries.vie_scolaire({**VS, "nb_retards": 0}) == {**VS, "nb_retards": 0}
    assert entries.vie_scolaire({**VS, "nb_retards": 999}) == {**VS, "nb_retards": 999}
    # Optional fields given as null are left out.
    assert entries.vie_scolaire({**VS, "nb_heures_manquees": None, "commentaire": None}) == VS


@pytest.mark.parametrize("field", list(entries.VIE_SCOLAIRE_COUNTS) + ["nb_heures_manquees"])
@pytest.mark.parametrize("bad", [-1, 1000, 10**30])
def test_vie_scolaire_count_out_of_bounds(field, bad):
    refused(entries.vie_scolaire, {**VS, field: bad}, f"vie_scolaire.{field}", "entre 0 et 999")


@pytest.mark.parametrize("field", list(entries.VIE_SCOLAIRE_COUNTS) + ["nb_heures_manquees"])
@pytest.mark.parametrize("bad", [True, False, 1.0, "3", [1], {"n": 1}])
def test_vie_scolaire_count_must_be_an_integer(field, bad):
    refused(entries.vie_scolaire, {**VS, field: bad}, f"vie_scolaire.{field}", "nombre entier")


@pytest.mark.parametrize("field", entries.VIE_SCOLAIRE_COUNTS)
def test_vie_scolaire_counts_are_required(field):
    partial = {k: v for k, v in VS.items() if k != field}
    refused(entries.vie_scolaire, partial, "obligatoire", field)
    refused(entries.vie_scolaire, {**VS, field: None}, "obligatoire", field)


def test_vie_scolaire_comment_is_at_most_600_code_points():
    assert entries.vie_scolaire({**VS, "commentaire": E_ACUTE * 600})["commentaire"] == E_ACUTE * 600
    refused(entries.vie_scolaire, {**VS, "commentaire": E_ACUTE * 601}, "vie_scolaire.commentaire", "600 au plus")
    refused(entries.vie_scolaire, {**VS, "commentaire": " "}, "vie_scolaire.commentaire", "vide")
    refused(entries.vie_scolaire, {**VS, "commentaire": 12}, "vie_scolaire.commentaire", "un texte est attendu")


@pytest.mark.parametrize("value", ["texte", ["x"], 3, True], ids=repr)
def test_vie_scolaire_must_be_an_object(value):
    refused(entries.vie_scolaire, value, "vie_scolaire", "un objet est attendu")


def test_vie_scolaire_unknown_keys_are_refused():
    refused(entries.vie_scolaire, {**VS, "nb_exclusions": 1}, "champ(s) inconnu(s)", "nb_exclusions")


# --- parcours --------------------------------------------------------------------------------------

def test_parcours_every_code_once_with_a_text_of_600():
    value = [{"code": c, "texte": EMOJI * 600} for c in entries.PARCOURS_CODES]
    assert entries.parcours(value) == value
    assert set(entries.PARCOURS_CODES) == {"PAR_AVN", "PAR_CIT", "PAR_ART", "PAR_SAN"}


def test_parcours_refusals():
    ok = {"code": "PAR_AVN", "texte": "Stage."}
    refused(entries.parcours, [ok, {**ok, "texte": "Encore."}], "parcours[2].code", "deux fois")
    refused(entries.parcours, [{**ok, "code": "PAR_XXX"}], "parcours[1].code", "PAR_XXX", "PAR_AVN")
    refused(entries.parcours, [{**ok, "code": ["PAR_AVN"]}], "parcours[1].code")
    refused(entries.parcours, [{**ok, "texte": "a" * 601}], "parcours[1].texte", "601 caractères")
    refused(entries.parcours, [{**ok, "texte": 5}], "parcours[1].texte", "un texte est attendu")
    refused(entries.parcours, [{"code": "PAR_AVN"}], "parcours[1]", "obligatoire", "texte")
    refused(entries.parcours, [{**ok, "note": 1}], "parcours[1]", "inconnu", "note")
    refused(entries.parcours, ["PAR_AVN"], "parcours[1]", "un objet est attendu")
    refused(entries.parcours, "Parcours citoyen", "parcours", "une liste est attendue")
    refused(entries.parcours, {"code": "PAR_AVN", "texte": "x"}, "parcours", "une liste est attendue")
    refused(entries.parcours, [], "parcours", "liste est vide")


# --- EPI and AP ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn,part", [(entries.epis, "epis"), (entries.acc_persos, "acc_persos")])
def test_epi_and_ap_entries(fn, part):
    value = [{"intitule": EMOJI * 150, "commentaire_eleve": E_ACUTE * 600}, {"intitule": "Méthodologie"}]
    assert fn(value) == value
    assert fn([{"intitule": "Projet", "commentaire_eleve": None}]) == [{"intitule": "Projet"}]
    refused(fn, [{"intitule": "a" * 151}], f"{part}[1].intitule", "151 caractères", "150 au plus")
    refused(fn, [{"intitule": "P", "commentaire_eleve": "a" * 601}], f"{part}[1].commentaire_eleve", "600 au plus")
    refused(fn, [{"intitule": "P"}, {"intitule": "P"}], f"{part}[2].intitule", "deux fois")
    refused(fn, [{"commentaire_eleve": "Investi."}], "obligatoire", "intitule")
    refused(fn, [{"intitule": "P", "definition": {}}], "inconnu", "definition")
    refused(fn, [{"intitule": "  "}], f"{part}[1].intitule", "vide")
    refused(fn, [{"intitule": 3}], f"{part}[1].intitule", "un texte est attendu")
    refused(fn, "Projet presse", part, "une liste est attendue")
    refused(fn, ["Projet presse"], f"{part}[1]", "un objet est attendu")
    refused(fn, [], part, "liste est vide")


# --- éléments de programme ---------------------------------------------------------------------------

def test_elements_programme_labels_of_300():
    assert entries.elements_programme([EMOJI * 300, "Géométrie"]) == [EMOJI * 300, "Géométrie"]
    refused(entries.elements_programme, ["a" * 301], "elements_programme[1]", "301 caractères", "300 au plus")
    refused(entries.elements_programme, ["Géométrie", "Géométrie"], "elements_programme[2]", "deux fois")
    refused(entries.elements_programme, ["Géométrie", ""], "elements_programme[2]", "vide")
    refused(entries.elements_programme, [3], "elements_programme[1]", "un texte est attendu")
    refused(entries.elements_programme, "Géométrie", "elements_programme", "une liste est attendue")
    refused(entries.elements_programme, [], "elements_programme", "liste est vide")


def test_a_long_hostile_value_is_not_echoed_whole():
    message = refused(entries.parcours, [{"code": "<script>" + "x" * 10_000, "texte": "t"}], "parcours[1].code")
    assert len(message) < 400


def test_every_editable_part_has_its_validator():
    from chalicelib.domain.merge import EDITABLE
    assert set(entries.VALIDATORS) == set(EDITABLE)


# --- through the API ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def school():
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
    from chalicelib.config import Settings
    from chalicelib.domain.merge import merge_import
    from chalicelib.pipeline.split.bilans import split_bilans
    from chalicelib.pipeline.split.file_checks import check_file

    settings = Settings.from_env({})
    spec = SchoolSpec(uai="0750321K", divisions_par_niveau=1, eleves_par_division=1)
    rt = memory_runtime(settings)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = "SCONET_NOTES"
    store_referentiel(rt, ref, None)
    checked = check_file(generate_lsu_xml(spec, periodes=[1]), load_schema(settings.xsd_path), spec.uai)
    b = next(b for b in split_bilans(checked.root) if b["type"] == "periodique")
    b = {**b, "acquis_conseils": None, "vie_scolaire": None, "parcours": [], "epis": [], "acc_persos": []}
    from chalicelib.adapters.ports import BilanWrite, eleve_key
    key = (eleve_key(spec.uai, b["eleve"]["id_be"]), b["cle"])
    state = merge_import(None, b, "SCONET_NOTES", "imp1", "2026-01-10T10:00:00+00:00").state
    rt.repos.bilans.save(BilanWrite(key, state, None))
    return SimpleNamespace(rt=rt, spec=spec, bilan=b, key=key, ref=ref)


def _request(rt, uai: str, role: str, body, sub: str = "dev"):
    token = issue_token(rt.settings.token_secret, uai, role, sub=sub)
    return SimpleNamespace(headers={"Authorization": f"Bearer {token}"}, context=None, query_params=None,
                           json_body=body)


def _stored(school):
    return school.rt.repos.bilans.get(school.key)


def _put(school, role: str, part: str, body, sub: str = "dev"):
    b = school.bilan
    path = b["cle"].replace("#", "-")
    r = api.edit_bilan(_request(school.rt, school.spec.uai, role, body, sub), school.rt, b["eleve"]["id_be"], path, part)
    return r.status_code, json.loads(r.body)


def test_the_route_refuses_an_invalid_entry_with_400_and_changes_nothing(school):
    before = _stored(school).state
    cases = [("CPE", "vie_scolaire", "absent", "vie_scolaire"),
             ("CPE", "vie_scolaire", {**VS, "nb_retards": 1000}, "vie_scolaire.nb_retards"),
             ("CE", "parcours", "Parcours citoyen", "parcours"),
             ("CE", "acquis_conseils", "a" * 1001, "acquis_conseils"),
             ("CE", "epis", [{"intitule": "P", "commentaire_eleve": "a" * 601}], "epis[1].commentaire_eleve")]
    for role, part, valeur, field in cases:
        status, body = _put(school, role, part, {"valeur": valeur})
        assert status == 400, (part, body)
        assert body["erreur"]["code"] == "SAISIE_INVALIDE" and field in body["erreur"]["message"]
        assert body["erreur"]["conseil"]
        assert _stored(school).state == before, "a refused entry changes nothing"
    status, body = _put(school, "CPE", "vie_scolaire", {"valeur": VS})
    assert status == 200 and body["vie_scolaire"]["valeur"] == VS and body["vie_scolaire"]["provenance"] == "SAISIE"
    # The PDF of the bilan entered so renders (it raised AttributeError on a string vie scolaire).
    b = school.bilan
    r = api.bilan_pdf(_request(school.rt, school.spec.uai, "CE", None), school.rt, b["eleve"]["id_be"],
                      b["cle"].replace("#", "-"))
    assert r.status_code == 200 and r.body.startswith(b"%PDF")
