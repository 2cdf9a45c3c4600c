"""chalicelib/observability.py: Powertools logger, metrics and tracer, built on first use.

"On Lambda" is simulated with AWS_LAMBDA_FUNCTION_NAME (logs and EMF records on stdout); the
Tracer stays disabled in every test (POWERTOOLS_TRACE_DISABLED, and no LAMBDA_TASK_ROOT): X-Ray
would send UDP datagrams. Each test gets its own service name, hence a fresh Powertools logger
writing to pytest's captured stdout."""
from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import uuid
from contextlib import contextmanager
from types import SimpleNamespace

# The X-Ray SDK's recorder opens its (unused) UDP socket when aws_xray_sdk.core is first imported:
# import it here, at collection, before tests/unit/conftest.py blocks the network for each test.
import aws_xray_sdk.core  # noqa: F401
import pytest

from chalicelib import observability as obs
from lsu_tools.local.dispatcher import LambdaContext

SYNTHESE = {
    "import_id": "20261128T101010Z-abcd1234", "uai": "0750001A", "statut": "TERMINE",
    "cree_le": "2026-11-28T10:10:10+00:00", "termine_le": "2026-11-28T10:12:25+00:00",
    "totaux": {"bilans": 12, "importes": 9, "nouveaux": 5, "mis_a_jour": 3, "inchanges": 1, "rejetes": 3,
               "avertissements": 2},
    "codes": {"ERREUR_TECHNIQUE": 1, "NOTE_INVALIDE": 2},
}


@pytest.fixture
def fresh(monkeypatch):
    """A process as on Lambda (for logs and metrics), with objects built anew from this env."""
    def configure(on_lambda: bool = True, **env):
        for key in ("AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL",
                    "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV", "LAMBDA_TASK_ROOT"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"lsu-import-test-{uuid.uuid4().hex[:8]}")
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("LSU_STAGE", "test")
        if on_lambda:
            monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lsu-import-test-on_report")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        obs.reset()
    yield configure
    obs.reset()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def emf_records(text: str) -> list[dict]:
    return [r for r in json_lines(text) if "_aws" in r]


def values(record: dict, name: str) -> list[float]:
    """A metric's values in an EMF record (Powertools writes a list)."""
    value = record[name]
    return value if isinstance(value, list) else [value]


def chalice_event(context) -> SimpleNamespace:
    """What Chalice gives an @app.on_sqs_message handler: an event object with `.context`."""
    return SimpleNamespace(context=context, to_dict=lambda: {"Records": []})


# --- nothing at import --------------------------------------------------------------------------

class PoisonedEnviron(dict):
    def __getitem__(self, key):
        raise AssertionError(f"environnement lu à l'import : {key}")

    def get(self, key, default=None):
        raise AssertionError(f"environnement lu à l'import : {key}")

    __contains__ = __getitem__


def test_importing_reads_no_environment_and_builds_nothing(monkeypatch):
    import chalicelib
    # The module as the other tests know it comes back after this one (sys.modules and package).
    monkeypatch.delitem(sys.modules, "chalicelib.observability")
    monkeypatch.setattr(chalicelib, "observability", obs)
    monkeypatch.setattr(os, "environ", PoisonedEnviron())
    with pytest.raises(AssertionError):
        os.getenv("POWERTOOLS_SERVICE_NAME")                 # the poison works
    module = importlib.import_module("chalicelib.observability")
    monkeypatch.undo()
    assert module is not obs
    for factory in (module.get_config, module.get_logger, module.get_metrics, module.get_tracer):
        assert factory.cache_info().currsize == 0


def test_factories_are_cached_and_reset_gives_fresh_ones(fresh):
    fresh()
    logger, metrics, tracer = obs.get_logger(), obs.get_metrics(), obs.get_tracer()
    assert obs.get_logger() is logger and obs.get_metrics() is metrics and obs.get_tracer() is tracer
    obs.reset()
    assert obs.get_logger() is not logger and obs.get_metrics() is not metrics
    assert obs.get_tracer() is not tracer


def test_configuration_comes_from_the_environment_of_first_use(fresh):
    fresh(POWERTOOLS_METRICS_NAMESPACE="Essai")
    config = obs.get_config()
    assert (config.namespace, config.stage, config.on_lambda) == ("Essai", "test", True)
    assert config.service.startswith("lsu-import-test-")
    assert obs.ObservabilityConfig.from_env({}) == obs.ObservabilityConfig(
        service="lsu-import", namespace="LsuImport", stage="local", on_lambda=False)


# --- logs ---------------------------------------------------------------------------------------

