"""LSU's per-bilan import checks against the school's référentiel (SIECLE/STS picture).

Each check is a named pure function returning catalogue messages. `evaluate_bilan` applies them
in LSU's order: the first refusal wins (the bilan is rejected with that one reason), warnings and
infos accumulate. Messages that the synthèse lists once per subject (a teacher, a division ×
période) carry a `groupe`."""
from __future__ import annotations

from datetime import date

from chalicelib.domain.catalogue import message
from chalicelib.domain.vocabulary import IMPORT_MODES, Mode, SystemeEvaluation, civilite_abregee
from chalicelib.referentiel import Referentiel, enseignements_obligatoires

EDITEUR, SCONET_NOTES, SAISIE = Mode.EDITEUR, Mode.SCONET_NOTES, Mode.SAISIE


# --- dates and periods ------------------------------------------------------------------------

def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def enrolled_during(date_entree: str, date_sortie: str | None, debut: str, fin: str) -> bool:
    """An élève counts for a period if their schooling overlaps it (inclusive bounds)."""
    entree, sortie = _d(date_entree), _d(date_sortie)
    return entree <= _d(fin) and (sortie is None or sortie >= _d(debut))


def school_year(ref: Referentiel) -> tuple[str, str]:
    """First and last day covered by the calendar (every scheme), or the whole school year."""
    days = [p[k] for scheme in ref.calendrier.values() if isinstance(scheme, dict)
            for p in scheme.get("periodes", []) for k in ("debut", "fin")]
    if days:
        return min(days), max(days)
    return f"{ref.millesime}-09-01", f"{int(ref.millesime) + 1}-08-31"


def period_bounds(ref: Referentiel, division: dict, periode: dict | None) -> tuple[str, str]:
    """Dates of the bilan's period in the division's scheme; the school year if it has none."""
    if periode:
        scheme = ref.calendrier.get(division.get("periodes", "trimestres")) or {}
        for p in scheme.get("periodes", []):
            if p["indice"] == periode["indice"] and scheme.get("nb_periodes") == periode["nb_periodes"]:
                return p["debut"], p["fin"]
    return school_year(ref)


def _periode_label(periode: dict) -> str:
    return f"période {periode['indice']}/{periode['nb_periodes']} ({periode['millesime']})"


def _bilan_label(bilan: dict) -> str:
    return _periode_label(bilan["periode"]) if bilan["type"] == "periodique" else f"cycle {bilan['cycle']}"


# --- refusals -----------------------------------------------------------------------------------

def check_student(bilan: dict, ref: Referentiel) -> dict | None:
    """STUDENT_UNKNOWN: not a student of the school, or not enrolled during the period."""
    id_be = bilan["eleve"]["id_be"]
    eleve = ref.eleves_by_id_be.get(id_be)
    if eleve is None:
        who = " ".join(x for x in (bilan["eleve"].get("prenom"), bilan["eleve"].get("nom")) if x)
        return message("STUDENT_UNKNOWN", f"{who + ' : ' if who else ''}identifiant SIECLE (id-be) {id_be} "
                       f"inconnu dans l'établissement.")
    division = ref.divisions_by_code.get(eleve["division"], {})
    debut, fin = period_bounds(ref, division, bilan.get("periode"))
    if not enrolled_during(eleve["date_entree"], eleve.get("date_sortie"), debut, fin):
        sortie = f", sortie le {eleve['date_sortie']}" if eleve.get("date_sortie") else ""
        return message("STUDENT_UNKNOWN", f"{eleve['prenom']} {eleve['nom']} : entrée le {eleve['date_entree']}"
                       f"{sortie} ; {_bilan_label(bilan)} du {debut} au {fin}.")
    return None


def check_division_mode(division: dict) -> dict | None:
    """DIVISION_MODE_SAISIE: the division is in manual entry, not in an import mode."""
    if division.get("mode_import") not in IMPORT_MODES:
        return message("DIVISION_MODE_SAISIE", f"Classe {division['code']}.", groupe={"division": division["code"]})
    return None


