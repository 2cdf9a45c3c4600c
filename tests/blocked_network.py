"""The network blocked for every test of a directory: its conftest.py imports `no_network`.

pytest-socket replaces Python's `socket.socket`: any TCP/UDP socket opened from Python raises
`SocketBlockedError` (Unix sockets stay allowed); re-enabled after each test."""
from __future__ import annotations

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def no_network():
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        pytest_socket.enable_socket()
