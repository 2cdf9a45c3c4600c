"""The synthèse d'import (contract in docs/contrats.md), assembled from an import record and its
per-bilan results. Pure."""
from __future__ import annotations

import json
import unicodedata

from chalicelib.domain import catalogue
from chalicelib.domain.vocabulary import ImportStatut, Niveau

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


def build_synthese(record, results: list[dict]) -> dict:
    """The synthèse d'import (contract in docs/contrats.md). Pure given the record and results."""
    summary = import_summary(record)
    bilans = sort_bilans([bilan_entry(r) for r in results])
    return {
        **{k: summary[k] for k in ("import_id", "uai", "statut", "pre_controle", "fichier", "cree_le",
                                   "termine_le", "progression", "totaux")},
        "entete": record.entete or {},
        "erreurs_fichier": record.erreurs_fichier or [],
        "messages": import_messages(summary["totaux"]) if record.statut == ImportStatut.TERMINE else [],
        "avertissements": group_warnings(bilans),
        "codes": count_codes(bilans),
        "bilans": bilans,
    }
