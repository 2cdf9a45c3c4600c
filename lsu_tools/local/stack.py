"""The whole local stack in one process: AWS endpoints (embedded moto server by default, or any
endpoint given by configuration, one for all services or one per service), resources, SQS
dispatcher, and the Chalice API on loopback."""
from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import replace
from typing import Mapping

from chalicelib.config import ENDPOINT_SERVICES, Settings
from lsu_tools.local.dispatcher import Dispatcher
from lsu_tools.local.emulator import MotoServer, free_port
from lsu_tools.local.resources import create_resources
from lsu_tools.local.workers import bindings, schedules
from chalicelib.runtime import Runtime, build_runtime

logger = logging.getLogger(__name__)

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing"}


def endpoints_from(environ: Mapping[str, str], prefix: str) -> tuple[str | None, dict[str, str | None]]:
    """The single URL `prefix` and the services' `prefix_S3` / `_SQS` / `_DYNAMODB` of an
    environment (the test fixtures: LSU_TEST_ENDPOINT…); empty values are unset."""
    return (environ.get(prefix) or None,
            {svc: environ.get(f"{prefix}_{svc.upper()}") or None for svc in ENDPOINT_SERVICES})


# The resources of each service, by Settings field: a stack on an endpoint shared with others
# (LocalStack, another moto server) gives them names of its own.
SERVICE_RESOURCES = {
    "s3": ("bucket",),
    "sqs": ("uploads_queue", "bilans_queue", "report_queue"),
    "dynamodb": ("imports_table", "resultats_table", "bilans_table", "etablissements_table"),
}


def is_loopback(url: str | None) -> bool:
    """Whether an endpoint is on this machine (127.0.0.0/8, ::1, localhost)."""
    from urllib.parse import urlsplit
    host = (urlsplit(url or "").hostname or "").lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


def new_stack_suffix() -> str:
    return secrets.token_hex(4)


def with_unique_names(settings: Settings, suffix: str, services) -> Settings:
    """`settings` with the names of the resources of `services` ended by `-suffix` (bucket,
    queues and their DLQs, tables): two stacks on one endpoint never share one. S3 bucket names
    are lower case, at most 63 characters; the suffix is 8 hexadecimal digits."""
    fields = [f for svc in services for f in SERVICE_RESOURCES[svc]]
    return replace(settings, **{f: f"{getattr(settings, f)}-{suffix}" for f in fields})


def app_handlers():
    """The Chalice event handlers, by queue role, and the scheduled watchdog (imported late: app.py
    is the entry point)."""
    import app as app_module
    return {"uploads": app_module.on_upload, "bilans": app_module.on_bilans, "report": app_module.on_report,
            "bilans-dlq": app_module.on_bilans_dead_letters, "watchdog": app_module.on_watchdog}


