"""The minimal web page served at `/` (the full front is issue 5)."""
from __future__ import annotations

from importlib import resources

from chalice import Response


def index_page() -> Response:
    html = resources.files("chalicelib").joinpath("static/index.html").read_text(encoding="utf-8")
    return Response(body=html, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
