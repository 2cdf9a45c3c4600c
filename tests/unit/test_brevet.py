"""Brevet (DNB) 2026 for the 3e: the warnings of a 3e bilan périodique (chalicelib/domain/checks.py),
the indicative « Brevet 2026 » table of a class (chalicelib/domain/brevet.py) and its route
(chalicelib/api/brevet.py, JSON and CSV).

The school is the generator's small one (one division per niveau, 3 élèves each): its 3e élèves
have a MEF whose programme lists every 3e subject (S tronc commun, the LV2 as O, Latin as F)."""
from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest

from chalicelib.adapters.ports import BilanWrite, eleve_key
from chalicelib.api import brevet as routes
from chalicelib.api.render.csv import neutralise
from chalicelib.api.auth import issue_token
from chalicelib.api.referentiel import store_referentiel
from chalicelib.domain import checks, merge
from chalicelib.domain.brevet import INDICATIF, division_table, eleve_row
from chalicelib.domain.catalogue import AVERTISSEMENT, CATALOGUE
from chalicelib.domain.checks import brevet_mark, evaluate_bilan
from chalicelib.domain.merge import BilanState
from chalicelib.domain.synthese import group_warnings
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file
from chalicelib.referentiel import index_referentiel, validate_referentiel
from chalicelib.runtime import memory_runtime
from lsu_tools.generator import ALLEMAND, ESPAGNOL, HG, LATIN, MATHS, SchoolSpec, generate_lsu_xml, generate_referentiel

BREVET = ("BREVET_ENSEIGNEMENT_SANS_MOYENNE", "BREVET_CLASSE_SANS_NOTES", "BREVET_PERIODICITE")
SPEC = SchoolSpec(uai="0750789M", divisions_par_niveau=1, eleves_par_division=3, seed=7)


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def all_bilans(schema) -> list[dict]:
    xml = generate_lsu_xml(SPEC, periodes=(1, 2, 3))
    result = check_file(xml, schema, SPEC.uai)
    assert result.ok, result.erreurs
    return list(split_bilans(result.root))


@pytest.fixture
def bilans(all_bilans) -> list[dict]:
    return copy.deepcopy(all_bilans)


@pytest.fixture
def data() -> dict:
    d = copy.deepcopy(generate_referentiel(SPEC))
    assert validate_referentiel(d) == []
    return d


def index(data: dict):
    assert validate_referentiel(data) == [], validate_referentiel(data)
    return index_referentiel(data)


def periodique(bilans: list[dict], division: str, k: int = 0, indice: int = 3) -> dict:
    return [b for b in bilans if b["type"] == "periodique" and b["eleve"]["division"] == division
            and b["periode"]["indice"] == indice][k]


def codes(messages: list[dict]) -> list[str]:
    return [m["code"] for m in messages]


def brevet_codes(messages: list[dict]) -> list[str]:
    return [c for c in codes(messages) if c in BREVET]


def without(bilan: dict, *matieres: str) -> dict:
    bilan["acquis"] = [a for a in bilan["acquis"] if a["discipline"]["code"] not in matieres]
    return bilan


def acquis_of(bilan: dict, code: str) -> dict:
    return next(a for a in bilan["acquis"] if a["discipline"]["code"] == code)


def division_of(data: dict, code: str) -> dict:
    return next(d for d in data["divisions"] if d["code"] == code)


def eleve_of(data: dict, id_be: str) -> dict:
    return next(e for e in data["eleves"] if e["id_be"] == id_be)


# --- the warnings of a 3e bilan périodique ------------------------------------------------------------

def test_a_complete_3e_bilan_has_no_brevet_warning(data, bilans):
    ref = index(data)
    for b in bilans:
        assert brevet_codes(evaluate_bilan(b, ref)) == [], b["eleve"]
    assert any(e.get("mef") for e in data["eleves"])         # the checks did run: the MEF is known


