"""Logs, metrics and traces with Powertools for AWS Lambda: one Logger (structured JSON), one
Metrics (CloudWatch EMF) and one Tracer (X-Ray) per process, built on first use from the
environment of that moment — never at import time (Powertools reads its environment variables
when an object is constructed).

- `observed("split")`, placed under each `@app.on_sqs_message(...)` of app.py: every log line of
  the invocation carries the Lambda context keys (function_name, function_request_id,
  cold_start…), the handler runs in a `## <handler>` X-Ray subsegment, and the metrics are
  flushed when it returns or raises.
- `log_context(uai=…, import_id=…)`: binds keys to every log line written inside the block, on
  this thread only (the local dispatcher runs several handlers at once in one process).
- `emit_import_metrics(synthese)`: the figures of a finished import (the UAI and the import are
  metadata of the EMF record, never dimensions).

On Lambda (AWS_LAMBDA_FUNCTION_NAME set), logs and EMF records go to stdout, which CloudWatch
Logs reads, and the `chalicelib.*` standard loggers are routed through the Powertools handler
(the same JSON and keys). Elsewhere (the local stack, the CLI, tests) stdout belongs to the CLI
(`--json`): the Powertools logger writes to stderr, `chalicelib.*` logging is left as the CLI
configured it, metrics are logged at DEBUG level instead of printed, and the Tracer disables
itself (Powertools' own detection: outside Lambda, or POWERTOOLS_TRACE_DISABLED=true).

`reset()` drops the cached objects (tests, or a local stack started with another environment).
"""
from __future__ import annotations

import functools
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.exceptions import SchemaValidationError

from chalicelib.config import Settings

# The defaults are the values .chalice/config.json gives every deployed function
# (tests/infra/test_infra_template.py checks they agree).
SERVICE = "lsu-import"
METRICS_NAMESPACE = "LsuImport"
# The standard loggers routed through the Powertools handler on Lambda (the package's modules
# log with `logging.getLogger(__name__)`).
PACKAGE_LOGGERS = {"chalicelib"}
# Only the X-Ray SDK's botocore patch: boto3 and PynamoDB (which calls botocore's client) both go
# through it; patching pynamodb or httplib as well would record each DynamoDB call twice.
TRACED_MODULES = ("botocore",)

# Metric names (CloudWatch), emitted once per finished import.
IMPORTS_FINISHED = "ImportsFinished"
BILANS_IMPORTED = "BilansImported"
BILANS_REJECTED = "BilansRejected"
BILANS_TECHNICAL_ERROR = "BilansTechnicalError"
IMPORT_DURATION = "ImportDuration"
TECHNICAL_ERROR_CODE = "ERREUR_TECHNIQUE"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObservabilityConfig:
    service: str = SERVICE
    namespace: str = METRICS_NAMESPACE
    stage: str = "local"
    on_lambda: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ObservabilityConfig":
        env = os.environ if environ is None else environ
        return cls(
            service=env.get("POWERTOOLS_SERVICE_NAME") or SERVICE,
            namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or METRICS_NAMESPACE,
            stage=Settings.from_env(env).stage,
            on_lambda=bool(env.get("AWS_LAMBDA_FUNCTION_NAME")),
        )


# --- the process-wide objects, built on first use -------------------------------------------------
# lru_cache does not lock: two threads asking first may both build. That is harmless — Powertools
# shares the state of same-named Loggers, of all Metrics and of all Tracers in a process.

@functools.lru_cache(maxsize=1)
def get_config() -> ObservabilityConfig:
    return ObservabilityConfig.from_env()


@functools.lru_cache(maxsize=1)
def get_logger() -> Logger:
    """The Powertools logger, named after the service. On Lambda, the `chalicelib.*` loggers are
    routed through its handler (JSON, the same keys, its level: POWERTOOLS_LOG_LEVEL)."""
    config = get_config()
    logger = Logger(service=config.service, stream=sys.stdout if config.on_lambda else sys.stderr)
    if config.on_lambda:
        _route_package_loggers(logger)
    return logger


