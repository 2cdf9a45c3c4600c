"""The API's shared machinery: errors as French JSON with stable codes, the caller's identity and
rights (`endpoint`), JSON bodies. The routes by resource: imports.py, referentiel.py, bilans.py,
dev.py (app.py routes to them)."""
from __future__ import annotations

import json
from functools import lru_cache, wraps

from chalice import BadRequestError, Response
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from chalicelib.api import openapi
from chalicelib.api.auth import AuthError, Identity, authorize, identify_request
from chalicelib.domain import catalogue

STATUS_OF = {"AUTH_REQUIRED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "REFERENTIEL_ABSENT": 409,
             "REQUETE_TROP_VOLUMINEUSE": 413, "EXPORT_NON_DEPOSE": 409}


class ApiError(Exception):
    def __init__(self, code: str, detail: str | None = None, status: int | None = None, **extra):
        super().__init__(code)
        self.code, self.detail, self.extra = code, detail, extra
        self.status = status or STATUS_OF.get(code, 400)


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def error_response(code: str, status: int, detail: str | None = None, headers: dict | None = None,
                   **extra) -> Response:
    return json_response({"erreur": catalogue.message(code, detail, **extra)}, status, headers)


def endpoint(action: str):
    """Identify the caller, authorize the action, map our errors to French JSON responses."""
    def decorate(fn):
        @wraps(fn)
        def wrapper(request, rt, *args, **kwargs):
            try:
                identity = identify_request(request, rt.settings)
                authorize(identity, action)
                same_school(identity, request)
                check_parameters(fn.__name__, request, args)
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


def body_of(request, max_bytes: int = openapi.MAX_REQUEST_BYTES) -> dict:
    """The JSON object a request carries: its raw size bounded before it is parsed (413
    REQUETE_TROP_VOLUMINEUSE), unreadable JSON or anything but an object refused (BAD_REQUEST)."""
    raw = getattr(request, "raw_body", None)
    try:
        if raw is None:                     # a request built by a unit test: its body only
            body = request.json_body
        else:
            if len(raw) > max_bytes:
                raise ApiError("REQUETE_TROP_VOLUMINEUSE", f"Maximum : {max_bytes} octets pour cette requête "
                               f"(reçu : {len(raw)}).")
            body = json.loads(raw) if raw.strip() else None
    except (BadRequestError, ValueError, RecursionError) as exc:
        raise ApiError("BAD_REQUEST", "Le corps de la requête n'est pas du JSON valide.") from exc
    if not isinstance(body, dict):
        raise ApiError("BAD_REQUEST", "Le corps de la requête doit être un objet JSON.")
    return body


def validated_body(request, operation: str) -> dict:
    """The body of `operation` (its operationId in openapi.document()), bounded and valid under its
    schema; else 400 with the field named (JSON pointer) — REQUETE_NON_CONFORME, or the older code
    the operation kept."""
    op = openapi.operations()[operation][2]
    body = body_of(request, op.get("x-lsu-max-octets", openapi.SMALL_BODY_BYTES))
    error = _first_error(_validator("body", operation), body)
    if error is not None:
        pointer, text = error
        raise ApiError(op.get("x-lsu-code-erreur", openapi.ERROR_CODE), f"Champ « {pointer} » : {text}", champ=pointer)
    return body


@lru_cache(maxsize=None)
def _validator(kind: str, operation: str, name: str | None = None) -> Draft202012Validator:
    if kind == "body":
        return Draft202012Validator(openapi.body_schema(operation))
    op = openapi.operations()[operation][2]
    schema = next(p["schema"] for p in op.get("parameters", ()) if p["name"] == name)
    return Draft202012Validator(schema)


def _first_error(validator: Draft202012Validator, value) -> tuple[str, str] | None:
    try:
        error = best_match(validator.iter_errors(value))
    except RecursionError:
        return "", "valeur trop profondément imbriquée."
    if error is None:
        return None
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path) or "/"
    return pointer, french_error(error)


