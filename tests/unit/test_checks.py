"""Per-bilan checks against the school's référentiel (chalicelib/checks.py).

Scenarios: a small generated school (1 division per niveau, 3 élèves each), its référentiel and
its valid import file split into bilans; each test tweaks the référentiel and/or a bilan, indexes
the référentiel and checks the exact codes, niveaux, French messages (naming the élève, the
division, the teacher…), groupes and the ordering rule of `evaluate_bilan` (the first refusal wins
and comes first; warnings and infos accumulate after it). Then properties (hypothesis) of the
period and enrolment rules."""
from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings as hsettings, strategies as st

from chalicelib.domain import checks
from chalicelib.domain.catalogue import AVERTISSEMENT, CATALOGUE, ERREUR, INFO
from chalicelib.domain.checks import (
    EDITEUR,
    SAISIE,
    SCONET_NOTES,
    check_completeness,
    check_cycle_bilan_mode,
    check_division_mode,
    check_hors_programme,
    check_sconet_period,
    check_services,
    check_student,
    check_subjects_known,
    enrolled_during,
    evaluate_bilan,
    known_subject,
    missing_parts,
    period_bounds,
    school_year,
    subject_codes,
)
from lsu_tools.generator import SchoolSpec, generate_referentiel
from chalicelib.referentiel import Referentiel, index_referentiel, validate_referentiel
from chalicelib.domain.outcome import IMPORTE, REJETE, refused, has_warning
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file

FRANCAIS, MATHS = "020700", "061300"
REFUSALS = ("STUDENT_UNKNOWN", "DIVISION_MODE_SAISIE", "CYCLE_BILAN_SCONET_DIVISION", "BILAN_INCOMPLET",
            "SUBJECT_UNKNOWN")
SCONET_CODES = ("SCONET_PERIOD_MILLESIME", "SCONET_PERIOD_NB_PERIODES", "SCONET_PERIOD_INDICE")


# --- fixtures and helpers -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated_bilans(schema, small_spec, small_xml) -> list[dict]:
    result = check_file(small_xml, schema, small_spec.uai)
    assert result.ok, result.erreurs
    return list(split_bilans(result.root))


@pytest.fixture
def bilans(generated_bilans) -> list[dict]:
    """A fresh copy per test: tests tweak them freely."""
    return copy.deepcopy(generated_bilans)


@pytest.fixture
def data(small_spec) -> dict:
    """The school's référentiel (a fresh JSON-like dict per test)."""
    d = copy.deepcopy(generate_referentiel(small_spec))
    assert validate_referentiel(d) == []
    return d


def index(data: dict) -> Referentiel:
    """Index a référentiel tweaked by a test, after checking it is still a valid one."""
    assert validate_referentiel(data) == [], validate_referentiel(data)
    return index_referentiel(data)


def division_of(data: dict, code: str) -> dict:
    return next(d for d in data["divisions"] if d["code"] == code)


def eleve_of(data: dict, id_be: str) -> dict:
    return next(e for e in data["eleves"] if e["id_be"] == id_be)


def periodique(bilans: list[dict], division: str, k: int = 0) -> dict:
    return [b for b in bilans if b["type"] == "periodique" and b["eleve"]["division"] == division][k]


def cycle(bilans: list[dict], division: str, k: int = 0) -> dict:
    return [b for b in bilans if b["type"] == "cycle" and b["eleve"]["division"] == division][k]


def acquis_of(bilan: dict, code: str) -> dict:
    return next(a for a in bilan["acquis"] if a["discipline"]["code"] == code)


def codes(messages: list[dict]) -> list[str]:
    return [m["code"] for m in messages]


def teacher_label(e: dict) -> str:
    """How a teacher is named in the messages: civilité, prénom, nom, then the STS id."""
    civ = {"MME": "Mme", "M": "M."}[e["civilite"]]
    return f"{civ} {e['prenom']} {e['nom']} (STS {e['id_sts']})"


def assert_catalogue_message(m: dict, code: str, *named: str) -> None:
    """The catalogue's French text, its niveau, its guidance, then a detail naming `named`."""
    entry = CATALOGUE[code]
    assert m["code"] == code
    assert m["niveau"] == entry.niveau
    assert m["message"].startswith(entry.message + " ")
    assert m.get("conseil") == entry.conseil
    for text in named:
        assert text in m["message"], (text, m["message"])


def statut(messages: list[dict], bilan: dict) -> str:
    return (REJETE if refused(messages) else IMPORTE)


def set_mode(data: dict, code: str, mode: str) -> None:
    division_of(data, code)["mode_import"] = mode


def services_of(data: dict, id_sts: str) -> list[dict]:
    return [s for s in data["services"] if s["enseignant"] == id_sts]


# --- a clean school ---------------------------------------------------------------------------

def test_the_generated_school_is_clean(data, bilans):
    """The generator's school is consistent with its file: not one message, not even an INFO
    (no subject is hors programme: every matière is taught at the niveaux it lists)."""
    ref = index(data)
    assert len(bilans) == 18   # 12 bilans périodiques (période 3) + 6 bilans de cycle (6A and 3A)
    for bilan in bilans:
        assert evaluate_bilan(bilan, ref) == [], bilan["eleve"]
        assert statut(evaluate_bilan(bilan, ref), bilan) == IMPORTE


