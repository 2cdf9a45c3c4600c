"""Soak: many schools importing whole files at the same time on the local stack (issue 17, « Many
schools at once »). Printed figures, never a timed test.

    .venv/bin/python bench/soak.py [--schools 20] [--eleves 300] [--doubles 1] [--pollers 4]
                                   [--timeout 300] [--json FILE]

`--schools` schools (distinct UAIs and generator seeds, `--eleves` élèves each: 3e trimestre +
bilans de cycle, ≈ 1.5 bilans per élève) upload their file at the same instant (one client thread
each, released together by a barrier), and each of the first `--doubles` schools uploads the same
file a second time at that instant too (two imports of one school at once: the school's import
lease makes the second wait for the first, unless it is split after the first is over). The local stack is lsu_tools.local.stack.LocalStack:
the embedded moto server (a subprocess), the in-process dispatcher and handlers, the Chalice API on
loopback — the same stack bench/run.py drives.

Checked, once every synthèse is in (outside the timed window):
- each synthèse: TERMINE, its totals equal what the school's generated file holds (bilans counted
  in the XML by lxml, not by the splitter), each bilan once, with the file's élève and division;
- the imports table: each school has exactly the imports it started, all TERMINE, traites = total;
- the results table, per import (Query) and whole (Scan): one result per bilan of the file, no
  other, statuts matching the counters, no result under an import that is not the school's;
- the bilans table (Scan) and its par-division index: each school holds exactly its file's bilans
  (UAI × élève × période/cycle), each with its own élève's name, written by one of its own
  imports, once (version 1: the second import of a school finds them INCHANGE and writes no bilan);
  across its imports each bilan counts once as new (nothing lost, nothing counted twice);
- the bilans messages: every one SQS accepted (SendMessageBatch) was received (botocore hooks),
  by import; an import not over after `--timeout` seconds is a failure.

Printed: wall time (first request → last synthèse), throughput (bilans/s, every import's bilans),
AWS requests per bilan (bench/count_requests.py's botocore hooks: pipeline, event source, API),
how the bilans queue's batches mixed imports, CPU of the emulator (moto server, /proc/<pid>/stat)
against our process (os.times: pipeline, dispatcher, API, the soak's clients) and the whole
machine (/proc/stat), our process's CPU by thread (/proc/self/task/<tid>/stat: the workers' CPU
per bilan), and the load average at start and end. The machine is shared (2 cores, other
engineers' tests): the figures say how busy it was besides us. Logs of WARNING and above go to a
file (counted at the end). Figures and findings: docs/performance.md; the capacity model reads
them as data (SOAK in infra/capacite.py; `infra/capacite.py --soak-json FILE` after `--json FILE`).
Exit status 1 if any check fails (each failure printed)."""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import logging
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import count_requests  # noqa: E402  (its hooks must be installed before any client exists: main does)
from run import cpu_seconds  # noqa: E402  (this process's CPU, or a process's by /proc/<pid>/stat)

COUNTER_OF = {"IMPORTE": "nouveaux", "MIS_A_JOUR": "mis_a_jour", "INCHANGE": "inchanges", "REJETE": "rejetes"}
_ENVELOPE = re.compile(r'"import_id"\s*:\s*"([^"]+)"')


# --- the schools -------------------------------------------------------------------------------

def school_specs(n: int, eleves: int, first_uai: int = 1, seed: int = 1000):
    """`n` schools of about `eleves` élèves each (25 per division at most, 4 niveaux), distinct
    UAIs (0760001B, 0760002C…) and seeds: distinct élèves, names and ids."""
    from lsu_tools.generator import SchoolSpec
    par_division = min(25, max(1, math.ceil(eleves / 4)))
    divisions = max(1, min(26, math.ceil(eleves / (4 * par_division))))
    return [SchoolSpec(uai=f"076{first_uai + i:04d}{'ABCDEFGHJKLMNPRSTUVWXYZ'[(first_uai + i) % 23]}",
                       nom=f"Collège du banc {first_uai + i}", divisions_par_niveau=divisions,
                       eleves_par_division=par_division, seed=seed + first_uai + i)
            for i in range(n)]


