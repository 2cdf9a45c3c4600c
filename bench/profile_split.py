"""Where the split stage's time goes, on the bench's file (≈650 élèves), in one process: each part
of stream.check_and_split timed on its own (best of several runs).

    .venv/bin/python bench/profile_split.py"""
from __future__ import annotations

import copy
import json
import sys
import time


def best(fn, n: int = 7) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000


def main() -> int:
    from lxml import etree

    from chalicelib.pipeline.split import bilans as split
    from chalicelib.pipeline.split import stream
    from chalicelib.pipeline.split import file_checks as validation
    from chalicelib.pipeline.split import schemas
    from chalicelib.config import Settings
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml

    settings = Settings.from_env()
    xsd = settings.xsd_path
    schema_set = schemas.load_schemas(settings.schema_dir)      # what the splitter passes (rt.schemas)
    data = generate_lsu_xml(SchoolSpec(uai="0750001A", divisions_par_niveau=6, eleves_par_division=27))
    strict = etree.XMLSchema(etree.parse(xsd, validation.safe_parser()))
    schema = validation.load_schema(xsd, partial=True)
    root = etree.fromstring(data, validation.safe_parser())
    # The shared definitions as the stream sees them at its first bilan: before any bilan.
    donnees = copy.deepcopy(root.find(split.q("donnees")))
    for container in ("bilans-periodiques", "bilans-cycle"):
        for el in donnees.findall(split.q(container)):
            donnees.remove(el)
    periodiques, cycles = list(root.iter(split.q("bilan-periodique"))), list(root.iter(split.q("bilan-cycle")))

    def iterparse_only(release=False):
        for _event, el in stream._iterparse(data, schema):     # the splitter's own parser options
            if release:
                stream._release(el)

    def dicts():                                     # a fresh index, as in a run
        idx = split.build_index(donnees)
        return [split.bilan_periodique(el, idx) for el in periodiques] + [split.bilan_cycle(el, idx) for el in cycles]

    built = dicts()
    stdlib_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode

    parts = [
        ("raw lxml parse + XSD (the bench's a)", lambda: strict.assertValid(etree.fromstring(data, validation.safe_parser()))),
        ("stream.check_and_split, whole (the bench's b)", lambda: stream.check_and_split(data, schema, "0750001A")),
        ("stream.check_and_split, whole, with the schema folder (the splitter's call)",
         lambda: stream.check_and_split(data, schema_set, "0750001A")),
        ("  of which the schemaVersion probe (schemas.read_schema_version)", lambda: schemas.read_schema_version(data)),
        ("  parse + streamed validation (iterparse)", iterparse_only),
        ("  the same, each bilan freed once read (stream._release)", lambda: iterparse_only(True)),
        ("  byte checks before parsing (validation.PRECHECKS)", lambda: [c(data) for c in validation.PRECHECKS]),
        ("    of which check_doctype", lambda: validation.check_doctype(data)),
        ("  shared definitions (split.build_index)", lambda: split.build_index(donnees)),
        (f"  bilans as dicts ({len(periodiques)} périodiques, {len(cycles)} de cycle), index included", dicts),
        ("  their JSON (split.encode_bilan: orjson)", lambda: [split.encode_bilan(b) for b in built]),
        ("    the same JSON with the standard library, for comparison", lambda: [stdlib_json(b) for b in built]),
    ]
    print(f"{len(data) / 1e6:.1f} MB file")
    for name, fn in parts:
        print(f"{best(fn):8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