def test_a_clean_school_in_sconet_notes_has_no_period_warning_and_refuses_only_cycle_bilans(data, bilans):
    for d in data["divisions"]:
        d["mode_import"] = SCONET_NOTES
    ref = index(data)
    for bilan in bilans:
        messages = evaluate_bilan(bilan, ref)
        if bilan["type"] == "periodique":
            assert messages == []
        else:
            assert codes(messages) == ["CYCLE_BILAN_SCONET_DIVISION"]


# --- STUDENT_UNKNOWN ------------------------------------------------------------------------------

def test_unknown_id_be_is_the_one_and_only_message(data, bilans):
    # Notes a known élève would get: no teacher has any service any more.
    data["services"] = []
    ref = index(data)
    bilan = periodique(bilans, "6A")
    assert "TEACHER_WITHOUT_SERVICE" in codes(evaluate_bilan(bilan, ref))
    bilan["eleve"]["id_be"] = "1234"
    messages = evaluate_bilan(bilan, ref)
    assert len(messages) == 1
    # Named as the file names them (the référentiel does not know them).
    who = f"{bilan['eleve']['prenom']} {bilan['eleve']['nom']}"
    assert_catalogue_message(messages[0], "STUDENT_UNKNOWN", f"{who} : ", "(id-be) 1234",
                             "inconnu dans l'établissement")
    assert messages[0]["niveau"] == ERREUR
    assert "groupe" not in messages[0]
    assert check_student(bilan, ref) == messages[0]
    assert statut(messages, bilan) == REJETE
    # Without a name in the file: the id-be alone.
    bilan["eleve"].update(nom=None, prenom=None)
    m = check_student(bilan, ref)
    assert m["message"] == f"{CATALOGUE['STUDENT_UNKNOWN'].message} identifiant SIECLE (id-be) 1234 " \
                           "inconnu dans l'établissement."


def test_an_eleve_removed_from_the_referentiel_is_unknown_for_every_bilan(data, bilans):
    bilan_p, bilan_c = periodique(bilans, "3A", 1), cycle(bilans, "3A", 1)
    assert bilan_p["eleve"]["id_be"] == bilan_c["eleve"]["id_be"]
    id_be = bilan_p["eleve"]["id_be"]
    data["eleves"] = [e for e in data["eleves"] if e["id_be"] != id_be]
    ref = index(data)
    for bilan in (bilan_p, bilan_c):
        messages = evaluate_bilan(bilan, ref)
        assert codes(messages) == ["STUDENT_UNKNOWN"]
        assert id_be in messages[0]["message"]
    # Their classmates are untouched.
    assert evaluate_bilan(periodique(bilans, "3A", 0), ref) == []


def test_an_eleve_who_left_before_the_period_is_unknown_for_it(data, bilans):
    bilan = periodique(bilans, "5A", 2)
    e = eleve_of(data, bilan["eleve"]["id_be"])
    t3 = data["calendrier"]["trimestres"]["periodes"][2]
    veille = (date.fromisoformat(t3["debut"]) - timedelta(days=1)).isoformat()
    e["date_sortie"] = veille
    messages = evaluate_bilan(bilan, index(data))
    assert len(messages) == 1
    assert_catalogue_message(
        messages[0], "STUDENT_UNKNOWN", f"{e['prenom']} {e['nom']}", f"entrée le {e['date_entree']}",
        f"sortie le {veille}", "période 3/3 (2025)", f"du {t3['debut']} au {t3['fin']}")


def test_an_eleve_who_leaves_on_the_first_day_of_the_period_is_enrolled(data, bilans):
    bilan = periodique(bilans, "5A", 2)
    t3 = data["calendrier"]["trimestres"]["periodes"][2]
    eleve_of(data, bilan["eleve"]["id_be"])["date_sortie"] = t3["debut"]
    assert evaluate_bilan(bilan, index(data)) == []


def test_an_eleve_who_entered_after_the_period_is_unknown_for_it(data, bilans):
    bilan = periodique(bilans, "4A", 0)
    bilan["periode"]["indice"] = 1
    e = eleve_of(data, bilan["eleve"]["id_be"])
    t1 = data["calendrier"]["trimestres"]["periodes"][0]
    lendemain = (date.fromisoformat(t1["fin"]) + timedelta(days=1)).isoformat()
    e["date_entree"] = lendemain
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == ["STUDENT_UNKNOWN"]
    assert_catalogue_message(messages[0], "STUDENT_UNKNOWN", f"{e['prenom']} {e['nom']}",
                             f"entrée le {lendemain}", "période 1/3 (2025)", f"du {t1['debut']} au {t1['fin']}")
    assert "sortie" not in messages[0]["message"]
    # Entering on the last day of the period is enough (bounds are inclusive).
    e["date_entree"] = t1["fin"]
    assert evaluate_bilan(bilan, index(data)) == []