@dataclass
class Expected:
    """What a generated file holds, read from its XML (lxml), independently of the splitter."""
    bilans: dict[str, dict]                   # bilan_id (<id_be>#<cle>) → type, id_be, cle, nom, prenom, division,
                                              # skey (its synthese_key)
    eleves: dict[str, dict]                   # id_be → nom, prenom, division

    @classmethod
    def of(cls, xml: bytes) -> "Expected":
        from lxml import etree
        ns = "{urn:fr:edu:scolarite:lsun:bilans:import}"
        root = etree.fromstring(xml)
        eleves_by_ref = {e.get("id"): {"id_be": e.get("id-be"), "nom": e.get("nom"), "prenom": e.get("prenom"),
                                       "division": e.get("code-division")} for e in root.iter(ns + "eleve")}
        periodes = {p.get("id"): p for p in root.iter(ns + "periode")}
        bilans = {}
        for b in root.iter(ns + "bilan-periodique"):
            e, p = eleves_by_ref[b.get("eleve-ref")], periodes[b.get("periode-ref")]
            cle = f"P#{p.get('millesime')}#{p.get('nb-periodes')}#{p.get('indice')}"
            bilans[f"{e['id_be']}#{cle}"] = {"type": "periodique", "cle": cle, **e, "skey": (
                e["id_be"], "P", p.get("millesime"), int(p.get("nb-periodes")), int(p.get("indice")))}
        for b in root.iter(ns + "bilan-cycle"):
            e = eleves_by_ref[b.get("eleve-ref")]
            cle = f"C#{b.get('cycle')}#{b.get('millesime')}"
            bilans[f"{e['id_be']}#{cle}"] = {"type": "cycle", "cle": cle, **e,
                                             "skey": (e["id_be"], "C", int(b.get("cycle")))}
        return cls(bilans, {e["id_be"]: e for e in eleves_by_ref.values()})


def synthese_key(b: dict) -> tuple:
    """A bilan of a synthèse (or of the file): élève, then période (millésime, of how many, which)
    or cycle — what the synthèse shows of a bilan's identity."""
    if b["type"] == "periodique":
        p = b["periode"]
        return (str(b["id_be"]), "P", str(p["millesime"]), int(p["nb_periodes"]), int(p["indice"]))
    return (str(b["id_be"]), "C", int(b["cycle"]))


# --- measuring ---------------------------------------------------------------------------------

def thread_cpu(native_id: int) -> float:
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every process, every core) since boot."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)                 # idle + iowait
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")     # guest time is already in user


def thread_group(name: str) -> str:
    if name.startswith("dispatch-bilans-dlq"):
        return "dispatcher: bilans DLQ"
    for role, label in (("bilans", "dispatcher: bilans (workers)"), ("uploads", "dispatcher: uploads (splitter)"),
                        ("report", "dispatcher: report")):
        if name.startswith(f"dispatch-{role}"):
            return label
    if name.startswith("soak-client"):
        return "soak clients (upload, polling)"
    return "other (API request threads, main)"


class HandlerFailures(logging.Handler):
    """Counts the dispatcher's « handler failed » logs by queue and exception (a school busy with
    another import is one: its upload comes back later) instead of printing each traceback."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.counts: collections.Counter = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        name = type(exc).__name__ if exc else "-"
        inner = getattr(exc, "child_exceptions", None) or []        # Powertools' BatchProcessingError
        if inner:
            name = ", ".join(sorted({type(e[1]).__name__ for e in inner}))
        self.counts[f"{record.getMessage().split(':')[0].strip()} ({name})"] += 1

    def __enter__(self) -> "HandlerFailures":
        self.logger = logging.getLogger("lsu_tools.local.dispatcher")
        self.saved = self.logger.propagate
        self.logger.addHandler(self)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self.saved


class MessageLedger:
    """botocore hooks on every client created after `install()`: the bilans messages each import
    sent (SendMessageBatch entries SQS accepted, by MessageId) and those received (ReceiveMessage),
    read from each body's envelope. A message sent and never received was lost between the two."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent: dict[str, set] = collections.defaultdict(set)
        self.received: dict[str, set] = collections.defaultdict(set)
        self.active = False

    @staticmethod
    def _bilans_import(body: str) -> str | None:
        head = body[:600]
        m = _ENVELOPE.search(head)
        return m.group(1) if m and '"referentiel"' in head else None

    def _before(self, model, params=None, context=None, **_):
        if model.name == "SendMessageBatch" and context is not None and params:
            context["soak_entries"] = {e["Id"]: self._bilans_import(e.get("MessageBody") or "")
                                       for e in params.get("Entries", [])}

    def _after(self, model, parsed=None, context=None, **_):
        if not self.active or not parsed:
            return
        with self.lock:
            if model.name == "SendMessageBatch":
                entries = (context or {}).get("soak_entries", {})
                for ok in parsed.get("Successful", []):
                    imp = entries.get(ok["Id"])
                    if imp:
                        self.sent[imp].add(ok["MessageId"])
            elif model.name == "ReceiveMessage":
                for m in parsed.get("Messages", []):
                    imp = self._bilans_import(m.get("Body", ""))
                    if imp:
                        self.received[imp].add(m["MessageId"])

    def install(self) -> "MessageLedger":
        import botocore.session
        original = botocore.session.Session.create_client
        ledger = self

        def create_client(self, *args, **kwargs):
            client = original(self, *args, **kwargs)
            client.meta.events.register("before-parameter-build.sqs", ledger._before)
            client.meta.events.register("after-call.sqs", ledger._after)
            return client

        botocore.session.Session.create_client = create_client
        return self

    def lost(self) -> dict[str, int]:
        """import_id → messages sent and never received."""
        return {imp: len(ids - self.received.get(imp, set())) for imp, ids in self.sent.items()
                if ids - self.received.get(imp, set())}


