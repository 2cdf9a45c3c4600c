"""The presigned POST is bounded: exact key, size range, content type, expiry ≤ 15 min. moto does
not enforce policies, so the policy document itself is decoded and read here (no network)."""
import base64
import json
from datetime import datetime, timezone

import boto3
import pytest

from chalicelib.adapters.s3 import S3Blobs
from chalicelib.pipeline.upload import new_import_id, upload_key


@pytest.fixture
def s3():
    return boto3.client("s3", region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="y",
                        endpoint_url="http://127.0.0.1:1")


def _policy(post: dict) -> dict:
    return json.loads(base64.b64decode(post["fields"]["policy"]))


def test_policy_bounds_key_size_type_and_expiry(s3):
    key = upload_key("0750001A", "20261128T101010Z-abcd1234")
    before = datetime.now(timezone.utc)
    post = S3Blobs(s3, "bucket").presigned_post(key, max_bytes=50 * 1024 * 1024, expires=3600,
                                                content_type="application/xml")
    policy = _policy(post)
    conditions = policy["conditions"]
    assert {"key": key} in conditions
    assert ["content-length-range", 1, 50 * 1024 * 1024] in conditions
    assert {"Content-Type": "application/xml"} in conditions and post["fields"]["Content-Type"] == "application/xml"
    assert {"bucket": "bucket"} in conditions
    expiry = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert (expiry - before).total_seconds() <= 15 * 60 + 1, "never more than 15 minutes, whatever is asked"
    assert post["fields"]["key"] == key


def test_upload_key_and_import_id_shape():
    import_id = new_import_id("0750001A", datetime(2026, 11, 28, 10, 10, 10, tzinfo=timezone.utc))
    assert import_id.startswith("0750001A-20261128T101010Z-") and len(import_id) == 34
    assert upload_key("0750001A", import_id) == f"imports/0750001A/{import_id}.xml"


def test_the_form_allows_at_most_the_declared_size_never_more_than_the_maximum(s3):
    """start_upload bounds the form by the declared `taille` (S3 refuses a larger file), within
    the maximum; the policy is the S3 adapter's, read back from the form."""
    from types import SimpleNamespace

    from chalicelib.adapters.memory import memory_repositories
    from chalicelib.config import Settings
    from chalicelib.pipeline.upload import start_upload, upload_max_bytes

    assert upload_max_bytes(1234, 50 * 1024 * 1024) == 1234
    assert upload_max_bytes(60 * 1024 * 1024, 50 * 1024 * 1024) == 50 * 1024 * 1024
    assert upload_max_bytes(0, 1000) == 1
    repos = memory_repositories()
    repos.blobs = S3Blobs(s3, "bucket")           # the real policy; presigning needs no network
    settings = Settings.from_env({"LSU_UPLOAD_EXPIRY_SECONDS": "60"})
    rt = SimpleNamespace(settings=settings, repos=repos)
    created = start_upload(rt, "0750001A", "export.xml", 4321, False, "CE:dev")
    conditions = _policy(created["upload"])["conditions"]
    assert ["content-length-range", 1, 4321] in conditions
    assert {"key": created["upload"]["fields"]["key"]} in conditions
    assert repos.imports.get("0750001A", created["import_id"]).taille_declaree == 4321
