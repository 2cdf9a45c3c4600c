"""Cached adapter factories: one set of AWS clients and models per process, built on first use
from the settings (the model: aws/chalice media-query's `get_*` helpers, without reading the
environment at import time)."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

import boto3
from botocore.config import Config

from chalicelib.config import Settings
from chalicelib.adapters.dynamodb import Models, make_models


@dataclass
class Runtime:
    settings: Settings
    s3: object
    sqs: object
    models: Models
    _queue_urls: dict = field(default_factory=dict)
    _referentiels: dict = field(default_factory=dict)

    def queue_url(self, name: str) -> str:
        if name not in self._queue_urls:
            self._queue_urls[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._queue_urls[name]

    @property
    def schema(self):
        """The schema files are checked against: the official XSD with the Sconet Notes partial
        profile (per-bilan completeness is then a rule: see checks.check_completeness)."""
        from chalicelib.pipeline.split.file_checks import load_schema
        return load_schema(self.settings.xsd_path, partial=True)

    def referentiel(self, key: str):
        """A référentiel version, indexed, cached per process: versions are immutable (their
        S3 key carries their SHA-256), so a worker reads each one once."""
        if key not in self._referentiels:
            from chalicelib.referentiel import index_referentiel
            body = self.s3.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read()
            if len(self._referentiels) >= 8:
                self._referentiels.pop(next(iter(self._referentiels)))
            self._referentiels[key] = index_referentiel(json.loads(body))
        return self._referentiels[key]


def make_clients(settings: Settings, service: str):
    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32,
                    s3={"addressing_style": "path"} if settings.endpoint_url else None,
                    signature_version="s3v4" if service == "s3" else None)
    return boto3.session.Session().client(service, region_name=settings.region,
                                          endpoint_url=settings.endpoint_url, config=config)


def build_runtime(settings: Settings) -> Runtime:
    return Runtime(settings=settings, s3=make_clients(settings, "s3"), sqs=make_clients(settings, "sqs"),
                   models=make_models(settings))


@functools.lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The process-wide runtime (Lambda container or local process), built on first call."""
    return build_runtime(Settings.from_env())


def reset_runtime() -> None:
    get_runtime.cache_clear()