def test_a_cycle_bilan_is_checked_against_the_whole_school_year(data, bilans):
    bilan_p, bilan_c = periodique(bilans, "6A", 1), cycle(bilans, "6A", 1)
    assert bilan_p["eleve"]["id_be"] == bilan_c["eleve"]["id_be"]
    e = eleve_of(data, bilan_c["eleve"]["id_be"])
    periodes = data["calendrier"]["trimestres"]["periodes"]
    debut, fin = periodes[0]["debut"], periodes[-1]["fin"]
    # Left during the 2nd trimester: unknown for the 3rd one, known for the cycle.
    e["date_sortie"] = periodes[1]["fin"]
    ref = index(data)
    assert codes(evaluate_bilan(bilan_p, ref)) == ["STUDENT_UNKNOWN"]
    assert evaluate_bilan(bilan_c, ref) == []
    assert period_bounds(ref, ref.divisions_by_code["6A"], None) == school_year(ref) == (debut, fin)
    # Left the day before the school year: unknown for the cycle as well.
    e["date_entree"] = "2025-06-02"
    e["date_sortie"] = (date.fromisoformat(debut) - timedelta(days=1)).isoformat()
    messages = evaluate_bilan(bilan_c, index(data))
    assert codes(messages) == ["STUDENT_UNKNOWN"]
    assert_catalogue_message(messages[0], "STUDENT_UNKNOWN", f"{e['prenom']} {e['nom']}", "cycle 3",
                             f"du {debut} au {fin}")
    # Entered the day after it.
    e["date_entree"] = (date.fromisoformat(fin) + timedelta(days=1)).isoformat()
    e["date_sortie"] = None
    assert codes(evaluate_bilan(bilan_c, index(data))) == ["STUDENT_UNKNOWN"]
    # On its last day: known.
    e["date_entree"] = fin
    assert evaluate_bilan(bilan_c, index(data)) == []


def test_a_period_unknown_to_the_calendar_is_checked_against_the_school_year(data, bilans):
    bilan = periodique(bilans, "5A", 0)
    bilan["periode"]["indice"] = 4
    periodes = data["calendrier"]["trimestres"]["periodes"]
    eleve_of(data, bilan["eleve"]["id_be"])["date_sortie"] = periodes[0]["fin"]
    ref = index(data)
    assert period_bounds(ref, ref.divisions_by_code["5A"], bilan["periode"]) == school_year(ref)
    assert check_student(bilan, ref) is None


# --- DIVISION_MODE_SAISIE ---------------------------------------------------------------------

def test_a_division_in_manual_entry_refuses_all_its_bilans(data, bilans):
    set_mode(data, "6A", SAISIE)
    ref = index(data)
    for bilan in bilans:
        messages = evaluate_bilan(bilan, ref)
        if bilan["eleve"]["division"] != "6A":
            assert messages == []
            continue
        assert codes(messages) == ["DIVISION_MODE_SAISIE"]
        assert_catalogue_message(messages[0], "DIVISION_MODE_SAISIE", "Classe 6A.")
        assert messages[0]["niveau"] == ERREUR
        assert messages[0]["groupe"] == {"division": "6A"}
        assert statut(messages, bilan) == REJETE


@pytest.mark.parametrize("mode, refused", [(EDITEUR, False), (SCONET_NOTES, False), (SAISIE, True),
                                           (None, True), ("IMPORT", True)])
def test_check_division_mode(mode, refused):
    division = {"code": "4B", "mode_import": mode}
    m = check_division_mode(division)
    assert (m is not None) == refused
    if refused:
        assert m["code"] == "DIVISION_MODE_SAISIE" and m["groupe"] == {"division": "4B"}
        assert "Classe 4B." in m["message"]


# --- CYCLE_BILAN_SCONET_DIVISION ------------------------------------------------------------------

def test_a_cycle_bilan_in_a_sconet_notes_division_is_refused(data, bilans):
    set_mode(data, "3A", SCONET_NOTES)
    ref = index(data)
    for k in range(3):
        messages = evaluate_bilan(cycle(bilans, "3A", k), ref)
        assert codes(messages) == ["CYCLE_BILAN_SCONET_DIVISION"]
        assert_catalogue_message(messages[0], "CYCLE_BILAN_SCONET_DIVISION", "Classe 3A.", "Sconet Notes")
        assert messages[0]["niveau"] == ERREUR
        # Its bilans périodiques are imported; the 6A's cycle bilans (EDITEUR) too.
        assert evaluate_bilan(periodique(bilans, "3A", k), ref) == []
        assert evaluate_bilan(cycle(bilans, "6A", k), ref) == []


@pytest.mark.parametrize("mode", [EDITEUR, SCONET_NOTES, SAISIE])
def test_check_cycle_bilan_mode(mode, bilans):
    division = {"code": "6A", "mode_import": mode}
    assert check_cycle_bilan_mode(periodique(bilans, "6A"), division) is None
    m = check_cycle_bilan_mode(cycle(bilans, "6A"), division)
    assert (m is not None) == (mode == SCONET_NOTES)


# --- BILAN_INCOMPLET -------------------------------------------------------------------------------

@pytest.mark.parametrize("tweak, missing", [
    (lambda b: b.update(acquis_conseils=None), "appréciation générale"),
    (lambda b: b.update(acquis_conseils=" \n\t "), "appréciation générale"),
    (lambda b: b.update(vie_scolaire=None), "vie scolaire"),
    (lambda b: b.update(acquis=[]), "acquis scolaires"),
    (lambda b: b.update(acquis_conseils=None, vie_scolaire=None), "appréciation générale, vie scolaire"),
])
def test_an_incomplete_bilan_is_refused_in_an_editeur_division_only(data, bilans, tweak, missing):
    bilan = periodique(bilans, "5A", 1)
    tweak(bilan)
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == ["BILAN_INCOMPLET"]
    assert_catalogue_message(messages[0], "BILAN_INCOMPLET", f"Il manque : {missing} (classe 5A)",
                             "Import Éditeurs")
    assert messages[0]["niveau"] == ERREUR
    assert statut(messages, bilan) == REJETE
    assert check_completeness(bilan, index(data).divisions_by_code["5A"]) == messages[0]
    # The same bilan in a Sconet Notes division is imported, to be completed in LSU.
    set_mode(data, "5A", SCONET_NOTES)
    messages = evaluate_bilan(bilan, index(data))
    assert not [m for m in messages if m["niveau"] == ERREUR]
    assert "BILAN_INCOMPLET" not in codes(messages)
    assert statut(messages, bilan) == IMPORTE