def test_a_log_line_is_json_with_the_work_and_lambda_context_keys(fresh, capsys):
    fresh()
    context = LambdaContext(function_name="lsu-import-test-on_report", memory_limit_in_mb=1024,
                            invoked_function_arn="arn:aws:lambda:eu-west-3:123456789012:function:x")

    @obs.observed("report")
    def on_report(event):
        with obs.log_context(uai="0750001A", import_id="imp-1"):
            obs.get_logger().info("synthèse écrite")
            logging.getLogger("chalicelib.pipeline.report").warning("par le logger du module")
        obs.get_logger().info("hors du travail")
        return "ok"

    assert on_report(chalice_event(context)) == "ok"
    obs.get_logger().info("après l'invocation")
    lines = {line["message"]: line for line in json_lines(capsys.readouterr().out)}

    for message in ("synthèse écrite", "par le logger du module"):
        line = lines[message]
        assert line["uai"] == "0750001A" and line["import_id"] == "imp-1"
        assert line["function_name"] == "lsu-import-test-on_report"
        assert line["function_request_id"] == context.aws_request_id
        assert line["function_memory_size"] == 1024
        assert line["function_arn"] == "arn:aws:lambda:eu-west-3:123456789012:function:x"
        assert isinstance(line["cold_start"], bool)
        assert line["pipeline_stage"] == "report"
        assert line["service"] == obs.get_config().service
    assert lines["par le logger du module"]["name"] == "chalicelib.pipeline.report"
    assert "uai" not in lines["hors du travail"] and lines["hors du travail"]["function_name"]
    assert not {"uai", "function_name", "cold_start"} & set(lines["après l'invocation"])


def test_only_the_first_invocation_is_a_cold_start(fresh, monkeypatch, capsys):
    fresh()
    monkeypatch.setattr(obs, "_cold", {"start": True})

    @obs.observed("merge")
    def on_bilans(event):
        obs.get_logger().info("lot")

    on_bilans(chalice_event(LambdaContext(function_name="f")))
    on_bilans(chalice_event(LambdaContext(function_name="f")))
    assert [line["cold_start"] for line in json_lines(capsys.readouterr().out)] == [True, False]


def test_log_context_nests_and_stays_on_its_thread(fresh, capsys):
    fresh()
    logger = obs.get_logger()
    with obs.log_context(uai="0750001A", import_id="imp-1"):
        with obs.log_context(import_id="imp-2", division=None):
            logger.info("dedans")
        logger.info("revenu")
        worker = threading.Thread(target=lambda: logger.info("autre fil"))
        worker.start()
        worker.join()
    lines = {line["message"]: line for line in json_lines(capsys.readouterr().out)}
    assert (lines["dedans"]["uai"], lines["dedans"]["import_id"]) == ("0750001A", "imp-2")
    assert "division" not in lines["dedans"]
    assert lines["revenu"]["import_id"] == "imp-1"
    assert "uai" not in lines["autre fil"]


def test_outside_lambda_logs_go_to_stderr_and_module_loggers_are_left_alone(fresh, capsys):
    fresh(on_lambda=False)
    package = logging.getLogger("chalicelib")
    before = (list(package.handlers), package.propagate)
    with obs.log_context(uai="0750001A"):
        obs.get_logger().warning("en local")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json_lines(captured.err)[0]["uai"] == "0750001A"
    assert (list(package.handlers), package.propagate) == before


def test_reset_gives_the_package_loggers_back(fresh):
    package = logging.getLogger("chalicelib")
    before = (list(package.handlers), package.propagate, package.level)
    fresh()
    obs.get_logger()
    assert package.propagate is False and package.handlers
    obs.reset()
    assert (list(package.handlers), package.propagate, package.level) == before


def test_lambda_context_keys_of_no_or_a_foreign_context():
    assert obs.lambda_context_keys(None) == {}
    assert obs.lambda_context_keys(object()) == {}
    keys = obs.lambda_context_keys(LambdaContext(function_name="f", aws_request_id="r-1"))
    assert keys == {"function_name": "f", "function_memory_size": 512, "function_arn": "",
                    "function_request_id": "r-1"}


# --- metrics ------------------------------------------------------------------------------------

def test_import_metrics_are_one_emf_record_without_high_cardinality_dimensions(fresh, capsys):
    fresh()
    emitted = obs.emit_import_metrics(SYNTHESE)
    assert emitted == {"ImportsFinished": 1, "BilansImported": 9, "BilansRejected": 3, "BilansTechnicalError": 1,
                      "ImportDuration": 135.0}
    (record,) = emf_records(capsys.readouterr().out)
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "LsuImport"
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "ImportsFinished": "Count", "BilansImported": "Count", "BilansRejected": "Count",
        "BilansTechnicalError": "Count", "ImportDuration": "Seconds"}
    for name, value in emitted.items():
        assert values(record, name) == [value]
    assert directive["Dimensions"] == [["stage", "service"]]
    assert record["stage"] == "test"
    assert (record["uai"], record["import_id"], record["statut"]) == ("0750001A", SYNTHESE["import_id"], "TERMINE")
    assert not obs.get_metrics().metric_set


