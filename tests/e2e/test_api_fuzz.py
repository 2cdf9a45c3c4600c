"""The API fuzzed against its own contract (GET /openapi.json) with schemathesis, on the local stack.

A school with a référentiel and imported bilans (Sconet Notes and Éditeur classes), a token per
role (CE, DELEGUE_CE, PP of a class, CPE, a teacher of its services) and none. Two phases:
- every operation, with data valid and invalid under the document (positive and negative), each
  case sent with one of the tokens;
- stateful scenarios following the document's links (create an import → read it → its synthèse;
  search a class → a bilan → enter a part → view it → its PDF; lock → unlock), one per role, the
  parameters narrowed to this school's real classes, élèves and bilans so that links lead somewhere.
Checks: no server error (5xx), every status code, content type, header and body as the document
says, and a body outside the document refused. Deterministic: derandomized hypothesis. The
counts are printed and written to /tmp/lsu-api-fuzz.json."""
from __future__ import annotations

import copy
import json
import time
from dataclasses import replace
from collections import Counter, defaultdict

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

from chalicelib.api.auth import issue_token
from lsu_files import strip
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

SPEC = SchoolSpec(uai="0794017F", divisions_par_niveau=1, eleves_par_division=2)
REPORT = "/tmp/lsu-api-fuzz.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
STATELESS_EXAMPLES = 25          # per operation and generation mode
STATEFUL_EXAMPLES = 15           # scenarios per role
STATEFUL_STEPS = 8

stats: Counter = Counter()
statuses: Counter = Counter()
failures: list[str] = []
seen: set = set()
links: Counter = Counter()
by_operation: dict[str, Counter] = defaultdict(Counter)
by_role: Counter = Counter()


def _school(stack, api_for, uai: str, other_uai: str) -> dict:
    """A school of its own per test (the tests change it: their order does not matter)."""
    spec = replace(SPEC, uai=uai)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = "SCONET_NOTES" if d["code"] in ("6A", "5A") else "EDITEUR"
    ce = api_for(spec.uai)
    ce.put_referentiel(ref)
    # Période 2 whole (Éditeur and Sconet Notes bilans), période 1 as a Sconet Notes partial export
    # (6A, 5A: no appréciation générale nor vie scolaire, to be entered in LSU).
    synthese = ce.import_bytes(generate_lsu_xml(spec, periodes=[2]))
    assert synthese["statut"] == "TERMINE" and synthese["totaux"]["importes"] > 0, synthese
    partial = ce.import_bytes(strip(generate_lsu_xml(spec, periodes=[1]), elements=("acquis-conseils", "vie-scolaire")))
    assert partial["statut"] == "TERMINE" and partial["totaux"]["importes"] > 0, partial
    divisions = {d["code"]: d for d in ref["divisions"]}
    pp = divisions["6A"]["profs_principaux"][0]
    teacher = next(s["enseignant"] for s in ref["services"] if s.get("division") == "6A"
                   and s["enseignant"] not in divisions["6A"]["profs_principaux"])
    secret = stack.settings.token_secret
    tokens = {"CE": issue_token(secret, uai, "CE", sub="ce-fuzz"),
              "DELEGUE_CE": issue_token(secret, uai, "DELEGUE_CE", sub="delegue-fuzz"),
              "PP": issue_token(secret, uai, "PP", sub=pp),
              "CPE": issue_token(secret, uai, "CPE", sub="cpe-fuzz"),
              "ENSEIGNANT": issue_token(secret, uai, "ENSEIGNANT", sub=teacher),
              "autre établissement": issue_token(secret, other_uai, "CE", sub="intrus")}
    bilans = [b for code in ("6A", "5A") for b in ce.call("GET", "/bilans", params={"division": code}).json()["bilans"]]
    return {"tokens": tokens, "divisions": sorted(divisions), "bilans": bilans,
            "import_id": synthese["import_id"], "id_be": sorted({b["id_be"] for b in bilans}),
            "bilan": sorted({b["bilan"] for b in bilans})}


@pytest.fixture(scope="module")
def school(stack, api_for):
    return _school(stack, api_for, "0794017F", "0794018G")


@pytest.fixture(scope="module")
def school_for_scenarios(stack, api_for):
    return _school(stack, api_for, "0794019H", "0794020J")


