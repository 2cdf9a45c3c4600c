"""The web front (French): one page and its script, served by the API (issue 5)."""
from __future__ import annotations

import html
from importlib import resources

from chalice import Response

_TYPES = {"index.html": "text/html; charset=utf-8", "app.js": "application/javascript; charset=utf-8"}


def static(name: str) -> Response:
    body = resources.files("chalicelib.api").joinpath(f"static/{name}").read_text(encoding="utf-8")
    return Response(body=body, status_code=200, headers={"Content-Type": _TYPES[name], "Cache-Control": "no-cache"})


def index_page(settings) -> Response:
    """The page; on AWS it carries the Cognito domain and client it logs in with (app.js)."""
    page = static("index.html")
    if settings.cognito_domain and settings.cognito_client_id:
        tags = "".join(f'<meta name="{name}" content="{html.escape(value)}">\n' for name, value in (
            ("lsu-cognito-domaine", settings.cognito_domain.rstrip("/")), ("lsu-cognito-client", settings.cognito_client_id)))
        page.body = page.body.replace("</head>", tags + "</head>", 1)
    return page
