"""Queues on SQS, by name (URLs looked up once per process)."""
from __future__ import annotations

from chalicelib.adapters.retry import backoff

SQS_MAX_BATCH_BYTES = 256 * 1024
SQS_MAX_BATCH_ENTRIES = 10
SEND_ATTEMPTS = 5


class SendFailed(RuntimeError):
    """Some messages could not be sent after every attempt (the caller's message comes back)."""


class SqsQueues:
    def __init__(self, sqs):
        self.sqs = sqs
        self._urls: dict[str, str] = {}

    def url(self, name: str) -> str:
        if name not in self._urls:
            self._urls[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[name]

    def send(self, queue: str, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.url(queue), MessageBody=body)

    def send_all(self, queue: str, bodies: list[str]) -> None:
        """SendMessageBatch by 10 messages, never over the 256 KiB batch limit; failed entries are
        retried (backoff); an entry SQS says is the sender's fault is not retried."""
        url = self.url(queue)
        batch: list[dict] = []
        size = 0
        for n, body in enumerate(bodies):
            length = len(body.encode("utf-8"))
            if batch and (len(batch) == SQS_MAX_BATCH_ENTRIES or size + length > SQS_MAX_BATCH_BYTES):
                self._send_batch(url, batch)
                batch, size = [], 0
            batch.append({"Id": str(n), "MessageBody": body})
            size += length
        if batch:
            self._send_batch(url, batch)

    def _send_batch(self, url: str, entries: list[dict]) -> None:
        for attempt in range(SEND_ATTEMPTS):
            failed = self.sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
            if not failed:
                return
            if any(f.get("SenderFault") for f in failed):
                raise SendFailed(f"{len(failed)} message(s) refusés par SQS : "
                                 + "; ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed))
            ids = {f["Id"] for f in failed}
            entries = [e for e in entries if e["Id"] in ids]
            backoff(attempt)
        raise SendFailed(f"{len(entries)} message(s) de bilans non envoyés après {SEND_ATTEMPTS} essais")

    def delay(self, queue: str, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(QueueUrl=self.url(queue), ReceiptHandle=receipt_handle,
                                           VisibilityTimeout=seconds)
