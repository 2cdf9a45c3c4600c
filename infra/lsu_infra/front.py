"""The web front on AWS (issue 16): chalicelib/api/static/ in a private bucket of its own, behind a
CloudFront distribution with Origin Access Control; the API's paths routed by the same
distribution to API Gateway (the page calls `/imports`, `/bilans`… on its own origin: no CORS on
the API, one origin for the Cognito callback and the upload bucket's CORS).

Why a bucket of its own rather than a prefix of the files bucket: the files bucket holds pupils'
data (uploads, référentiel, synthèses); its policy would then grant CloudFront a read on a prefix
of it, and the deployment Lambda a write and delete on it. A separate bucket keeps CloudFront's
read and the deployment's write away from that data, and keeps the files bucket's CORS, lifecycle
and notification for the data alone.

The page is the one the local API serves: index.html rendered by chalicelib/api/web.py's
`index_page` (the Cognito domain and client in its <meta> tags, deploy-time values), app.js as
is, the DSFR files of static/dsfr/. Its Content-Security-Policy is the API's (web.py), with this
stage's origins; the synth fails if the page gets an inline script."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront

STATIC_DIR = Path("chalicelib") / "api" / "static"
PAGE = "index.html"
# HSTS: two years, subdomains included (the distribution's own cloudfront.net name).
HSTS_MAX_AGE = Duration.days(730)
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
_DOMAIN_STAND_IN, _CLIENT_STAND_IN = "https://domaine-cognito.invalid", "client-cognito-de-l-etape"
_EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def check_page(page: str) -> None:
    """The CSP allows no inline script: a page that needs one must not be deployed."""
    if _INLINE_SCRIPT.search(page) or _EVENT_HANDLER.search(page):
        raise ValueError(f"{STATIC_DIR / PAGE} : script en ligne (balise <script> sans src ou attribut on…) "
                         "interdit par la Content-Security-Policy du front")


def content_security_policy(page: str, connect: list[str]) -> str:
    """The front's CSP, the API's own (chalicelib/api/web.py: the local stack serves the page
    with it): this origin only, no inline script; `connect` the other origins the page calls
    (the Cognito domain it logs in with, the files bucket it uploads to)."""
    from chalicelib.api import web
    check_page(page)
    return web.content_security_policy(tuple(connect))


def rendered_page(project_dir: Path, bucket: str, login_domain: str | None,
                  client_id: str | None) -> str:
    """index.html as the API renders it (chalicelib/api/web.py's `index_page`), with this stage's
    login domain and client (tokens: resolved at deploy time by the bucket deployment)."""
    from chalicelib.api import web
    if not (login_domain and client_id):
        return (project_dir / STATIC_DIR / PAGE).read_text(encoding="utf-8")
    # Rendered with stand-ins, then the stand-ins replaced by the tokens (web.py parses the domain).
    settings = SimpleNamespace(cognito_domain=_DOMAIN_STAND_IN, cognito_client_id=_CLIENT_STAND_IN,
                               bucket=bucket, region="eu-west-3", endpoint_for=lambda service: None)
    body = web.index_page(settings).body
    if body.count(_DOMAIN_STAND_IN) != 1 or body.count(_CLIENT_STAND_IN) != 1:
        raise ValueError("index_page (chalicelib/api/web.py) ne porte plus le domaine et le client Cognito")
    return body.replace(_DOMAIN_STAND_IN, login_domain).replace(_CLIENT_STAND_IN, client_id)


def static_segments(project_dir: Path) -> set[str]:
    """The top-level names of the static folder (`app.js`, `dsfr`…): paths the bucket serves."""
    return {p.name for p in (project_dir / STATIC_DIR).iterdir()}


def public_routes(paths, fixed: set[tuple[str, str]], static: set[str]) -> set[tuple[str, str]]:
    """The API's routes without a token: the page and its script, and any GET of a front file
    (`/dsfr/{name}`: the API serves them locally, the bucket on AWS)."""
    return set(fixed) | {(path, "get") for path, methods in paths.items() if "get" in methods
                         and path.strip("/").partition("/")[0] in static}


def api_path_patterns(paths, public: set[tuple[str, str]], static: set[str]) -> list[str]:
    """CloudFront path patterns of the API's routes (Chalice's Swagger paths), the front's files
    excepted (the bucket serves them): `/imports` and `/imports/*` for /imports/{id}…"""
    patterns: set[str] = set()
    for path, methods in paths.items():
        first, _, rest = path.strip("/").partition("/")
        if first in static or all(m.startswith("x-") or (path, m) in public for m in methods):
            continue
        if not first or "{" in first:
            raise ValueError(f"route {path} : premier segment variable, non routable par CloudFront")
        patterns.add(f"/{first}/*" if rest else f"/{first}")
    return sorted(patterns)


def security_headers(scope, cid: str, name: str, csp: str) -> cloudfront.ResponseHeadersPolicy:
    """CSP, HSTS, nosniff, frame denial and referrer policy on every response of the distribution
    (set over whatever the origin sends)."""
    return cloudfront.ResponseHeadersPolicy(
        scope, cid, response_headers_policy_name=name, comment="lsu-import : en-têtes de sécurité du front",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=csp, override=True),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.SAME_ORIGIN, override=True)))
