"""`--endpoint URL` plus `--endpoint-s3` / `--endpoint-sqs` / `--endpoint-dynamodb` (issue 18): the
options, the local stack they describe, and the settings that stack gives its runtime — the
embedded moto server only for the services given no endpoint. No server starts: moto is faked and
the stack stops before creating any resource."""
from __future__ import annotations

import os

import pytest

from chalicelib.config import Settings
from lsu_tools import cli
from lsu_tools.local import stack as stack_module
from lsu_tools.local.stack import LocalStack, endpoints_from

LS, MOTO = "http://localstack:4566", "http://127.0.0.1:5999"
COMMANDS = [["run", "f.xml", "--referentiel", "r.json"], ["local", "up"], ["demo"]]


def parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_with_endpoint_takes_the_service_options(command):
    args = parse(*command, "--endpoint", LS, "--endpoint-s3", "http://s3:1", "--endpoint-sqs", "http://sqs:1",
                 "--endpoint-dynamodb", "http://ddb:1")
    assert args.endpoint == LS
    assert cli.service_endpoints(args) == {"s3": "http://s3:1", "sqs": "http://sqs:1", "dynamodb": "http://ddb:1"}


@pytest.mark.parametrize("command", COMMANDS)
def test_no_option_means_moto_for_everything(command):
    stack = cli.local_stack(parse(*command), api_port=8000)
    assert stack.endpoint is None and stack.missing_services() == ("s3", "sqs", "dynamodb")


def test_one_endpoint_still_serves_all_services():
    stack = cli.local_stack(parse("run", "f.xml", "--referentiel", "r.json", "--endpoint", LS), api_port=8000)
    assert stack.endpoints == {"s3": LS, "sqs": LS, "dynamodb": LS} and stack.missing_services() == ()


def test_a_service_option_overrides_endpoint_for_that_service():
    stack = cli.local_stack(parse("local", "up", "--endpoint", LS, "--endpoint-dynamodb", MOTO), api_port=8000)
    assert stack.endpoints == {"s3": LS, "sqs": LS, "dynamodb": MOTO} and stack.missing_services() == ()


def test_s3_and_sqs_given_leaves_only_dynamodb_to_moto():
    stack = cli.local_stack(parse("run", "f.xml", "--referentiel", "r.json", "--endpoint-s3", LS,
                                  "--endpoint-sqs", LS), api_port=8000)
    assert stack.missing_services() == ("dynamodb",)


def test_the_stack_refuses_an_unknown_service():
    with pytest.raises(ValueError):
        LocalStack(endpoints={"lambda": LS})


def test_the_test_fixtures_variables():
    assert endpoints_from({}, "LSU_TEST_ENDPOINT") == (None, {"s3": None, "sqs": None, "dynamodb": None})
    assert endpoints_from({"LSU_TEST_ENDPOINT": LS, "LSU_TEST_ENDPOINT_DYNAMODB": MOTO, "LSU_TEST_ENDPOINT_S3": ""},
                          "LSU_TEST_ENDPOINT") == (LS, {"s3": None, "sqs": None, "dynamodb": MOTO})


def test_endpoints_text_is_one_url_when_all_agree():
    assert cli.endpoints_text({"s3": LS, "sqs": LS, "dynamodb": LS}) == LS
    assert cli.endpoints_text({"s3": LS, "sqs": LS, "dynamodb": MOTO}) == f"S3 {LS}, SQS {LS}, DynamoDB {MOTO}"


# --- the settings the started stack gives its runtime -------------------------------------------

class FakeMoto:
    started: list["FakeMoto"] = []

    def __init__(self, host):
        self.endpoint, self.stopped = MOTO, False

    def start(self):
        FakeMoto.started.append(self)
        return self

    def stop(self):
        self.stopped = True


class Stop(Exception):
    pass


@pytest.fixture
def started(monkeypatch):
    """Start a stack up to its resources: the settings it built, and the moto servers it started."""
    from chalicelib.runtime import reset_runtime
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "LSU_"))}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "LSU_AWS_ENDPOINT_URL_S3": "http://from-the-shell:1"})   # the stack's own win over the shell
    monkeypatch.setattr(os, "environ", env)
    FakeMoto.started = []
    monkeypatch.setattr(stack_module, "MotoServer", FakeMoto)
    seen = {}

    def create_resources(rt, **kw):
        seen["settings"] = rt.settings
        raise Stop

    monkeypatch.setattr(stack_module, "create_resources", create_resources)

    def start(argv):
        stack = cli.local_stack(parse(*argv), api_port=8000)
        with pytest.raises(Stop):
            stack.start()
        return stack, seen["settings"], os.environ
    yield start
    reset_runtime()


def test_started_with_one_endpoint_no_moto(started):
    stack, settings, env = started(["local", "up", "--endpoint", LS])
    assert FakeMoto.started == []
    assert settings.endpoints == {"s3": LS, "sqs": LS, "dynamodb": LS} and settings.endpoint_url == LS
    assert Settings.from_env(env).endpoints == settings.endpoints   # the handlers' runtime agrees


def test_started_with_s3_and_sqs_given_moto_serves_dynamodb_only(started):
    stack, settings, env = started(["run", "f.xml", "--referentiel", "r.json", "--endpoint-s3", LS,
                                    "--endpoint-sqs", LS])
    assert len(FakeMoto.started) == 1 and FakeMoto.started[0].stopped       # stopped with the stack
    assert settings.endpoints == {"s3": LS, "sqs": LS, "dynamodb": MOTO}
    assert stack.endpoints == settings.endpoints
    assert Settings.from_env(env).endpoints == settings.endpoints


def test_started_without_endpoint_everything_on_moto(started):
    stack, settings, env = started(["demo"])
    assert len(FakeMoto.started) == 1
    assert settings.endpoints == {"s3": MOTO, "sqs": MOTO, "dynamodb": MOTO} and stack.endpoint == MOTO
    assert Settings.from_env(env).endpoints == settings.endpoints


def test_started_with_every_service_its_own_endpoint_is_s3s(started):
    stack, settings, env = started(["local", "up", "--endpoint-s3", LS, "--endpoint-sqs", "http://q:1",
                                    "--endpoint-dynamodb", MOTO + "0"])
    assert FakeMoto.started == [] and stack.endpoint == LS
    assert settings.endpoints == {"s3": LS, "sqs": "http://q:1", "dynamodb": MOTO + "0"}
