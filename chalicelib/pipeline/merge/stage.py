"""Worker of the bilans queue: merges each bilan into the school's LSU data and records its
result, idempotently on the business key (UAI, import, élève, période/cycle) — never on SQS
message ids. A message carries up to 10 bilans of one import (chalicelib.pipeline.split.stage).

One DynamoDB transaction per batch and import writes, all or nothing: the bilans, one result item
per bilan (condition: it does not exist yet — a redelivered message is thus a no-op) and the
import's counters. Bilans carry a version attribute, so a concurrent writer makes the transaction
fail and the batch is recomputed, never overwritten blindly. A transaction that fails is retried
bilan by bilan: a poison bilan fails alone, its neighbours are written, and only its message is
reported failed (it comes back; its written bilans are then no-ops). A message that keeps failing
reaches the DLQ, whose handler tries each of its bilans once more, alone, and records
ERREUR_TECHNIQUE for those that still fail."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import checks
from chalicelib.domain import outcome as rules
from chalicelib.domain.merge import merge_import
from chalicelib.adapters.dynamodb import (COUNTERS, EN_COURS, RESULTATS_RETENTION, Models, bilan_row, bilan_state, eleve_key,
                              import_key)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TRANSACTION_BILANS = 45          # 2 items per bilan + 1 counter update ≤ 100 items
# A report request older than this may be renewed: its sender may have died between the request
# and the SendMessage. Keep it below the bilans queue's visibility timeout (30 s locally), so that
# the redelivered message of a dead worker renews it; a duplicate report is harmless (idempotent).
REPORT_REQUEST_STALE_SECONDS = 20


class MalformedMessage(ValueError):
    """A message that can never be processed (poison): it goes to the DLQ after the retries."""


@dataclass
class Item:
    message_id: str
    uai: str
    import_id: str
    pre_controle: bool
    referentiel: str
    bilan: dict

    @property
    def key(self) -> tuple[str, str]:
        return eleve_key(self.uai, self.bilan["eleve"]["id_be"]), self.bilan["cle"]

    @property
    def bilan_id(self) -> str:
        return f"{self.bilan['eleve']['id_be']}#{self.bilan['cle']}"


@dataclass
class Op:
    """One save of the transaction: a bilan or a result item."""
    row: object
    condition: object
    item: Item
    what: str


def parse_message(record: dict, load_s3_json) -> list[Item]:
    """The bilans of one message, each with the message's envelope. The bilans travel in the
    message (`bilans`) or, too large for SQS, by reference to S3 (`bilans_s3`); `bilan` and
    `bilan_s3` (one bilan per message) are read too: messages of the previous version may still
    be in the queue when this one is deployed."""
    try:
        body = json.loads(record["body"])
        if "bilans" in body:
            bilans = body["bilans"]
        elif "bilans_s3" in body:
            bilans = load_s3_json(body["bilans_s3"])
        else:
            bilans = [body["bilan"] if "bilan" in body else load_s3_json(body["bilan_s3"])]
        if not isinstance(bilans, list) or not bilans:
            raise ValueError("aucun bilan")
        items = [Item(record["messageId"], body["uai"], body["import_id"], bool(body.get("pre_controle")),
                      body["referentiel"], bilan) for bilan in bilans]
        for item in items:
            item.key  # noqa: B018 — the key fields must be there
        return items
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedMessage(f"message illisible : {exc!r}") from exc


def process_bilans_event(event: dict, rt) -> dict:
    """Lambda handler body: returns the partial batch response."""
    failures: dict[str, Exception] = {}
    items: list[Item] = []
    for record in event["Records"]:
        try:
            items += parse_message(record, partial(_load_s3_json, rt))
        except MalformedMessage as exc:
            failures[record["messageId"]] = exc
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault((item.uai, item.import_id), []).append(item)
    for (uai, import_id), group in groups.items():
        failures.update(commit_group(rt, group))
        try:
            request_report(rt.models, partial(send_report_message, rt), uai, import_id)
        except Exception as exc:  # the group's records come back; the request is renewed then
            logger.exception("demande de rapport impossible pour l'import %s/%s", uai, import_id)
            failures.update({i.message_id: exc for i in group})
    return process_partial_response(
        event=event, record_handler=partial(_raise_if_failed, failures),
        processor=BatchProcessor(event_type=EventType.SQS),
    )


def commit_group(rt, group: list[Item]) -> dict[str, Exception]:
    """Commit a batch's bilans of one import; returns the failures by message id (a message
    fails if one of its bilans does). When a transaction fails, its bilans are retried one by
    one: a poison bilan then fails alone, the others of its batch — of its message too — are
    written."""
    evaluate = partial(_evaluate, rt)
    failures: dict[str, Exception] = {}
    chunks = [group[s:s + TRANSACTION_BILANS] for s in range(0, len(group), TRANSACTION_BILANS)]
    while chunks:
        chunk = chunks.pop(0)
        try:
            commit_bilans(rt.models, chunk, evaluate)
        except Exception as exc:  # noqa: BLE001 — any failure: isolate the culprit, SQS retries it
            if len(chunk) > 1:
                logger.warning("échec d'un lot de %d bilans : nouvel essai un par un", len(chunk), exc_info=True)
                chunks[:0] = [[item] for item in chunk]
                continue
            logger.exception("échec du bilan %s de l'import %s/%s", chunk[0].bilan_id, chunk[0].uai,
                             chunk[0].import_id)
            failures[chunk[0].message_id] = exc
    return failures


def _raise_if_failed(failures: dict[str, Exception], record) -> None:
    exc = failures.get(record.message_id)
    if exc is not None:
        raise exc


def result_row(models: Models, item: Item, statut: str, messages: list[dict]):
    """The result item of one bilan of one import (its key is the idempotency key)."""
    bilan = item.bilan
    return models.Resultat(import_key(item.uai, item.import_id), item.bilan_id, type=bilan["type"], statut=statut,
                           eleve=bilan["eleve"], periode=bilan.get("periode"), cycle=bilan.get("cycle"),
                           ligne=bilan.get("ligne"), messages=messages, expire_le=RESULTATS_RETENTION)


def _evaluate(rt, item: Item) -> tuple[list[dict], str | None]:
    """The checks' messages and the import mode of the élève's division."""
    ref = rt.referentiel(item.referentiel)
    return checks.evaluate_bilan(item.bilan, ref), checks.division_mode(item.bilan, ref)


def commit_bilans(models: Models, items: list[Item], evaluate) -> None:
    """Write one batch of bilans of one import atomically, skipping those already processed."""
    uai, import_id = items[0].uai, items[0].import_id
    # The same bilan twice in one batch (a message sent again) is one write: DynamoDB refuses two
    # operations on one item in a transaction.
    pending = list({i.key: i for i in reversed(items)}.values())[::-1]
    for attempt in range(MAX_ATTEMPTS):
        if not pending:
            return
        existing = {(b.eleve_key, b.cle): b
                    for b in models.Bilan.batch_get([i.key for i in pending], consistent_read=True)}
        ops, counts = _plan(models, pending, existing, evaluate)
        try:
            with TransactWrite(connection=models.connection) as tw:
                for op in ops:
                    tw.save(op.row, condition=op.condition)
                tw.update(models.Import(uai, import_id),
                          actions=[getattr(models.Import, k).add(v) for k, v in counts.items() if v],
                          condition=models.Import.statut == EN_COURS)
            return
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if not reasons:
                raise
            if reasons[-1] is not None and reasons[-1].code == "ConditionalCheckFailed":
                logger.warning("import %s/%s n'est plus en cours : lot ignoré", uai, import_id)
                return
            done = {ops[i].item.key for i, r in enumerate(reasons[:-1])
                    if r is not None and r.code == "ConditionalCheckFailed" and ops[i].what == "resultat"}
            pending = [i for i in pending if i.key not in done]
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
    raise RuntimeError(f"conflits répétés sur les bilans de l'import {uai}/{import_id}")


def _plan(models: Models, items: list[Item], existing: dict, evaluate) -> tuple[list[Op], dict]:
    """The transaction's operations and the counters they advance: checks first, then LSU's
    merge rules against the stored state (chalicelib.domain.merge)."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    counts = dict.fromkeys(COUNTERS, 0)
    ops = []
    Resultat = models.Resultat
    for item in items:
        bilan = item.bilan
        current = existing.get(item.key)
        messages, mode = evaluate(item)
        if rules.refused(messages):
            statut = rules.REJETE
        else:
            merged = merge_import(bilan_state(current), bilan, mode, item.import_id, now)
            statut, messages = merged.statut, merged.messages + messages
            if merged.state is not None and not item.pre_controle:
                ops.append(Op(bilan_row(models, item.key, merged.state, current), None, item, "bilan"))
        ops.append(Op(result_row(models, item, statut, messages), Resultat.bilan_id.does_not_exist(), item,
                      "resultat"))
        counts["traites"] += 1
        counts[{rules.IMPORTE: "nouveaux", rules.MIS_A_JOUR: "mis_a_jour",
                rules.INCHANGE: "inchanges", rules.REJETE: "rejetes"}[statut]] += 1
        counts["avertissements"] += int(rules.has_warning(messages))
    return ops, counts


