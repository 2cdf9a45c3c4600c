"""Splitter of the uploads queue: an uploaded file (S3 ObjectCreated → SQS) is checked
(size from S3, hostile XML, XSD, school), then split into self-contained bilans, sent by SQS
messages of up to BILANS_PER_MESSAGE bilans of the import (at most INLINE_LIMIT bytes; a bilan
too large for that travels alone, by reference to S3), by SendMessageBatch.

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
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.pipeline.split import stream
from chalicelib.pipeline.split import file_checks as validation
from chalicelib.domain.catalogue import message
from chalicelib.config import UPLOAD_PREFIX
from chalicelib.adapters.dynamodb import (EN_ATTENTE_FICHIER, EN_COURS, FICHIER_REJETE, Models, SchoolBusy, acquire_school,
                              current_school)
from chalicelib.pipeline.merge.stage import request_report, send_report_message

logger = logging.getLogger(__name__)

SQS_MAX_BODY = 256 * 1024
INLINE_LIMIT = 200 * 1024        # a message body, at most (the claim check beyond)
BILANS_PER_MESSAGE = 10
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


BUSY_BACKOFF_SECONDS = 10


def handle_upload_record(rt, record) -> None:
    count = int(record.attributes.approximate_receive_count or 1)
    for obj in s3_objects(record.body):
        try:
            handle_object(rt, obj, count > 1)
        except SchoolBusy:
            # Wait for the school's current import: back on the queue soon, not after the full
            # visibility timeout (the uploads queue's receive count allows a long wait).
            rt.sqs.change_message_visibility(QueueUrl=rt.queue_url(rt.settings.uploads_queue),
                                             ReceiptHandle=record.receipt_handle,
                                             VisibilityTimeout=min(BUSY_BACKOFF_SECONDS * count, 300))
            raise


def handle_object(rt, obj: S3Object, redelivered: bool = False) -> str:
    """Process one uploaded object; returns what happened (for logs and tests)."""
    models: Models = rt.models
    parsed = parse_upload_key(obj.key) if obj.key.startswith(UPLOAD_PREFIX) else None
    if parsed is None or obj.bucket != rt.settings.bucket:
        logger.warning("objet ignoré, hors du dépôt des imports : s3://%s/%s", obj.bucket, obj.key)
        return "ignore"
    uai, import_id = parsed
    try:
        record = models.Import.get(uai, import_id, consistent_read=True)
    except DoesNotExist:
        logger.warning("objet ignoré, aucun import en attente : %s", obj.key)
        return "ignore"
    if record.cle_s3 != obj.key:
        return "ignore"
    if record.statut == EN_COURS and redelivered and (record.traites or 0) < (record.total or 0):
        check, bilans = _check_and_split(rt, record)
        if check.ok:   # the same référentiel version as the messages sent the first time
            send_bilans(rt, record, bilans, record.referentiel_cle or check.referentiel)
            return "renvoye"
    if record.statut != EN_ATTENTE_FICHIER:
        return "doublon"

    check, bilans = _check_and_split(rt, record)
    if not check.ok:
        return _reject(models, record, check)
    if not record.pre_controle:
        acquire_school(models, uai, import_id, int(time.time()))   # SchoolBusy: retried later
    try:
        record.update(
            actions=[models.Import.statut.set(EN_COURS), models.Import.total.set(len(bilans)),
                     models.Import.entete.set(check.entete), models.Import.taille.set(check.size),
                     models.Import.sha256.set(check.sha256), models.Import.referentiel_cle.set(check.referentiel)],
            condition=models.Import.statut == EN_ATTENTE_FICHIER,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return "doublon"
        raise
    send_bilans(rt, record, bilans, check.referentiel)
    if not bilans:
        request_report(models, partial(send_report_message, rt), uai, import_id)
    return "decoupe"


@dataclass
class _Checked:
    ok: bool
    entete: dict
    erreurs: list
    size: int
    sha256: str | None
    referentiel: str | None = None


def _check_and_split(rt, record) -> tuple[_Checked, list[str]]:
    """Size from S3, then one streamed pass: checks, validation and split (bilans as JSON)."""
    settings = rt.settings
    head = rt.s3.head_object(Bucket=settings.bucket, Key=record.cle_s3)
    size = int(head["ContentLength"])
    too_large = validation.check_size(size, settings.max_file_bytes)
    if too_large:
        return _Checked(False, {}, [too_large], size, None), []
    data = rt.s3.get_object(Bucket=settings.bucket, Key=record.cle_s3)["Body"].read()
    sha = hashlib.sha256(data).hexdigest()
    result = stream.check_and_split(data, rt.schema, record.uai, settings.max_bilans)
    del data
    if not result.ok:
        return _Checked(False, result.entete, result.erreurs, size, sha), []
    school = current_school(rt.models, record.uai)   # its référentiel version checks this import
    referentiel = school.referentiel_cle if school else None
    if referentiel is None:
        return _Checked(False, result.entete, [message("REFERENTIEL_ABSENT")], size, sha), []
    return _Checked(True, result.entete, [], size, sha, referentiel), result.bilans


def _reject(models: Models, record, check: _Checked) -> str:
    try:
        record.update(
            actions=[models.Import.statut.set(FICHIER_REJETE), models.Import.erreurs_fichier.set(check.erreurs),
                     models.Import.entete.set(check.entete), models.Import.taille.set(check.size),
                     models.Import.total.set(0)]
            + ([models.Import.sha256.set(check.sha256)] if check.sha256 else []),
            condition=models.Import.statut == EN_ATTENTE_FICHIER,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return "doublon"
        raise
    return "rejete"


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
            rt.s3.put_object(Bucket=rt.settings.bucket, Key=key, Body=f"[{bilan_json}]".encode("utf-8"))
            bodies.append(f'{envelope[:-1]},"bilans_s3":{json.dumps(key)}}}')
            continue
        if len(group) == BILANS_PER_MESSAGE or size + length > room:
            flush()
        group.append(bilan_json)
        size += length
    flush()
    return bodies


def send_bilans(rt, record, bilans: list, referentiel: str) -> None:
    """SendMessageBatch by 10 messages (and never over the 256 KiB batch limit); failed entries
    retried."""
    url = rt.queue_url(rt.settings.bilans_queue)
    batch: list[dict] = []
    size = 0
    for n, body in enumerate(bilan_messages(rt, record, bilans, referentiel)):
        length = len(body.encode("utf-8"))
        if batch and (len(batch) == 10 or size + length > SQS_MAX_BODY):
            _send_batch(rt.sqs, url, batch)
            batch, size = [], 0
        batch.append({"Id": str(n), "MessageBody": body})
        size += length
    if batch:
        _send_batch(rt.sqs, url, batch)


def _send_batch(sqs, url: str, entries: list[dict], attempts: int = 5) -> None:
    for _ in range(attempts):
        resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        failed = {f["Id"] for f in resp.get("Failed", [])}
        if not failed:
            return
        entries = [e for e in entries if e["Id"] in failed]
    raise RuntimeError(f"{len(entries)} message(s) de bilans non envoyés après {attempts} essais")
