"""Local event sources. SQS: long-polls the queues and invokes the Chalice handlers in-process
with the exact Lambda SQS event shape (batches ≤ 10); deletes what succeeded and leaves partial
batch failures on the queue (as Lambda does with ReportBatchItemFailures). Several pollers per
queue drain concurrently, so queues stay short (moto's send cost grows with queue depth).
Only for the local stack: on AWS, Lambda's event source mappings do this — and their requests
(receives, deletes) are theirs, not the pipeline's: bench/count_requests.py counts them apart.

Like an event source mapping, a poller long-polls (WaitTimeSeconds, 20 s by default): an idle
queue costs one receive per poller every 20 s instead of one per second. `stop()` does not wait
for those polls: it waits for the batches being handled, and a poll that returns after it hands
its messages back to the queue (visibility 0) without delivering them.

Schedules: a timer per scheduled function (the watchdog), invoked with EventBridge's event shape."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

logger = logging.getLogger(__name__)

Handler = Callable[[dict, object], object]


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 60
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def to_lambda_record(message: dict, queue_arn: str, region: str) -> dict:
    """An SQS ReceiveMessage entry in the shape Lambda gives its handler."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            k: {"stringValue": v.get("StringValue"), "binaryValue": v.get("BinaryValue"),
                "stringListValues": [], "binaryListValues": [], "dataType": v["DataType"]}
            for k, v in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(response: object, records: list[dict]) -> set[str]:
    """Which records the handler reported as failed (partial batch response)."""
    if isinstance(response, dict) and "batchItemFailures" in response:
        return {f["itemIdentifier"] for f in response["batchItemFailures"]}
    return set()


def scheduled_event(rule_arn: str, region: str, account: str = "000000000000") -> dict:
    """The event EventBridge gives a function on a schedule rule (Chalice's `@app.schedule`)."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": account, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": region,
            "resources": [rule_arn], "detail": {}}


@dataclass
class Schedule:
    """A function run every `every` seconds, as an EventBridge schedule rule runs it on AWS."""
    name: str
    handler: Handler
    every: float


@dataclass
class QueueBinding:
    name: str
    url: str
    arn: str
    handler: Handler
    batch_size: int = 10
    pollers: int = 1


class Dispatcher:
    def __init__(self, sqs, region: str, bindings: list[QueueBinding], wait_seconds: int = 20,
                 schedules: list[Schedule] | None = None):
        self.sqs, self.region, self.bindings, self.wait_seconds = sqs, region, bindings, wait_seconds
        self.schedules = list(schedules or [])
        self.ticks = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Condition()
        self.invocations = 0
        self.errors = 0
        self.busy = 0

    def start(self) -> "Dispatcher":
        for b in self.bindings:
            for n in range(b.pollers):
                t = threading.Thread(target=self._poll, args=(b,), name=f"dispatch-{b.name}-{n}", daemon=True)
                t.start()
                self._threads.append(t)
        for sch in self.schedules:
            t = threading.Thread(target=self._tick, args=(sch,), name=f"schedule-{sch.name}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _tick(self, sch: Schedule) -> None:
        """Every `sch.every` seconds (the first after one period, as a new rule), one invocation;
        a failing one is logged (EventBridge's asynchronous invocation would retry it: the next
        tick does)."""
        arn = f"arn:aws:events:{self.region}:000000000000:rule/{sch.name}"
        while not self._stop.wait(sch.every):
            with self._lock:
                if self._stop.is_set():
                    return
                self.busy += 1
            try:
                sch.handler(scheduled_event(arn, self.region), LambdaContext(function_name=sch.name))
                self.ticks += 1
            except Exception:  # as Lambda: logged; the next tick runs again
                logger.exception("la fonction planifiée %s a échoué", sch.name)
                with self._lock:
                    self.errors += 1
            finally:
                with self._lock:
                    self.busy -= 1
                    self._lock.notify_all()

    def stop(self, timeout: float = 60) -> None:
        """No delivery starts after this; the ones under way finish (up to `timeout`)."""
        with self._lock:
            self._stop.set()
            self._lock.wait_for(lambda: self.busy == 0, timeout=timeout)
        self._threads.clear()

    def _poll(self, b: QueueBinding) -> None:
        while not self._stop.is_set():
            try:
                resp = self.sqs.receive_message(
                    QueueUrl=b.url, MaxNumberOfMessages=min(b.batch_size, 10), WaitTimeSeconds=self.wait_seconds,
                    AttributeNames=["All"], MessageAttributeNames=["All"])
            except Exception:  # the emulator stopping or restarting: keep polling until told to stop
                if not self._stop.is_set():
                    logger.exception("réception impossible sur %s", b.name)
                    time.sleep(0.5)
                continue
            messages = resp.get("Messages", [])
            if messages:
                try:
                    self.deliver(b, messages)
                except Exception:  # the delete failed (emulator gone): the batch comes back
                    if not self._stop.is_set():
                        logger.exception("suppression impossible sur %s", b.name)

    def deliver(self, b: QueueBinding, messages: list[dict]) -> set[str]:
        """Invoke the handler with one batch; delete the successes; return the failed ids.
        Stopped, hand the messages back to the queue at once instead."""
        records = [to_lambda_record(m, b.arn, self.region) for m in messages]
        with self._lock:
            stopped = self._stop.is_set()
            if not stopped:
                self.busy += 1
                self.invocations += 1
        if stopped:
            self._release(b, records)
            return {r["messageId"] for r in records}
        try:
            try:
                response = b.handler({"Records": records}, LambdaContext(function_name=b.name))
                failed = failed_ids(response, records)
            except Exception:  # as Lambda: a raising handler fails the whole batch
                logger.exception("le gestionnaire de %s a échoué : lot entier laissé dans la file", b.name)
                failed = {r["messageId"] for r in records}
                with self._lock:
                    self.errors += 1
            done = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                    for i, r in enumerate(records) if r["messageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(QueueUrl=b.url, Entries=done)
        finally:
            with self._lock:
                self.busy -= 1
                self._lock.notify_all()
        return failed

    def _release(self, b: QueueBinding, records: list[dict]) -> None:
        try:
            self.sqs.change_message_visibility_batch(QueueUrl=b.url, Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": 0}
                for i, r in enumerate(records)])
        except Exception:  # the emulator is gone: the messages come back after their timeout
            logger.debug("messages non rendus à %s", b.name, exc_info=True)
