"""The synthèse d'import (contract in docs/contrats.md), assembled from an import record and its
per-bilan results. Pure."""
from __future__ import annotations

import json
import unicodedata

from chalicelib.domain import catalogue
from chalicelib.domain.liveness import interrupted_message
from chalicelib.domain.vocabulary import BilanStatut, ImportStatut, Niveau, Role

def import_summary(record) -> dict:
    """The import as the API shows it: status, progress, totals (from the import record)."""
    total = record.total
    return {
        "import_id": record.import_id,
        "uai": record.uai,
        "statut": record.statut,
        "pre_controle": bool(record.pre_controle),
        "fichier": {"nom": record.nom_fichier, "taille": record.taille if record.taille is not None
                    else record.taille_declaree, "sha256": record.sha256},
        "cree_le": record.cree_le,
        "termine_le": record.termine_le,
        "progression": {"traites": record.traites or 0, "total": total},
        "totaux": totaux(record),
    }


def totaux(record) -> dict:
    nouveaux, maj, inch = record.nouveaux or 0, record.mis_a_jour or 0, record.inchanges or 0
    return {"bilans": record.total or 0, "importes": nouveaux + maj + inch, "nouveaux": nouveaux,
            "mis_a_jour": maj, "inchanges": inch, "rejetes": record.rejetes or 0,
            "avertissements": record.avertissements or 0}


def bilan_entry(result: dict) -> dict:
    eleve = result["eleve"]
    return {
        "type": result["type"], "id_be": eleve["id_be"], "nom": eleve.get("nom"),
        "prenom": eleve.get("prenom"), "division": eleve.get("division"),
        "periode": result.get("periode"), "cycle": result.get("cycle"), "ligne": result.get("ligne"),
        "statut": result["statut"], "messages": result.get("messages") or [],
        "a_completer": result.get("a_completer") or [],
        "systeme_evaluation": result.get("systeme_evaluation"),
    }


def french_key(text: str | None) -> str:
    """Alphabetical order as in a French class list: accents and case ignored (« Écuyer » after
    « de Gaulle », before « Lévêque »)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def sort_bilans(bilans: list[dict]) -> list[dict]:
    """By division, then élève, then période/cycle: the order a school head reads in."""
    def key(b):
        p = b.get("periode") or {}
        return (b.get("division") or "", french_key(b.get("nom")), french_key(b.get("prenom")), b["id_be"],
                b["type"], p.get("indice") or 0, b.get("cycle") or 0)
    return sorted(bilans, key=key)


def group_warnings(bilans: list[dict]) -> list[dict]:
    """Warnings grouped by code and subject (a teacher, a division × période…): one line each,
    with the number of bilans concerned and their divisions."""
    groups: dict[tuple, dict] = {}
    for n, b in enumerate(bilans):
        for m in b["messages"]:
            if m.get("niveau") != Niveau.AVERTISSEMENT:
                continue
            subject = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in (m.get("groupe") or {}).items()))
            g = groups.setdefault((m["code"], subject), {
                "code": m["code"], "message": m["message"], **(m.get("groupe") or {}),
                "bilans": set(), "divisions": set()})
            g["bilans"].add(n)
            if b.get("division"):
                g["divisions"].add(b["division"])
    return [{**{k: v for k, v in g.items() if k != "bilans"}, "nb_bilans": len(g["bilans"]),
             "divisions": sorted(g["divisions"])} for g in groups.values()]


def count_codes(bilans: list[dict]) -> dict[str, int]:
    """How many bilans carry each code (a code counts once per bilan)."""
    counts: dict[str, int] = {}
    for b in bilans:
        for code in {m["code"] for m in b["messages"]}:
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


def import_messages(tot: dict) -> list[dict]:
    if tot["bilans"] == 0:
        return [catalogue.message("NO_BILAN")]
    if tot["rejetes"] == tot["bilans"]:
        return [catalogue.message("ALL_BILANS_REJECTED")]
    return []


# Who completes each missing part of a Sconet Notes bilan (« Le chef d'établissement, le professeur
# principal et le CPE doivent compléter les bilans »; a teacher enters the éléments de programme of
# their services; the chef d'établissement's delegates may do what the CE does).
QUI_COMPLETE = {
    "appréciation générale": [Role.CE, Role.DELEGUE_CE, Role.PP],
    "vie scolaire": [Role.CE, Role.DELEGUE_CE, Role.CPE],
    "éléments de programme": [Role.CE, Role.DELEGUE_CE, Role.PP, Role.ENSEIGNANT],
}
_EP_PREFIX = "éléments de programme en "


def _manque(item: str) -> tuple[str, str | None]:
    """« éléments de programme en Mathématiques » → ("éléments de programme", "Mathématiques")."""
    if item.startswith(_EP_PREFIX):
        return "éléments de programme", item[len(_EP_PREFIX):]
    return item, None


def _libelle_bilan(b: dict) -> str:
    p = b.get("periode") or {}
    if b.get("type") == "periodique" and p:
        return f"période {p.get('indice')}/{p.get('nb_periodes')} ({p.get('millesime')})"
    return f"fin de cycle {b.get('cycle')}"


def _ordre_bilan(b: dict) -> tuple:
    """Périodes in the school year's order, then the bilans de fin de cycle."""
    p = b.get("periode") or {}
    if b.get("type") == "periodique":
        return (0, str(p.get("millesime")), str(p.get("nb_periodes")), str(p.get("indice")))
    return (1, str(b.get("cycle")), "", "")


