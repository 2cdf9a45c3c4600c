"""The API's contract (chalicelib/api/openapi.py): the same routes as app.py, a valid OpenAPI 3.1
document, served in public at /openapi.json, every request body bounded and validated against it,
and the framework's own errors in the API's French error shape."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from chalice.test import Client
from openapi_spec_validator import validate

import app as app_module
from chalicelib.api import errors, openapi
from chalicelib.api.auth import issue_token
from chalicelib.domain import catalogue

DOC = openapi.document()


def _documented() -> dict[tuple[str, str], dict]:
    return {(path, method.upper()): op for path, item in DOC["paths"].items() for method, op in item.items()}


def test_every_route_is_documented_and_every_documented_operation_is_routed():
    routed = {(path, method): entry for path, methods in app_module.app.routes.items()
              for method, entry in methods.items()}
    documented = _documented()
    assert set(routed) == set(documented), set(routed) ^ set(documented)
    for key, entry in routed.items():
        assert documented[key]["operationId"] == entry.view_name, key
    ids = [op["operationId"] for op in documented.values()]
    assert len(ids) == len(set(ids))


def test_the_document_is_valid_openapi_3_1():
    validate(DOC)
    assert DOC["openapi"].startswith("3.1")
    assert DOC["components"]["securitySchemes"]["jeton"] == {**DOC["components"]["securitySchemes"]["jeton"],
                                                             "type": "http", "scheme": "bearer"}


def test_public_routes_are_the_page_its_files_the_contract_and_the_development_login():
    public = {path for (path, _m), op in _documented().items() if op.get("security") == []}
    assert public == {"/", "/app.js", "/dsfr/{name}", "/openapi.json", "/dev/etablissements", "/dev/connexion"}
    for (path, _m), op in _documented().items():
        if path not in public:
            assert {"401", "403"} <= set(op["responses"]), path
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert response == {"$ref": f"#/components/responses/E{status}"}, (path, status)


def _unbounded(schema: dict, where: str, defs: dict, seen: set) -> list[str]:
    """The places of a schema where a value has no size bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        return _unbounded(defs[name], where, defs, seen | {name})
    out = []
    types = schema.get("type")
    types = set(types if isinstance(types, list) else [types] if types else [])
    if "enum" in schema or "const" in schema:
        return out
    for sub in schema.get("oneOf", []) + schema.get("anyOf", []):
        out += _unbounded(sub, where, defs, seen)
    if "string" in types and "maxLength" not in schema:
        out.append(where + " (texte)")
    if "array" in types:
        if "maxItems" not in schema:
            out.append(where + " (liste)")
        out += _unbounded(schema.get("items", {}), where + "/*", defs, seen)
    if "object" in types:
        if "maxProperties" not in schema and schema.get("additionalProperties", True) is not False:
            out.append(where + " (objet)")
        for name, sub in (schema.get("properties") or {}).items():
            out += _unbounded(sub, f"{where}/{name}", defs, seen)
        if isinstance(schema.get("additionalProperties"), dict):
            out += _unbounded(schema["additionalProperties"], where + "/*", defs, seen)
    return out


def test_every_request_body_is_bounded():
    defs = DOC["components"]["schemas"]
    assert _unbounded({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}},
                      "x", {}, set()) == ["x (objet)", "x/a (liste)", "x/a/* (texte)"], "the checker finds them"
    bodies = {op["operationId"]: op for op in _documented().values() if "requestBody" in op}
    assert set(bodies) == set(openapi.BODIES)
    for op_id, op in bodies.items():
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert _unbounded(schema, op_id, defs, set()) == []
        assert 0 < op["x-lsu-max-octets"] <= openapi.MAX_REQUEST_BYTES
        assert {"413", "415"} <= set(op["responses"])
    assert openapi.MAX_REQUEST_BYTES < 10 * 1024 * 1024, "API Gateway takes at most 10 MB a request"
    # An inline export, base64 in JSON, fits in a request.
    assert (openapi.EXPORTS_INLINE_MAX_BYTES + 2) // 3 * 4 + 1024 < openapi.MAX_REQUEST_BYTES


def test_the_bounds_agree_with_the_exports_reader():
    from chalicelib.referentiel.exports import MAX_EXPORT_BYTES
    assert openapi.EXPORT_FILE_MAX_BYTES == MAX_EXPORT_BYTES
    assert openapi.EXPORT_FILE_MAX_BYTES <= openapi.EXPORTS_DEPOT_MAX_BYTES


def test_the_error_codes_of_the_contract_are_in_the_catalogue():
    for code in (openapi.ERROR_CODE, "REQUETE_TROP_VOLUMINEUSE", "EXPORT_NON_DEPOSE", *openapi.LEGACY_CODES.values()):
        assert code in catalogue.CATALOGUE


