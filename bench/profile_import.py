"""Where the time of an import goes: py-spy samples this process and the embedded moto server
during the upload → synthèse window of one import on the local stack, then the CPU samples
(waits left out) are grouped by process and by stage.

    .venv/bin/pip install py-spy          # for the session: not a requirement of the project
    .venv/bin/python bench/profile_import.py [--divisions-par-niveau 16] [--eleves-par-division 25]

py-spy slows what it samples (the import takes about twice as long): read shares, not times."""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# A sample whose innermost frame is one of these waits (socket, lock, select): not CPU.
_WAIT = re.compile(r"^(SocketIO\.readinto|socket\.\w+|select|poll|\w*Selector\.select|Condition\.wait|Event\.wait|"
                   r"wait|_wait_for_tstate_lock|sleep|accept)\b")


def _frame_names(stack: str) -> list[str]:
    return [re.sub(r" \(.*?\)$", "", f) for f in stack.split(";")]


def _stage(names: list[str], stack: str) -> str:
    """The stage of our process a sample belongs to, by the frames on its stack."""
    names = {n.rsplit(".", 1)[-1] for n in names}          # methods by their own name
    if "check_and_split" in names:
        return "splitter: checks + split (chalicelib.pipeline.split.stream)"
    if "send_bilans" in names:
        return "splitter: sending (SendMessageBatch)"
    if "process_uploads_event" in names:
        return "splitter: other (S3, DynamoDB)"
    if "process_bilans_event" in names or "process_dead_letters_event" in names:
        if "_make_api_call" in names:
            return "worker: AWS client (botocore, HTTP)"
        if "parse_message" in names:
            return "worker: reading messages (JSON)"
        if "decide" in names:
            return "worker: checks + merge (our rules)"
        if "pynamodb" in stack:
            return "worker: pynamodb (items, expressions)"
        return "worker: other"
    if "process_report_event" in names:
        return "report"
    if "_poll" in names:
        return "dispatcher: receives/deletes"
    if "process_request_thread" in names:
        return "local API (progress polling)"
    if "import_file" in names:
        return "client (upload, polling)"
    return "other"


def _moto_operation(stack: str) -> str:
    op = "HTTP server, request parsing and routing, responses"
    for m in re.finditer(r"(DynamoHandler|SQSResponse|S3Response)\.(\w+) \(moto/", stack):
        if m.group(2) not in ("call_action", "dispatch", "_dispatch", "setup_class", "serialized", "_get_action"):
            op = f"{m.group(1)}.{m.group(2)}"
    return op


def report(raw: Path) -> None:
    procs, ours, moto = collections.Counter(), collections.Counter(), collections.Counter()
    for line in raw.read_text().splitlines():
        stack, n = line.rsplit(" ", 1)
        names = _frame_names(stack)
        if _WAIT.match(names[-1]):
            continue
        if "moto_server" in stack:
            procs["moto server (the emulator)"] += int(n)
            moto[_moto_operation(stack)] += int(n)
        else:
            procs["our process"] += int(n)
            ours[_stage(names, stack)] += int(n)
    total = sum(procs.values())
    print(f"{total} CPU samples")
    for title, counter in (("by process", procs), ("our process, by stage", ours), ("moto server, by operation", moto)):
        print(f"\n{title}")
        for name, n in counter.most_common(12):
            print(f"  {100 * n / total:5.1f} %  {name}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--divisions-par-niveau", type=int, default=16)
    p.add_argument("--eleves-par-division", type=int, default=25)
    p.add_argument("--rate", type=int, default=100, help="samples per second")
    args = p.parse_args()
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not spy:
        print("py-spy est absent : .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    from chalicelib.api.auth import issue_token
    from lsu_tools.cli import ApiClient
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
    from lsu_tools.local.stack import LocalStack

    spec = SchoolSpec(uai="0750002B", divisions_par_niveau=args.divisions_par_niveau,
                      eleves_par_division=args.eleves_par_division)
    work = Path(tempfile.mkdtemp(prefix="lsu-profile-"))
    xml, raw = work / "import.xml", work / "profile.raw"
    xml.write_bytes(generate_lsu_xml(spec))
    with LocalStack(api_port=None) as stack:
        client = ApiClient(stack.api_url, issue_token(stack.settings.token_secret, spec.uai, "CE"))
        client.put_referentiel(generate_referentiel(spec))
        sampler = subprocess.Popen([spy, "record", "--pid", str(os.getpid()), "--subprocesses", "-r", str(args.rate),
                                    "-f", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)                                  # py-spy attached
        t = time.perf_counter()
        synthese = client.import_file(xml, progress=False)
        wall = time.perf_counter() - t
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)
    print(f"Import of {synthese['totaux']['bilans']} bilans ({synthese['statut']}): {wall:.1f} s under py-spy")
    report(raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