LEDGER = MessageLedger()


class BatchProbe:
    """Wraps the bilans queue's handler: per invocation, its messages, bilans and distinct imports
    (read from each body's envelope, which the splitter writes first)."""

    def __init__(self, dispatcher):
        self.binding = next(b for b in dispatcher.bindings if b.name == "bilans")
        self.inner = self.binding.handler
        self.batches: list[tuple[int, int]] = []          # (messages, distinct imports)
        self.lock = threading.Lock()
        self.binding.handler = self

    def __call__(self, event, context):
        ids = set()
        for r in event["Records"]:
            m = _ENVELOPE.search(r["body"][:400])
            ids.add(m.group(1) if m else "?")
        with self.lock:
            self.batches.append((len(event["Records"]), len(ids)))
        return self.inner(event, context)

    def close(self) -> None:
        self.binding.handler = self.inner


# --- the soak ----------------------------------------------------------------------------------

@dataclass
class ImportRun:
    uai: str
    rang: int                      # 0, or 1 for a school's second import at once
    seconds: float = 0.0
    synthese: dict | None = None
    error: str | None = None
    reprises: int = 0              # API calls retried after a failed connection
    import_id: str | None = None


def import_file(api, path: Path, run: "ImportRun", timeout: float, poll: float = 0.5) -> dict:
    """ApiClient.import_file's steps (create, presigned upload, poll, synthèse), each retried when
    the connection fails (never on an HTTP answer): under load the local API server has reset a
    connection (see docs/performance.md). Retries are counted in `run.reprises`; a create retried
    after the server had in fact created the import would leave a second import waiting for its
    file, which the audit reports."""
    from lsu_tools.cli import TERMINAL, ApiCallError, CliError

    def retried(fn, *args):
        for attempt in range(6):
            try:
                return fn(*args)
            except ApiCallError:
                raise
            except CliError:
                if attempt == 5:
                    raise
                run.reprises += 1
                time.sleep(0.2 * (attempt + 1))

    data = path.read_bytes()
    created = retried(api.create_import, path.name, len(data), False)
    run.import_id = created["import_id"]
    retried(api.upload, created["upload"], path.name, data)
    deadline = time.monotonic() + timeout
    while (status := retried(api.get_import, created["import_id"]))["statut"] not in TERMINAL:
        if time.monotonic() > deadline:
            raise TimeoutError(f"import {created['import_id']} not over after {timeout:.0f} s: {status['statut']}, "
                               f"{status['progression']}")
        time.sleep(poll)
    return retried(api.synthese, created["import_id"])