def check_parameters(operation: str, request, path_values) -> None:
    """The path and query parameters of `operation` under their schemas (the routes' own checks
    come after): 400 REQUETE_NON_CONFORME naming the parameter."""
    entry = openapi.operations().get(operation)
    if entry is None:
        return
    params = entry[2].get("parameters", ())
    path_params = [p["name"] for p in params if p["in"] == "path"]
    values = {**dict(zip(path_params, path_values)),
              **{p["name"]: (request.query_params or {}).get(p["name"]) for p in params if p["in"] == "query"}}
    for p in params:
        value = values.get(p["name"])
        if p["in"] not in ("path", "query") or value is None:
            continue
        error = _first_error(_validator("param", operation, p["name"]), value)
        if error is not None:
            where = "chemin" if p["in"] == "path" else "requête"
            raise ApiError(openapi.ERROR_CODE, f"Paramètre « {p['name']} » ({where}) : {error[1]}", champ=p["name"])


_TYPES = {"object": "un objet JSON", "array": "une liste", "string": "un texte", "integer": "un nombre entier",
          "number": "un nombre", "boolean": "true ou false", "null": "null"}


def _types(value) -> str:
    names = value if isinstance(value, list) else [value]
    return " ou ".join(_TYPES.get(n, str(n)) for n in names)


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def french_error(error) -> str:
    """A jsonschema error in French (what is expected, never a Python repr of a large value)."""
    v, expected = error.validator, error.validator_value
    if v == "required":
        missing = [k for k in expected if isinstance(error.instance, dict) and k not in error.instance]
        return f"« {missing[0] if missing else expected[0]} » est obligatoire."
    if v == "additionalProperties":
        extra = sorted(k for k in error.instance if k not in (error.schema.get("properties") or {}))
        return "champ(s) inconnu(s) : " + ", ".join(f"« {k[:40]} »" for k in extra[:5]) + "."
    if v == "type":
        return f"doit être {_types(expected)}."
    if v in ("enum", "const"):
        values = expected if v == "enum" else [expected]
        return "doit valoir " + ", ".join(_shown(x) for x in values) + "."
    texts = {"maxLength": "au plus {} caractères.", "minLength": "au moins {} caractère(s).",
             "maxItems": "au plus {} élément(s).", "minItems": "au moins {} élément(s).",
             "maxProperties": "au plus {} champ(s).", "minProperties": "au moins {} champ(s).",
             "minimum": "doit être supérieur ou égal à {}.", "maximum": "doit être inférieur ou égal à {}.",
             "pattern": "n'a pas la forme attendue ({})."}
    if v in texts:
        return texts[v].format(expected)
    if v == "oneOf":
        return "une seule des formes admises est attendue (par exemple « fichiers » ou « depot », pas les deux)."
    return f"valeur non conforme au contrat (règle « {v} »)."


# --- the framework's own errors, in French -----------------------------------------------------------

_FRAMEWORK = {"MethodNotAllowedError": ("BAD_REQUEST", "Méthode HTTP non prise en charge pour cette ressource."),
              "UnsupportedMediaType": (openapi.ERROR_CODE, "Type de contenu non pris en charge : le corps est du "
                                                           "JSON (application/json)."),
              "InternalServerError": ("ERREUR_TECHNIQUE", None)}
_BY_STATUS = {401: "AUTH_REQUIRED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLIT", 413: "REQUETE_TROP_VOLUMINEUSE"}


def french_framework_errors(response: Response) -> Response:
    """Chalice's own answers (unsupported method or media type, binary type not accepted, a
    ChaliceViewError, an unhandled error: `{"Code", "Message"}`) in the API's error shape,
    `{"erreur": {code, niveau, message…}}`, with their status and headers (`Allow`…)."""
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"} and response.status_code >= 400):
        return response
    code, detail = _FRAMEWORK.get(body["Code"], (_BY_STATUS.get(response.status_code, "BAD_REQUEST"), None))
    if body["Code"] == "BadRequest" and "Accept header" in str(body["Message"]):
        detail = "Ce document est binaire (PDF) : la requête doit l'accepter (en-tête Accept)."
    headers = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    return error_response(code, response.status_code, detail, headers=headers)


def pdf_response(data: bytes, name: str) -> Response:
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{name}"'})


def current_school(rt, uai: str):
    return rt.repos.schools.get(uai)
