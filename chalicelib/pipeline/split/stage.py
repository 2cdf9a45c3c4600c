"""Stage 2, split (the uploads queue): an uploaded file (S3 ObjectCreated → SQS) is checked (size
from S3, hostile XML, XSD, school), then split into self-contained bilans, sent by SQS messages of
up to BILANS_PER_MESSAGE bilans of the import (at most INLINE_LIMIT bytes; a bilan too large for
that travels alone, by reference to S3), by SendMessageBatch.

State of the import: EN_ATTENTE_FICHIER → FICHIER_REJETE, or → EN_COURS with its total recorded
*before* any message is sent. Only the splitter whose conditional update wins sends the bilans;
a duplicate notification changes nothing. A redelivered event of a splitter that died while
sending sends them again: workers are idempotent on the business key."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chalicelib import observability
from chalicelib.adapters.ports import ImportRecord, SchoolBusy
from chalicelib.config import UPLOAD_PREFIX
from chalicelib.domain.catalogue import message
from chalicelib.domain.vocabulary import ImportStatut
from chalicelib.pipeline import handoff, manifest
from chalicelib.pipeline.split import file_checks, stream

logger = logging.getLogger(__name__)

INLINE_LIMIT = 200 * 1024        # a message body, at most (the claim check beyond)
BILANS_PER_MESSAGE = 10
SCHOOL_LEASE_SECONDS = 30 * 60
BUSY_BACKOFF_SECONDS = 10
_KEY = re.compile(r"imports/(?P<uai>[0-9A-Za-z]{8})/(?P<import_id>[0-9A-Za-z_-]{1,64})\.xml")


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int | None


def s3_objects(body: str) -> list[S3Object]:
    """The objects of an S3 event notification delivered through SQS; `s3:TestEvent` (sent by
    S3 when the notification is configured) has none. Keys arrive URL-encoded."""
    event = json.loads(body)
    if event.get("Event") == "s3:TestEvent":
        return []
    out = []
    for rec in event.get("Records", []):
        if not str(rec.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = rec["s3"]
        out.append(S3Object(s3["bucket"]["name"], unquote_plus(s3["object"]["key"]), s3["object"].get("size")))
    return out


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """`imports/<uai>/<import_id>.xml` → (uai, import_id); anything else is not an import."""
    m = _KEY.fullmatch(key)
    return (m["uai"], m["import_id"]) if m else None


def process_uploads_event(event: dict, rt) -> dict:
    return process_partial_response(
        event=event, record_handler=partial(handle_upload_record, rt),
        processor=BatchProcessor(event_type=EventType.SQS),
    )


def handle_upload_record(rt, record) -> None:
    count = int(record.attributes.approximate_receive_count or 1)
    for obj in s3_objects(record.body):
        try:
            handle_object(rt, obj, count > 1)
        except SchoolBusy:
            # Wait for the school's current import: back on the queue soon, not after the full
            # visibility timeout (the uploads queue's receive count allows a long wait).
            rt.queues.delay(rt.settings.uploads_queue, record.receipt_handle, min(BUSY_BACKOFF_SECONDS * count, 300))
            raise


def handle_object(rt, obj: S3Object, redelivered: bool = False) -> str:
    """Process one uploaded object; returns what happened (for logs and tests)."""
    parsed = parse_upload_key(obj.key) if obj.key.startswith(UPLOAD_PREFIX) else None
    if parsed is None or obj.bucket != rt.settings.bucket:
        logger.warning("objet ignoré, hors du dépôt des imports : s3://%s/%s", obj.bucket, obj.key)
        return "ignore"
    uai, import_id = parsed
    with observability.log_context(uai=uai, import_id=import_id):
        return _split_upload(rt, obj, uai, import_id, redelivered)


def _split_upload(rt, obj: S3Object, uai: str, import_id: str, redelivered: bool) -> str:
    imports = rt.repos.imports
    record = imports.get(uai, import_id)
    if record is None:
        logger.warning("objet ignoré, aucun import en attente : %s", obj.key)
        return "ignore"
    if record.cle_s3 != obj.key:
        return "ignore"
    if record.statut == ImportStatut.EN_COURS and redelivered and (record.traites or 0) < (record.total or 0):
        check, bilans = _check_and_split(rt, record)
        if check.ok:   # the same référentiel version as the messages sent the first time
            send_bilans(rt, record, bilans, record.referentiel_cle or check.referentiel)
            return "renvoye"
    if record.statut != ImportStatut.EN_ATTENTE_FICHIER:
        return "doublon"

    check, bilans = _check_and_split(rt, record)
    if not check.ok:
        won = imports.reject(record, erreurs=check.erreurs, entete=check.entete, taille=check.size, sha256=check.sha256)
        return "rejete" if won else "doublon"
    if not record.pre_controle:
        rt.repos.schools.acquire_lease(uai, import_id, int(time.time()), SCHOOL_LEASE_SECONDS)   # SchoolBusy: later
    # What is sent, by identity, before anything is: the watchdog names the bilans left without a
    # result (a splitter dying mid-send, a message lost). The same file gives the same manifest.
    manifest.write_manifest(rt, record, check.identites)
    if not imports.start(record, total=len(bilans), entete=check.entete, taille=check.size, sha256=check.sha256,
                         referentiel_cle=check.referentiel):
        return "doublon"
    send_bilans(rt, record, bilans, check.referentiel)
    if not bilans:
        handoff.request_report(rt, uai, import_id)
    return "decoupe"


@dataclass
class _Checked:
    ok: bool
    entete: dict
    erreurs: list
    size: int
    sha256: str | None
    referentiel: str | None = None
    identites: list | None = None        # the bilans' identities, in sending order (the manifest)


def _check_and_split(rt, record: ImportRecord) -> tuple[_Checked, list[str]]:
    """Size from S3, then one streamed pass: checks, validation and split (bilans as JSON)."""
    settings, blobs = rt.settings, rt.repos.blobs
    size = blobs.size(record.cle_s3)
    too_large = file_checks.check_size(size, settings.max_file_bytes)
    if too_large:
        return _Checked(False, {}, [too_large], size, None), []
    data = blobs.get(record.cle_s3)
    sha = hashlib.sha256(data).hexdigest()
    result = stream.check_and_split(data, rt.schemas, record.uai, settings.max_bilans)
    del data
    if not result.ok:
        return _Checked(False, result.entete, result.erreurs, size, sha), []
    school = rt.repos.schools.get(record.uai)   # its référentiel version checks this import
    referentiel = school.referentiel_cle if school else None
    if referentiel is None:
        return _Checked(False, result.entete, [message("REFERENTIEL_ABSENT")], size, sha), []
    return _Checked(True, result.entete, [], size, sha, referentiel, result.identites), result.bilans


def bilan_messages(rt, record, bilans: list, referentiel: str) -> list[str]:
    """The message bodies of an import's bilans (each given as a dict or as its JSON): the
    envelope (school, import, référentiel version the bilans are checked against) and up to
    BILANS_PER_MESSAGE consecutive bilans, within INLINE_LIMIT bytes. A bilan too large for a
    message of its own travels alone by reference to S3 (claim check). The grouping depends on
    the bilans alone: a file sent again (splitter redelivered) gives the same messages."""
    envelope = json.dumps({"uai": record.uai, "import_id": record.import_id,
                           "pre_controle": bool(record.pre_controle), "referentiel": referentiel})
    head = f'{envelope[:-1]},"bilans":['
    room = INLINE_LIMIT - len(head.encode("utf-8")) - 2            # "]}"
    bodies: list[str] = []
    group: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal group, size
        if group:
            bodies.append(head + ",".join(group) + "]}")
        group, size = [], 0

    for n, bilan in enumerate(bilans):
        bilan_json = bilan if isinstance(bilan, str) else json.dumps(bilan, ensure_ascii=False)
        length = len(bilan_json.encode("utf-8")) + 1                # its comma
        if length > room:
            flush()
            key = f"messages/{record.uai}/{record.import_id}/{n}.json"
            rt.repos.blobs.put(key, f"[{bilan_json}]".encode("utf-8"))
            bodies.append(f'{envelope[:-1]},"bilans_s3":{json.dumps(key)}}}')
            continue
        if len(group) == BILANS_PER_MESSAGE or size + length > room:
            flush()
        group.append(bilan_json)
        size += length
    flush()
    return bodies


def send_bilans(rt, record, bilans: list, referentiel: str) -> None:
    rt.queues.send_all(rt.settings.bilans_queue, bilan_messages(rt, record, bilans, referentiel))