def test_openapi_json_is_served_in_public():
    with Client(app_module.app) as client:
        r = client.http.get("/openapi.json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert json.loads(r.body) == json.loads(json.dumps(DOC))
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("method, path, headers, status, code", [
    ("POST", "/imports", {"Content-Type": "text/plain"}, 415, "REQUETE_NON_CONFORME"),
    ("DELETE", "/imports", {}, 405, "BAD_REQUEST"),
])
def test_the_framework_s_own_errors_have_the_french_error_shape(method, path, headers, status, code):
    with Client(app_module.app) as client:
        r = client.http.request(method, path, headers=headers, body=b"x")
    body = json.loads(r.body)
    assert r.status_code == status and body["erreur"]["code"] == code and body["erreur"]["niveau"] == "ERREUR"
    assert set(body) == {"erreur"} and body["erreur"]["message"]
    if status == 405:
        assert r.headers["Allow"]


def test_a_pdf_asked_without_accepting_it_and_an_unhandled_error_are_french_too():
    from chalice import Response
    binary = Response(body={"Code": "BadRequest", "Message": "Request did not specify an Accept header with "
                            "application/pdf, …"}, status_code=400)
    erreur = json.loads(errors.french_framework_errors(binary).body)["erreur"]
    assert erreur["code"] == "BAD_REQUEST" and "Accept" in erreur["message"]
    crash = errors.french_framework_errors(Response(body={"Code": "InternalServerError", "Message": "An internal "
                                                          "server error occurred."}, status_code=500))
    assert crash.status_code == 500 and json.loads(crash.body)["erreur"]["code"] == "ERREUR_TECHNIQUE"
    ours = Response(body='{"erreur": {}}', status_code=400)
    assert errors.french_framework_errors(ours) is ours


def _request(body, role: str = "CE", raw: bytes | None = None):
    from chalicelib.config import Settings
    token = issue_token(Settings.from_env({}).token_secret, "0750001A", role)
    ns = SimpleNamespace(headers={"Authorization": f"Bearer {token}"}, context=None, query_params=None, json_body=body)
    if raw is not None:
        ns.raw_body = raw
    return ns


@pytest.mark.parametrize("op, body, pointer, text", [
    ("create_import", {"nom_fichier": "a.xml", "taille": "12"}, "/taille", "doit être un nombre entier"),
    ("create_import", {"nom_fichier": "a.xml"}, "/", "« taille » est obligatoire"),
    ("create_import", {"nom_fichier": "a" * 256, "taille": 1}, "/nom_fichier", "au plus 255 caractères"),
    ("create_import", {"nom_fichier": "a.xml", "taille": 1, "x": 1}, "/", "champ(s) inconnu(s) : « x »"),
    ("create_exports_depot", {"fichiers": [{"nom": "a", "taille": 0}]}, "/fichiers/0/taille",
     "supérieur ou égal à 1"),
    ("create_exports_depot", {"fichiers": []}, "/fichiers", "au moins 1 élément"),
    ("import_referentiel_exports", {"depot": "../autre"}, "/depot", "n'a pas la forme attendue"),
    ("edit_bilan", {"valeur": "x" * 2001}, "/valeur", "au plus 2000 caractères"),
    ("edit_bilan", {"valeur": [[[["x"] * 101]]]}, "/valeur/0/0/0", "au plus 100 élément(s)"),
    ("dev_login", {"uai": "0750001A", "role": "ROI"}, "/role", "doit valoir"),
])
def test_a_body_outside_its_schema_is_a_french_400_naming_the_field(op, body, pointer, text):
    with pytest.raises(errors.ApiError) as exc:
        errors.validated_body(_request(body), op)
    assert exc.value.code == "REQUETE_NON_CONFORME" and exc.value.status == 400
    assert exc.value.extra["champ"] == pointer
    assert f"Champ « {pointer} »" in exc.value.detail and text in exc.value.detail, exc.value.detail


def test_the_class_settings_keep_their_code_of_before():
    with pytest.raises(errors.ApiError) as exc:
        errors.validated_body(_request({"mode_import": "AUTRE"}), "set_division_mode")
    assert exc.value.code == "BAD_REQUEST" and "/mode_import" in exc.value.detail


def test_a_valid_body_is_returned_as_is():
    body = {"nom_fichier": "export.xml", "taille": 12, "pre_controle": True}
    assert errors.validated_body(_request(body), "create_import") == body
    assert errors.validated_body(_request(None, raw=json.dumps(body).encode()), "create_import") == body


def test_parameters_are_checked_against_the_document():
    from chalicelib.api import bilans
    from chalicelib.config import Settings
    from chalicelib.runtime import memory_runtime
    rt = memory_runtime(Settings.from_env({}))
    r = bilans.get_bilan(_request(None), rt, "12a", "P-2025-3-1")
    body = json.loads(r.body)
    assert r.status_code == 400 and body["erreur"]["code"] == "REQUETE_NON_CONFORME"
    assert body["erreur"]["champ"] == "id_be" and "« id_be » (chemin)" in body["erreur"]["message"]
    request = _request(None)
    request.query_params = {"division": "6A", "statut": "FINI"}
    r = bilans.search_bilans(request, rt)
    assert r.status_code == 400 and json.loads(r.body)["erreur"]["champ"] == "statut"
