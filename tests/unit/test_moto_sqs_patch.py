"""The embedded emulator's SQS fix (lsu_tools/local/moto_server.py, patch_sqs): with sends, receives
and deletes racing on one queue, every message accepted is received, and none is handed out again
once deleted. moto's backend in-process (no socket), threads switching as often as Python allows,
which made moto 5.2 unpatched lose messages here (bench/soak.py found it)."""
from __future__ import annotations

import sys
import threading

from lsu_tools.local.moto_server import patch_sqs

SENDERS, RECEIVERS, PER_SENDER = 2, 4, 600


def test_no_message_is_lost_or_delivered_again_after_its_delete():
    patch_sqs()
    from moto.sqs.models import sqs_backends
    backend = sqs_backends["123456789012"]["eu-west-3"]
    backend.create_queue("course", VisibilityTimeout="30")
    received: list[str] = []
    lock, done = threading.Lock(), threading.Event()

    def send(n: int) -> None:
        for i in range(PER_SENDER):
            backend.send_message("course", f"{n}-{i}")

    def receive() -> None:
        while True:
            messages = backend.receive_message("course", 10, 0, 30)
            for m in messages:
                with lock:
                    received.append(m.body)
                backend.delete_message("course", m.receipt_handle)
            if not messages and done.is_set():
                return

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        receivers = [threading.Thread(target=receive) for _ in range(RECEIVERS)]
        senders = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
        for t in receivers + senders:
            t.start()
        for t in senders:
            t.join()
        done.set()
        for t in receivers:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(interval)
        backend.delete_queue("course")
    sent = {f"{n}-{i}" for n in range(SENDERS) for i in range(PER_SENDER)}
    assert set(received) == sent, f"{len(sent - set(received))} message(s) perdu(s)"
    assert len(received) == len(sent), f"{len(received) - len(sent)} message(s) remis après leur suppression"