def test_missing_parts(bilans):
    bilan = periodique(bilans, "4A")
    assert missing_parts(bilan) == []
    assert missing_parts({**bilan, "acquis": [], "acquis_conseils": "", "vie_scolaire": None}) == [
        "acquis scolaires", "appréciation générale", "vie scolaire"]
    # A bilan de cycle has none of them.
    assert missing_parts(cycle(bilans, "3A")) == []
    assert check_completeness(cycle(bilans, "3A"), {"code": "3A", "mode_import": EDITEUR}) is None


@pytest.mark.parametrize("mode, refused", [(EDITEUR, True), (SCONET_NOTES, False), (SAISIE, False)])
def test_check_completeness_by_mode(bilans, mode, refused):
    bilan = {**periodique(bilans, "4A"), "vie_scolaire": None}
    assert (check_completeness(bilan, {"code": "4A", "mode_import": mode}) is not None) == refused


# --- SUBJECT_UNKNOWN / SUBJECT_HORS_PROGRAMME ---------------------------------------------------------

def test_an_unknown_subject_is_refused(data, bilans):
    bilan = periodique(bilans, "4A", 0)
    discipline = acquis_of(bilan, MATHS)["discipline"]
    discipline["code"] = "999999"
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == ["SUBJECT_UNKNOWN"]
    assert_catalogue_message(messages[0], "SUBJECT_UNKNOWN", "« Mathématiques » (999999)")
    assert messages[0]["niveau"] == ERREUR
    assert statut(messages, bilan) == REJETE


def test_an_unknown_code_and_code_national_are_both_named(data, bilans):
    bilan = periodique(bilans, "4A", 0)
    acquis_of(bilan, MATHS)["discipline"].update(code="999999", code_national="999998")
    acquis_of(bilan, FRANCAIS)["discipline"].update(code="100A00")
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == ["SUBJECT_UNKNOWN"]
    assert_catalogue_message(messages[0], "SUBJECT_UNKNOWN",
                             "« Français » (100A00), « Mathématiques » (999999/999998).")


def test_a_subject_known_through_its_code_national_is_accepted(data, bilans):
    bilan = periodique(bilans, "4A", 0)
    discipline = acquis_of(bilan, MATHS)["discipline"]
    discipline.update(code="999999", code_national=MATHS)
    ref = index(data)
    assert subject_codes(discipline) == ["999999", MATHS]
    assert known_subject(discipline, ref)["code"] == MATHS
    assert check_subjects_known(bilan, ref) is None
    # The teacher's service is looked up under the national code: nothing to report.
    assert evaluate_bilan(bilan, ref) == []


def test_a_hors_programme_subject_is_an_info_and_is_imported(data, bilans):
    next(m for m in data["matieres"] if m["code"] == FRANCAIS)["hors_programme"] = True
    ref = index(data)
    for bilan in bilans:
        messages = evaluate_bilan(bilan, ref)
        if bilan["type"] == "cycle":
            assert messages == []
            continue
        division = bilan["eleve"]["division"]
        assert codes(messages) == ["SUBJECT_HORS_PROGRAMME"]
        assert_catalogue_message(messages[0], "SUBJECT_HORS_PROGRAMME", f"« Français » en {division}.")
        assert messages[0]["niveau"] == INFO
        assert statut(messages, bilan) == IMPORTE and not has_warning(messages)


def test_a_subject_outside_the_niveaux_of_the_division_is_hors_programme(data, bilans):
    next(m for m in data["matieres"] if m["code"] == MATHS)["niveaux"] = ["3E"]
    ref = index(data)
    assert codes(evaluate_bilan(periodique(bilans, "3A"), ref)) == []
    messages = evaluate_bilan(periodique(bilans, "5A"), ref)
    assert codes(messages) == ["SUBJECT_HORS_PROGRAMME"]
    assert "« Mathématiques » en 5A." in messages[0]["message"]


def test_a_hors_programme_service_makes_the_subject_hors_programme_in_that_division_only(data, bilans):
    service = next(s for s in data["services"] if s["matiere"] == FRANCAIS and s["division"] == "6A")
    service["hors_programme"] = True
    ref = index(data)
    messages = evaluate_bilan(periodique(bilans, "6A"), ref)
    assert codes(messages) == ["SUBJECT_HORS_PROGRAMME"]
    assert "« Français » en 6A." in messages[0]["message"]
    assert evaluate_bilan(periodique(bilans, "5A"), ref) == []
    # An acquis without any teacher is not hors programme through its (absent) services.
    matiere = ref.matieres_by_code[FRANCAIS]
    assert checks.hors_programme(matiere, ref.divisions_by_code["6A"], [], ref) is False


def test_check_hors_programme_names_each_subject(data, bilans):
    for m in data["matieres"]:
        if m["code"] in (FRANCAIS, MATHS):
            m["hors_programme"] = True
    ref = index(data)
    bilan = periodique(bilans, "4A")
    out = check_hors_programme(bilan, ref.divisions_by_code["4A"], ref)
    assert [m["code"] for m in out] == ["SUBJECT_HORS_PROGRAMME"] * 2
    assert all(m["niveau"] == INFO and "groupe" not in m for m in out)
    assert any("« Français » en 4A." in m["message"] for m in out)
    assert any("« Mathématiques » en 4A." in m["message"] for m in out)