@dataclass
class Figures:
    date: str
    commande: str
    schools: int
    doubles: int
    eleves_par_ecole: int
    eleves: int
    imports: int
    bilans: int                    # every import's bilans (the doubled schools' twice)
    wall_s: float
    wall_premiers_s: float         # until the last of the schools' first imports
    bilans_s: float
    import_s: dict                 # min / median / max of one import (request → synthèse)
    requetes_par_bilan: dict       # service → pipeline + event source (what AWS would bill us)
    requetes_pipeline_par_bilan: dict
    requetes_esm_par_bilan: dict
    sqs_facture_par_bilan: float
    operations_par_bilan: dict     # "service operation" → per bilan (pipeline + event source)
    requetes_api_par_bilan: float
    lots: dict                     # bilans queue batches: invocations, messages, imports per invocation
    cpu_s: dict                    # emulator, our process, machine (busy), others
    part_cpu_emulateur: float | None   # emulator / (emulator + our process)
    cpu_par_groupe_s: dict
    cpu_workers_ms_par_bilan: float
    reprises_api: int              # API calls of the clients retried after a failed connection
    echecs_gestionnaires: dict     # the dispatcher's « handler failed » logs (SchoolBusy: retried later)
    messages_bilans: dict | None   # bilans messages sent / received (distinct) / lost, when the hooks are on
    audit_s: float
    charge_debut: list
    charge_fin: list
    coeurs: int
    machine: str
    echecs: list = field(default_factory=list)


def _collect_cpu_threads() -> dict[int, str]:
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


def run_soak(stack, specs, doubles: int = 1, workdir: Path | None = None, command: str = "",
             timeout: float = 1200) -> Figures:
    """Run the soak on a started LocalStack (its API served); the checks' failures are in
    `Figures.echecs` (empty: every synthèse correct and isolated). An import not over after
    `timeout` seconds is a failure."""
    from chalicelib.api.auth import issue_token
    from lsu_tools.cli import ApiClient
    from lsu_tools.generator import generate_lsu_xml, generate_referentiel

    workdir = workdir or Path(tempfile.mkdtemp(prefix="lsu-soak-"))
    files, expected = {}, {}
    for spec in specs:
        xml = generate_lsu_xml(spec)
        files[spec.uai] = workdir / f"import-{spec.uai}.xml"
        files[spec.uai].write_bytes(xml)
        expected[spec.uai] = Expected.of(xml)
    token = {s.uai: issue_token(stack.settings.token_secret, s.uai, "CE") for s in specs}
    for spec in specs:
        ApiClient(stack.api_url, token[spec.uai]).put_referentiel(generate_referentiel(spec))

    runs = [ImportRun(s.uai, 0) for s in specs] + [ImportRun(s.uai, 1) for s in specs[:doubles]]
    barrier = threading.Barrier(len(runs) + 1)

    def client(run: ImportRun) -> None:
        api = ApiClient(stack.api_url, token[run.uai])
        barrier.wait()
        t = time.perf_counter()
        try:
            run.synthese = import_file(api, files[run.uai], run, timeout)
        except Exception as exc:            # reported as a failure, the others go on
            run.error = f"{type(exc).__name__}: {exc}"
        run.seconds = time.perf_counter() - t

    threads = [threading.Thread(target=client, args=(r,), name=f"soak-client-{r.uai}-{r.rang}", daemon=True)
               for r in runs]
    for t in threads:
        t.start()
    probe = BatchProbe(stack.dispatcher) if stack.dispatcher else None
    try:
        emulator = stack.moto.proc.pid if stack.moto and stack.moto.proc else None
        load_start = os.getloadavg()
        tracked = _collect_cpu_threads()
        threads_cpu0 = {tid: thread_cpu(tid) for tid in tracked}
        count_requests.COUNTS.clear()
        count_requests.BILLED.clear()
        LEDGER.active = True
        cpu0 = (cpu_seconds(), cpu_seconds(emulator) if emulator else 0.0, machine_busy())
        with HandlerFailures() as handler_failures:
            barrier.wait()
            t0 = time.perf_counter()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        cpu1 = (cpu_seconds(), cpu_seconds(emulator) if emulator else 0.0, machine_busy())
        threads_cpu1 = {tid: thread_cpu(tid) for tid in tracked}
        counts, billed = dict(count_requests.COUNTS), dict(count_requests.BILLED)
        load_end = os.getloadavg()
    finally:
        LEDGER.active = False
        if probe:
            probe.close()

    t_audit = time.perf_counter()
    failures = audit(stack.runtime, specs, runs, expected)
    messages = {"envoyes": sum(len(v) for v in LEDGER.sent.values()),
                "recus_distincts": sum(len(v) for v in LEDGER.received.values()),
                "perdus": LEDGER.lost()} if LEDGER.sent else None
    if messages and messages["perdus"]:
        failures += [f"{imp}: {n} bilans message(s) sent (SQS accepted them) and never received"
                     for imp, n in messages["perdus"].items()]
    ours, moto, machine = (cpu1[i] - cpu0[i] for i in range(3))
    groups: dict[str, float] = collections.Counter()
    for tid, name in tracked.items():
        groups[thread_group(name)] += threads_cpu1[tid] - threads_cpu0[tid]
    groups["other (API request threads, main)"] += max(0.0, ours - sum(groups.values()))

    bilans = sum(len(expected[r.uai].bilans) for r in runs if r.synthese) or 1    # the imports that ended
    firsts = [r.seconds for r in runs if r.rang == 0]

    def per_bilan(who: set[str], service: str | None = None) -> float:
        return sum(v for (w, s, _), v in counts.items() if w in who and (service is None or s == service)) / bilans

    services = ("dynamodb", "sqs", "s3")
    operations = collections.Counter()
    for (w, s, op), v in counts.items():
        if w in ("pipeline", "dispatcher"):
            operations[f"{s} {op}"] += v / bilans
    batches = probe.batches if probe else []
    lots = {"invocations": len(batches),
            "invocations_par_bilan": len(batches) / bilans,
            "messages_par_invocation": statistics.fmean(m for m, _ in batches) if batches else 0.0,
            "imports_par_invocation": statistics.fmean(i for _, i in batches) if batches else 0.0,
            "imports_par_invocation_max": max((i for _, i in batches), default=0),
            # invocations by (messages, distinct imports): what the capacity model projects from
            "histogramme": {f"{m}x{i}": n for (m, i), n in sorted(collections.Counter(batches).items())}}
    eleves = sum(len(expected[s.uai].eleves) for s in specs)
    return Figures(
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"), commande=command,
        schools=len(specs), doubles=doubles, eleves_par_ecole=round(eleves / len(specs)), eleves=eleves,
        imports=len(runs), bilans=bilans, wall_s=wall, wall_premiers_s=max(firsts), bilans_s=bilans / wall,
        import_s={"min": min(r.seconds for r in runs), "median": statistics.median(r.seconds for r in runs),
                  "max": max(r.seconds for r in runs)},
        requetes_par_bilan={s: per_bilan({"pipeline", "dispatcher"}, s) for s in services},
        requetes_pipeline_par_bilan={s: per_bilan({"pipeline"}, s) for s in services},
        requetes_esm_par_bilan={s: per_bilan({"dispatcher"}, s) for s in services},
        sqs_facture_par_bilan=sum(v for (w, _, _), v in billed.items() if w in ("pipeline", "dispatcher")) / bilans,
        operations_par_bilan=dict(sorted(operations.items())),
        requetes_api_par_bilan=per_bilan({"api"}),
        lots=lots,
        cpu_s={"emulateur": moto if emulator else None, "notre_processus": ours, "machine": machine,
               "autres": machine - ours - (moto if emulator else 0.0)},
        part_cpu_emulateur=moto / (moto + ours) if emulator and moto + ours > 0 else None,
        cpu_par_groupe_s=dict(sorted(groups.items(), key=lambda kv: -kv[1])),
        cpu_workers_ms_par_bilan=1000 * groups["dispatcher: bilans (workers)"] / bilans,
        reprises_api=sum(r.reprises for r in runs),
        echecs_gestionnaires=dict(handler_failures.counts),
        charge_debut=[round(x, 2) for x in load_start], charge_fin=[round(x, 2) for x in load_end],
        coeurs=os.cpu_count() or 0,
        machine=subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip(),
        messages_bilans=messages, audit_s=time.perf_counter() - t_audit,
        echecs=failures)