@functools.lru_cache(maxsize=1)
def get_metrics() -> Metrics:
    """The EMF metrics: namespace and `service` dimension from the configuration, the stage
    (dev, prod, local) as the one other dimension."""
    config = get_config()
    metrics = Metrics(service=config.service, namespace=config.namespace)
    metrics.set_default_dimensions(stage=config.stage)
    return metrics


@functools.lru_cache(maxsize=1)
def get_tracer() -> Tracer:
    """The X-Ray tracer; it disables itself outside Lambda (then patches nothing)."""
    return Tracer(service=get_config().service, patch_modules=TRACED_MODULES)


_saved_package_loggers: dict[str, tuple[list[logging.Handler], bool, int]] = {}


def _route_package_loggers(logger: Logger) -> None:
    for name in PACKAGE_LOGGERS:
        std = logging.getLogger(name)   # registered even before any of its modules logs
        _saved_package_loggers.setdefault(name, (list(std.handlers), std.propagate, std.level))
    copy_config_to_registered_loggers(source_logger=logger, include=set(PACKAGE_LOGGERS))


def reset() -> None:
    """Forget the cached objects (the next call builds them from the environment of then), give
    the `chalicelib.*` loggers back their own configuration, drop pending metrics and the keys
    bound on this thread."""
    if get_logger.cache_info().currsize:
        get_logger().thread_safe_clear_keys()
    if get_metrics.cache_info().currsize:
        metrics = get_metrics()
        metrics.clear_metrics()
        metrics.clear_default_dimensions()
    for name, (handlers, propagate, level) in _saved_package_loggers.items():
        std = logging.getLogger(name)
        std.handlers, std.propagate = handlers, propagate
        std.setLevel(level)
    _saved_package_loggers.clear()
    for factory in (get_logger, get_metrics, get_tracer, get_config):
        factory.cache_clear()


# --- logs ---------------------------------------------------------------------------------------

@contextmanager
def log_context(**keys: Any) -> Iterator[Logger]:
    """`with log_context(uai=…, import_id=…):` every log line written inside the block, by this
    thread, carries these keys (None values are left out). Nested blocks stack: leaving one gives
    back the values the keys had before it."""
    logger = get_logger()
    keys = {k: v for k, v in keys.items() if v is not None}
    before = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(**keys)
    try:
        yield logger
    finally:
        logger.thread_safe_remove_keys(keys)
        restored = {k: before[k] for k in keys if k in before}
        if restored:
            logger.thread_safe_append_keys(**restored)


def lambda_context_keys(context: Any) -> dict[str, Any]:
    """The keys Powertools' inject_lambda_context adds (function_name, function_memory_size,
    function_arn, function_request_id); nothing for a missing or non-Lambda context."""
    if context is None:
        return {}
    try:
        model = build_lambda_context_model(context)
    except AttributeError:   # not a Lambda context object
        return {}
    return dict(vars(model))


_cold = {"start": True}
_cold_lock = threading.Lock()


def _take_cold_start() -> bool:
    """True for the first invocation of this process, unless Provisioned Concurrency
    initialised it ahead of any invocation (as Powertools counts it)."""
    with _cold_lock:
        cold, _cold["start"] = _cold["start"], False
    return cold and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"


# --- metrics ------------------------------------------------------------------------------------

def flush_metrics() -> None:
    """Publish the pending metrics as one EMF record (on Lambda: printed on stdout) and empty the
    set; nothing at all when no metric is pending."""
    metrics = get_metrics()
    if not metrics.metric_set:
        return
    try:
        if get_config().on_lambda:
            metrics.flush_metrics()
        else:
            _log.debug("métriques (hors Lambda, non publiées) : %s", json.dumps(metrics.serialize_metric_set()))
    except SchemaValidationError:
        _log.warning("métriques non publiées : enregistrement EMF invalide", exc_info=True)
    finally:
        metrics.clear_metrics()   # Powertools keeps them when POWERTOOLS_METRICS_DISABLED is set


