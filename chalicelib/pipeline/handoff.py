"""How an import passes to the report stage once it is complete: the stage whose write completes
it (the splitter for an empty file, a worker, the DLQ handler) asks for the report, exactly once.
The stages hand over through the queue; none imports another."""
from __future__ import annotations

import json
import time

# A report request older than this may be renewed: its sender may have died between the request
# and the SendMessage. Keep it below the bilans queue's visibility timeout (30 s locally), so that
# the redelivered message of a dead worker renews it; a duplicate report is harmless (idempotent).
REPORT_REQUEST_STALE_SECONDS = 20


def request_report(rt, uai: str, import_id: str) -> bool:
    """The one caller whose conditional update sees the import complete enqueues the report.
    A request older than REPORT_REQUEST_STALE_SECONDS may be renewed (its sender died)."""
    now = int(time.time())
    record = rt.repos.imports.claim_report(uai, import_id, now, now - REPORT_REQUEST_STALE_SECONDS)
    if record is None:
        return False
    try:
        rt.queues.send(rt.settings.report_queue,
                       json.dumps({"uai": record.uai, "import_id": record.import_id, "total": record.total}))
    except Exception:  # noqa: BLE001 — the claim is given back, the error raised (a dead process keeps it: stale)
        rt.repos.imports.clear_report_claim(uai, import_id)
        raise
    return True


def send_report(rt, uai: str, import_id: str) -> None:
    """Ask for the report of an import that will not complete by itself (the watchdog finished
    it): the report stage finishes an import EN_COURS whatever its counters; a duplicate is
    harmless."""
    rt.queues.send(rt.settings.report_queue, json.dumps({"uai": uai, "import_id": import_id}))