def check_cycle_bilan_mode(bilan: dict, division: dict) -> dict | None:
    """CYCLE_BILAN_SCONET_DIVISION: a Sconet Notes import cannot carry a bilan de fin de cycle."""
    if bilan["type"] == "cycle" and division.get("mode_import") == SCONET_NOTES:
        return message("CYCLE_BILAN_SCONET_DIVISION", f"Classe {division['code']}.")
    return None


def missing_parts(bilan: dict) -> list[str]:
    """What a complete bilan périodique lacks (the strict schema's requirements)."""
    if bilan["type"] != "periodique":
        return []
    missing = []
    if not bilan.get("acquis"):
        missing.append("acquis scolaires")
    if not (bilan.get("acquis_conseils") or "").strip():
        missing.append("appréciation générale")
    if bilan.get("vie_scolaire") is None:
        missing.append("vie scolaire")
    return missing


def _niveau_number(niveau) -> str:
    """« 6E », « 6EME », « 6e SEGPA » → "6"."""
    text = str(niveau or "").strip()
    return text[:1] if text[:1].isdigit() else ""


# The niveau a cycle ends in: the bilan de fin de cycle 3 is written in 6e, that of cycle 4 in 3e.
CYCLE_END_NIVEAU = {3: "6", 4: "3"}


def check_cycle_niveau(bilan: dict, division: dict) -> dict | None:
    """CYCLE_NIVEAU_INCOHERENT: a bilan de fin de cycle 3 outside 6e, or of cycle 4 outside 3e (the
    division's niveau in the référentiel)."""
    if bilan["type"] != "cycle":
        return None
    expected = CYCLE_END_NIVEAU.get(bilan.get("cycle"))
    if expected is not None and _niveau_number(division.get("niveau")) != expected:
        return message("CYCLE_NIVEAU_INCOHERENT", f"Bilan de fin de cycle {bilan['cycle']} ; classe "
                       f"{division['code']} de niveau {division.get('niveau') or 'inconnu'}.")
    return None


def evaluation_system(bilan: dict) -> str | None:
    """The evaluation system a bilan périodique's acquis follow: NOTES (a moyenne), POSITIONNEMENT
    (the 1–4 scale), MIXTE (both), None (no graded acquis). An acquis « non noté » counts for neither."""
    seen = set()
    for a in bilan.get("acquis") or []:
        if not isinstance(a, dict) or non_note(a):
            continue
        if a.get("positionnement") not in (None, ""):
            seen.add(SystemeEvaluation.POSITIONNEMENT)
        if a.get("moyenne_eleve") not in (None, ""):
            seen.add(SystemeEvaluation.NOTES)
    if len(seen) > 1:
        return MIXTE
    return next(iter(seen), None)


MIXTE = "MIXTE"


def check_evaluation_system(bilan: dict, division: dict) -> dict | None:
    """SYSTEME_EVALUATION_NON_RESPECTE: LSU accepts one evaluation system per class; where the
    class's is set (« Paramétrage des classes »), a bilan whose acquis follow another is refused.
    Unset: either is accepted (the synthèse says which the file used, per class)."""
    expected = division.get("systeme_evaluation")
    used = evaluation_system(bilan) if bilan["type"] == "periodique" else None
    if expected and used and used != expected:
        labels = {SystemeEvaluation.NOTES: "des notes", SystemeEvaluation.POSITIONNEMENT: "le positionnement (1 à 4)",
                  MIXTE: "des notes et le positionnement"}
        return message("SYSTEME_EVALUATION_NON_RESPECTE", f"Classe {division['code']} : {labels[expected]} ; "
                       f"le bilan : {labels[used]}.", groupe={"division": division["code"]})
    return None


def check_completeness(bilan: dict, division: dict) -> dict | None:
    """BILAN_INCOMPLET: an Import Éditeurs bilan must be complete (it is locked on import); only
    Sconet Notes bilans may be partial, to be completed in LSU."""
    missing = missing_parts(bilan)
    if missing and division.get("mode_import") == EDITEUR:
        return message("BILAN_INCOMPLET", f"Il manque : {', '.join(missing)} (classe {division['code']}).")
    return None


def subject_codes(discipline: dict) -> list[str]:
    """The codes under which a discipline may be known: its code, then its national code."""
    return [c for c in (discipline.get("code"), discipline.get("code_national")) if c]


