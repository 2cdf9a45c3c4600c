"""Stage 4, report (the report queue): assembles the synthèse d'import from the per-bilan results,
stores it in S3 and marks the import finished — idempotent (a second report request finds it
TERMINE). The earlier stages ask for it through chalicelib.pipeline.handoff."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from functools import partial

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chalicelib import observability
from chalicelib.domain.synthese import build_synthese
from chalicelib.domain.vocabulary import ImportStatut

logger = logging.getLogger(__name__)

def synthese_key(uai: str, import_id: str) -> str:
    return f"syntheses/{uai}/{import_id}.json"


def results_of(rt, uai: str, import_id: str) -> list[dict]:
    return [r.as_dict() for r in rt.repos.results.of_import(uai, import_id)]


def _divisions(rt, record) -> dict:
    """The divisions of the référentiel version the import was checked against (by code)."""
    return rt.referentiel(record.referentiel_cle).divisions_by_code if record.referentiel_cle else {}


def finish_import(rt, uai: str, import_id: str) -> str:
    repos = rt.repos
    record = repos.imports.get(uai, import_id)
    if record is None:
        logger.warning("rapport demandé pour un import inconnu %s/%s", uai, import_id)
        return "inconnu"
    if record.statut != ImportStatut.EN_COURS:
        repos.schools.release_lease(uai, import_id)   # idempotent: a retried report still frees the school
        return "deja_termine"
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record.statut, record.termine_le = ImportStatut.TERMINE, now
    synthese = build_synthese(record, results_of(rt, uai, import_id), _divisions(rt, record))
    key = synthese_key(uai, import_id)
    repos.blobs.put(key, json.dumps(synthese, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")
    if not repos.imports.finish(uai, import_id, synthese_cle=key, termine_le=now):
        return "deja_termine"
    observability.emit_import_metrics(synthese)
    repos.schools.release_lease(uai, import_id)
    return "termine"


def handle_report_record(rt, record) -> None:
    body = json.loads(record.body)
    with observability.log_context(uai=body.get("uai"), import_id=body.get("import_id")):
        finish_import(rt, body["uai"], body["import_id"])


def process_report_event(event: dict, rt) -> dict:
    return process_partial_response(
        event=event, record_handler=partial(handle_report_record, rt),
        processor=BatchProcessor(event_type=EventType.SQS),
    )


def read_synthese(rt, record) -> dict:
    """The stored synthèse of a finished import; otherwise the synthèse so far (no bilans yet)."""
    if record.statut == ImportStatut.TERMINE and record.synthese_cle:
        return json.loads(rt.repos.blobs.get(record.synthese_cle))
    return build_synthese(record, [])
