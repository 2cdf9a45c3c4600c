"""The web front (French): one page and its script, served by the API (issue 5)."""
from __future__ import annotations

from importlib import resources

from chalice import Response

_TYPES = {"index.html": "text/html; charset=utf-8", "app.js": "application/javascript; charset=utf-8"}


def static(name: str) -> Response:
    body = resources.files("chalicelib").joinpath(f"static/{name}").read_text(encoding="utf-8")
    return Response(body=body, status_code=200, headers={"Content-Type": _TYPES[name], "Cache-Control": "no-cache"})


def index_page() -> Response:
    return static("index.html")
