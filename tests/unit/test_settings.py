"""Per-service AWS endpoints in the settings (issue 18): S3, SQS and DynamoDB each may have its own
URL; one URL still serves all three. Pure: environments are dicts, clients are built, never called."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from chalicelib import runtime
from chalicelib.adapters.dynamodb import bind_models
from chalicelib.config import ENDPOINT_SERVICES, Settings

ONE = "http://one:4566"


def test_the_services_are_s3_sqs_and_dynamodb():
    assert ENDPOINT_SERVICES == ("s3", "sqs", "dynamodb")


def test_no_endpoint_means_aws_own_for_every_service():
    s = Settings.from_env({})
    assert s.endpoints == {"s3": None, "sqs": None, "dynamodb": None}
    assert all(s.endpoint_for(svc) is None for svc in ENDPOINT_SERVICES)


@pytest.mark.parametrize("var", ["LSU_AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL"])
def test_one_url_still_works_for_all(var):
    s = Settings.from_env({var: ONE})
    assert s.endpoint_url == ONE
    assert s.endpoints == {"s3": ONE, "sqs": ONE, "dynamodb": ONE}


@pytest.mark.parametrize("svc", ENDPOINT_SERVICES)
def test_a_service_variable_overrides_the_single_url_for_that_service_only(svc):
    own = f"http://{svc}:1"
    s = Settings.from_env({"LSU_AWS_ENDPOINT_URL": ONE, f"LSU_AWS_ENDPOINT_URL_{svc.upper()}": own})
    assert s.endpoint_for(svc) == own
    assert all(s.endpoint_for(other) == ONE for other in ENDPOINT_SERVICES if other != svc)


@pytest.mark.parametrize("svc", ENDPOINT_SERVICES)
def test_precedence_lsu_service_then_aws_service_then_single(svc):
    up = svc.upper()
    full = {f"LSU_AWS_ENDPOINT_URL_{up}": "http://lsu-svc:1", f"AWS_ENDPOINT_URL_{up}": "http://aws-svc:1",
            "LSU_AWS_ENDPOINT_URL": "http://lsu:1", "AWS_ENDPOINT_URL": "http://aws:1"}
    order = list(full)
    for i, name in enumerate(order):
        env = {k: full[k] for k in order[i:]}
        assert Settings.from_env(env).endpoint_for(svc) == full[name], env
    # The SDKs' service variable beats any single URL (as in boto3): specific before general.
    assert Settings.from_env({f"AWS_ENDPOINT_URL_{up}": "http://aws-svc:1",
                              "LSU_AWS_ENDPOINT_URL": "http://lsu:1"}).endpoint_for(svc) == "http://aws-svc:1"


def test_only_dynamodb_given_leaves_the_others_on_aws():
    s = Settings.from_env({"AWS_ENDPOINT_URL_DYNAMODB": "http://moto:5000"})
    assert s.endpoints == {"s3": None, "sqs": None, "dynamodb": "http://moto:5000"}


def test_empty_values_count_as_unset():
    s = Settings.from_env({"LSU_AWS_ENDPOINT_URL_S3": "", "AWS_ENDPOINT_URL_S3": "", "LSU_AWS_ENDPOINT_URL": ONE})
    assert s.endpoint_for("s3") == ONE


@pytest.mark.parametrize("env", [
    {},
    {"LSU_AWS_ENDPOINT_URL": ONE},
    {"LSU_AWS_ENDPOINT_URL": ONE, "LSU_AWS_ENDPOINT_URL_DYNAMODB": "http://moto:5000"},
    {"AWS_ENDPOINT_URL_S3": "http://ls:4566", "AWS_ENDPOINT_URL_SQS": "http://ls:4566",
     "AWS_ENDPOINT_URL_DYNAMODB": "http://moto:5000"},
])
def test_as_env_round_trips(env):
    s = Settings.from_env(env)
    assert Settings.from_env(s.as_env()) == s
    assert Settings.from_env(s.as_env()).endpoints == s.endpoints


def test_as_env_writes_the_service_variables_only_when_set():
    env = Settings.from_env({"LSU_AWS_ENDPOINT_URL": ONE, "LSU_AWS_ENDPOINT_URL_SQS": "http://q:1"}).as_env()
    assert env["LSU_AWS_ENDPOINT_URL"] == ONE and env["LSU_AWS_ENDPOINT_URL_SQS"] == "http://q:1"
    assert "LSU_AWS_ENDPOINT_URL_S3" not in env and "LSU_AWS_ENDPOINT_URL_DYNAMODB" not in env


def test_with_endpoints_sets_the_single_url_and_the_services():
    s = Settings.from_env({"LSU_AWS_ENDPOINT_URL_S3": "http://old:1"})
    t = s.with_endpoints("http://all:1", {"dynamodb": "http://moto:5000"})
    assert t.endpoints == {"s3": "http://old:1", "sqs": "http://all:1", "dynamodb": "http://moto:5000"}
    assert s.with_endpoints(None, {"s3": None}).endpoint_for("s3") is None
    with pytest.raises(ValueError):
        s.with_endpoints(None, {"lambda": "http://x:1"})


def test_settings_stay_hashable():
    hash(Settings.from_env({"LSU_AWS_ENDPOINT_URL_S3": "http://s3:1"}))


# --- what the clients get ---------------------------------------------------------------------

@pytest.fixture
def aws_env(monkeypatch):
    """Credentials for client construction (no lookup of the instance metadata), and no endpoint of
    the developer's shell: boto3 reads AWS_ENDPOINT_URL* itself when given none."""
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for svc in ("", "_S3", "_SQS", "_DYNAMODB"):
        monkeypatch.delenv(f"AWS_ENDPOINT_URL{svc}", raising=False)


def test_make_clients_asks_endpoint_for_with_the_service(aws_env):
    asked = []

    def endpoint_for(svc):
        asked.append(svc)
        return f"http://{svc}.fake:1"

    fake = SimpleNamespace(region="eu-west-3", endpoint_for=endpoint_for, endpoint_url="http://ignored:1")
    s3, sqs = runtime.make_clients(fake, "s3"), runtime.make_clients(fake, "sqs")
    assert asked == ["s3", "sqs"]
    assert s3.meta.endpoint_url == "http://s3.fake:1" and sqs.meta.endpoint_url == "http://sqs.fake:1"


def test_each_client_gets_its_service_endpoint_and_s3_path_style_follows_s3(aws_env):
    s = Settings.from_env({"LSU_AWS_ENDPOINT_URL_S3": "http://ls:4566", "LSU_AWS_ENDPOINT_URL_SQS": "http://ls:4567",
                           "LSU_AWS_ENDPOINT_URL_DYNAMODB": "http://moto:5000"})
    s3, sqs = runtime.make_clients(s, "s3"), runtime.make_clients(s, "sqs")
    assert s3.meta.endpoint_url == "http://ls:4566" and sqs.meta.endpoint_url == "http://ls:4567"
    assert s3.meta.config.s3 == {"addressing_style": "path"}
    assert bind_models(s).Import.Meta.host == "http://moto:5000"
    # S3 on AWS, the others emulated: S3 keeps AWS's addressing.
    aws_s3 = replace(s, endpoint_url_s3=None)
    assert runtime.make_clients(aws_s3, "s3").meta.config.s3 is None
    assert runtime.make_clients(aws_s3, "sqs").meta.endpoint_url == "http://ls:4567"
