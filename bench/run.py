"""`make bench`: one table, every figure measured in this run, on this machine.

1. Split stage against the physical limit, on the same whole-school file in the same process:
   (a) raw lxml parse + XSD validation; (b) our file checks + split into message bodies (CPU
   only, sending excluded); the ratio b/a.
2. AWS requests per bilan during a full import (botocore event hooks, bench/count_requests.py):
   the pipeline's (what our Lambda functions call) and the event source's (receives and deletes:
   Lambda's event source mapping on AWS, the local dispatcher here); SQS also as billed (64 KiB
   chunks of payload).
3. End to end on the local stack (upload → synthèse): ≈650 and ≈1,600 élèves, and their ratio;
   the ≈650-élève import again with 1 and 2 bilan pollers (4 above): throughput.
4. Peak RSS of the splitter (checks + split) on a ≈20 MB file, in a fresh process.
Files come from the project's generator.

Many schools at once (20 schools importing together, plus two imports of one school, every
synthèse audited) is the soak, apart (a few minutes):

    .venv/bin/python bench/soak.py [--schools 20] [--eleves 300]"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import count_requests  # noqa: E402  (installs the botocore hooks before any client exists)


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def split_stage(data: bytes, xsd_path: str) -> tuple[float, float]:
    from lxml import etree

    from chalicelib.config import Settings
    from chalicelib.pipeline.split.file_checks import safe_parser
    from chalicelib.pipeline.split.schemas import load_schemas
    from chalicelib.pipeline.split.stream import check_and_split
    strict = etree.XMLSchema(etree.parse(xsd_path, safe_parser()))
    schema = load_schemas(Settings.from_env().schema_dir)      # what the splitter passes (rt.schemas)

    def raw():
        strict.assertValid(etree.fromstring(data, safe_parser()))

    def ours():   # what the splitter runs before sending (chalicelib.pipeline.split.stage._check_and_split)
        result = check_and_split(data, schema, "0750001A")
        assert result.ok, result.erreurs

    # Blocks of each in turn, the best of each kept: neither gets the quieter moment of the machine.
    a, b = [], []
    for _ in range(3):
        a.append(best_of(3, raw))
        b.append(best_of(3, ours))
    mb = len(data) / 1e6
    return mb / min(a), mb / min(b)


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process so far: this one (all its threads) or `pid`."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def end_to_end(spec, workdir: Path, bilan_pollers: int = 4) -> tuple[float, int, dict, dict, tuple[float, float]]:
    from chalicelib.api.auth import issue_token
    from lsu_tools.cli import ApiClient
    from lsu_tools.generator import generate_lsu_xml, generate_referentiel
    from lsu_tools.local.stack import LocalStack
    path = workdir / f"import-{spec.uai}.xml"
    path.write_bytes(generate_lsu_xml(spec))
    with LocalStack(api_port=None, bilan_pollers=bilan_pollers) as stack:
        client = ApiClient(stack.api_url, issue_token(stack.settings.token_secret, spec.uai, "CE"))
        client.put_referentiel(generate_referentiel(spec))
        count_requests.COUNTS.clear()
        count_requests.BILLED.clear()
        emulator = stack.moto.proc.pid
        cpu = cpu_seconds(), cpu_seconds(emulator)
        t = time.perf_counter()
        synthese = client.import_file(path, progress=False)
        wall = time.perf_counter() - t
        cpu = cpu_seconds() - cpu[0], cpu_seconds(emulator) - cpu[1]
        counts, billed = dict(count_requests.COUNTS), dict(count_requests.BILLED)
    assert synthese["statut"] == "TERMINE", synthese["erreurs_fichier"]
    return wall, synthese["totaux"]["bilans"], counts, billed, cpu


MEMORY_PROBE = """
import sys
from chalicelib.pipeline.split.schemas import load_schemas
from chalicelib.pipeline.split.stream import check_and_split
data = open(sys.argv[1], 'rb').read()
result = check_and_split(data, load_schemas(sys.argv[2]), '0750001A')
assert result.ok, result.erreurs
# VmHWM, not ru_maxrss: Linux carries the parent's peak across fork+exec into ru_maxrss.
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))
print(len(result.bilans), hwm // 1024)
"""


def main() -> int:
    from chalicelib.config import Settings
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml
    xsd = Settings.from_env().xsd_path
    work = Path(tempfile.mkdtemp(prefix="lsu-bench-"))
    rows: list[tuple[str, str, str]] = []

    school = SchoolSpec(uai="0750001A", divisions_par_niveau=6, eleves_par_division=27)      # ≈650 élèves
    data = generate_lsu_xml(school)
    raw, ours = split_stage(data, xsd)
    rows += [("split: raw lxml parse + XSD (a)", f"{raw:.1f} MB/s", f"{len(data) / 1e6:.1f} MB file"),
             ("split: our checks + split, no send (b)", f"{ours:.1f} MB/s", ""),
             ("split: ratio b/a", f"{ours / raw:.2f}", "target ≥ 0.5 (one split path: dicts, one encoder)")]

    wall_650, bilans_650, counts, billed, _ = end_to_end(school, work)
    eleves_650 = school.divisions_par_niveau * 4 * school.eleves_par_division
    for service, target in (("dynamodb", "≤ 1"), ("sqs", "≤ 0.3"), ("s3", "")):
        pipeline = sum(v for (who, s, _), v in counts.items() if s == service and who == "pipeline")
        esm = sum(v for (who, s, _), v in counts.items() if s == service and who == "dispatcher")
        note = f"pipeline {pipeline / bilans_650:.3f} + receives/deletes {esm / bilans_650:.3f}"
        if service == "sqs":
            units = sum(v for (who, _, _), v in billed.items() if who in ("pipeline", "dispatcher"))
            note += f"; billed (64 KiB chunks) {units / bilans_650:.3f}"
        rows.append((f"requests/bilan {service} (pipeline + event source)", f"{(pipeline + esm) / bilans_650:.3f}",
                     f"{note}; target {target}" if target else note))
    rows.append((f"end to end, {eleves_650} élèves ({bilans_650} bilans)", f"{wall_650:.1f} s", "target ≤ 30 s"))

    big = SchoolSpec(uai="0750002B", divisions_par_niveau=16, eleves_par_division=25)      # 1,600 élèves
    wall_1600, bilans_1600, _, _, (ours_cpu, emulator_cpu) = end_to_end(big, work)
    eleves_1600 = big.divisions_par_niveau * 4 * big.eleves_par_division
    rows += [(f"end to end, {eleves_1600} élèves ({bilans_1600} bilans)", f"{wall_1600:.1f} s", ""),
             ("end to end ratio", f"{wall_1600 / wall_650:.2f}", f"for {bilans_1600 / bilans_650:.2f}× the bilans; target ≤ 2.6"),
             (f"  CPU during it: emulator / our process", f"{emulator_cpu:.1f}/{ours_cpu:.1f} s",
              "moto server / pipeline + dispatcher + API + client")]
    walls = {4: wall_650}
    for pollers in (1, 2):
        walls[pollers] = end_to_end(school, work, bilan_pollers=pollers)[0]
    rows.append((f"throughput, {eleves_650} élèves, 1/2/4 bilan pollers",
                 "/".join(f"{bilans_650 / walls[n]:.0f}" for n in (1, 2, 4)), "bilans/s, end to end"))

    heavy = work / "heavy.xml"
    heavy.write_bytes(generate_lsu_xml(SchoolSpec(uai="0750001A", divisions_par_niveau=12, eleves_par_division=30),
                                       periodes=[1, 2, 3]))
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(heavy), xsd], capture_output=True, text=True, check=True)
    n, rss = out.stdout.split()
    rows.append((f"splitter peak RSS, {heavy.stat().st_size / 1e6:.1f} MB file ({n} bilans)", f"{rss} MB", "target ≤ 256 MB"))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")
    print(f"machine: {subprocess.run(['uname', '-srm'], capture_output=True, text=True).stdout.strip()}, "
          f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    count_requests.install_hooks()
    sys.exit(main())