# --- the audit -----------------------------------------------------------------------------------

def audit(rt, specs, runs: list[ImportRun], expected: dict[str, Expected]) -> list[str]:
    """Every check of the docstring; the failures, each a line (none: all correct and isolated)."""
    bad: list[str] = []
    uais = {s.uai for s in specs}
    imports_of: dict[str, set[str]] = collections.defaultdict(set)

    # 1. The synthèses, as the API gave them.
    for r in runs:
        if r.import_id:
            imports_of[r.uai].add(r.import_id)
    for r in runs:
        exp = {b["skey"]: b for b in expected[r.uai].bilans.values()}
        tag = f"{r.uai} import {r.rang + 1}"
        if r.error or r.synthese is None:
            bad.append(f"{tag}: no synthèse ({r.error})")
            continue
        s = r.synthese
        if s["import_id"] != r.import_id:
            bad.append(f"{tag}: synthèse of {s['import_id']}, import {r.import_id} created")
        tot = s["totaux"]
        if s["statut"] != "TERMINE" or s.get("uai", r.uai) != r.uai:
            bad.append(f"{tag}: statut {s['statut']}, uai {s.get('uai')}")
        if (tot["bilans"], tot["importes"], tot["rejetes"]) != (len(exp), len(exp), 0):
            bad.append(f"{tag}: totaux {tot} for {len(exp)} bilans in the file")
        seen = collections.Counter(synthese_key(b) for b in s["bilans"])
        if set(seen) != set(exp) or any(n != 1 for n in seen.values()):
            bad.append(f"{tag}: synthèse bilans differ from the file ({len(set(seen) - set(exp))} foreign, "
                       f"{len(set(exp) - set(seen))} missing, {sum(n > 1 for n in seen.values())} twice)")
        for b in s["bilans"]:
            e = exp.get(synthese_key(b))
            if e and (b["nom"], b["prenom"], b["division"]) != (e["nom"], e["prenom"], e["division"]):
                bad.append(f"{tag}: bilan {synthese_key(b)} names {b['nom']} {b['prenom']} {b['division']}, "
                           f"the file {e['nom']} {e['prenom']} {e['division']}")
                break

    # 2. Imports table, results per import, counters.
    repos = rt.repos
    new_count: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for spec in specs:
        exp = expected[spec.uai].bilans
        records = repos.imports.recent(spec.uai, limit=100)
        started = sum(1 for r in runs if r.uai == spec.uai)
        if {i.import_id for i in records} != imports_of[spec.uai] or len(records) != started:
            bad.append(f"{spec.uai}: imports table holds {len(records)} import(s), {started} started")
        for rec in records:
            tag = f"{spec.uai}/{rec.import_id}"
            if rec.statut != "TERMINE" or rec.traites != rec.total or rec.total != len(exp):
                bad.append(f"{tag}: {rec.statut}, traites {rec.traites}, total {rec.total}, file {len(exp)}")
            results = repos.results.of_import(spec.uai, rec.import_id)
            ids = collections.Counter(x.bilan_id for x in results)
            if set(ids) != set(exp) or len(results) != len(exp):
                bad.append(f"{tag}: {len(results)} results for {len(exp)} bilans "
                           f"({len(set(ids) - set(exp))} foreign, {len(set(exp) - set(ids))} missing)")
            statuts = collections.Counter(COUNTER_OF.get(x.statut, x.statut) for x in results)
            counters = {k: getattr(rec, k) for k in ("nouveaux", "mis_a_jour", "inchanges", "rejetes")}
            if {k: statuts.get(k, 0) for k in counters} != counters:
                bad.append(f"{tag}: result statuts {dict(statuts)} ≠ counters {counters}")
            for x in results:
                e = exp.get(x.bilan_id)
                if x.uai != spec.uai or (e and x.eleve.get("nom") != e["nom"]):
                    bad.append(f"{tag}: result {x.bilan_id} of {x.uai}, élève {x.eleve.get('nom')}")
                    break
                if x.statut == "IMPORTE":
                    new_count[spec.uai][x.bilan_id] += 1
        # Across the school's imports, each bilan new exactly once.
        if set(new_count[spec.uai]) != set(exp) or any(n != 1 for n in new_count[spec.uai].values()):
            twice = sum(n > 1 for n in new_count[spec.uai].values())
            bad.append(f"{spec.uai}: {len(new_count[spec.uai])} bilans new for {len(exp)} in the file "
                       f"({twice} new twice)")

    # 3. Whole tables: no result under an import not its school's, no foreign bilan.
    models = rt.models
    results_by_uai = collections.Counter()
    strays = collections.Counter()
    for item in models.Resultat.scan():
        uai, import_id = item.import_key.split("#", 1)
        if uai in uais:
            results_by_uai[uai] += 1
            if import_id not in imports_of[uai]:
                strays[item.import_key] += 1
    bad += [f"results table: {n} results under {k}, not an import the soak made" for k, n in strays.items()]
    for spec in specs:
        want = len(expected[spec.uai].bilans) * sum(1 for r in runs if r.uai == spec.uai)
        if results_by_uai[spec.uai] != want:
            bad.append(f"results table: {results_by_uai[spec.uai]} results of {spec.uai}, {want} expected")
    stored: dict[str, dict[str, object]] = collections.defaultdict(dict)
    for item in models.Bilan.scan():
        uai, id_be = item.eleve_key.split("#", 1)
        if uai in uais:
            stored[uai][f"{id_be}#{item.cle}"] = item
    for spec in specs:
        exp, eleves, got = expected[spec.uai].bilans, expected[spec.uai].eleves, stored[spec.uai]
        if set(got) != set(exp):
            bad.append(f"{spec.uai}: bilans table holds {len(got)} bilans ({len(set(got) - set(exp))} foreign, "
                       f"{len(set(exp) - set(got))} missing) for {len(exp)} in the file")
        for bilan_id, item in got.items():
            eleve = (item.contenu or {}).get("eleve") or {}
            e = eleves.get(bilan_id.split("#", 1)[0])
            problems = []
            if e is None or eleve.get("nom") != e["nom"] or eleve.get("id_be") != e["id_be"]:
                problems.append(f"élève {eleve.get('nom')} {eleve.get('id_be')}")
            if item.import_id not in imports_of[spec.uai]:
                problems.append(f"written by {item.import_id}")
            if (item.division_key or "").split("#", 1)[0] != spec.uai or int(item.version or 0) != 1:
                problems.append(f"division_key {item.division_key}, version {item.version}")
            if problems:
                bad.append(f"{spec.uai}: bilan {bilan_id}: " + ", ".join(problems))
                break
        # The par-division index: each division's bilans, the school's only.
        per_division = collections.Counter(e["division"] for e in exp.values())
        for division, n in per_division.items():
            found = repos.bilans.of_division(spec.uai, division)
            if len(found) != n or any(not b.key[0].startswith(f"{spec.uai}#") for b in found):
                bad.append(f"{spec.uai}: index par-division {division}: {len(found)} bilans, {n} expected")
    return bad