# --- SERVICE_UNKNOWN / TEACHER_WITHOUT_SERVICE ---------------------------------------------------------

def test_a_teacher_without_service_for_that_subject_in_that_division_is_a_warning(data, bilans):
    bilan = periodique(bilans, "6A", 0)
    teacher = acquis_of(bilan, FRANCAIS)["enseignants"][0]
    assert len(services_of(data, teacher["id_sts"])) > 1    # teaches Français in other divisions
    data["services"] = [s for s in data["services"]
                        if not (s["enseignant"] == teacher["id_sts"] and s["division"] == "6A")]
    ref = index(data)
    messages = evaluate_bilan(bilan, ref)
    assert codes(messages) == ["SERVICE_UNKNOWN"]
    m = messages[0]
    label = teacher_label(teacher)
    assert_catalogue_message(m, "SERVICE_UNKNOWN", f"{label} en « Français », classe 6A.")
    assert m["niveau"] == AVERTISSEMENT
    assert m["groupe"] == {"enseignant": label, "matiere": "Français", "division": "6A"}
    assert statut(messages, bilan) == IMPORTE and has_warning(messages)
    # The same teacher in the divisions they still teach: nothing.
    for division in ("5A", "4A", "3A"):
        assert evaluate_bilan(periodique(bilans, division), ref) == []


def test_a_teacher_without_any_service_is_listed_once(data, bilans):
    bilan = periodique(bilans, "6A", 0)
    pp = bilan["profs_principaux"][0]
    taught = [a for a in bilan["acquis"] if pp in a["enseignants"]]
    assert taught, "the professeur principal teaches the division"
    # Named once more, on another acquis.
    other = next(a for a in bilan["acquis"] if pp not in a["enseignants"])
    other["enseignants"].append(copy.deepcopy(pp))
    data["services"] = [s for s in data["services"] if s["enseignant"] != pp["id_sts"]]
    ref = index(data)
    messages = evaluate_bilan(bilan, ref)
    assert codes(messages) == ["TEACHER_WITHOUT_SERVICE"]
    label = teacher_label(pp)
    assert_catalogue_message(messages[0], "TEACHER_WITHOUT_SERVICE", label)
    assert messages[0]["niveau"] == AVERTISSEMENT
    assert messages[0]["groupe"] == {"enseignant": label}
    assert statut(messages, bilan) == IMPORTE
    # As professeur principal of a bilan de cycle too.
    messages = evaluate_bilan(cycle(bilans, "6A"), ref)
    assert codes(messages) == ["TEACHER_WITHOUT_SERVICE"] and messages[0]["groupe"] == {"enseignant": label}


def test_teachers_unknown_to_sts_are_teachers_without_service_each_once(data, bilans):
    bilan = periodique(bilans, "3A", 2)
    ref = index(data)
    a, b = acquis_of(bilan, FRANCAIS), acquis_of(bilan, MATHS)
    stranger = {"type": "epp", "id_sts": "999", "civilite": "M", "nom": "Inconnu", "prenom": "Jean"}
    stranger2 = {"type": "epp", "id_sts": "998", "civilite": "MME", "nom": "Absente", "prenom": "Lise"}
    a["enseignants"] = [stranger]
    b["enseignants"].append(stranger2)
    bilan["profs_principaux"].append(stranger)
    messages = evaluate_bilan(bilan, ref)
    assert codes(messages) == ["TEACHER_WITHOUT_SERVICE", "TEACHER_WITHOUT_SERVICE"]
    assert [m["groupe"] for m in messages] == [{"enseignant": "M. Jean Inconnu (STS 999)"},
                                               {"enseignant": "Mme Lise Absente (STS 998)"}]
    assert check_services(bilan, ref.divisions_by_code["3A"], ref) == messages


# --- SCONET_PERIOD_* ---------------------------------------------------------------------------------

def test_services_warnings_follow_the_documented_order(data, bilans):
    """docs/contrats.md (« Contrôles par bilan ») lists TEACHER_WITHOUT_SERVICE before
    SERVICE_UNKNOWN among the accumulated warnings."""
    bilan = periodique(bilans, "6A", 0)
    francais = acquis_of(bilan, FRANCAIS)["enseignants"][0]["id_sts"]
    maths = acquis_of(bilan, MATHS)["enseignants"][0]["id_sts"]
    assert [a["discipline"]["code"] for a in bilan["acquis"]][:2] == [FRANCAIS, MATHS]
    # Français: no service in 6A (teaches elsewhere); Mathématiques: no service at all.
    data["services"] = [s for s in data["services"] if s["enseignant"] != maths
                        and not (s["enseignant"] == francais and s["division"] == "6A")]
    messages = evaluate_bilan(bilan, index(data))
    assert sorted(codes(messages)) == ["SERVICE_UNKNOWN", "TEACHER_WITHOUT_SERVICE"]
    assert codes(messages) == ["TEACHER_WITHOUT_SERVICE", "SERVICE_UNKNOWN"]