def import_duration_seconds(synthese: Mapping[str, Any]) -> float | None:
    """termine_le − cree_le in seconds; None when either is missing or unreadable."""
    try:
        start = datetime.fromisoformat(synthese["cree_le"])
        end = datetime.fromisoformat(synthese["termine_le"])
        seconds = (end - start).total_seconds()
    except (KeyError, TypeError, ValueError):   # missing, None, not ISO, naive vs aware
        return None
    return seconds if seconds >= 0 else None


def import_metric_values(synthese: Mapping[str, Any]) -> dict[str, float]:
    """The metrics of a finished import, from its synthèse (report.build_synthese)."""
    totaux = synthese.get("totaux") or {}
    codes = synthese.get("codes") or {}
    values: dict[str, float] = {
        IMPORTS_FINISHED: 1,
        BILANS_IMPORTED: totaux.get("importes") or 0,
        BILANS_REJECTED: totaux.get("rejetes") or 0,
        BILANS_TECHNICAL_ERROR: codes.get(TECHNICAL_ERROR_CODE) or 0,
    }
    duration = import_duration_seconds(synthese)
    if duration is not None:
        values[IMPORT_DURATION] = duration
    return values


def emit_import_metrics(synthese: Mapping[str, Any]) -> dict[str, float]:
    """Emit the metrics of a finished import and flush them at once (one EMF record per import,
    its UAI, import and status as metadata). To call once per import: when the synthèse is
    stored and the import marked finished — not for a report request that finds it finished."""
    metrics = get_metrics()
    values = import_metric_values(synthese)
    for name, value in values.items():
        unit = MetricUnit.Seconds if name == IMPORT_DURATION else MetricUnit.Count
        metrics.add_metric(name=name, unit=unit, value=value)
    for key in ("uai", "import_id", "statut"):
        if synthese.get(key) is not None:
            metrics.add_metadata(key=key, value=str(synthese[key]))
    flush_metrics()
    return values


WATCHDOG_METRICS = {"interrompus": "ImportsInterrompus", "expires": "ImportsExpires",
                    "rejetes": "FichiersNonTraites"}


def emit_watchdog_metrics(done: Mapping[str, list], failed: list) -> dict[str, float]:
    """The watchdog round's counts (an import it had to finish means something was lost: an
    alarm watches ImportsInterrompus), flushed at once."""
    metrics = get_metrics()
    values = {WATCHDOG_METRICS[k]: float(len(v)) for k, v in done.items()}
    values["ImportsSurveillanceEnEchec"] = float(len(failed))
    for name, value in values.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    flush_metrics()
    return values


# --- the Lambda entry points --------------------------------------------------------------------

def observed(stage: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator of a Lambda entry point, under Chalice's event decorator:

        @app.on_sqs_message(queue=..., batch_size=10)
        @observed("merge")
        def on_bilans(event):
            ...

    The handler receives Chalice's event object (its `.context` is the Lambda context) or, for a
    plain `(event, context)` handler, the context as second argument. Its return value and
    exceptions pass through unchanged."""
    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        name = handler.__name__

        @functools.wraps(handler)
        def wrapper(event: Any, *args: Any, **kwargs: Any) -> Any:
            logger, tracer = get_logger(), get_tracer()
            context = args[0] if args else getattr(event, "context", None)
            cold_start = _take_cold_start()
            logger.thread_safe_clear_keys()   # nothing left over from a previous invocation
            try:
                with log_context(pipeline_stage=stage, cold_start=cold_start, **lambda_context_keys(context)):
                    if tracer.disabled:
                        return handler(event, *args, **kwargs)
                    with tracer.provider.in_subsegment(name=f"## {name}") as subsegment:
                        if subsegment is not None:   # None when the X-Ray SDK finds no segment
                            subsegment.put_annotation(key="ColdStart", value=cold_start)
                            subsegment.put_annotation(key="Service", value=get_config().service)
                            subsegment.put_annotation(key="PipelineStage", value=stage)
                        return handler(event, *args, **kwargs)   # an exception is recorded on the subsegment
            finally:
                flush_metrics()
        return wrapper
    return decorate
