"""The repository contract, one suite on both implementations: in memory (network blocked, like
the unit tier) and DynamoDB + S3 on the emulator over HTTP (the integration tier's stack).
`pytest -m "not integration" tests/contract` runs the in-memory half alone."""
from __future__ import annotations

import secrets
import string
from dataclasses import replace

import pytest
import pytest_socket

from chalicelib.adapters.memory import memory_repositories


@pytest.fixture(scope="session")
def dynamo_repos(stack):
    """Repositories on tables and a bucket of their own (the stack's emulator)."""
    from chalicelib.adapters.dynamodb import create_tables
    from chalicelib.runtime import build_runtime
    tag = secrets.token_hex(4)
    settings = replace(stack.settings, imports_table=f"lsu-contrat-{tag}-imports",
                       resultats_table=f"lsu-contrat-{tag}-resultats", bilans_table=f"lsu-contrat-{tag}-bilans",
                       etablissements_table=f"lsu-contrat-{tag}-etablissements")
    rt = build_runtime(settings)
    create_tables(rt.models)
    return rt.repos


@pytest.fixture(params=["memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def repos(request):
    if request.param == "memory":
        pytest_socket.disable_socket(allow_unix_socket=True)
        try:
            yield memory_repositories()
        finally:
            pytest_socket.enable_socket()
    else:
        yield request.getfixturevalue("dynamo_repos")


@pytest.fixture
def uai() -> str:
    """A school of the test's own: the DynamoDB tables are shared by the session."""
    return "07" + "".join(secrets.choice(string.digits) for _ in range(5)) + secrets.choice(string.ascii_uppercase)
