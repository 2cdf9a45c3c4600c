"""The LocalStack tooling (lsu_tools/local/localstack.py) and the local stack's names of its own on
a shared endpoint (lsu_tools/local/stack.py): pure parts, no process started, no network."""
from __future__ import annotations

from pathlib import Path

from chalicelib.config import Settings, dlq_name
from lsu_tools.local import localstack
from lsu_tools.local.stack import LocalStack, with_unique_names


def test_the_launch_environment_is_host_mode_on_its_own_port_and_folder(tmp_path):
    base = {"PATH": "/usr/bin", "AWS_ENDPOINT_URL": "http://ailleurs:1", "AWS_ENDPOINT_URL_S3": "http://ailleurs:2",
            "LOCALSTACK_SERVICES": "lambda", "LSU_BUCKET": "x", "GATEWAY_LISTEN": "0.0.0.0:4566", "HOME": "/root"}
    env = localstack.launch_env(base, "127.0.0.1", 45123, str(tmp_path))
    assert (env["GATEWAY_LISTEN"], env["LOCALSTACK_HOST"]) == ("127.0.0.1:45123", "127.0.0.1:45123")
    assert env["SERVICES"] == "s3,sqs" and env["SQS_ENDPOINT_STRATEGY"] == "path"
    assert (env["PERSISTENCE"], env["DNS_ADDRESS"], env["DISABLE_EVENTS"], env["SKIP_SSL_CERT_DOWNLOAD"]) == \
           ("0", "0", "1", "1")
    assert Path(env["FILESYSTEM_ROOT"]).parent == tmp_path and Path(env["TMPDIR"]).parent == tmp_path
    assert not {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "LOCALSTACK_SERVICES", "LSU_BUCKET"} & set(env)
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/root"


def test_ready_only_when_every_service_asked_for_is_usable():
    assert localstack.health_ready({"services": {"s3": "available", "sqs": "running", "dynamodb": "disabled"}})
    assert not localstack.health_ready({"services": {"s3": "available", "sqs": "starting"}})
    assert not localstack.health_ready({"services": {"s3": "available"}})
    assert not localstack.health_ready({})
    assert localstack.health_ready({"services": {"s3": "running"}}, services=("s3",))


def test_the_tier_gives_the_fixtures_s3_and_sqs_only():
    assert localstack.tier_env("http://127.0.0.1:4599") == {
        "LSU_TEST_ENDPOINT_S3": "http://127.0.0.1:4599", "LSU_TEST_ENDPOINT_SQS": "http://127.0.0.1:4599"}


def test_the_interpreter_is_the_localstack_virtualenvs_unless_told():
    assert localstack.localstack_python({}) == localstack.REPO / ".venv-localstack" / "bin" / "python"
    assert localstack.localstack_python({"LSU_LOCALSTACK_PYTHON": "/opt/ls/bin/python"}) == Path("/opt/ls/bin/python")


def test_not_installed_says_how_in_french_and_exits_2(tmp_path, capsys):
    server = localstack.LocalStackServer(port=1, python=tmp_path / "absent" / "python")
    assert localstack.run(["true"], server) == localstack.EXIT_LOCALSTACK_FAILED
    err = capsys.readouterr().err
    assert "LocalStack n'est pas installé" in err and "make localstack-install" in err
    assert server.proc is None and server.data_dir is None


def test_run_without_a_command_is_refused_in_french(capsys):
    assert localstack.main(["run"]) == localstack.EXIT_LOCALSTACK_FAILED
    assert "indiquez la commande" in capsys.readouterr().err


def test_the_tiers_counts_and_time_from_junit(tmp_path):
    xml = tmp_path / "moto.xml"
    xml.write_text('<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="1" failures="2" '
                   'skipped="3" tests="50" time="123.4"/></testsuites>')
    counts = localstack.junit_counts(xml)
    assert counts == {"tests": 50, "failures": 2, "errors": 1, "skipped": 3, "time": 123.4, "passed": 44}
    assert localstack.tier_line("niveau moto", counts) == \
        "niveau moto : 44 réussis, 2 échoués, 1 en erreur, 3 ignorés — 123 s"
    assert localstack.junit_counts(tmp_path / "absent.xml") is None
    assert localstack.tier_line("niveau LocalStack", None) == "niveau LocalStack : pas lancé (ou interrompu)"


# --- names of its own on a shared endpoint -----------------------------------------------------------

def test_unique_names_end_every_resource_of_the_services_with_the_suffix():
    s = Settings.from_env({})
    u = with_unique_names(s, "0a1b2c3d", ("s3", "sqs"))
    assert u.bucket == "lsu-import-fichiers-0a1b2c3d" and len(u.bucket) <= 63 and u.bucket == u.bucket.lower()
    assert (u.uploads_queue, u.bilans_queue, u.report_queue) == (
        "lsu-import-uploads-0a1b2c3d", "lsu-import-bilans-0a1b2c3d", "lsu-import-rapport-0a1b2c3d")
    assert dlq_name(u.bilans_queue) == "lsu-import-bilans-0a1b2c3d-dlq"
    assert u.imports_table == s.imports_table and u.bilans_table == s.bilans_table, "DynamoDB on its own moto"
    every = with_unique_names(s, "0a1b2c3d", ("s3", "sqs", "dynamodb"))
    assert all(getattr(every, f).endswith("-0a1b2c3d") for f in (
        "imports_table", "resultats_table", "bilans_table", "etablissements_table"))
    assert u.as_env()["LSU_BUCKET"] == u.bucket, "the handlers' environment names the same resources"


def test_a_stack_on_external_endpoints_gets_names_of_its_own_and_the_embedded_one_keeps_the_stages():
    shared = {"s3": "http://127.0.0.1:4599", "sqs": "http://127.0.0.1:4599"}
    a, b = LocalStack(endpoints=shared, api_port=1), LocalStack(endpoints=shared, api_port=1)
    assert a.unique_services == ("s3", "sqs") and a.suffix and b.suffix and a.suffix != b.suffix
    full = LocalStack(endpoint="http://localhost:4566", api_port=1)
    assert full.unique_services == ("s3", "sqs", "dynamodb") and full.suffix
    alone = LocalStack(api_port=1)
    assert alone.unique_services == () and alone.suffix is None
    assert LocalStack(endpoint="http://localhost:4566", api_port=1, unique_names=False).suffix is None


def test_dummy_credentials_only_for_endpoints_on_this_machine():
    from lsu_tools.local.stack import is_loopback
    assert is_loopback("http://127.0.0.1:4566") and is_loopback("http://localhost:4566") and is_loopback("http://[::1]:1")
    assert not is_loopback("https://s3.eu-west-3.amazonaws.com") and not is_loopback(None)
    assert not is_loopback("http://localstack.example:4566")