def test_an_obligatory_subject_without_moyenne_is_one_warning_naming_the_subjects(data, bilans):
    ref = index(data)
    bilan = without(periodique(bilans, "3A"), MATHS, HG)
    eleve = eleve_of(data, bilan["eleve"]["id_be"])
    messages = evaluate_bilan(bilan, ref)
    assert codes(messages) == ["BREVET_ENSEIGNEMENT_SANS_MOYENNE"]
    m = messages[0]
    assert m["niveau"] == AVERTISSEMENT == CATALOGUE[m["code"]].niveau
    assert m["message"].startswith(CATALOGUE[m["code"]].message + " ")
    assert m["conseil"] == CATALOGUE[m["code"]].conseil
    assert "« Mathématiques »" in m["message"] and "« Histoire-géographie-EMC »" in m["message"]
    assert f"{eleve['prenom']} {eleve['nom']}" in m["message"] and "3A" in m["message"]
    assert m["groupe"] == {"division": "3A"}


def test_the_brevet_warnings_come_after_the_existing_notes(data, bilans):
    ref_data = copy.deepcopy(data)
    bilan = without(periodique(bilans, "3A"), MATHS)
    bilan["eleve"]["division"] = "4A"                            # DIVISION_FICHIER_DIFFERENTE first
    messages = evaluate_bilan(bilan, index(ref_data))
    assert codes(messages) == ["DIVISION_FICHIER_DIFFERENTE", "BREVET_ENSEIGNEMENT_SANS_MOYENNE"]


def test_a_mark_that_is_no_number_counts_as_missing_a_non_note_pupil_is_dispensed(data, bilans):
    ref = index(data)
    bilan = periodique(bilans, "3A")
    acquis_of(bilan, MATHS)["moyenne_eleve"] = "Abs"
    acquis_of(bilan, HG).pop("moyenne_eleve")
    acquis_of(bilan, HG)["eleve_non_note"] = "true"
    messages = evaluate_bilan(bilan, ref)
    assert codes(messages) == ["BREVET_ENSEIGNEMENT_SANS_MOYENNE"]
    assert "Mathématiques" in messages[0]["message"] and "Histoire" not in messages[0]["message"]


def test_an_option_obligatoire_is_expected_only_of_its_pupils(data, bilans):
    ref = index(data)
    bilan = periodique(bilans, "3A")
    eleve = eleve_of(data, bilan["eleve"]["id_be"])
    lv2 = ESPAGNOL if ESPAGNOL in eleve["options"] else ALLEMAND
    other = ALLEMAND if lv2 == ESPAGNOL else ESPAGNOL
    assert brevet_codes(evaluate_bilan(without(copy.deepcopy(bilan), other, LATIN), ref)) == []
    messages = evaluate_bilan(without(bilan, lv2), ref)
    assert codes(messages) == ["BREVET_ENSEIGNEMENT_SANS_MOYENNE"]
    assert "LV2" in messages[0]["message"]


def test_a_3e_class_without_notes_is_warned(data, bilans):
    division_of(data, "3A")["sans_notes"] = True
    messages = evaluate_bilan(periodique(bilans, "3A"), index(data))
    assert codes(messages) == ["BREVET_CLASSE_SANS_NOTES"]
    assert messages[0]["groupe"] == {"division": "3A"} and "Classe 3A" in messages[0]["message"]


@pytest.mark.parametrize("periodes, nb, warned", [("trimestres", 3, False), ("semestres", 2, False),
                                                  ("trimestres", 2, True), ("semestres", 1, True),
                                                  ("trimestres", 1, True), (None, None, True)])
def test_the_periodicity_of_a_3e_class(periodes, nb, warned, bilans):
    division = {"code": "3A", "niveau": "3E", "periodes": periodes, "nb_periodes": nb}
    m = checks.check_brevet_periodicity(periodique(bilans, "3A"), division)
    assert (m is not None) == warned
    if warned:
        assert m["code"] == "BREVET_PERIODICITE" and m["groupe"] == {"division": "3A"}


