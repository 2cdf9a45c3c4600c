"""Unit tests: pure functions only, with the network blocked for every test of this directory.

pytest-socket replaces Python's `socket.socket`: any TCP/UDP socket opened from Python raises
`SocketBlockedError` (Unix sockets stay allowed). libxml2 opens its own C sockets, which this does
not see: the XML tests therefore also prove that hostile documents are refused *before* parsing.

pytest never collects tests from a conftest.py: the proof that the network is blocked
(`test_network_is_blocked`) lives in test_validation.py.
"""
from __future__ import annotations

import pytest

from blocked_network import no_network  # noqa: F401 — autouse: tests/unit only (this conftest's directory)
from chalicelib.config import Settings
from lsu_tools.generator import SchoolSpec, generate_lsu_xml
from chalicelib.pipeline.split.file_checks import load_schema


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env({})


@pytest.fixture(scope="session")
def schema(settings):
    return load_schema(settings.xsd_path)


@pytest.fixture(scope="session")
def small_spec() -> SchoolSpec:
    return SchoolSpec(divisions_par_niveau=1, eleves_par_division=3)


@pytest.fixture(scope="session")
def small_xml(small_spec) -> bytes:
    return generate_lsu_xml(small_spec)