def _served_document(stack) -> dict:
    r = requests.get(stack.api_url + "/openapi.json", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    return r.json()


def _schema(doc: dict, stack):
    schema = schemathesis.openapi.from_dict(doc)
    schema.config.update(base_url=stack.api_url, request_timeout=60)
    # The tokens are the test's (one per role, or none); unknown query parameters are ignored by
    # the API (documented), not a negative case.
    schema.config.generation.update(deterministic=True, database="none", max_examples=STATELESS_EXAMPLES,
                                    with_security_parameters=False, allow_extra_parameters=False)
    return schema


def _headers(tokens: dict, who: str | None) -> dict:
    return {"Authorization": f"Bearer {tokens[who]}"} if who else {}


def _record(case, response, who) -> None:
    stats["appels"] += 1
    statuses[str(response.status_code)] += 1
    by_operation[case.operation.label][str(response.status_code)] += 1
    by_role[f"{who}:{response.status_code}"] += 1
    if response.status_code >= 500:
        failures.append(f"{case.method} {case.formatted_path} ({who}) → {response.status_code}: {response.text[:300]}")


def _validate(case, response, checks) -> None:
    """Every check on one response; a failure is collected (the run goes on, to find them all)."""
    try:
        case.validate_response(response, checks=checks)
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — collected, reported together at the end
        key = (case.operation.label, response.status_code, str(exc).splitlines()[0][:200])
        if key not in seen:
            seen.add(key)
            failures.append(f"{case.method} {case.formatted_path} → {response.status_code}: {str(exc)[:1500]}")


def test_every_operation_positive_and_negative(stack, school, capsys):
    """Every operation of the served document, valid and invalid data; then valid data again with
    the parameters narrowed to this school's identifiers (deeper than a 403 or a 404)."""
    doc = _served_document(stack)
    who_values = [None, *school["tokens"]]
    started = time.monotonic()
    positive, negative = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
    for phase, schema, modes in (("document", _schema(doc, stack), (positive, negative)),
                                 ("identifiants réels", _schema(_narrowed(doc, school), stack), (positive,))):
        operations = [r.ok() for r in schema.get_all_operations()]
        stats["operations"] = len(operations)
        _run_operations(operations, modes, who_values, school, phase)
    stats["durée sans état (s)"] = round(time.monotonic() - started, 1)
    _write_report(capsys)
    assert stats["cas positive"] and stats["cas negative"]
    assert not [s for s in statuses if s.startswith("5")] and not failures, "\n".join(failures[:20])


def _run_operations(operations, modes, who_values, school, phase) -> None:
    for op in operations:
        for mode in modes:
            checks = CHECKS + ([negative_data_rejection] if mode == schemathesis.GenerationMode.NEGATIVE else [])

            @settings(max_examples=STATELESS_EXAMPLES, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit,
                                                                       hypothesis.Phase.generate])
            @given(case=op.as_strategy(generation_mode=mode), who=st.sampled_from(who_values))
            def run(case, who):
                response = case.call(headers=_headers(school["tokens"], who))
                _record(case, response, who)
                stats[f"cas {mode.value}"] += 1
                stats[f"cas ({phase})"] += 1
                _validate(case, response, checks)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                stats["insatisfaisables"] += 1     # e.g. no invalid data for an operation without input


def _narrowed(doc: dict, school: dict, searched: list[str] | None = None) -> dict:
    """The document with this school's real identifiers as the only values of the parameters that
    name them (the scenarios then reach real bilans), `searched` the classes searched; responses
    unchanged."""
    doc = copy.deepcopy(doc)
    values = {"code": school["divisions"], "division": searched or school["divisions"], "id_be": school["id_be"],
              "bilan": school["bilan"], "eleve": school["id_be"], "import_id": [school["import_id"]]}
    for item in doc["paths"].values():
        for op in item.values():
            for p in op.get("parameters", ()):
                if p["name"] in values:
                    p["schema"] = {"enum": values[p["name"]]}
    return doc


def test_stateful_scenarios_by_role(stack, school_for_scenarios, capsys):
    school = school_for_scenarios
    # The searches name the Sconet Notes classes: their bilans of période 1 lack the appréciation
    # générale, so that « search → enter it → view → PDF » goes through.
    schema = _schema(_narrowed(_served_document(stack), school, searched=["6A", "5A"]), stack)
    started = time.monotonic()
    for who in [*school["tokens"], None]:
        base = schema.as_state_machine()

        class Machine(base):
            def get_call_kwargs(self, case):
                return {"headers": _headers(school["tokens"], who)}

            def after_call(self, response, case):
                _record(case, response, who)
                stats["pas avec état"] += 1

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                _validate(case, response, CHECKS)

            def setup(self):
                stats["scénarios"] += 1

            def step(self, input):
                if input.transition is not None and input.is_applied:
                    links[input.transition.id] += 1
                return super().step(input)

        Machine.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS,
                                      derandomize=True, database=None, deadline=None,
                                      suppress_health_check=list(HealthCheck),
                                      phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate]))
    stats["durée avec état (s)"] = round(time.monotonic() - started, 1)
    _write_report(capsys)
    followed = {name.split(" -> ")[1].split()[-1] for name in links}
    # The chains of the contract: an import created → read → its synthèse; a part entered → the
    # bilan viewed → its PDF.
    assert {"LireLImport", "SaSynthese"} <= followed, links
    assert {"SaisirLePremier", "VoirLeBilan", "PdfDuBilan"} <= followed, links
    assert not [s for s in statuses if s.startswith("5")] and not failures, "\n".join(failures[:20])


def _write_report(capsys) -> None:
    """The counts, to /tmp/lsu-api-fuzz.json and to the terminal (even without -s)."""
    report = {**stats, "liens suivis": dict(sorted(links.items())), "statuts": dict(sorted(statuses.items())),
              "par opération": {k: dict(sorted(v.items())) for k, v in sorted(by_operation.items())},
              "par rôle": dict(sorted(by_role.items())), "erreurs_5xx": sum(
        n for s, n in statuses.items() if s.startswith("5")), "non_conformites": len(failures)}
    with open(REPORT, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=2)
    summary = {k: v for k, v in report.items() if k not in ("par opération", "par rôle")}
    with capsys.disabled():
        print(f"\nschemathesis ({REPORT}) :", json.dumps(summary, ensure_ascii=False))