@pytest.mark.parametrize("change, expected", [
    ({"millesime": "2024"}, ["SCONET_PERIOD_MILLESIME"]),
    ({"indice": 4}, ["SCONET_PERIOD_INDICE"]),
    ({"indice": 0}, ["SCONET_PERIOD_INDICE"]),
    ({"nb_periodes": 2}, ["SCONET_PERIOD_NB_PERIODES"]),
    ({"nb_periodes": 2, "indice": 3}, ["SCONET_PERIOD_NB_PERIODES"]),
    ({"millesime": "2026", "nb_periodes": 4, "indice": 5}, list(SCONET_CODES)),
])
def test_a_sconet_notes_period_not_in_siecle_is_imported_with_warnings(data, bilans, change, expected):
    set_mode(data, "4A", SCONET_NOTES)
    bilan = periodique(bilans, "4A", 1)
    bilan["periode"].update(change)
    p = bilan["periode"]
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == expected
    for m in messages:
        assert_catalogue_message(m, m["code"])
        assert m["niveau"] == AVERTISSEMENT
        assert m["groupe"] == {"division": "4A",
                               "periode": f"période {p['indice']}/{p['nb_periodes']} ({p['millesime']})"}
    by_code = {m["code"]: m["message"] for m in messages}
    if "SCONET_PERIOD_MILLESIME" in by_code:
        assert f"Fichier : {p['millesime']} ; SIECLE : 2025." in by_code["SCONET_PERIOD_MILLESIME"]
    if "SCONET_PERIOD_NB_PERIODES" in by_code:
        assert f"Fichier : {p['nb_periodes']} ; SIECLE (trimestres) : 3." in by_code["SCONET_PERIOD_NB_PERIODES"]
    if "SCONET_PERIOD_INDICE" in by_code:
        assert f"Période {p['indice']} ; SIECLE (trimestres) : 1 à 3." in by_code["SCONET_PERIOD_INDICE"]
    assert statut(messages, bilan) == IMPORTE
    # The same file in an Import Éditeurs division: the same alerts (issue 14: a school head expects
    # the calendar checked whatever software exported the bilan), imported all the same.
    set_mode(data, "4A", EDITEUR)
    assert codes(evaluate_bilan(bilan, index(data))) == expected


def test_a_school_year_change_in_siecle_warns_every_imported_bilan(data, bilans):
    """Sconet Notes (the fiche) and Éditeur bilans périodiques alike (issue 14); the bilans de fin
    de cycle with CYCLE_MILLESIME. Imported all the same."""
    data["millesime"] = "2026"
    set_mode(data, "5A", SCONET_NOTES)
    ref = index(data)
    for bilan in bilans:
        messages = evaluate_bilan(bilan, ref)
        if bilan["type"] == "periodique":
            assert codes(messages) == ["SCONET_PERIOD_MILLESIME"]
            assert "Fichier : 2025 ; SIECLE : 2026." in messages[0]["message"]
        else:
            assert codes(messages) == ["CYCLE_MILLESIME"]
            assert "Fichier : 2025 ; SIECLE : 2026." in messages[0]["message"]
        assert statut(messages, bilan) == IMPORTE


# --- the ordering rule -----------------------------------------------------------------------------

def test_the_first_refusal_wins_and_notes_follow_it(data, bilans):
    bilan = periodique(bilans, "5A", 0)
    bilan["acquis_conseils"] = None
    acquis_of(bilan, MATHS)["discipline"]["code"] = "999999"
    pp = bilan["profs_principaux"][0]
    data["services"] = [s for s in data["services"] if s["enseignant"] != pp["id_sts"]]
    # SAISIE first, then incompleteness, then the subject.
    set_mode(data, "5A", SAISIE)
    assert codes(evaluate_bilan(bilan, index(data))) == ["DIVISION_MODE_SAISIE", "TEACHER_WITHOUT_SERVICE"]
    set_mode(data, "5A", EDITEUR)
    assert codes(evaluate_bilan(bilan, index(data))) == ["BILAN_INCOMPLET", "TEACHER_WITHOUT_SERVICE"]
    bilan["acquis_conseils"] = "Bon trimestre."
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == ["SUBJECT_UNKNOWN", "TEACHER_WITHOUT_SERVICE"]
    assert [m["niveau"] for m in messages] == [ERREUR, AVERTISSEMENT]
    # Unknown élève: that refusal alone.
    bilan["eleve"]["id_be"] = "42"
    assert codes(evaluate_bilan(bilan, index(data))) == ["STUDENT_UNKNOWN"]


def test_warnings_accumulate_after_the_refusal_in_a_fixed_order(data, bilans):
    """Sconet period warnings, then services, then hors-programme infos."""
    set_mode(data, "4A", SCONET_NOTES)
    bilan = periodique(bilans, "4A", 2)
    bilan["periode"]["millesime"] = "2024"
    acquis_of(bilan, MATHS)["discipline"]["code"] = "999999"
    next(m for m in data["matieres"] if m["code"] == FRANCAIS)["hors_programme"] = True
    hg = next(a for a in bilan["acquis"] if a["discipline"]["code"] == "043000")
    hg_teacher = hg["enseignants"][0]["id_sts"]
    data["services"] = [s for s in data["services"]
                        if not (s["enseignant"] == hg_teacher and s["division"] == "4A")]
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == ["SUBJECT_UNKNOWN", "SCONET_PERIOD_MILLESIME", "SERVICE_UNKNOWN",
                               "SUBJECT_HORS_PROGRAMME"]
    assert [m["niveau"] for m in messages] == [ERREUR, AVERTISSEMENT, AVERTISSEMENT, INFO]
    assert statut(messages, bilan) == REJETE


