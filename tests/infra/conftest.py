"""Template tests read files only: the network is blocked for every test of this directory."""
from __future__ import annotations

from blocked_network import no_network  # noqa: F401 — autouse for this directory
