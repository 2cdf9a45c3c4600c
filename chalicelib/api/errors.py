"""The API's shared machinery: errors as French JSON with stable codes, the caller's identity and
rights (`endpoint`), JSON bodies. The routes by resource: imports.py, referentiel.py, bilans.py,
dev.py (app.py routes to them)."""
from __future__ import annotations

import json
from functools import wraps

from chalice import BadRequestError, Response

from chalicelib.api.auth import AuthError, Identity, authorize, identify_request
from chalicelib.domain import catalogue

STATUS_OF = {"AUTH_REQUIRED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "REFERENTIEL_ABSENT": 409}


class ApiError(Exception):
    def __init__(self, code: str, detail: str | None = None, status: int | None = None, **extra):
        super().__init__(code)
        self.code, self.detail, self.extra = code, detail, extra
        self.status = status or STATUS_OF.get(code, 400)


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def error_response(code: str, status: int, detail: str | None = None, **extra) -> Response:
    return json_response({"erreur": catalogue.message(code, detail, **extra)}, status)


def endpoint(action: str):
    """Identify the caller, authorize the action, map our errors to French JSON responses."""
    def decorate(fn):
        @wraps(fn)
        def wrapper(request, rt, *args, **kwargs):
            try:
                identity = identify_request(request, rt.settings)
                authorize(identity, action)
                same_school(identity, request)
                return fn(request, rt, identity, *args, **kwargs)
            except AuthError as exc:
                return error_response(exc.code, STATUS_OF[exc.code])
            except ApiError as exc:
                return error_response(exc.code, exc.status, exc.detail, **exc.extra)
        return wrapper
    return decorate


def same_school(who: Identity, request) -> None:
    """The school comes from the identity only: a request naming another UAI is refused."""
    named = (request.query_params or {}).get("uai")
    if named is not None and named != who.uai:
        raise ApiError("FORBIDDEN", "Ces données ne sont pas celles de votre établissement.")


def body_of(request) -> dict:
    try:
        body = request.json_body
    except BadRequestError as exc:
        raise ApiError("BAD_REQUEST", "Le corps de la requête n'est pas du JSON valide.") from exc
    if not isinstance(body, dict):
        raise ApiError("BAD_REQUEST", "Le corps de la requête doit être un objet JSON.")
    return body


def pdf_response(data: bytes, name: str) -> Response:
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{name}"'})


def current_school(rt, uai: str):
    return rt.repos.schools.get(uai)