# --- output --------------------------------------------------------------------------------------

def fr(x: float, decimals: int = 0) -> str:
    return f"{x:,.{decimals}f}".replace(",", " ").replace(".", ",")


def report(f: Figures) -> str:
    out = [f"Soak: {f.schools} schools × ≈{f.eleves_par_ecole} élèves ({f.eleves} élèves), {f.imports} imports "
           f"at once ({f.doubles} school(s) importing twice at once): {f.bilans} bilans"]
    out.append(f"  wall {f.wall_s:.1f} s (request → last synthèse; the schools' first imports: "
               f"{f.wall_premiers_s:.1f} s), throughput {f.bilans_s:.0f} bilans/s")
    out.append(f"  one import, request → synthèse: min {f.import_s['min']:.1f} s, median "
               f"{f.import_s['median']:.1f} s, max {f.import_s['max']:.1f} s")
    rq = f.requetes_par_bilan
    out.append("  requests per bilan (pipeline + event source): " + ", ".join(
        f"{s} {rq[s]:.3f} ({f.requetes_pipeline_par_bilan[s]:.3f} + {f.requetes_esm_par_bilan[s]:.3f})"
        for s in rq) + f"; total {sum(rq.values()):.3f}; SQS billed (64 KiB chunks) {f.sqs_facture_par_bilan:.3f}; "
        f"API (progress polling) {f.requetes_api_par_bilan:.3f}")
    out.append("  by operation, per bilan: " + ", ".join(f"{k} {v:.3f}" for k, v in f.operations_par_bilan.items()))
    lots = f.lots
    out.append(f"  bilans queue: {lots['invocations']} invocations ({lots['invocations_par_bilan']:.3f} per bilan), "
               f"{lots['messages_par_invocation']:.1f} messages and {lots['imports_par_invocation']:.2f} imports "
               f"per invocation (max {lots['imports_par_invocation_max']})")
    if f.messages_bilans:
        mb = f.messages_bilans
        out.append(f"  bilans messages: {mb['envoyes']} sent (accepted by SQS), {mb['recus_distincts']} received "
                   f"(distinct), {sum(mb['perdus'].values())} lost")
    if f.reprises_api:
        out.append(f"  API calls retried after a failed connection (local API server): {f.reprises_api}")
    if f.echecs_gestionnaires:
        out.append("  handler failures, left on their queue and retried: " + ", ".join(
            f"{k} × {v}" for k, v in f.echecs_gestionnaires.items()))
    c = f.cpu_s
    emu = f"{c['emulateur']:.1f}" if c["emulateur"] is not None else "n/a (external emulator)"
    share = f"{100 * f.part_cpu_emulateur:.0f} %" if f.part_cpu_emulateur is not None else "n/a"
    out.append(f"  CPU: emulator (moto server) {emu} s, our process {c['notre_processus']:.1f} s → emulator share "
               f"{share}; machine busy {c['machine']:.1f} s of {f.coeurs * f.wall_s:.0f} available "
               f"({f.coeurs} cores × wall), of which others {c['autres']:.1f} s")
    out.append("  our process by thread: " + ", ".join(f"{k} {v:.1f} s" for k, v in f.cpu_par_groupe_s.items())
               + f"; workers {f.cpu_workers_ms_par_bilan:.2f} ms CPU per bilan")
    out.append(f"  load average (1/5/15 min) at start {' / '.join(map(str, f.charge_debut))}, at end "
               f"{' / '.join(map(str, f.charge_fin))} — {f.machine}, {f.coeurs} cores, shared with other engineers' runs")
    out.append("")
    out.append("| écoles | élèves | bilans | temps | bilans/s | requêtes par bilan | part CPU de l'émulateur | charge |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---|")
    out.append(markdown_row(f))
    out.append("")
    if f.echecs:
        out.append(f"CHECKS FAILED ({len(f.echecs)}):")
        out += [f"  - {line}" for line in f.echecs[:40]]
    else:
        out.append(f"checks: all {f.imports} synthèses correct and isolated; imports, results and bilans tables "
                   f"audited per school and import: nothing lost, nothing counted twice")
    return "\n".join(out)


