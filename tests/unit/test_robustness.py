"""No stored state breaks a view, a PDF or a search: `merge.view`, `merge.completeness`,
`pdf.render` and the search summary are total over whatever a `BilanState` holds (wrong types in
the imported content or in the entries, missing keys, None). They show what is well-formed and
skip (or print « — » for) the rest; what is well-formed is shown unchanged."""
from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from chalicelib.api import bilans as api
from chalicelib.api.render import pdf
from chalicelib.domain.merge import (
    A_COMPLETER, COMPLET, BilanState, EditRefused, Editor, apply_edit, completeness, merge_import, view,
)
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file

T1 = "2026-06-10T08:00:00+00:00"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)
PARTS = ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos", "socle", "synthese",
         "enseignement_complement", "modalites_accompagnement", "acquis", "eleve", "periode", "cycle", "type",
         "cle", "conserve")
SAISIE_KEYS = ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos", "elements_programme/061300",
               "elements_programme/020700")


@pytest.fixture(scope="module")
def split(schema, small_spec, small_xml) -> list[dict]:
    checked = check_file(small_xml, schema, small_spec.uai)
    bilans = list(split_bilans(checked.root))
    return [next(b for b in bilans if b["type"] == "periodique"), next(b for b in bilans if b["type"] == "cycle")]


def _hostile_state(data, split: list[dict]) -> BilanState:
    base = copy.deepcopy(data.draw(st.sampled_from(split), label="bilan"))
    state = merge_import(None, base, data.draw(st.sampled_from(["EDITEUR", "SCONET_NOTES"])), "imp1", T1).state
    importe = copy.deepcopy(state.importe)
    for part in data.draw(st.sets(st.sampled_from(PARTS), max_size=6), label="replaced parts"):
        if data.draw(st.booleans(), label=f"delete {part}"):
            importe.pop(part, None)
        else:
            importe[part] = data.draw(JSON, label=part)
    acquis = importe.get("acquis")
    if isinstance(acquis, list) and acquis and isinstance(acquis[0], dict):
        i = data.draw(st.integers(0, len(acquis) - 1), label="acquis index")
        acquis[i] = acquis[i] if isinstance(acquis[i], dict) else {}
        field = data.draw(st.sampled_from(["discipline", "elements_programme", "enseignants", "moyenne_eleve",
                                           "positionnement", "appreciation", "eleve_non_note", None]), label="field")
        if field is None:
            acquis[i] = data.draw(JSON, label="acquis")
        else:
            acquis[i][field] = data.draw(JSON, label=f"acquis.{field}")
    if data.draw(st.integers(0, 9), label="whole importe hostile") == 0:
        importe = data.draw(JSON, label="importe")
    saisies = {k: data.draw(st.one_of(JSON, st.fixed_dictionaries({"valeur": JSON, "par": JSON, "le": JSON})),
                            label=f"saisie {k}")
               for k in data.draw(st.sets(st.sampled_from(SAISIE_KEYS)), label="saisies")}
    if data.draw(st.integers(0, 9), label="whole saisies hostile") == 0:
        saisies = data.draw(JSON, label="saisies")
    return replace(state, importe=importe, saisies=saisies,
                   mode=data.draw(st.sampled_from(["EDITEUR", "SCONET_NOTES", None]) | JSON, label="mode"),
                   verrouille=data.draw(st.booleans() | JSON, label="verrouille"),
                   import_id=data.draw(st.just("imp1") | JSON, label="import_id"))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_view_completeness_pdf_and_search_summary_never_raise(split, data):
    state = _hostile_state(data, split)
    v = view(state)
    statut, manquants = completeness(v)
    assert statut in (COMPLET, A_COMPLETER) and all(isinstance(m, str) for m in manquants)
    assert (v["statut"], v["manquants"]) == (statut, manquants)
    json.dumps(v, ensure_ascii=False)                       # what the API answers
    s = api.summary(v)
    assert set(s) >= {"id_be", "bilan", "statut", "verrouille", "provenances"}
    sorted([v, view(BilanState())], key=api._order)         # the search's class-list order
    assert pdf.render([v], "Collège").startswith(b"%PDF")


@hsettings(max_examples=100, deadline=None)
@given(data=st.data())
def test_an_edit_on_any_stored_state_is_done_or_refused_in_french(split, data):
    state = _hostile_state(data, split)
    part = data.draw(st.sampled_from(["acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos",
                                      "elements_programme"]), label="part")
    valeur = data.draw(JSON, label="valeur")
    code = data.draw(st.sampled_from(["061300", "020700", None]) | JSON, label="code")
    try:
        after = apply_edit(replace(state, verrouille=False), Editor("CE", "ce1"), part, valeur, T1, code=code)
    except EditRefused as exc:
        assert exc.message["message"] and exc.message["code"] in ("BAD_REQUEST", "SAISIE_INVALIDE", "PART_IMPORTEE")
        return
    view(after)


def test_a_string_vie_scolaire_or_parcours_is_not_a_complete_bilan(split):
    """Defect 1: a string vie scolaire (stored before entries were validated) made the bilan
    COMPLET, then its PDF raised AttributeError."""
    b = {**split[0], "vie_scolaire": None, "parcours": []}
    state = merge_import(None, b, "SCONET_NOTES", "imp1", T1).state
    state = replace(state, saisies={"vie_scolaire": {"valeur": "3 retards", "par": "CPE:x", "le": T1},
                                    "parcours": {"valeur": "citoyen", "par": "CE:x", "le": T1}})
    v = view(state)
    assert v["vie_scolaire"] == {"valeur": None, "provenance": "ABSENT"} and "vie scolaire" in v["manquants"]
    assert v["parcours"] == {"valeur": None, "provenance": "ABSENT"}
    assert pdf.render([v], "Collège").startswith(b"%PDF")


def test_what_is_well_formed_is_shown_unchanged(split):
    """Among malformed items, the well-formed ones are shown (one bad parcours does not hide the others)."""
    good = {"code": "PAR_AVN", "texte": "Stage."}
    b = {**split[0], "parcours": [good, "bad", {"code": ["x"], "texte": "t"}], "vie_scolaire": {"nb_retards": "x"}}
    v = view(merge_import(None, b, "SCONET_NOTES", "imp1", T1).state)
    assert v["parcours"]["valeur"] == [good] and v["parcours"]["provenance"] == "IMPORT"
    assert v["vie_scolaire"]["provenance"] == "ABSENT"