def test_a_3e_class_in_one_trimestre_is_warned_through_evaluate_bilan(data, bilans):
    data["calendrier"]["trimestres"] = {"nb_periodes": 1, "periodes": [
        {"indice": 1, "debut": "2025-09-01", "fin": "2026-07-04"}]}
    for d in data["divisions"]:
        d["nb_periodes"] = 1
    messages = evaluate_bilan(periodique(bilans, "3A"), index(data))
    assert "BREVET_PERIODICITE" in codes(messages)
    assert codes(messages)[-1] == "BREVET_PERIODICITE"


def test_semestres_are_fine_for_the_brevet(data, bilans):
    data["calendrier"]["semestres"] = {"nb_periodes": 2, "periodes": [
        {"indice": 1, "debut": "2025-09-01", "fin": "2026-01-23"}, {"indice": 2, "debut": "2026-01-24",
                                                                    "fin": "2026-07-04"}]}
    division_of(data, "3A").update(periodes="semestres", nb_periodes=2)
    assert brevet_codes(evaluate_bilan(periodique(bilans, "3A"), index(data))) == []


@pytest.mark.parametrize("unknown", ["no_mef", "no_programmes", "other_mef"])
def test_no_brevet_warning_where_the_formation_is_unknown(unknown, data, bilans):
    bilan = without(periodique(bilans, "3A"), MATHS)
    division_of(data, "3A").update(sans_notes=True)
    eleve = eleve_of(data, bilan["eleve"]["id_be"])
    if unknown == "no_mef":
        eleve.pop("mef")
    elif unknown == "no_programmes":
        data.pop("programmes")
    else:
        eleve["mef"] = "10210001110"
    assert brevet_codes(evaluate_bilan(bilan, index(data))) == []


def test_no_brevet_warning_outside_3e_nor_on_a_bilan_de_cycle(data, bilans):
    for e in data["eleves"]:
        e["mef"] = "10310019110"                                  # even with a 3e MEF
    ref = index(data)
    assert brevet_codes(evaluate_bilan(without(periodique(bilans, "4A"), MATHS), ref)) == []
    cycle = next(b for b in bilans if b["type"] == "cycle" and b["eleve"]["division"] == "3A")
    division_of(data, "3A")["sans_notes"] = True
    assert brevet_codes(evaluate_bilan(cycle, index(data))) == []


def test_the_synthese_groups_the_warning_by_division(data, bilans):
    ref = index(data)
    entries = [{"division": "3A", "messages": evaluate_bilan(without(periodique(bilans, "3A", k), MATHS), ref)}
               for k in range(3)]
    groups = [g for g in group_warnings(entries) if g["code"] == "BREVET_ENSEIGNEMENT_SANS_MOYENNE"]
    assert len(groups) == 1 and groups[0]["nb_bilans"] == 3 and groups[0]["division"] == "3A"


@pytest.mark.parametrize("value, mark", [("12,5", 12.5), ("12.5", 12.5), ("14", 14.0), (" 9,25 ", 9.25),
                                         ("0", 0.0), ("20", 20.0), (15, 15.0), ("20,5", None), ("-1", None),
                                         ("Abs", None), ("Disp", None), ("", None), (None, None), (True, None),
                                         ([], None), ("1,2,3", None), ("12,", None), (",5", None), ("1e1", None),
                                         ("１２", None), ("NaN", None), ("12,5 ", 12.5)])
def test_french_decimals(value, mark):
    assert brevet_mark(value) == mark


# --- the « Brevet 2026 » table ---------------------------------------------------------------------

def _view(id_be: str, indice: int, acquis: dict, nb: int = 3) -> dict:
    return {"type": "periodique", "eleve": {"id_be": id_be, "division": "3A"},
            "periode": {"millesime": "2025", "indice": indice, "nb_periodes": nb}, "acquis": acquis}


@pytest.fixture
def ref(data):
    return index(data)


@pytest.fixture
def pupil(ref) -> dict:
    """A 3A pupil who takes Latin (given it if need be)."""
    return next(e for e in ref.eleves_by_id_be.values() if e["division"] == "3A")


def _line(row: dict, code: str) -> dict:
    return next(line for line in row["enseignements"] if line["matiere"] == code)


