"""The upload form's policy, enforced by S3 (LocalStack here, AWS alike): a file larger than
declared, an empty one, a key other than the import's, another Content-Type, an expired form —
each refused by S3, told in French with its catalogue code by the CLI's upload (the web front maps
the same answers the same way: tests/unit/test_cli_upload_refusal.py), and nothing written: the
import still waits for its file, no S3 object, no result, no bilan. A mis-built policy (a bound
left out, the maximum instead of the declared size) fails these tests."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import boto3
import pytest
import requests

from chalicelib.adapters.ports import import_key
from lsu_tools import cli
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from lsu_tools.local.emulator import free_port, stop_process

SPEC = SchoolSpec(uai="0830001A", divisions_par_niveau=1, eleves_par_division=2)
DATA = generate_lsu_xml(SPEC)


@pytest.fixture(scope="module")
def school(api_for):
    api = api_for(SPEC.uai)
    api.put_referentiel(generate_referentiel(SPEC))
    return api


def bilans_of_school(rt) -> int:
    Bilan = rt.models.Bilan
    return sum(1 for _ in Bilan.scan(Bilan.eleve_key.startswith(f"{SPEC.uai}#")))


def objects_at(s3, bucket: str, key: str) -> int:
    return s3.list_objects_v2(Bucket=bucket, Prefix=key)["KeyCount"]


def refused(upload: dict, data: bytes, fields: dict | None = None) -> cli.UploadRefused:
    """The CLI's upload of `data` with the form (some fields changed): S3 must refuse it."""
    form = {"url": upload["url"], "fields": {**upload["fields"], **(fields or {})}}
    with pytest.raises(cli.UploadRefused) as exc:
        cli.ApiClient("http://127.0.0.1:1", "inutile").upload(form, "export.xml", data)
    return exc.value


def assert_nothing_written(school, rt, created: dict, bilans_before: int, *other_keys: str) -> None:
    import_id = created["import_id"]
    assert school.call("GET", f"/imports/{import_id}").json()["statut"] == "EN_ATTENTE_FICHIER"
    for key in (created["upload"]["fields"]["key"], *other_keys):
        assert objects_at(rt.s3, rt.settings.bucket, key) == 0, key
    assert rt.models.Resultat.count(import_key(SPEC.uai, import_id)) == 0
    assert bilans_of_school(rt) == bilans_before


def test_a_file_larger_than_declared_is_refused(school, rt):
    before = bilans_of_school(rt)
    created = school.start_import("export.xml", len(DATA) - 1)      # well below the maximum (50 Mo)
    e = refused(created["upload"], DATA)
    assert e.code == "DEPOT_TROP_VOLUMINEUX"
    assert e.message["message"].endswith("(HTTP 400, S3 : EntityTooLarge)"), e.message
    assert str(e).startswith("[DEPOT_TROP_VOLUMINEUX] Le stockage a refusé le fichier : il est plus volumineux")
    assert_nothing_written(school, rt, created, before)


def test_an_empty_file_is_refused(school, rt):
    before = bilans_of_school(rt)
    created = school.start_import("export.xml", len(DATA))
    e = refused(created["upload"], b"")
    assert e.code == "DEPOT_VIDE" and e.message["message"].endswith("(HTTP 400, S3 : EntityTooSmall)"), e.message
    assert_nothing_written(school, rt, created, before)


def test_a_key_other_than_the_imports_is_refused(school, rt):
    before = bilans_of_school(rt)
    created = school.start_import("export.xml", len(DATA))
    key = created["upload"]["fields"]["key"]
    other = key.replace(created["import_id"], created["import_id"] + "-autre")
    assert other != key and other.startswith(f"imports/{SPEC.uai}/")
    e = refused(created["upload"], DATA, {"key": other})
    assert e.code == "DEPOT_REFUSE" and e.message["message"].endswith("(HTTP 403, S3 : AccessDenied)"), e.message
    assert_nothing_written(school, rt, created, before, other)


def test_another_content_type_is_refused(school, rt):
    before = bilans_of_school(rt)
    created = school.start_import("export.xml", len(DATA))
    r = school.post_form(created["upload"], DATA, {"Content-Type": "text/plain"}, content_type="text/plain")
    assert r.status_code == 403 and "Policy Condition failed" in r.text, r.text
    assert cli.upload_refusal_code(r.status_code, r.text) == "DEPOT_REFUSE"
    e = refused(created["upload"], DATA, {"Content-Type": "text/plain"})
    assert e.code == "DEPOT_REFUSE"
    assert_nothing_written(school, rt, created, before)