def test_every_refusal_is_an_erreur_at_the_head(data, bilans):
    set_mode(data, "6A", SAISIE)
    set_mode(data, "3A", SCONET_NOTES)
    ref = index(data)
    tweaked = copy.deepcopy(bilans)
    tweaked[0]["eleve"]["id_be"] = "1"
    tweaked[4]["acquis_conseils"] = None
    acquis_of(tweaked[7], MATHS)["discipline"]["code"] = "999999"
    for bilan in tweaked:
        messages = evaluate_bilan(bilan, ref)
        refusals = [m for m in messages if m["code"] in REFUSALS]
        assert len(refusals) <= 1
        if refusals:
            assert messages[0] is refusals[0]
            assert messages[0]["niveau"] == ERREUR
            assert statut(messages, bilan) == REJETE


# --- properties: dates and periods ------------------------------------------------------------

DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


@hsettings(max_examples=500, deadline=None)
@given(entree=DATES, sortie=st.none() | DATES, a=DATES, b=DATES)
def test_enrolled_during_is_an_inclusive_overlap(entree, sortie, a, b):
    debut, fin = min(a, b), max(a, b)
    assume(sortie is None or sortie >= entree)
    got = enrolled_during(_iso(entree), _iso(sortie), _iso(debut), _iso(fin))
    # Some day of the period is a day of schooling.
    assert got == (max(entree, debut) <= min(sortie or date.max, fin))
    if entree > fin or (sortie is not None and sortie < debut):
        assert not got
    if entree <= debut and sortie is None:
        assert got
    # Bounds are inclusive, on both sides.
    assert enrolled_during(_iso(fin), None, _iso(debut), _iso(fin))
    assert enrolled_during(_iso(min(entree, debut)), _iso(debut), _iso(debut), _iso(fin))
    assert not enrolled_during(_iso(fin + timedelta(days=1)), None, _iso(debut), _iso(fin))
    assert not enrolled_during(_iso(debut - timedelta(days=30)), _iso(debut - timedelta(days=1)),
                               _iso(debut), _iso(fin))


def _referentiel_with_semestres() -> dict:
    """The generated référentiel, plus semestres in the calendar; 3A in semestres (Sconet Notes),
    4A in trimestres (Sconet Notes)."""
    d = copy.deepcopy(generate_referentiel(SchoolSpec(divisions_par_niveau=1, eleves_par_division=3)))
    d["calendrier"]["semestres"] = {"nb_periodes": 2, "periodes": [
        {"indice": 1, "debut": "2025-08-25", "fin": "2026-01-23"},
        {"indice": 2, "debut": "2026-01-24", "fin": "2026-07-10"}]}
    division_of(d, "3A").update(periodes="semestres", nb_periodes=2, mode_import=SCONET_NOTES)
    division_of(d, "4A").update(mode_import=SCONET_NOTES)
    return d


_DATA = _referentiel_with_semestres()
assert validate_referentiel(_DATA) == []
_REF = index_referentiel(_DATA)
_YEAR = ("2025-08-25", "2026-07-10")   # earliest début, latest fin over both schemes

PERIODES = st.fixed_dictionaries({
    "millesime": st.sampled_from(["2024", "2025", "2026"]),
    "indice": st.integers(min_value=-1, max_value=5),
    "nb_periodes": st.integers(min_value=-1, max_value=4),
})


def test_school_year_spans_every_scheme_or_defaults_to_the_millesime():
    assert school_year(_REF) == _YEAR
    bare = Referentiel(uai="0750001A", millesime="2025", eleves_by_id_be={}, divisions_by_code={},
                       matieres_by_code={}, enseignants_by_id_sts={}, services=frozenset())
    assert school_year(bare) == ("2025-09-01", "2026-08-31")


@hsettings(max_examples=300, deadline=None)
@given(periode=PERIODES, code=st.sampled_from(["3A", "4A"]))
def test_period_bounds_is_the_calendar_period_or_the_school_year(periode, code):
    division = _REF.divisions_by_code[code]
    scheme = _DATA["calendrier"][division["periodes"]]
    expected = _YEAR
    if periode["nb_periodes"] == scheme["nb_periodes"]:
        for p in scheme["periodes"]:
            if p["indice"] == periode["indice"]:
                expected = (p["debut"], p["fin"])
    assert period_bounds(_REF, division, periode) == expected
    assert period_bounds(_REF, division, None) == _YEAR


@hsettings(max_examples=400, deadline=None)
@given(periode=PERIODES, code=st.sampled_from(["3A", "4A"]),
       mode=st.sampled_from([EDITEUR, SCONET_NOTES, SAISIE]))
def test_check_sconet_period_reports_exactly_the_violated_conditions(periode, code, mode):
    division = {**_REF.divisions_by_code[code], "mode_import": mode}
    bilan = {"type": "periodique", "periode": periode}
    out = check_sconet_period(bilan, division, _REF)
    if mode == SAISIE:                 # checked for both import modes (issue 14), never in manual entry
        assert out == []
        return
    nb = division["nb_periodes"]
    violated = set()
    if periode["millesime"] != _REF.millesime:
        violated.add("SCONET_PERIOD_MILLESIME")
    if periode["nb_periodes"] != nb:
        violated.add("SCONET_PERIOD_NB_PERIODES")
    if not 1 <= periode["indice"] <= nb:
        violated.add("SCONET_PERIOD_INDICE")
    assert [m["code"] for m in out] == [c for c in SCONET_CODES if c in violated]
    assert all(m["niveau"] == AVERTISSEMENT and m["groupe"]["division"] == code for m in out)
    # Conditions met ⇔ the period is one of the division's calendar.
    scheme = _DATA["calendrier"][division["periodes"]]
    in_calendar = (periode["nb_periodes"] == scheme["nb_periodes"]
                   and any(p["indice"] == periode["indice"] for p in scheme["periodes"]))
    assert (not violated - {"SCONET_PERIOD_MILLESIME"}) == in_calendar
    # Never for a bilan de cycle.
    assert check_sconet_period({"type": "cycle", "cycle": 4}, division, _REF) == []


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entree=DATES, duree=st.none() | st.integers(min_value=0, max_value=500),
       indice=st.integers(min_value=0, max_value=4), which=st.integers(min_value=0, max_value=5),
       kind=st.sampled_from(["periodique", "cycle"]))
