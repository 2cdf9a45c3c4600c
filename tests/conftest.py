"""Shared fixtures. Integration and end-to-end tiers run against AWS endpoints over HTTP:
LSU_TEST_ENDPOINT if set (moto server, LocalStack…) for every service, LSU_TEST_ENDPOINT_S3 /
_SQS / _DYNAMODB for one service (e.g. S3 and SQS on LocalStack), and an embedded moto server,
started here, for the services given none. The LocalStack tier (`make test-localstack`) runs
them with S3 and SQS on LocalStack (lsu_tools/local/localstack.py), plus tests/localstack/."""
from __future__ import annotations

import os
import time

import pytest
import requests

from chalicelib.api.auth import issue_token
from chalicelib.domain.vocabulary import FINAL_IMPORT_STATUTS


@pytest.fixture(scope="session")
def stack():
    from lsu_tools.local.stack import LocalStack, endpoints_from
    endpoint, endpoints = endpoints_from(os.environ, "LSU_TEST_ENDPOINT")
    with LocalStack(endpoint=endpoint, endpoints=endpoints, api_port=None) as st:
        yield st


@pytest.fixture(scope="session")
def rt(stack):
    return stack.runtime


class Api:
    """The API as a browser uses it, for one school and role."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kw) -> requests.Response:
        return self.http.request(method, self.base + path, timeout=60, **kw)

    def put_referentiel(self, data: dict) -> None:
        r = self.call("PUT", "/referentiel", json=data)
        assert r.status_code == 200, r.text

    def start_import(self, nom: str, taille: int, pre_controle: bool = False) -> dict:
        r = self.call("POST", "/imports", json={"nom_fichier": nom, "taille": taille, "pre_controle": pre_controle})
        assert r.status_code == 201, r.text
        return r.json()

    @staticmethod
    def post_form(upload: dict, data: bytes, fields: dict | None = None,
                  content_type: str = "application/xml") -> requests.Response:
        """The presigned POST as a browser sends it (`fields` overrides some of the form's)."""
        return requests.post(upload["url"], data={**upload["fields"], **(fields or {})},
                             files={"file": ("f.xml", data, content_type)}, timeout=60)

    def upload(self, created: dict, data: bytes) -> None:
        r = self.post_form(created["upload"], data)
        assert r.status_code in (200, 201, 204), r.text

    def wait(self, import_id: str, timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status = self.call("GET", f"/imports/{import_id}").json()
            if status["statut"] in FINAL_IMPORT_STATUTS:
                return status
            assert time.monotonic() < deadline, f"import {import_id} bloqué : {status}"
            time.sleep(0.3)

    def synthese(self, import_id: str) -> dict:
        r = self.call("GET", f"/imports/{import_id}/synthese")
        assert r.status_code == 200, r.text
        return r.json()

    def import_bytes(self, data: bytes, declared: int | None = None, pre_controle: bool = False) -> dict:
        created = self.start_import("export.xml", len(data) if declared is None else declared, pre_controle)
        self.upload(created, data)
        self.wait(created["import_id"])
        return self.synthese(created["import_id"])


@pytest.fixture(scope="session")
def s3_enforces_post_policy(stack) -> bool:
    """Whether the stack's S3 enforces presigned POST policies (AWS, LocalStack) or not (moto),
    found by trying: a form for at most 1 byte, sent 2 bytes."""
    rt = stack.runtime
    key = f"sonde/{os.getpid()}-{time.monotonic_ns()}.xml"
    form = rt.repos.blobs.presigned_post(key, 1, 60, "application/xml")
    r = Api.post_form(form, b"<>")
    if r.status_code < 300:
        rt.s3.delete_object(Bucket=rt.settings.bucket, Key=key)
        return False
    assert r.status_code == 400 and "EntityTooLarge" in r.text, r.text
    return True


@pytest.fixture(scope="session")
def api_for(stack):
    def make(uai: str, role: str = "CE", sub: str = "dev", base: str | None = None) -> Api:
        """`base`: another API of the same token secret (a stack of a test's own)."""
        return Api(base or stack.api_url, issue_token(stack.settings.token_secret, uai, role, sub=sub))
    return make


def pytest_configure(config):
    config.addinivalue_line("markers", "localstack: needs S3 that enforces POST policies (the LocalStack "
                                       "tier: make test-localstack)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if "/tests/integration/" in path:
            item.add_marker(pytest.mark.integration)
        elif "/tests/e2e/" in path:
            item.add_marker(pytest.mark.e2e)
        elif "/tests/browser/" in path:
            item.add_marker(pytest.mark.browser)
        elif "/tests/localstack/" in path:
            item.add_marker(pytest.mark.localstack)
