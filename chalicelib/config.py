"""Runtime settings, read from the environment when asked — never at import time."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

# One definition of resource names. The stage's environment variables (`.chalice/config.json`)
# override them; the local stack creates exactly these.
DEFAULT_NAMES = {
    "LSU_BUCKET": "lsu-import-fichiers",
    "LSU_UPLOADS_QUEUE": "lsu-import-uploads",
    "LSU_BILANS_QUEUE": "lsu-import-bilans",
    "LSU_REPORT_QUEUE": "lsu-import-rapport",
    "LSU_IMPORTS_TABLE": "lsu-import-imports",
    "LSU_RESULTATS_TABLE": "lsu-import-resultats",
    "LSU_BILANS_TABLE": "lsu-import-bilans",
    "LSU_ETABLISSEMENTS_TABLE": "lsu-import-etablissements",
}

# (visibility timeout s, maxReceiveCount before the DLQ)
# The uploads queue allows many receives: a file waits there while another import of the same
# school is written (SchoolBusy, retried with a growing delay).
QUEUE_SETTINGS = {"uploads": (120, 30), "bilans": (30, 3), "report": (60, 5)}


def queue_names(settings: Settings) -> dict[str, str]:
    return {"uploads": settings.uploads_queue, "bilans": settings.bilans_queue, "report": settings.report_queue}


def dlq_name(name: str) -> str:
    return f"{name}-dlq"

# The AWS services the app talks to, each of which may have its own endpoint (issue 18): e.g. S3
# and SQS on LocalStack, DynamoDB on moto. Their variables: LSU_AWS_ENDPOINT_URL_<SERVICE>, then the
# SDKs' own AWS_ENDPOINT_URL_<SERVICE>, then the single URL (LSU_AWS_ENDPOINT_URL, AWS_ENDPOINT_URL).
ENDPOINT_SERVICES = ("s3", "sqs", "dynamodb")


def _service_field(service: str) -> str:
    if service not in ENDPOINT_SERVICES:
        raise ValueError(f"unknown AWS service {service!r} (one of {', '.join(ENDPOINT_SERVICES)})")
    return f"endpoint_url_{service}"

UPLOAD_PREFIX = "imports/"
MB = 1024 * 1024


def _default_xsd_path() -> str:
    # <repo>/../shared/lsun/import-complet-strict.xsd, or the copy packaging puts in the build.
    here = Path(__file__).resolve().parent
    packaged = here / "schema" / "import-complet-strict.xsd"
    if packaged.exists():
        return str(packaged)
    return str(here.parent.parent / "shared" / "lsun" / "import-complet-strict.xsd")


def _default_schema_dir() -> str:
    # The folder of the official XSD: <repo>/../shared/lsun/, or the copy packaging puts in the build.
    here = Path(__file__).resolve().parent
    packaged = here / "schema"
    if packaged.is_dir() and any(packaged.glob("*.xsd")):
        return str(packaged)
    return str(here.parent.parent / "shared" / "lsun")


@dataclass(frozen=True)
class Settings:
    bucket: str
    uploads_queue: str
    bilans_queue: str
    report_queue: str
    imports_table: str
    resultats_table: str
    bilans_table: str
    etablissements_table: str
    region: str = "eu-west-3"
    # One URL for every service (None: AWS's own), and each service's own, which wins when set.
    endpoint_url: str | None = None
    endpoint_url_s3: str | None = None
    endpoint_url_sqs: str | None = None
    endpoint_url_dynamodb: str | None = None
    xsd_path: str = field(default_factory=_default_xsd_path)
    # The installed schemas (chalicelib/pipeline/split/schemas.py): a folder of XSD files with an
    # optional manifest.json, or one XSD file (LSU_XSD_PATH alone: a folder holding just that file).
    schema_dir: str = field(default_factory=_default_schema_dir)
    max_file_bytes: int = 50 * MB
    # A collège's file holds a few thousand bilans (≈1,300 élèves × 3 périodes + cycles at most).
    max_bilans: int = 20_000
    upload_expiry_seconds: int = 900
    # The watchdog (chalicelib/pipeline/watchdog.py): an import EN_COURS whose progress has not moved
    # for this long is finished, its bilans without a result rejected (ERREUR_TECHNIQUE). Longer
    # than a bilan's whole SQS life (visibility 30 s × 3 receives, then the DLQ's handler).
    stale_after_seconds: int = 600
    token_secret: str = "lsu-dev-secret-change-me"
    stage: str = "local"
    # The web front's login on AWS (Cognito hosted UI, authorization code with PKCE).
    cognito_domain: str | None = None
    cognito_client_id: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        names = {k: env.get(k, v) for k, v in DEFAULT_NAMES.items()}
        return cls(
            bucket=names["LSU_BUCKET"],
            uploads_queue=names["LSU_UPLOADS_QUEUE"],
            bilans_queue=names["LSU_BILANS_QUEUE"],
            report_queue=names["LSU_REPORT_QUEUE"],
            imports_table=names["LSU_IMPORTS_TABLE"],
            resultats_table=names["LSU_RESULTATS_TABLE"],
            bilans_table=names["LSU_BILANS_TABLE"],
            etablissements_table=names["LSU_ETABLISSEMENTS_TABLE"],
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-3",
            endpoint_url=env.get("LSU_AWS_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
            **{_service_field(svc): env.get(f"LSU_AWS_ENDPOINT_URL_{svc.upper()}")
               or env.get(f"AWS_ENDPOINT_URL_{svc.upper()}") or None for svc in ENDPOINT_SERVICES},
            xsd_path=env.get("LSU_XSD_PATH") or _default_xsd_path(),
            schema_dir=env.get("LSU_SCHEMA_DIR") or env.get("LSU_XSD_PATH") or _default_schema_dir(),
            max_file_bytes=int(env.get("LSU_MAX_FILE_BYTES", 50 * MB)),
            max_bilans=int(env.get("LSU_MAX_BILANS", 20_000)),
            upload_expiry_seconds=min(int(env.get("LSU_UPLOAD_EXPIRY_SECONDS", 900)), 900),
            stale_after_seconds=int(env.get("LSU_STALE_AFTER_SECONDS", 600)),
            token_secret=env.get("LSU_TOKEN_SECRET", "lsu-dev-secret-change-me"),
            stage=env.get("LSU_STAGE", "local"),
            cognito_domain=env.get("LSU_COGNITO_DOMAIN") or None,
            cognito_client_id=env.get("LSU_COGNITO_CLIENT_ID") or None,
        )

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint of one AWS service (`s3`, `sqs`, `dynamodb`): its own if set, else the
        single URL; None: AWS's own."""
        return getattr(self, _service_field(service)) or self.endpoint_url

    @property
    def endpoints(self) -> dict[str, str | None]:
        """Every service's endpoint, resolved: {"s3": …, "sqs": …, "dynamodb": …}."""
        return {svc: self.endpoint_for(svc) for svc in ENDPOINT_SERVICES}

    def with_endpoints(self, endpoint: str | None, endpoints: Mapping[str, str | None] | None = None) -> "Settings":
        """These settings with the single URL `endpoint` and the services of `endpoints` set (a
        service not in `endpoints` keeps its own endpoint)."""
        own = {_service_field(svc): url or None for svc, url in (endpoints or {}).items()}
        return replace(self, endpoint_url=endpoint or None, **own)

    def as_env(self) -> dict[str, str]:
        """The environment that reproduces these settings (used by the local stack)."""
        env = {
            "LSU_BUCKET": self.bucket,
            "LSU_UPLOADS_QUEUE": self.uploads_queue,
            "LSU_BILANS_QUEUE": self.bilans_queue,
            "LSU_REPORT_QUEUE": self.report_queue,
            "LSU_IMPORTS_TABLE": self.imports_table,
            "LSU_RESULTATS_TABLE": self.resultats_table,
            "LSU_BILANS_TABLE": self.bilans_table,
            "LSU_ETABLISSEMENTS_TABLE": self.etablissements_table,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "LSU_XSD_PATH": self.xsd_path,
            "LSU_SCHEMA_DIR": self.schema_dir,
            "LSU_MAX_FILE_BYTES": str(self.max_file_bytes),
            "LSU_MAX_BILANS": str(self.max_bilans),
            "LSU_UPLOAD_EXPIRY_SECONDS": str(self.upload_expiry_seconds),
            "LSU_STALE_AFTER_SECONDS": str(self.stale_after_seconds),
            "LSU_TOKEN_SECRET": self.token_secret,
            "LSU_STAGE": self.stage,
        }
        if self.endpoint_url:
            env["LSU_AWS_ENDPOINT_URL"] = self.endpoint_url
        for svc in ENDPOINT_SERVICES:
            if getattr(self, _service_field(svc)):
                env[f"LSU_AWS_ENDPOINT_URL_{svc.upper()}"] = getattr(self, _service_field(svc))
        if self.cognito_domain and self.cognito_client_id:
            env["LSU_COGNITO_DOMAIN"], env["LSU_COGNITO_CLIENT_ID"] = self.cognito_domain, self.cognito_client_id
        return env