def request_report(models: Models, send_report, uai: str, import_id: str) -> bool:
    """The one caller whose conditional update sees the import complete enqueues the report.
    A request older than REPORT_REQUEST_STALE_SECONDS may be renewed (its sender died)."""
    Import = models.Import
    now = int(time.time())
    item = Import(uai, import_id)
    condition = ((Import.statut == EN_COURS) & (Import.traites == Import.total)
                 & (Import.rapport_demande_le.does_not_exist()
                    | (Import.rapport_demande_le < now - REPORT_REQUEST_STALE_SECONDS)))
    try:
        item.update(actions=[Import.rapport_demande_le.set(now)], condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    try:
        send_report({"uai": item.uai, "import_id": item.import_id, "total": item.total})
    except Exception:
        item.update(actions=[Import.rapport_demande_le.remove()])
        raise
    return True


def send_report_message(rt, body: dict) -> None:
    rt.sqs.send_message(QueueUrl=rt.queue_url(rt.settings.report_queue), MessageBody=json.dumps(body))


def _load_s3_json(rt, key: str) -> dict:
    obj = rt.s3.get_object(Bucket=rt.settings.bucket, Key=key)
    return json.loads(obj["Body"].read())


def process_dead_letters_event(event: dict, rt) -> dict:
    """Messages that failed every retry land in the DLQ. Each of their bilans is tried once more,
    alone (its neighbours in the message were most likely written already: a no-op then); one
    that still fails — the poison — is recorded as REJETE with ERREUR_TECHNIQUE and counted, so
    the import finishes and the synthèse shows it instead of hanging at 99 %. Idempotent on the
    same business key as the worker."""
    evaluate = partial(_evaluate, rt)

    def handle(record) -> None:
        try:
            items = parse_message({"messageId": record.message_id, "body": record.body}, partial(_load_s3_json, rt))
        except MalformedMessage:
            logger.error("message illisible en file d'erreurs, écarté : %s", record.message_id)
            return
        for item in {i.key: i for i in items}.values():
            try:
                commit_bilans(rt.models, [item], evaluate)
            except Exception:  # noqa: BLE001 — the poison: recorded as such
                logger.exception("bilan %s de l'import %s/%s en échec après tous les essais : ERREUR_TECHNIQUE",
                                 item.bilan_id, item.uai, item.import_id)
                record_technical_failure(rt.models, item)
        request_report(rt.models, partial(send_report_message, rt), items[0].uai, items[0].import_id)

    return process_partial_response(event=event, record_handler=handle,
                                    processor=BatchProcessor(event_type=EventType.SQS))


def record_technical_failure(models: Models, item: Item) -> bool:
    """One result (ERREUR_TECHNIQUE) and its counters, atomically; False if already recorded."""
    from chalicelib.domain.catalogue import message
    Resultat, Import = models.Resultat, models.Import
    result = result_row(models, item, rules.REJETE, [message("ERREUR_TECHNIQUE")])
    try:
        with TransactWrite(connection=models.connection) as tw:
            tw.save(result, condition=Resultat.bilan_id.does_not_exist())
            tw.update(Import(item.uai, item.import_id), actions=[Import.traites.add(1), Import.rejetes.add(1)],
                      condition=Import.statut == EN_COURS)
    except TransactWriteError as exc:
        if any(r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons or []):
            return False                     # already processed, or the import is over
        raise
    return True
