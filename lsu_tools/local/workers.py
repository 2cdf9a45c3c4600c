"""The event sources alone, as a process of their own: the local dispatcher feeding the app's
handlers from the stage's queues (what Lambda's event source mappings do on AWS), against the
endpoint and resource names of the environment, until SIGTERM or SIGINT.

    LSU_AWS_ENDPOINT_URL=http://127.0.0.1:5000 python -m lsu_tools.local.workers

It creates nothing: the resources must exist (`lsu local up`, or the tests' stack). The fault
tests kill it with SIGKILL in the middle of an import and start it again."""
from __future__ import annotations

import logging
import signal
import sys
import threading

from lsu_tools.local.dispatcher import Dispatcher, QueueBinding, Schedule
from chalicelib.config import dlq_name, queue_names

POLLERS = {"uploads": 1, "bilans": 4, "report": 1, "bilans-dlq": 1}
BATCH = {"uploads": 1, "bilans": 10, "report": 1, "bilans-dlq": 10}
# The watchdog's period here (on AWS its rule runs every 5 minutes: app.py); what it finishes
# depends on the settings' stale_after_seconds, not on this.
WATCHDOG_EVERY_SECONDS = 30.0


def schedules(handlers: dict, every: float = WATCHDOG_EVERY_SECONDS) -> list[Schedule]:
    """The scheduled functions, as infra/'s EventBridge rules run them."""
    return [Schedule("watchdog", handlers["watchdog"], every)]


def bindings(rt, handlers: dict, bilan_pollers: int = POLLERS["bilans"]) -> list[QueueBinding]:
    """One binding per queue role (batch sizes as the event source mappings of infra/)."""
    pollers = {**POLLERS, "bilans": bilan_pollers}
    names = {**queue_names(rt.settings), "bilans-dlq": dlq_name(rt.settings.bilans_queue)}
    out = []
    for role, name in names.items():
        url = rt.queue_url(name)
        arn = rt.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        out.append(QueueBinding(role, url, arn, handlers[role], BATCH[role], pollers[role]))
    return out


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(threadName)s %(levelname)s %(message)s")
    from lsu_tools.local.stack import app_handlers
    from chalicelib.runtime import get_runtime
    rt = get_runtime()
    if not all(rt.settings.endpoints.values()):
        print("LSU_AWS_ENDPOINT_URL (ou LSU_AWS_ENDPOINT_URL_S3, _SQS et _DYNAMODB) est obligatoire : l'émulateur "
              "ou le point d'accès à servir.", file=sys.stderr)
        return 2
    handlers = app_handlers()
    dispatcher = Dispatcher(rt.sqs, rt.settings.region, bindings(rt, handlers), schedules=schedules(handlers)).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print("prêt", flush=True)
    stop.wait()
    dispatcher.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
