"""Stage 3, merge (the bilans queue): each bilan is checked against the school's référentiel and
merged into its LSU data under LSU's rules (chalicelib.domain), and its result recorded —
idempotently on the business key (UAI, import, élève, période/cycle), never on SQS message ids. A
message carries up to 10 bilans of one import (chalicelib.pipeline.split.stage).

The worker loads, decides and writes. One group commit per batch and import (GroupCommit, a
Powertools BasePartialProcessor) writes, all or nothing: the bilans, one result per bilan (which must
not exist yet — a redelivered message is thus a no-op) and the import's counters. Bilans carry a
version, so a concurrent writer makes the commit fail and the batch is recomputed, never overwritten
blindly. A commit that fails is retried bilan by bilan: a poison bilan fails alone, its neighbours
are written, and only its message is reported failed (it comes back; its written bilans are then
no-ops). A message that keeps failing reaches the DLQ, whose handler tries each of its bilans once
more, alone, and records ERREUR_TECHNIQUE for those that still fail."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import observability
from chalicelib.adapters.ports import COUNTERS, Batch, BilanWrite, NotFound, Result, eleve_key
from chalicelib.adapters.retry import backoff
from chalicelib.domain.catalogue import message
from chalicelib.domain.merge_rules import decide
from chalicelib.domain.vocabulary import BilanStatut
from chalicelib.pipeline import handoff

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TRANSACTION_BILANS = 45          # 2 items per bilan + 1 counter update ≤ 100 items


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


def parse_message(record: dict, load_json) -> list[Item]:
    """The bilans of one message, each with the message's envelope. The bilans travel in the
    message (`bilans`) or, too large for SQS, by reference to S3 (`bilans_s3`); `bilan` and
    `bilan_s3` (one bilan per message) are read too: messages of the previous version may still
    be in the queue when this one is deployed."""
    try:
        body = json.loads(record["body"])
        if "bilans" in body:
            bilans = body["bilans"]
        elif "bilans_s3" in body:
            bilans = load_json(body["bilans_s3"])
        else:
            bilans = [body["bilan"] if "bilan" in body else load_json(body["bilan_s3"])]
        if not isinstance(bilans, list) or not bilans:
            raise ValueError("aucun bilan")
        items = [Item(record["messageId"], body["uai"], body["import_id"], bool(body.get("pre_controle")),
                      body["referentiel"], bilan) for bilan in bilans]
        for item in items:
            item.key  # noqa: B018 — the key fields must be there
        return items
    except (KeyError, TypeError, ValueError) as exc:   # the shape of a message from outside
        raise MalformedMessage(f"message illisible : {exc!r}") from exc


def _load_json(rt, key: str):
    return json.loads(rt.repos.blobs.get(key))


class GroupCommit(BatchProcessor):
    """Powertools' SQS partial batch processor with a group commit: the handler receives the
    whole batch and returns the failures by message id; each record is then reported a success
    or a failure (ReportBatchItemFailures), as BatchProcessor reports one handler call per record."""

    def __init__(self):
        super().__init__(event_type=EventType.SQS)

    def process(self) -> list[tuple]:
        records = [self._to_batch_type(record=r, event_type=self.event_type) for r in self.records]
        failures: dict[str, BaseException] = self.handler(records)
        out = []
        for raw, record in zip(self.records, records):
            exc = failures.get(record.message_id)
            out.append(self.success_handler(raw, None) if exc is None
                       else self.failure_handler(record, (type(exc), exc, exc.__traceback__)))
        return out


def process_bilans_event(event: dict, rt) -> dict:
    """Lambda handler body: returns the partial batch response."""
    return process_partial_response(event=event, record_handler=partial(commit_batch, rt), processor=GroupCommit())


def commit_batch(rt, records) -> dict[str, BaseException]:
    """Commit a batch's bilans, import by import; the failures by message id."""
    failures: dict[str, BaseException] = {}
    items: list[Item] = []
    for record in records:
        try:
            items += parse_message({"messageId": record.message_id, "body": record.body}, partial(_load_json, rt))
        except (MalformedMessage, NotFound, BotoCoreError, ClientError) as exc:
            # Unreadable, or its claim check unreadable in S3: this message fails alone.
            logger.warning("message %s illisible : seul en échec (%r)", record.message_id, exc)
            failures[record.message_id] = exc
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault((item.uai, item.import_id), []).append(item)
    for (uai, import_id), group in groups.items():
        with observability.log_context(uai=uai, import_id=import_id):
            failures.update(commit_group(rt, group))
            try:
                handoff.request_report(rt, uai, import_id)
            except Exception as exc:  # noqa: BLE001 — the group's records come back; the request is renewed then
                logger.exception("demande de rapport impossible pour l'import %s/%s", uai, import_id)
                failures.update({i.message_id: exc for i in group})
    return failures


