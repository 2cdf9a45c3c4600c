"""The web front (French): one page, its script and the DSFR files it uses, served by the API
(issues 5 and 16), every response with the security headers (CSP without inline script nor
third-party origin, nosniff, referrer policy)."""
from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

from chalice import Response

_TYPES = {"index.html": "text/html; charset=utf-8", "app.js": "application/javascript; charset=utf-8"}

# The DSFR files front/build.mjs copies (flat names), by extension: what may be served, and as what.
DSFR_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml",
              ".woff2": "font/woff2", ".woff": "font/woff"}
# Content types Chalice must base64-encode (app.api.binary_types): the fonts.
BINARY_TYPES = ["font/woff2", "font/woff"]
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")


def content_security_policy(connect: tuple[str, ...] = ()) -> str:
    """Only this origin: no inline script, no third-party script, style, font or frame; `connect`
    adds the origins the page talks to besides the API (the S3 upload form, Cognito's token)."""
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "font-src 'self'", "img-src 'self' data:",
        "connect-src " + " ".join(["'self'", *connect]), "form-action 'self'", "base-uri 'none'", "object-src 'none'",
        "frame-ancestors 'none'"])


def security_headers(connect: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Content-Security-Policy": content_security_policy(connect), "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def page_origins(settings) -> tuple[str, ...]:
    """Where the page's script sends requests other than the API: the presigned S3 form (the local
    endpoint, or the bucket's AWS names) and, on AWS, the Cognito domain (token exchange)."""
    local = _origin(settings.endpoint_for("s3"))
    origins = [local] if local else [f"https://{settings.bucket}.s3.amazonaws.com",
                                     f"https://{settings.bucket}.s3.{settings.region}.amazonaws.com"]
    cognito = _origin(settings.cognito_domain)
    if cognito:
        origins.append(cognito)
    return tuple(dict.fromkeys(origins))


def _files():
    return resources.files("chalicelib.api").joinpath("static")


def static(name: str) -> Response:
    body = _files().joinpath(name).read_text(encoding="utf-8")
    return Response(body=body, status_code=200,
                    headers={"Content-Type": _TYPES[name], "Cache-Control": "no-cache", **security_headers()})


def index_page(settings) -> Response:
    """The page; on AWS it carries the Cognito domain and client it logs in with (app.js)."""
    page = static("index.html")
    page.headers.update(security_headers(page_origins(settings)))
    if settings.cognito_domain and settings.cognito_client_id:
        tags = "".join(f'<meta name="{name}" content="{html.escape(value)}">\n' for name, value in (
            ("lsu-cognito-domaine", settings.cognito_domain.rstrip("/")), ("lsu-cognito-client", settings.cognito_client_id)))
        page.body = page.body.replace("</head>", tags + "</head>", 1)
    return page


@lru_cache(maxsize=1)
def dsfr_manifest() -> frozenset[str]:
    """The allow-list: the files front/build.mjs wrote (chalicelib/api/static/dsfr/manifest.json)."""
    try:
        data = json.loads(_files().joinpath("dsfr/manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return frozenset()
    return frozenset(n for n in data.get("fichiers", {}) if isinstance(n, str) and _SAFE_NAME.match(n))


def openapi_document() -> Response:
    """GET /openapi.json: the API's contract (chalicelib/api/openapi.py), public."""
    from chalicelib.api import openapi
    return Response(body=openapi.document_json(), status_code=200, headers={
        "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache", **security_headers()})


def _not_found(name: str) -> Response:
    body = {"erreur": {"code": "NOT_FOUND", "niveau": "ERREUR", "message": "Fichier introuvable : " + name[:80] + ".",
                       "conseil": "Les fichiers du système de design de l'État sont construits par `make front`."}}
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=404,
                    headers={"Content-Type": "application/json; charset=utf-8", **security_headers()})


def dsfr_asset(name: str) -> Response:
    """GET /dsfr/{name}: one file of the allow-list (a flat name, no folder, no dot first), else a
    French 404. The CSS and fonts are versioned by the lock file: cached for a day."""
    ext = name[name.rfind("."):] if "." in name else ""
    if not _SAFE_NAME.match(name or "") or ext not in DSFR_TYPES or name not in dsfr_manifest():
        return _not_found(name or "")
    path = _files().joinpath("dsfr").joinpath(name)
    content_type = DSFR_TYPES[ext]
    body = path.read_bytes() if content_type in BINARY_TYPES else path.read_text(encoding="utf-8")
    return Response(body=body, status_code=200,
                    headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400", **security_headers()})