def test_the_declared_size_itself_is_accepted_and_imports(school, rt):
    """The bounds are not too tight: the file exactly as declared goes through, once."""
    created = school.start_import("export.xml", len(DATA))
    cli.ApiClient("http://127.0.0.1:1", "inutile").upload(created["upload"], "export.xml", DATA)
    assert school.wait(created["import_id"])["statut"] == "TERMINE"
    s = school.synthese(created["import_id"])
    assert s["totaux"]["importes"] == s["totaux"]["bilans"] > 0 and bilans_of_school(rt) == s["totaux"]["bilans"]


# --- an expired form: a stack of its own whose forms live 1 s --------------------------------------

@pytest.fixture(scope="module")
def short_lived_api(stack, tmp_path_factory):
    """`lsu local up` in a process of its own on the same LocalStack (S3, SQS; its DynamoDB on its
    own moto server), LSU_UPLOAD_EXPIRY_SECONDS=1: its resources have names of their own."""
    port = free_port()
    env = {**os.environ, "LSU_UPLOAD_EXPIRY_SECONDS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lsu_tools.cli", "local", "up", "--port", str(port), "--uai", SPEC.uai,
         "--endpoint-s3", stack.endpoints["s3"], "--endpoint-sqs", stack.endpoints["sqs"]],
        cwd=tmp_path_factory.mktemp("pile-courte"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"lsu local up s'est arrêté : {proc.stderr.read()}"
            try:
                requests.get(base + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "lsu local up ne répond pas"
                time.sleep(0.2)
        yield base
    finally:
        stop_process(proc, timeout=30)


def test_an_expired_form_is_refused(short_lived_api, stack, api_for):
    api = api_for(SPEC.uai, base=short_lived_api)
    api.put_referentiel(generate_referentiel(SPEC))
    created = api.start_import("export.xml", len(DATA))
    upload = created["upload"]
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert (expiration - datetime.now(timezone.utc)).total_seconds() <= 2, "LSU_UPLOAD_EXPIRY_SECONDS=1 suivi"
    # Until the form's own expiration instant has passed (S3 compares it to its clock).
    while datetime.now(timezone.utc).timestamp() <= expiration.timestamp() + 1:
        time.sleep(0.1)
    e = refused(upload, DATA)
    assert e.code == "DEPOT_EXPIRE" and e.message["message"].endswith("(HTTP 403, S3 : AccessDenied)"), e.message
    assert str(e).startswith("[DEPOT_EXPIRE] Le stockage a refusé le dépôt : le formulaire de dépôt a expiré.")
    # Nothing written: no object (in that stack's own bucket, named in the form's path-style URL),
    # the import still waiting (or ended EXPIRE by the watchdog), no bilan.
    bucket = upload["url"].rstrip("/").rsplit("/", 1)[1]
    assert bucket != stack.settings.bucket and bucket.startswith("lsu-import-fichiers-")
    s3 = boto3.client("s3", endpoint_url=stack.endpoints["s3"], region_name=stack.settings.region,
                      config=boto3.session.Config(s3={"addressing_style": "path"}))
    assert objects_at(s3, bucket, upload["fields"]["key"]) == 0
    assert api.call("GET", f"/imports/{created['import_id']}").json()["statut"] in ("EN_ATTENTE_FICHIER", "EXPIRE")
    r = api.call("GET", "/bilans", params={"division": generate_referentiel(SPEC)["divisions"][0]["code"]})
    assert r.status_code == 200 and r.json()["bilans"] == [], r.text


def test_a_refused_upload_leaves_the_import_waiting_then_expired_by_the_watchdog(school, rt):
    """After S3's refusal nothing came: once the form's expiry (and the grace for S3's
    notification) has passed, the watchdog's round ends the import EXPIRE — nothing written."""
    from chalicelib.domain import liveness
    from chalicelib.pipeline import watchdog
    before = bilans_of_school(rt)
    created = school.start_import("export.xml", len(DATA) - 1)
    refused(created["upload"], DATA)
    assert_nothing_written(school, rt, created, before)
    record = rt.repos.imports.get(SPEC.uai, created["import_id"])
    expired_at = time.time() + rt.settings.upload_expiry_seconds + liveness.UPLOAD_GRACE_SECONDS + 1
    assert watchdog.end_waiting(rt, record, int(time.time())) is None, "its form still valid: left waiting"
    assert watchdog.end_waiting(rt, record, int(expired_at)) == "expires"
    status = school.call("GET", f"/imports/{created['import_id']}").json()
    assert status["statut"] == "EXPIRE"
    synthese = school.synthese(created["import_id"])
    assert [e["code"] for e in synthese["erreurs_fichier"]] == ["IMPORT_EXPIRE"] and synthese["bilans"] == []
    assert objects_at(rt.s3, rt.settings.bucket, created["upload"]["fields"]["key"]) == 0
    assert rt.models.Resultat.count(import_key(SPEC.uai, created["import_id"])) == 0
    assert bilans_of_school(rt) == before