def commit_group(rt, group: list[Item]) -> dict[str, BaseException]:
    """Commit a batch's bilans of one import; returns the failures by message id (a message
    fails if one of its bilans does). When a commit fails, its bilans are retried one by one: a
    poison bilan then fails alone, the others of its batch — of its message too — are written."""
    failures: dict[str, BaseException] = {}
    chunks = [group[s:s + TRANSACTION_BILANS] for s in range(0, len(group), TRANSACTION_BILANS)]
    while chunks:
        chunk = chunks.pop(0)
        try:
            commit_bilans(rt, chunk)
        except Exception as exc:  # noqa: BLE001 — any failure: isolate the culprit, SQS retries it
            if len(chunk) > 1:
                logger.warning("échec d'un lot de %d bilans : nouvel essai un par un", len(chunk), exc_info=True)
                chunks[:0] = [[item] for item in chunk]
                continue
            logger.exception("échec du bilan %s de l'import %s/%s", chunk[0].bilan_id, chunk[0].uai,
                             chunk[0].import_id)
            failures[chunk[0].message_id] = exc
    return failures


def result_of(item: Item, statut: str, messages: list[dict], decision=None) -> Result:
    """The result of one bilan of one import (its key is the idempotency key); `decision` adds the
    élève's SIECLE class, the evaluation system and what the bilan lacks."""
    bilan = item.bilan
    return Result(item.uai, item.import_id, item.bilan_id, bilan["type"], statut,
                  (decision.eleve if decision is not None and decision.eleve else bilan["eleve"]),
                  bilan.get("periode"), bilan.get("cycle"), bilan.get("ligne"), messages,
                  decision.systeme_evaluation if decision is not None else None,
                  decision.a_completer if decision is not None else None)


def commit_bilans(rt, items: list[Item]) -> None:
    """Write one batch of bilans of one import atomically, skipping those already processed."""
    uai, import_id = items[0].uai, items[0].import_id
    # The same bilan twice in one batch (a message sent again) is one write: DynamoDB refuses two
    # operations on one item in a transaction.
    pending = list({i.key: i for i in reversed(items)}.values())[::-1]
    for attempt in range(MAX_ATTEMPTS):
        if not pending:
            return
        existing = rt.repos.bilans.get_many([i.key for i in pending])
        refused = rt.repos.results.commit(plan(rt, pending, existing))
        if refused is None:
            return
        if refused.import_closed:
            logger.warning("import %s/%s n'est plus en cours : lot ignoré", uai, import_id)
            return
        pending = [i for i in pending if i.bilan_id not in refused.done]
        backoff(attempt)
    raise RuntimeError(f"conflits répétés sur les bilans de l'import {uai}/{import_id}")


def plan(rt, items: list[Item], existing: dict) -> Batch:
    """What the group commit writes: for each bilan, LSU's decision (chalicelib.domain.merge_rules:
    checks, then the merge rules, then the status) against its stored state; the counters."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    counts = dict.fromkeys(COUNTERS, 0)
    writes, results = [], []
    for item in items:
        current = existing.get(item.key)
        d = decide(current.state if current else None, item.bilan, rt.referentiel(item.referentiel),
                   item.import_id, now, item.pre_controle)
        if d.state is not None:
            writes.append(BilanWrite(item.key, d.state, current.version if current else None))
        results.append(result_of(item, d.statut, d.messages, d))
        counts["traites"] += 1
        counts[d.counter] += 1
        counts["avertissements"] += int(d.warning)
    return Batch(items[0].uai, items[0].import_id, writes, results, counts)


def process_dead_letters_event(event: dict, rt) -> dict:
    """Messages that failed every retry land in the DLQ. Each of their bilans is tried once more,
    alone (its neighbours in the message were most likely written already: a no-op then); one
    that still fails — the poison — is recorded as REJETE with ERREUR_TECHNIQUE and counted, so
    the import finishes and the synthèse shows it instead of hanging at 99 %. Idempotent on the
    same business key as the worker."""

    def handle(record) -> None:
        try:
            items = parse_message({"messageId": record.message_id, "body": record.body}, partial(_load_json, rt))
        except (MalformedMessage, NotFound):
            # Its bilans cannot be known from it: the watchdog names them from the import's manifest
            # once the import stops moving (chalicelib/pipeline/watchdog.py).
            logger.error("message illisible en file d'erreurs, écarté (la surveillance des imports rejettera "
                         "ses bilans) : %s", record.message_id)
            return
        with observability.log_context(uai=items[0].uai, import_id=items[0].import_id):
            for item in {i.key: i for i in items}.values():
                try:
                    commit_bilans(rt, [item])
                except Exception:  # noqa: BLE001 — the poison: recorded as such
                    logger.exception("bilan %s de l'import %s/%s en échec après tous les essais : ERREUR_TECHNIQUE",
                                     item.bilan_id, item.uai, item.import_id)
                    record_technical_failure(rt, item)
            handoff.request_report(rt, items[0].uai, items[0].import_id)

    return process_partial_response(event=event, record_handler=handle,
                                    processor=BatchProcessor(event_type=EventType.SQS))


def record_technical_failure(rt, item: Item) -> bool:
    """One result (ERREUR_TECHNIQUE) and its counters, atomically; False if already recorded."""
    return rt.repos.results.record_failure(result_of(item, BilanStatut.REJETE, [message("ERREUR_TECHNIQUE")]))