def test_estimated_annual_averages_from_the_periodic_ones(ref, pupil):
    views = [_view(pupil["id_be"], 1, {MATHS: {"moyenne_eleve": "12,5"}}),
             _view(pupil["id_be"], 2, {MATHS: {"moyenne_eleve": "13,5"}}),
             _view(pupil["id_be"], 3, {MATHS: {"moyenne_eleve": "14"}, HG: {"moyenne_eleve": "11,33"}})]
    row = eleve_row(pupil, views, ref)
    assert row["formation_connue"] is True
    assert _line(row, MATHS) == {"matiere": MATHS, "libelle": "Mathématiques", "moyenne": 13.33, "estimee": True,
                                 "dispense": False, "nb_periodes": 3}
    assert _line(row, HG)["moyenne"] == 11.33 and _line(row, HG)["estimee"] is True
    assert row["moyenne"] == 12.33                                  # (13.333… + 11.33) / 2
    assert row["complet"] is False and MATHS not in row["manquants"] and HG not in row["manquants"]
    assert len(row["manquants"]) == len(row["enseignements"]) - 2


def test_the_files_annual_average_wins_over_the_estimate(ref, pupil):
    views = [_view(pupil["id_be"], 1, {MATHS: {"moyenne_eleve": "8"}}),
             _view(pupil["id_be"], 3, {MATHS: {"moyenne_eleve": "9", "moyenne_annuelle": "15,25"}})]
    line = _line(eleve_row(pupil, views, ref), MATHS)
    assert line["moyenne"] == 15.25 and line["estimee"] is False


def test_every_obligatory_subject_present_is_complete_and_dispensed_is_neutral(ref, pupil):
    from chalicelib.referentiel import enseignements_obligatoires
    expected = enseignements_obligatoires(ref, pupil)
    acquis = {code: {"moyenne_eleve": "10"} for code in expected}
    acquis[expected[0]] = {"moyenne_eleve": "16"}
    acquis["100100"] = {"moyenne_eleve": None, "eleve_non_note": "true"}    # EPS: dispensé
    row = eleve_row(pupil, [_view(pupil["id_be"], 3, acquis)], ref)
    assert row["manquants"] == [] and row["complet"] is True
    assert _line(row, "100100")["dispense"] is True and _line(row, "100100")["moyenne"] is None
    n = len(expected) - 1
    assert row["moyenne"] == round((16 + 10 * (n - 1)) / n, 2)


@pytest.mark.parametrize("latin, points", [("14,5", 4.5), ("10", 0.0), ("7", 0.0), (None, None)])
def test_the_best_facultatif_and_its_points_above_10(ref, pupil, latin, points):
    acquis = {MATHS: {"moyenne_eleve": "12"}}
    if latin is not None:
        acquis[LATIN] = {"moyenne_eleve": latin}
    row = eleve_row(pupil, [_view(pupil["id_be"], 3, acquis)], ref)
    if points is None:
        assert row["facultatif"] is None
    else:
        assert row["facultatif"]["matiere"] == LATIN and row["facultatif"]["libelle"] == "LCA latin"
        assert row["facultatif"]["points"] == points
    assert LATIN not in [line["matiere"] for line in row["enseignements"]]       # never in the mean


def test_a_pupil_without_formation_gets_no_computation(data):
    eleve = next(e for e in data["eleves"] if e["division"] == "3A")
    eleve.pop("mef")
    ref = index(data)
    row = eleve_row(ref.eleves_by_id_be[eleve["id_be"]], [_view(eleve["id_be"], 3, {MATHS: {"moyenne_eleve": "12"}})],
                    ref)
    assert row["formation_connue"] is False and row["enseignements"] == [] and row["moyenne"] is None