def test_check_student_agrees_with_enrolled_during(generated_bilans, entree, duree, indice, which, kind):
    candidates = [b for b in generated_bilans if b["type"] == kind]
    bilan = copy.deepcopy(candidates[which % len(candidates)])
    if kind == "periodique":
        bilan["periode"]["indice"] = indice
    data = copy.deepcopy(_DATA)
    e = eleve_of(data, bilan["eleve"]["id_be"])
    e["date_entree"] = entree.isoformat()
    e["date_sortie"] = None if duree is None else (entree + timedelta(days=duree)).isoformat()
    ref = index_referentiel(data)
    division = ref.divisions_by_code[e["division"]]
    debut, fin = period_bounds(ref, division, bilan.get("periode"))
    enrolled = enrolled_during(e["date_entree"], e["date_sortie"], debut, fin)
    m = check_student(bilan, ref)
    assert (m is None) == enrolled
    if m is not None:
        assert m["code"] == "STUDENT_UNKNOWN" and m["niveau"] == ERREUR
        assert f"{e['prenom']} {e['nom']} : entrée le {e['date_entree']}" in m["message"]
        assert f"du {debut} au {fin}" in m["message"]
        assert evaluate_bilan(bilan, ref) == [m]


# --- coherence checks of issue 14 -------------------------------------------------------------------

def _division(data: dict, code: str) -> dict:
    return next(d for d in data["divisions"] if d["code"] == code)


def test_a_bilan_de_fin_de_cycle_outside_its_niveau_is_refused(data, bilans):
    """The cycle 3 ends in 6e, the cycle 4 in 3e (the division's niveau in the référentiel)."""
    cycle4 = next(b for b in bilans if b["type"] == "cycle" and b["cycle"] == 4)
    assert codes(evaluate_bilan(cycle4, index(data))) == []
    _division(data, cycle4["eleve"]["division"])["niveau"] = "4E"
    messages = evaluate_bilan(cycle4, index(data))
    assert codes(messages) == ["CYCLE_NIVEAU_INCOHERENT"] and statut(messages, cycle4) == REJETE
    assert_catalogue_message(messages[0], "CYCLE_NIVEAU_INCOHERENT")
    cycle3 = next(b for b in bilans if b["type"] == "cycle" and b["cycle"] == 3)
    wrong = {**cycle3, "cycle": 4}
    assert codes(evaluate_bilan(wrong, index(data))) == ["CYCLE_NIVEAU_INCOHERENT"]


def test_a_bilan_de_fin_de_cycle_of_another_year_is_a_warning(data, bilans):
    cycle = next(b for b in bilans if b["type"] == "cycle")
    messages = evaluate_bilan({**cycle, "millesime": "2024"}, index(data))
    assert codes(messages) == ["CYCLE_MILLESIME"] and statut(messages, cycle) == IMPORTE
    assert "Fichier : 2024 ; SIECLE : 2025." in messages[0]["message"]


def test_the_class_evaluation_system_when_set_refuses_the_other(data, bilans):
    bilan = periodique(bilans, "4A", 0)
    used = checks.evaluation_system(bilan)
    assert used in ("NOTES", "POSITIONNEMENT")
    other = "POSITIONNEMENT" if used == "NOTES" else "NOTES"
    assert codes(evaluate_bilan(bilan, index(data))) == []           # unset: either is accepted
    _division(data, "4A")["systeme_evaluation"] = used
    assert codes(evaluate_bilan(bilan, index(data))) == []
    _division(data, "4A")["systeme_evaluation"] = other
    messages = evaluate_bilan(bilan, index(data))
    assert codes(messages) == ["SYSTEME_EVALUATION_NON_RESPECTE"] and statut(messages, bilan) == REJETE
    assert messages[0]["groupe"] == {"division": "4A"}


def test_evaluation_system_of_a_bilan():
    def b(*acquis):
        return {"type": "periodique", "acquis": list(acquis)}
    assert checks.evaluation_system(b({"moyenne_eleve": "12"}, {"moyenne_eleve": "8,5"})) == "NOTES"
    assert checks.evaluation_system(b({"positionnement": "3"})) == "POSITIONNEMENT"
    assert checks.evaluation_system(b({"positionnement": "3"}, {"moyenne_eleve": "12"})) == "MIXTE"
    assert checks.evaluation_system(b({"eleve_non_note": "true", "moyenne_eleve": "12"})) is None
    assert checks.evaluation_system(b()) is None


def test_the_files_class_differs_from_siecles_is_a_warning(data, bilans):
    bilan = periodique(bilans, "4A", 0)
    moved = {**bilan, "eleve": {**bilan["eleve"], "division": "3A"}}
    messages = evaluate_bilan(moved, index(data))
    assert codes(messages) == ["DIVISION_FICHIER_DIFFERENTE"] and statut(messages, moved) == IMPORTE
    attached = checks.siecle_division(moved, index(data))
    assert attached["eleve"]["division"] == "4A" and attached["eleve"]["division_fichier"] == "3A"
    assert checks.siecle_division(bilan, index(data)) is bilan