def test_import_duration_needs_both_timestamps():
    assert obs.import_duration_seconds(SYNTHESE) == 135.0
    assert obs.import_duration_seconds({**SYNTHESE, "termine_le": None}) is None
    assert obs.import_duration_seconds({"cree_le": "hier", "termine_le": "2026-11-28T10:12:25+00:00"}) is None
    assert obs.import_duration_seconds({"cree_le": "2026-11-28T10:12:25", "termine_le": SYNTHESE["termine_le"]}) is None
    assert "ImportDuration" not in obs.import_metric_values({"totaux": {}, "codes": {}})
    assert obs.import_metric_values({})["BilansTechnicalError"] == 0


def test_the_decorator_flushes_the_metrics_and_returns_the_handler_value(fresh, capsys):
    fresh()

    @obs.observed("split")
    def on_upload(event):
        obs.get_metrics().add_metric(name="FilesSplit", unit="Count", value=1)
        return {"batchItemFailures": [{"itemIdentifier": "m-2"}]}

    assert on_upload(chalice_event(LambdaContext(function_name="f"))) == {
        "batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert on_upload.__name__ == "on_upload"          # Chalice names the Lambda handler after it
    (record,) = emf_records(capsys.readouterr().out)
    assert values(record, "FilesSplit") == [1.0]
    assert not obs.get_metrics().metric_set


def test_the_decorator_flushes_when_the_handler_raises(fresh, capsys):
    fresh()

    @obs.observed("merge")
    def on_bilans(event):
        obs.get_metrics().add_metric(name="BatchesFailed", unit="Count", value=1)
        raise RuntimeError("table indisponible")

    with pytest.raises(RuntimeError, match="table indisponible"):
        on_bilans(chalice_event(None))
    (record,) = emf_records(capsys.readouterr().out)
    assert values(record, "BatchesFailed") == [1.0]


def test_an_invocation_without_metrics_prints_nothing_and_does_not_warn(fresh, capsys, recwarn):
    fresh()

    @obs.observed("report")
    def on_report(event):
        return None

    on_report(chalice_event(LambdaContext(function_name="f")))
    assert emf_records(capsys.readouterr().out) == []
    assert not [w for w in recwarn if "No application metrics" in str(w.message)]


def test_outside_lambda_metrics_leave_stdout_to_the_cli(fresh, capsys, caplog):
    fresh(on_lambda=False)
    caplog.set_level(logging.DEBUG, logger="chalicelib.observability")
    obs.emit_import_metrics(SYNTHESE)
    assert capsys.readouterr().out == ""
    assert any("BilansImported" in r.getMessage() for r in caplog.records)
    assert not obs.get_metrics().metric_set


def test_disabled_metrics_do_not_pile_up(fresh, capsys):
    fresh(POWERTOOLS_METRICS_DISABLED="true")
    for _ in range(3):
        obs.emit_import_metrics(SYNTHESE)
    assert emf_records(capsys.readouterr().out) == []
    assert not obs.get_metrics().metric_set


# --- traces -------------------------------------------------------------------------------------

def test_the_tracer_is_disabled_off_lambda(fresh):
    fresh(on_lambda=False)
    assert obs.get_tracer().disabled


class FakeSubsegment:
    def __init__(self):
        self.annotations = {}

    def put_annotation(self, key, value):
        self.annotations[key] = value


class FakeProvider:
    def __init__(self):
        self.opened, self.subsegment = [], FakeSubsegment()

    @contextmanager
    def in_subsegment(self, name):
        self.opened.append(name)
        yield self.subsegment


def test_an_enabled_tracer_wraps_the_handler_in_a_subsegment(fresh, monkeypatch):
    fresh()
    provider = FakeProvider()
    tracer = obs.get_tracer()
    monkeypatch.setattr(tracer, "disabled", False)
    monkeypatch.setattr(tracer, "provider", provider)

    @obs.observed("split")
    def on_upload(event):
        return provider.opened[:]

    assert on_upload(chalice_event(None)) == ["## on_upload"]
    assert provider.subsegment.annotations["PipelineStage"] == "split"
    assert set(provider.subsegment.annotations) == {"ColdStart", "Service", "PipelineStage"}