HOSTILE_VIEWS = [
    None, "x", 3, [], {}, {"type": "periodique"}, {"type": "periodique", "eleve": "x"},
    {"type": "periodique", "eleve": {"id_be": ["x"]}},
    {"type": "periodique", "eleve": {"id_be": "ID"}, "acquis": ["x"]},
    {"type": "periodique", "eleve": {"id_be": "ID"}, "acquis": {MATHS: "12"}, "periode": "P1"},
    {"type": "periodique", "eleve": {"id_be": "ID"}, "acquis": {MATHS: {"moyenne_eleve": ["12"]}},
     "periode": {"indice": "3", "nb_periodes": True}},
    {"type": "periodique", "eleve": {"id_be": "ID"}, "acquis": {MATHS: {"moyenne_eleve": {"v": 1},
                                                                        "moyenne_annuelle": 1e400}}},
    {"type": "periodique", "eleve": {"id_be": "ID"}, "acquis": {"=cmd|' /C calc'!A0": {"moyenne_eleve": "12"},
                                                                "": None, "0613": {"moyenne_eleve": "1"}}},
    {"type": "periodique", "eleve": {"id_be": "ID"}, "acquis": {f"{MATHS}#2": {"moyenne_eleve": "99999999"}}},
]


@pytest.mark.parametrize("hostile", HOSTILE_VIEWS)
def test_hostile_or_malformed_stored_data_never_raises(ref, pupil, hostile):
    hostile = json.loads(json.dumps(hostile).replace('"ID"', json.dumps(pupil["id_be"]))) \
        if not isinstance(hostile, float) else hostile
    table = division_table([hostile, _view(pupil["id_be"], 3, {MATHS: {"moyenne_eleve": "12"}})],
                           ref.divisions_by_code["3A"], ref)
    json.dumps(table)
    row = next(r for r in table["eleves"] if r["id_be"] == pupil["id_be"])
    assert _line(row, MATHS)["moyenne"] == 12.0


def test_the_table_of_a_class_from_real_views(ref, bilans):
    views = [merge.view(BilanState(importe=b, mode="EDITEUR")) for b in bilans if b["eleve"]["division"] == "3A"]
    table = division_table(views, ref.divisions_by_code["3A"], ref)
    assert table["indicatif"] == INDICATIF == "indicatif : le calcul officiel est celui de l'application Cyclades"
    assert table["titre"] == "Brevet 2026" and table["division"] == "3A" and len(table["eleves"]) == 3
    for row in table["eleves"]:
        assert row["complet"] is True, row["manquants"]
        assert all(line["estimee"] and line["nb_periodes"] == 3 for line in row["enseignements"]
                   if not line["dispense"])
        assert 0 <= row["moyenne"] <= 20
    assert {m["matiere"] for m in table["matieres"]} >= {MATHS, HG}


# --- the route -------------------------------------------------------------------------------------

@pytest.fixture
def rt(settings, bilans, data):
    rt = memory_runtime(settings)
    first = next(e for e in data["eleves"] if e["division"] == "3A")
    first["nom"] = "=HYPERLINK(\"http://x\")"                           # hostile text, valid référentiel
    store_referentiel(rt, data, None)
    for b in bilans:
        key = (eleve_key(SPEC.uai, b["eleve"]["id_be"]), b["cle"])
        rt.repos.bilans.save(BilanWrite(key=key, state=BilanState(importe=b, mode="EDITEUR"), expected_version=None))
    return rt


def _request(rt, role: str, sub: str = "s1", **params) -> SimpleNamespace:
    token = issue_token(rt.settings.token_secret, SPEC.uai, role, sub=sub)
    return SimpleNamespace(headers={"authorization": f"Bearer {token}"}, query_params=params or None, context=None,
                           json_body=None)


def test_the_ce_gets_the_table_of_a_3e_class(rt):
    r = routes.division_brevet(_request(rt, "CE"), rt, "3A")
    assert r.status_code == 200, r.body
    table = json.loads(r.body)
    assert table["indicatif"] == INDICATIF and len(table["eleves"]) == 3
    assert all(row["complet"] for row in table["eleves"])