class LocalStack:
    """`with LocalStack() as stack:` — stack.api_url, stack.runtime, stack.settings.

    `endpoint`: one URL for every service; `endpoints`: a service's own (`s3`, `sqs`, `dynamodb`),
    which wins. The services left without one get an embedded moto server, started only for them
    (e.g. S3 and SQS on LocalStack, DynamoDB on moto). After start, `endpoints` holds every
    service's URL and `endpoint` the single one (moto's, or S3's when each service has its own).

    On an endpoint given from outside (shared: LocalStack, a moto server of the tests…) the
    resources of that service get names of this stack's own (`-<suffix>`, `unique_names`); on
    the embedded moto server, which only this stack uses, they keep the stage's names."""

    def __init__(self, endpoint: str | None = None, host: str = "127.0.0.1", api_port: int | None = 8000,
                 bilan_pollers: int = 4, serve_api: bool = True, settings: Settings | None = None,
                 endpoints: Mapping[str, str | None] | None = None, unique_names: bool | None = None):
        unknown = set(endpoints or {}) - set(ENDPOINT_SERVICES)
        if unknown:
            raise ValueError(f"unknown AWS service(s) {sorted(unknown)} (one of {', '.join(ENDPOINT_SERVICES)})")
        self.endpoint, self.host = endpoint or None, host
        self.endpoints: dict[str, str | None] = {svc: (endpoints or {}).get(svc) or self.endpoint
                                                 for svc in ENDPOINT_SERVICES}
        self.api_port = api_port or free_port(host)
        self.bilan_pollers, self.serve_api = bilan_pollers, serve_api
        self.base_settings = settings
        # The services whose resources get this stack's names: those on an external endpoint.
        external = tuple(svc for svc, url in self.endpoints.items() if url)
        self.unique_services = external if unique_names is None else ENDPOINT_SERVICES if unique_names else ()
        self.suffix = new_stack_suffix() if self.unique_services else None
        self.moto: MotoServer | None = None
        self.dispatcher: Dispatcher | None = None
        self.runtime: Runtime | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def missing_services(self) -> tuple[str, ...]:
        """The services without an endpoint: those the embedded moto server serves."""
        return tuple(svc for svc, url in self.endpoints.items() if not url)

    def start(self) -> "LocalStack":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        missing = self.missing_services()
        if missing:
            self.moto = MotoServer(self.host).start()
            self.endpoints.update({svc: self.moto.endpoint for svc in missing})
        if all(is_loopback(url) for url in self.endpoints.values()):
            # Emulators only (moto, LocalStack on this machine): dummy credentials unless the
            # shell has some. Never for a remote endpoint, whose credentials are the user's.
            for k, v in DUMMY_CREDENTIALS.items():
                os.environ.setdefault(k, v)
        if self.endpoint is None:
            self.endpoint = self.moto.endpoint if self.moto else self.endpoints["s3"]
        # Every service's endpoint explicit: no AWS_ENDPOINT_URL_* of the shell overrides them.
        settings = (self.base_settings or Settings.from_env()).with_endpoints(self.endpoint, self.endpoints)
        if self.suffix:
            settings = with_unique_names(settings, self.suffix, self.unique_services)
        # The process's environment is the configuration: handlers build their runtime from it.
        os.environ.update(settings.as_env())
        from chalicelib.runtime import get_runtime, reset_runtime
        reset_runtime()
        self.runtime = get_runtime()
        create_resources(self.runtime, allowed_origins=[self.api_url, f"http://localhost:{self.api_port}"])
        handlers = app_handlers()
        queues = bindings(self.runtime, handlers, self.bilan_pollers)
        self.dispatcher = Dispatcher(build_runtime(settings).sqs, settings.region, queues,
                                     schedules=schedules(handlers)).start()
        if self.serve_api:
            self._start_api()

    def _start_api(self) -> None:
        """Chalice's local API server, on a thread, quiet: stdout belongs to the CLI (--json)."""
        import functools

        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer, create_local_server

        import app as app_module

        class QuietHandler(ChaliceRequestHandler):
            def log_message(self, fmt, *args):
                logger.debug("api: " + fmt, *args)

        config = Config(chalice_stage="local", config_from_disk={"app_name": "lsu-import"})
        if isinstance(app_module.app, LocalChalice):   # a second stack in this process: already adapted
            self._server = LocalDevServer(app_module.app, config, self.host, self.api_port)
        else:
            self._server = create_local_server(app_module.app, config, self.host, self.api_port)
        self._server.server.RequestHandlerClass = functools.partial(
            QuietHandler, app_object=app_module.app, config=config)
        # socketserver listens with a backlog of 5: a burst of connections (the soak's 21 imports at
        # once, bench/soak.py) was reset by the kernel. API Gateway queues them; so does this.
        self._server.server.socket.listen(128)
        self._thread = threading.Thread(target=self._server.server.serve_forever, name="api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self.dispatcher is not None:
            self.dispatcher.stop()
            self.dispatcher = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
