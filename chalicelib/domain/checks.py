"""LSU's per-bilan import checks against the school's référentiel (SIECLE/STS picture).

Each check is a named pure function returning catalogue messages. `evaluate_bilan` applies them
in LSU's order: the first refusal wins (the bilan is rejected with that one reason), warnings and
infos accumulate. Messages that the synthèse lists once per subject (a teacher, a division ×
période) carry a `groupe`."""
from __future__ import annotations

from datetime import date

from chalicelib.domain.catalogue import message
from chalicelib.domain.vocabulary import IMPORT_MODES, Mode, civilite_abregee
from chalicelib.referentiel import Referentiel

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
    """SCONET_PERIOD_*: for Sconet Notes divisions, the file's période against the division's
    SIECLE calendar. Imported all the same, one warning per division × période."""
    if bilan["type"] != "periodique" or division.get("mode_import") != SCONET_NOTES:
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
               or check_completeness(bilan, division) or check_subjects_known(bilan, ref))
    notes = (check_sconet_period(bilan, division, ref) + check_services(bilan, division, ref)
             + check_hors_programme(bilan, division, ref))
    return ([refusal] if refusal else []) + notes