def _systeme(values: set) -> str | None:
    values = {v for v in values if v}
    if not values:
        return None
    return next(iter(values)) if len(values) == 1 else "MIXTE"


def classes(bilans: list[dict], divisions: dict | None = None) -> list[dict]:
    """Per class (the élève's SIECLE class), what a school head reads after an import: the bilans
    by période or cycle (integrated, rejected), the evaluation system the file used, and the
    Sconet Notes bilans still « à compléter » with what they lack and who completes it."""
    divisions = divisions or {}
    out: dict[str, dict] = {}
    for b in bilans:
        code = b.get("division") or ""
        d = divisions.get(code) or {}
        c = out.setdefault(code, {"division": code, "niveau": d.get("niveau"), "mode": d.get("mode_import"),
                                  "systeme_evaluation": d.get("systeme_evaluation"), "_systemes": set(),
                                  "bilans": 0, "_periodes": {}, "_manques": {}, "_a_completer": 0})
        c["bilans"] += 1
        c["_systemes"].add(b.get("systeme_evaluation"))
        key = _libelle_bilan(b)
        per = c["_periodes"].setdefault(key, {"libelle": key, "bilans": 0, "importes": 0, "rejetes": 0,
                                              "_ordre": _ordre_bilan(b)})
        per["bilans"] += 1
        per["rejetes" if b.get("statut") == BilanStatut.REJETE else "importes"] += 1
        lacking = [m for m in b.get("a_completer") or [] if isinstance(m, str)]
        if lacking and b.get("statut") != BilanStatut.REJETE:
            c["_a_completer"] += 1
            for item in lacking:
                partie, discipline = _manque(item)
                m = c["_manques"].setdefault((partie, discipline), {
                    "partie": partie, **({"discipline": discipline} if discipline else {}), "bilans": 0,
                    "qui": [str(r) for r in QUI_COMPLETE.get(partie, [Role.CE, Role.DELEGUE_CE])]})
                m["bilans"] += 1
    result = []
    for code in sorted(out):
        c = out[code]
        result.append({
            "division": c["division"], "niveau": c["niveau"], "mode": c["mode"],
            "systeme_evaluation": c["systeme_evaluation"], "systeme_evaluation_fichier": _systeme(c["_systemes"]),
            "bilans": c["bilans"],
            "par_periode": [{k: v for k, v in p.items() if k != "_ordre"}
                            for p in sorted(c["_periodes"].values(), key=lambda p: p["_ordre"])],
            "a_completer": {"bilans": c["_a_completer"], "manques": [c["_manques"][k] for k in sorted(
                c["_manques"], key=lambda k: (k[0], french_key(k[1])))]},
        })
    return result


def build_synthese(record, results: list[dict], divisions: dict | None = None) -> dict:
    """The synthèse d'import (contract in docs/contrats.md). Pure given the record, the results and
    the référentiel's divisions (by code: niveau, mode, evaluation system)."""
    summary = import_summary(record)
    bilans = sort_bilans([bilan_entry(r) for r in results])
    return {
        **{k: summary[k] for k in ("import_id", "uai", "statut", "pre_controle", "fichier", "cree_le",
                                   "termine_le", "progression", "totaux")},
        "cree_par": getattr(record, "cree_par", None),
        "classes": classes(bilans, divisions),
        "entete": record.entete or {},
        "erreurs_fichier": record.erreurs_fichier or [],
        "messages": _messages(record, summary, bilans) if record.statut == ImportStatut.TERMINE else [],
        "avertissements": group_warnings(bilans),
        "codes": count_codes(bilans),
        "bilans": bilans,
    }


def _messages(record, summary: dict, bilans: list[dict]) -> list[dict]:
    """The import's own messages: finished by the watchdog (IMPORT_INTERROMPU), then the totals'."""
    interrupted = interrupted_message(getattr(record, "surveillance", None), bilans, record.total or 0,
                                      record.traites or 0)
    return ([interrupted] if interrupted else []) + import_messages(summary["totaux"])
