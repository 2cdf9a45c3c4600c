"""The composition root: one set of adapters per process (Lambda container or local process),
built on first use from the settings (the model: aws/chalice media-query's `get_*` helpers,
without reading the environment at import time). The stages and the API receive it."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

import boto3
from botocore.config import Config

from chalicelib.adapters.dynamodb import (DynamoBilans, DynamoImports, DynamoResults, DynamoSchools, Models,
                                          bind_models)
from chalicelib.adapters.ports import Queues, Repositories
from chalicelib.adapters.s3 import S3Blobs
from chalicelib.adapters.sqs import SqsQueues
from chalicelib.config import Settings


@dataclass
class Runtime:
    settings: Settings
    repos: Repositories
    queues: Queues
    # The AWS clients and models behind the adapters (None in memory): the local stack and the
    # integration tests reach the emulator through them.
    s3: object = None
    sqs: object = None
    models: Models | None = None
    _referentiels: dict = field(default_factory=dict)

    def queue_url(self, name: str) -> str:
        return self.queues.url(name)

    @property
    def schemas(self):
        """The installed schemas files are checked against (Settings.schema_dir), loaded once per
        process and per folder: the file's schemaVersion selects one, with its Sconet Notes partial
        profile (per-bilan completeness is then a rule: see checks.check_completeness)."""
        from chalicelib.pipeline.split.schemas import load_schemas
        return load_schemas(self.settings.schema_dir)

    @property
    def schema(self):
        """The same SchemaSet (file_checks.check_file and stream.check_and_split take it as they
        take one XMLSchema)."""
        return self.schemas

    def referentiel(self, key: str):
        """A référentiel version, indexed, cached per process: versions are immutable (their key
        carries their SHA-256), so a worker reads each one once."""
        if key not in self._referentiels:
            from chalicelib.referentiel import index_referentiel
            body = self.repos.blobs.get(key)
            if len(self._referentiels) >= 8:
                self._referentiels.pop(next(iter(self._referentiels)))
            self._referentiels[key] = index_referentiel(json.loads(body))
        return self._referentiels[key]


def make_clients(settings: Settings, service: str):
    endpoint = settings.endpoint_for(service)
    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32,
                    s3={"addressing_style": "path"} if endpoint else None,
                    signature_version="s3v4" if service == "s3" else None)
    return boto3.session.Session().client(service, region_name=settings.region, endpoint_url=endpoint, config=config)


def build_runtime(settings: Settings) -> Runtime:
    """The runtime on AWS (or an emulator of it)."""
    s3, sqs, models = make_clients(settings, "s3"), make_clients(settings, "sqs"), bind_models(settings)
    repos = Repositories(imports=DynamoImports(models), results=DynamoResults(models), bilans=DynamoBilans(models),
                         schools=DynamoSchools(models), blobs=S3Blobs(s3, settings.bucket))
    return Runtime(settings=settings, repos=repos, queues=SqsQueues(sqs), s3=s3, sqs=sqs, models=models)


def memory_runtime(settings: Settings) -> Runtime:
    """The same runtime in memory (unit tests of the stages)."""
    from chalicelib.adapters.memory import MemoryQueues, memory_repositories
    return Runtime(settings=settings, repos=memory_repositories(), queues=MemoryQueues())


@functools.lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The process-wide runtime (Lambda container or local process), built on first call."""
    return build_runtime(Settings.from_env())


def reset_runtime() -> None:
    get_runtime.cache_clear()