def known_subject(discipline: dict, ref: Referentiel) -> dict | None:
    for code in subject_codes(discipline):
        if code in ref.matieres_by_code:
            return ref.matieres_by_code[code]
    return None


def check_subjects_known(bilan: dict, ref: Referentiel) -> dict | None:
    """SUBJECT_UNKNOWN: a discipline whose code (or code-national) is no subject of the school."""
    unknown = [a["discipline"] for a in bilan.get("acquis", []) if known_subject(a["discipline"], ref) is None]
    if unknown:
        names = ", ".join(f"« {d.get('libelle')} » ({'/'.join(subject_codes(d))})" for d in unknown)
        return message("SUBJECT_UNKNOWN", f"Matière(s) : {names}.")
    return None


# --- warnings and infos -------------------------------------------------------------------------

def hors_programme(matiere: dict, division: dict, enseignants: list[str], ref: Referentiel) -> bool:
    """A subject outside the division's programme: flagged so, not taught at the division's
    niveau, or only through hors-programme services."""
    if matiere.get("hors_programme"):
        return True
    niveaux = matiere.get("niveaux") or []
    if niveaux and division.get("niveau") not in niveaux:
        return True
    keys = [(e, matiere["code"], division["code"]) for e in enseignants]
    return bool(keys) and all(k in ref.services_hors_programme for k in keys)


def check_hors_programme(bilan: dict, division: dict, ref: Referentiel) -> list[dict]:
    """SUBJECT_HORS_PROGRAMME (INFO): imported all the same, as LSU does in import mode."""
    out = []
    for a in bilan.get("acquis", []):
        matiere = known_subject(a["discipline"], ref)
        ids = [e["id_sts"] for e in a.get("enseignants", [])]
        if matiere and hors_programme(matiere, division, ids, ref):
            out.append(message("SUBJECT_HORS_PROGRAMME", f"« {matiere['libelle']} » en {division['code']}."))
    return out


def _teacher_label(e: dict) -> str:
    civ = civilite_abregee(e.get("civilite"))
    name = " ".join(x for x in (civ, e.get("prenom"), e.get("nom")) if x)
    return f"{name} (STS {e['id_sts']})"


def check_services(bilan: dict, division: dict, ref: Referentiel) -> list[dict]:
    """TEACHER_WITHOUT_SERVICE: a teacher (or professeur principal) named without any service in
    the school; SERVICE_UNKNOWN: a teacher with services, but none for that subject in that division."""
    with_service = {s[0] for s in ref.services}
    without, unknown, seen = [], [], set()
    named = [(e, a) for a in bilan.get("acquis", []) for e in a.get("enseignants", [])]
    named += [(e, None) for e in bilan.get("profs_principaux", [])]
    for e, acquis in named:
        if e["id_sts"] not in with_service:
            if e["id_sts"] not in seen:
                seen.add(e["id_sts"])
                without.append(message("TEACHER_WITHOUT_SERVICE", f"{_teacher_label(e)}.",
                                   groupe={"enseignant": _teacher_label(e)}))
            continue
        if acquis is None:
            continue
        matiere = known_subject(acquis["discipline"], ref)
        if matiere and (e["id_sts"], matiere["code"], division["code"]) not in ref.services:
            unknown.append(message("SERVICE_UNKNOWN", f"{_teacher_label(e)} en « {matiere['libelle']} », classe "
                               f"{division['code']}.", groupe={"enseignant": _teacher_label(e),
                                                             "matiere": matiere["libelle"], "division": division["code"]}))
    return without + unknown


def check_sconet_period(bilan: dict, division: dict, ref: Referentiel) -> list[dict]:
    """SCONET_PERIOD_*: the file's période against the division's SIECLE calendar — the fiche's
    check of Sconet Notes files, made for Éditeur files too (a school head expects the same
    alert). Imported all the same, one warning per division × période."""
    if bilan["type"] != "periodique" or division.get("mode_import") not in IMPORT_MODES:
        return []
    p = bilan["periode"]
    groupe = {"division": division["code"], "periode": _periode_label(p)}
    scheme = division.get("periodes", "trimestres")
    expected_nb = division.get("nb_periodes") or (ref.calendrier.get(scheme) or {}).get("nb_periodes")
    out = []
    if p["millesime"] != ref.millesime:
        out.append(message("SCONET_PERIOD_MILLESIME", f"Fichier : {p['millesime']} ; SIECLE : {ref.millesime}.",
                           groupe=groupe))
    if p["nb_periodes"] != expected_nb:
        out.append(message("SCONET_PERIOD_NB_PERIODES", f"Fichier : {p['nb_periodes']} ; SIECLE ({scheme}) : "
                           f"{expected_nb}.", groupe=groupe))
    if not 1 <= p["indice"] <= (expected_nb or 0):
        out.append(message("SCONET_PERIOD_INDICE", f"Période {p['indice']} ; SIECLE ({scheme}) : 1 à {expected_nb}.",
                           groupe=groupe))
    return out