def markdown_row(f: Figures) -> str:
    rq = f.requetes_par_bilan
    share = fr(100 * f.part_cpu_emulateur) + " %" if f.part_cpu_emulateur is not None else "—"
    return (f"| {f.schools} (+ {f.doubles} en double) | {fr(f.eleves)} | {fr(f.bilans)} | {fr(f.wall_s, 1)} s | "
            f"{fr(f.bilans_s)} | {fr(sum(rq.values()), 3)} (DynamoDB {fr(rq['dynamodb'], 3)}, SQS {fr(rq['sqs'], 3)}, "
            f"S3 {fr(rq['s3'], 3)}) | {share} | {fr(f.charge_debut[0], 2)} → {fr(f.charge_fin[0], 2)} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schools", type=int, default=20, help="schools importing at once (default 20)")
    p.add_argument("--eleves", type=int, default=300, help="élèves per school (default 300)")
    p.add_argument("--doubles", type=int, default=1, help="schools that import their file twice at once (default 1)")
    p.add_argument("--pollers", type=int, default=4, help="bilans queue pollers of the local dispatcher (default 4)")
    p.add_argument("--timeout", type=float, default=300,
                   help="seconds after which an import not over is a failure (default 300)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = p.parse_args(argv)
    if args.schools < 1 or not 0 <= args.doubles <= args.schools:
        p.error("--schools ≥ 1 and 0 ≤ --doubles ≤ --schools")
    count_requests.install_hooks()
    LEDGER.install()
    log = Path(tempfile.mkdtemp(prefix="lsu-soak-")) / "soak.log"
    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s | %(threadName)s | %(name)s | %(levelname)s | %(message)s"))
    logging.getLogger().addHandler(handler)
    from lsu_tools.local.stack import LocalStack

    command = ".venv/bin/python bench/soak.py " + " ".join(
        f"--{k} {v}" for k, v in (("schools", args.schools), ("eleves", args.eleves), ("doubles", args.doubles),
                                   ("pollers", args.pollers)))
    specs = school_specs(args.schools, args.eleves)
    with LocalStack(api_port=None, bilan_pollers=args.pollers) as stack:
        figures = run_soak(stack, specs, args.doubles, command=command, timeout=args.timeout)
    handler.close()
    warnings = collections.Counter()
    for line in log.read_text(encoding="utf-8").splitlines():      # a record's first line (not a traceback's)
        fields = line.split(" | ")
        if len(fields) > 4 and fields[3] in ("WARNING", "ERROR", "CRITICAL"):
            warnings[f"{fields[3]} {fields[2]}"] += 1
    print(report(figures))
    print(f"logs (WARNING and above, every logger): {dict(warnings) or 'none'} — {log}")
    print(f"audit: {figures.audit_s:.0f} s (outside the timed window)")
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if figures.echecs else 0


if __name__ == "__main__":
    sys.exit(main())
