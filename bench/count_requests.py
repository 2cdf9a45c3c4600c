"""Wall time and AWS requests of one full import (upload → synthèse) on the local stack, counted
with botocore event hooks on every client the process creates (boto3 and pynamodb alike).

    .venv/bin/python bench/count_requests.py [--divisions-par-niveau 6] [--eleves-par-division 25]

Requests are grouped by who makes them: the pipeline (splitter, workers, report — what Lambda
runs on AWS), the local dispatcher's receives/deletes (Lambda's event source mapping on AWS, not
our code), and the API answering the client's progress polling.

SQS bills a request per 64 KiB chunk of its payload: BILLED counts those units too (sends by
their bodies, receives by the bodies they return, anything else one)."""
from __future__ import annotations

import argparse
import collections
import math
import sys
import tempfile
import threading
import time
from pathlib import Path

import botocore.session

COUNTS: collections.Counter = collections.Counter()
BILLED: collections.Counter = collections.Counter()     # SQS requests as billed (64 KiB chunks)
_LOCK = threading.Lock()
_ESM_OPS = {"ReceiveMessage", "DeleteMessageBatch", "DeleteMessage"}
_CHUNK = 64 * 1024


def _who(operation: str) -> str:
    thread = threading.current_thread().name
    if "process_request_thread" in thread:
        return "api"
    if thread.startswith("dispatch-") and operation in _ESM_OPS:
        return "dispatcher"
    return "pipeline"


def _chunks(payload: int) -> int:
    return max(1, math.ceil(payload / _CHUNK))


def _hook(model, **_):
    key = (_who(model.name), model.service_model.service_name, model.name)
    with _LOCK:
        COUNTS[key] += 1


def _billed(model, params=None, **_):
    """An SQS request as billed: sends by the bodies they carry (receives: see _after)."""
    if model.name == "ReceiveMessage":
        return
    params = params or {}
    bodies = [params.get("MessageBody") or ""] + [e.get("MessageBody") or "" for e in params.get("Entries", [])]
    with _LOCK:
        BILLED[(_who(model.name), "sqs", model.name)] += _chunks(sum(len(b.encode("utf-8")) for b in bodies))


def _after(model, parsed=None, **_):
    if model.service_model.service_name == "sqs" and model.name == "ReceiveMessage":
        payload = sum(len(m.get("Body", "").encode("utf-8")) for m in (parsed or {}).get("Messages", []))
        with _LOCK:
            BILLED[(_who(model.name), "sqs", model.name)] += _chunks(payload)


def install_hooks() -> None:
    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-call", _hook)
        client.meta.events.register("before-parameter-build.sqs", _billed)
        client.meta.events.register("after-call", _after)
        return client

    botocore.session.Session.create_client = create_client


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--divisions-par-niveau", type=int, default=6)
    p.add_argument("--eleves-par-division", type=int, default=25)
    args = p.parse_args()
    install_hooks()
    from chalicelib.api.auth import issue_token
    from lsu_tools.cli import ApiClient
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
    from lsu_tools.local.stack import LocalStack

    spec = SchoolSpec(divisions_par_niveau=args.divisions_par_niveau, eleves_par_division=args.eleves_par_division)
    work = Path(tempfile.mkdtemp(prefix="lsu-bench-"))
    xml_path = work / "import.xml"
    xml_path.write_bytes(generate_lsu_xml(spec))
    with LocalStack(api_port=None) as stack:
        client = ApiClient(stack.api_url, issue_token(stack.settings.token_secret, spec.uai, "CE"))
        client.put_referentiel(generate_referentiel(spec))
        COUNTS.clear()
        BILLED.clear()
        t0 = time.perf_counter()
        synthese = client.import_file(xml_path, progress=False)
        wall = time.perf_counter() - t0
    bilans = synthese["totaux"]["bilans"]
    print(f"Import of {xml_path.stat().st_size:,} bytes, {bilans} bilans ({synthese['statut']}): {wall:.1f} s wall")
    print(f"{'who':<11}{'service':<10}{'operation':<28}{'requests':>9}{'per bilan':>11}")
    for (who, service, op), n in sorted(COUNTS.items()):
        print(f"{who:<11}{service:<10}{op:<28}{n:>9}{n / bilans:>11.3f}")
    for who in ("pipeline", "dispatcher", "api"):
        for service in ("s3", "sqs", "dynamodb"):
            n = sum(v for (w, s, _), v in COUNTS.items() if w == who and s == service)
            if n:
                print(f"total {who:<10} {service:<9} {n:>9} requests, {n / bilans:.3f} per bilan")
        billed = sum(v for (w, _, _), v in BILLED.items() if w == who)
        if billed:
            print(f"total {who:<10} sqs billed {billed:>8} (64 KiB chunks), {billed / bilans:.3f} per bilan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