# --- brevet (DNB) 2026: the 3e's contrôle continu -------------------------------------------------

def is_3e(division: dict) -> bool:
    """A division whose niveau starts with "3" (« 3E », « 3EME », « 3e SEGPA »)."""
    return _niveau_number(division.get("niveau")) == "3"


def brevet_mark(value) -> float | None:
    """A moyenne of the file as a number: « 12,5 », « 12.5 », « 14 » → 12.5, 12.5, 14.0; None
    for anything else (« Abs », « Disp », empty, out of 0–20, not a string or a number)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip().replace(",", ".")
    if not text or len(text) > 8 or not all(c in "0123456789." for c in text) or text.count(".") > 1 \
            or text.startswith(".") or text.endswith("."):
        return None
    mark = float(text)
    return mark if 0 <= mark <= 20 else None


def non_note(acquis: dict) -> bool:
    """The élève « non noté » in this discipline (the acquis' eleve-non-note="true"): dispensed of
    its mark and positioning; counts for no evaluation system and no brevet average."""
    return str(acquis.get("eleve_non_note", "")).lower() == "true"


def brevet_missing_subjects(bilan: dict, eleve: dict, ref: Referentiel) -> list[str]:
    """The obligatory matières of the élève's MEF (`enseignements_obligatoires`) that no acquis of
    the bilan gives a moyenne (a mark out of 20). An acquis « élève non noté » (a dispensed élève)
    neutralises its matière: it is not missing. None known (no MEF, no programme): []."""
    expected = enseignements_obligatoires(ref, eleve)
    if not expected:
        return []
    covered = set()
    for a in bilan.get("acquis") or []:
        if not isinstance(a, dict) or not isinstance(a.get("discipline"), dict):
            continue
        if non_note(a) or brevet_mark(a.get("moyenne_eleve")) is not None:
            covered.update(subject_codes(a["discipline"]))
    return [code for code in expected if code not in covered]


def _matiere_label(code: str, ref: Referentiel) -> str:
    return f"« {(ref.matieres_by_code.get(code) or {}).get('libelle') or code} »"


def check_brevet_averages(bilan: dict, division: dict, eleve: dict, ref: Referentiel) -> dict | None:
    """BREVET_ENSEIGNEMENT_SANS_MOYENNE: a 3e bilan périodique without a moyenne for an obligatory
    enseignement of the élève's formation (one message per bilan, naming the matières)."""
    if bilan["type"] != "periodique" or not is_3e(division):
        return None
    missing = brevet_missing_subjects(bilan, eleve, ref)
    if not missing:
        return None
    return message("BREVET_ENSEIGNEMENT_SANS_MOYENNE", f"{eleve['prenom']} {eleve['nom']} (classe "
                   f"{division['code']}) : {', '.join(_matiere_label(c, ref) for c in missing)}.",
                   groupe={"division": division["code"]})


def check_brevet_sans_notes(bilan: dict, division: dict) -> dict | None:
    """BREVET_CLASSE_SANS_NOTES: a 3e class evaluated without notes (SIECLE's indicator)."""
    if bilan["type"] == "periodique" and is_3e(division) and division.get("sans_notes") is True:
        return message("BREVET_CLASSE_SANS_NOTES", f"Classe {division['code']}.", groupe={"division": division["code"]})
    return None


BREVET_PERIODICITIES = {"trimestres": 3, "semestres": 2}


def check_brevet_periodicity(bilan: dict, division: dict) -> dict | None:
    """BREVET_PERIODICITE: a 3e class organised otherwise than in 3 trimestres or 2 semestres."""
    if bilan["type"] != "periodique" or not is_3e(division):
        return None
    scheme, nb = division.get("periodes"), division.get("nb_periodes")
    if scheme in BREVET_PERIODICITIES and BREVET_PERIODICITIES[scheme] == nb:
        return None
    return message("BREVET_PERIODICITE", f"Classe {division['code']} : {nb if nb is not None else '?'} période(s) "
                   f"({scheme or 'découpage inconnu'}).", groupe={"division": division["code"]})


def check_brevet(bilan: dict, division: dict, eleve: dict, ref: Referentiel) -> list[dict]:
    """The brevet 2026 warnings of a 3e bilan périodique, in this order: averages, notes, periods.
    None at all where the élève's formation is not known (no MEF, or no programme of it): the
    référentiel then predates these checks, or lacks SIECLE's nomenclatures."""
    if enseignements_obligatoires(ref, eleve) is None:
        return []
    return [m for m in (check_brevet_averages(bilan, division, eleve, ref), check_brevet_sans_notes(bilan, division),
                        check_brevet_periodicity(bilan, division)) if m]


def check_cycle_millesime(bilan: dict, ref: Referentiel) -> dict | None:
    """CYCLE_MILLESIME: a bilan de fin de cycle of another school year than the référentiel's."""
    if bilan["type"] == "cycle" and bilan.get("millesime") != ref.millesime:
        return message("CYCLE_MILLESIME", f"Fichier : {bilan.get('millesime')} ; SIECLE : {ref.millesime}.")
    return None


def check_file_division(bilan: dict, eleve: dict) -> dict | None:
    """DIVISION_FICHIER_DIFFERENTE: the file's class of the élève is not SIECLE's (the élève changed
    class, or the file is stale). The bilan belongs to the SIECLE class all the same
    (`siecle_division`): its mode, services, storage, search and rights are that class's."""
    named = (bilan.get("eleve") or {}).get("division")
    if named != eleve["division"]:
        return message("DIVISION_FICHIER_DIFFERENTE", f"Fichier : {named} ; SIECLE : {eleve['division']}.",
                       groupe={"division": eleve["division"]})
    return None


def siecle_division(bilan: dict, ref: Referentiel) -> dict:
    """The bilan attached to the élève's SIECLE class: `eleve.division` is SIECLE's, the file's is
    kept as `eleve.division_fichier` where it differs. Unknown élève: the bilan as it is."""
    eleve = ref.eleves_by_id_be.get((bilan.get("eleve") or {}).get("id_be"))
    named = (bilan.get("eleve") or {}).get("division")
    if eleve is None or named == eleve["division"]:
        return bilan
    return {**bilan, "eleve": {**bilan["eleve"], "division": eleve["division"], "division_fichier": named}}


def division_mode(bilan: dict, ref: Referentiel) -> str | None:
    """The import mode of the élève's division in the référentiel (None if unknown)."""
    eleve = ref.eleves_by_id_be.get(bilan["eleve"]["id_be"])
    return (ref.divisions_by_code.get(eleve["division"]) or {}).get("mode_import") if eleve else None


# --- all of them ----------------------------------------------------------------------------------

def evaluate_bilan(bilan: dict, ref: Referentiel) -> list[dict]:
    """The messages of one bilan: its first refusal (if any) first, then warnings and infos."""
    refusal = check_student(bilan, ref)
    if refusal:
        return [refusal]
    eleve = ref.eleves_by_id_be[bilan["eleve"]["id_be"]]
    division = ref.divisions_by_code[eleve["division"]]
    refusal = (check_division_mode(division) or check_cycle_bilan_mode(bilan, division)
               or check_cycle_niveau(bilan, division) or check_completeness(bilan, division)
               or check_evaluation_system(bilan, division) or check_subjects_known(bilan, ref))
    notes = ([m for m in (check_file_division(bilan, eleve), check_cycle_millesime(bilan, ref)) if m]
             + check_sconet_period(bilan, division, ref) + check_services(bilan, division, ref)
             + check_hors_programme(bilan, division, ref) + check_brevet(bilan, division, eleve, ref))
    return ([refusal] if refusal else []) + notes
