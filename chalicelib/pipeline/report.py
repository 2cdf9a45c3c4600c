"""Report function: assembles the synthèse d'import from the per-bilan results, stores it in S3
and marks the import finished — idempotent (a second report request finds it TERMINE)."""
from __future__ import annotations

import csv
import io
import json
import logging
import unicodedata
from datetime import datetime, timezone
from functools import partial

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain import catalogue
from chalicelib.domain.catalogue import AVERTISSEMENT
from chalicelib.domain.outcome import IMPORTE, INCHANGE, MIS_A_JOUR, REJETE
from chalicelib.adapters.dynamodb import EN_COURS, TERMINE, Models, import_key, release_school

logger = logging.getLogger(__name__)

_STATUT_ORDER = {REJETE: 0, MIS_A_JOUR: 1, IMPORTE: 2, INCHANGE: 3}


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
            if m.get("niveau") != AVERTISSEMENT:
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


CSV_COLUMNS = ["division", "id_be", "nom", "prenom", "type", "periode", "cycle", "statut", "codes", "messages",
               "que_faire"]


def synthese_csv(s: dict) -> str:
    """The bilans of a synthèse as a spreadsheet opens them: `;`-separated, UTF-8 with a BOM."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for m in s.get("erreurs_fichier", []) + s.get("messages", []):
        w.writerow(["", "", "", "", "fichier", "", "", s["statut"], m["code"], m["message"], m.get("conseil") or ""])
    for b in s.get("bilans", []):
        p = b.get("periode") or {}
        w.writerow([b["division"], b["id_be"], b["nom"], b["prenom"], b["type"],
                    f"{p['indice']}/{p['nb_periodes']}" if p else "", b.get("cycle") or "", b["statut"],
                    " ".join(m["code"] for m in b["messages"]), " | ".join(m["message"] for m in b["messages"]),
                    " | ".join(sorted({m["conseil"] for m in b["messages"] if m.get("conseil")}))])
    return "\ufeff" + out.getvalue()


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
        "messages": import_messages(summary["totaux"]) if record.statut == TERMINE else [],
        "avertissements": group_warnings(bilans),
        "codes": count_codes(bilans),
        "bilans": bilans,
    }


def results_of(models: Models, uai: str, import_id: str) -> list[dict]:
    return [
        {"type": r.type, "statut": r.statut, "eleve": r.eleve, "periode": r.periode, "cycle": r.cycle,
         "ligne": r.ligne, "messages": r.messages}
        for r in models.Resultat.query(import_key(uai, import_id), consistent_read=True)
    ]


def synthese_key(uai: str, import_id: str) -> str:
    return f"syntheses/{uai}/{import_id}.json"


def finish_import(rt, uai: str, import_id: str) -> str:
    models: Models = rt.models
    try:
        record = models.Import.get(uai, import_id, consistent_read=True)
    except DoesNotExist:
        logger.warning("rapport demandé pour un import inconnu %s/%s", uai, import_id)
        return "inconnu"
    if record.statut != EN_COURS:
        release_school(models, uai, import_id)   # idempotent: a retried report still frees the school
        return "deja_termine"
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record.statut, record.termine_le = TERMINE, now
    synthese = build_synthese(record, results_of(models, uai, import_id))
    key = synthese_key(uai, import_id)
    rt.s3.put_object(Bucket=rt.settings.bucket, Key=key, ContentType="application/json; charset=utf-8",
                     Body=json.dumps(synthese, ensure_ascii=False).encode("utf-8"))
    try:
        models.Import(uai, import_id).update(
            actions=[models.Import.statut.set(TERMINE), models.Import.synthese_cle.set(key),
                     models.Import.termine_le.set(now)],
            condition=models.Import.statut == EN_COURS)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return "deja_termine"
        raise
    release_school(models, uai, import_id)
    return "termine"


def handle_report_record(rt, record) -> None:
    body = json.loads(record.body)
    finish_import(rt, body["uai"], body["import_id"])


def process_report_event(event: dict, rt) -> dict:
    return process_partial_response(
        event=event, record_handler=partial(handle_report_record, rt),
        processor=BatchProcessor(event_type=EventType.SQS),
    )


def read_synthese(rt, record) -> dict:
    """The stored synthèse of a finished import; otherwise the synthèse so far (no bilans yet)."""
    if record.statut == TERMINE and record.synthese_cle:
        obj = rt.s3.get_object(Bucket=rt.settings.bucket, Key=record.synthese_cle)
        return json.loads(obj["Body"].read())
    return build_synthese(record, [])