def test_an_unknown_class_is_a_french_404_and_a_class_not_3e_a_french_400(rt):
    r = routes.division_brevet(_request(rt, "CE"), rt, "9Z")
    erreur = json.loads(r.body)["erreur"]
    assert r.status_code == 404 and erreur["code"] == "NOT_FOUND" and "9Z" in erreur["message"]
    r = routes.division_brevet(_request(rt, "CE"), rt, "4A")
    erreur = json.loads(r.body)["erreur"]
    assert r.status_code == 400 and erreur["code"] == "BAD_REQUEST" and "n'est pas une classe de 3e" in erreur["message"]
    r = routes.division_brevet(_request(rt, "CE", format="xlsx"), rt, "3A")
    assert r.status_code == 400 and "format" in json.loads(r.body)["erreur"]["message"]


def test_rights_are_those_of_the_divisions_bilans(rt, data):
    in_3a = next(s["enseignant"] for s in data["services"] if s["division"] == "3A")
    elsewhere = next(s["enseignant"] for s in data["services"]
                     if not any(t["enseignant"] == s["enseignant"] and t["division"] == "3A" for t in data["services"]))
    assert routes.division_brevet(_request(rt, "ENSEIGNANT", sub=in_3a), rt, "3A").status_code == 200
    r = routes.division_brevet(_request(rt, "ENSEIGNANT", sub=elsewhere), rt, "3A")
    assert r.status_code == 403 and json.loads(r.body)["erreur"]["code"] == "FORBIDDEN"
    pp = division_of(data, "3A")["profs_principaux"][0]
    assert routes.division_brevet(_request(rt, "PP", sub=pp), rt, "3A").status_code == 200
    assert routes.division_brevet(_request(rt, "CPE"), rt, "3A").status_code == 200
    r = routes.division_brevet(SimpleNamespace(headers={}, query_params=None, context=None, json_body=None), rt, "3A")
    assert r.status_code == 401


def test_no_referentiel_is_a_french_409(settings):
    rt = memory_runtime(settings)
    r = routes.division_brevet(_request(rt, "CE"), rt, "3A")
    assert r.status_code == 409 and json.loads(r.body)["erreur"]["code"] == "REFERENTIEL_ABSENT"


def test_the_csv_is_a_french_spreadsheet_with_formulas_neutralised(rt):
    r = routes.division_brevet(_request(rt, "CE", format="csv"), rt, "3A")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="brevet-2026-3A.csv"' in r.headers["Content-Disposition"]
    text = r.body.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text[1:].split("\r\n")
    assert INDICATIF in lines[0]
    assert lines[1].split(";")[:4] == ["id_be", "nom", "prenom", "Français"]
    assert any(";'=HYPERLINK(\"\"http://x\"\")" in line or ";\"'=HYPERLINK(\"\"http://x\"\")\"" in line
               for line in lines[2:])
    assert "=HYPERLINK" not in text.replace("'=HYPERLINK", "")
    assert any("(estimée)" in line and "," in line for line in lines[2:])


@pytest.mark.parametrize("value, cell", [("=1+1", "'=1+1"), ("+33 1", "'+33 1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
                                         ("\tx", "'\tx"), ("\rx", "'\rx"), ("Zoé", "Zoé"), ("", ""), (None, ""),
                                         ("12,5", "12,5"), ("a=b", "a=b")])
def test_every_cell_beginning_like_a_formula_is_neutralised(value, cell):
    assert neutralise(value) == cell


def test_the_csv_of_a_table_neutralises_every_cell():
    table = {"titre": "Brevet 2026", "division": "=3A", "indicatif": INDICATIF,
             "matieres": [{"matiere": "061300", "libelle": "@Maths"}],
             "eleves": [{"id_be": "-1", "nom": "+Nom", "prenom": "\tPrénom", "formation_connue": True,
                         "enseignements": [{"matiere": "061300", "moyenne": 12.5, "estimee": False, "dispense": False}],
                         "manquants": [], "moyenne": 12.5, "facultatif": {"libelle": "=Latin", "points": 2.0}}]}
    import csv
    import io
    rows = list(csv.reader(io.StringIO(routes.brevet_csv(table)[1:]), delimiter=";"))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert rows[2][:5] == ["'-1", "'+Nom", "'\tPrénom", "12,50", "12,50"]
    assert rows[2][6] == "'=Latin" and rows[2][7] == "2,00"
