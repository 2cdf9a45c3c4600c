"""The API's contract: an OpenAPI 3.1 document (served at `GET /openapi.json`), from which the routes
validate what they receive (`errors.validated_body`, the parameters in `errors.endpoint`).

Every operation's `operationId` is the name of its Chalice view function (app.py), so that a test
checks that the document and the routes are the same set. Every request body has a bound: its
schema's `maxLength` / `maxItems` / `maxProperties`, and `x-lsu-max-octets`, the raw size checked
before the body is parsed (413 `REQUETE_TROP_VOLUMINEUSE`). A body outside its schema: 400
`REQUETE_NON_CONFORME` naming the field (JSON pointer), unless the operation keeps an older code
(`x-lsu-code-erreur`)."""
from __future__ import annotations

import copy
import json
from functools import lru_cache

from chalicelib.domain.merge import EDITABLE
from chalicelib.domain.vocabulary import ImportStatut, Mode, Niveau, Role, SystemeEvaluation

KB = 1024
MB = 1024 * KB
# A request the Lambda function receives is at most 6 MB (synchronous invocation; API Gateway
# itself takes 10 MB): no body may exceed it.
MAX_REQUEST_BYTES = 6 * MB
# The exports sent inline (base64 in JSON): at most this many bytes once decoded, so that the
# request stays under MAX_REQUEST_BYTES; larger ones go through a deposit (presigned upload).
EXPORTS_INLINE_MAX_BYTES = 4 * MB
# A deposit of exports (POST /referentiel/exports/depots): 1 to 5 files, each at most
# EXPORT_FILE_MAX_BYTES (chalicelib.referentiel.exports.MAX_EXPORT_BYTES), all together at most
# EXPORTS_DEPOT_MAX_BYTES.
EXPORTS_MAX_FILES = 5
EXPORT_FILE_MAX_BYTES = 50 * MB
EXPORTS_DEPOT_MAX_BYTES = 80 * MB
SMALL_BODY_BYTES = 64 * KB

ERROR_CODE = "REQUETE_NON_CONFORME"


# --- schemas -----------------------------------------------------------------------------------------

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _str(max_length: int = 200, **kw) -> dict:
    return {"type": "string", "maxLength": max_length, **kw}


NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}

SCHEMAS: dict = {
    "Message": {
        "type": "object", "description": "Un message du catalogue : code stable, niveau, texte français, conseil.",
        "required": ["code", "niveau", "message"],
        "properties": {"code": {"type": "string"}, "niveau": {"enum": list(Niveau)}, "message": {"type": "string"},
                       "conseil": {"type": "string"}, "champ": {"type": "string"}},
    },
    "Erreur": {
        "type": "object", "description": "Toute erreur de l'API : `{\"erreur\": {code, niveau, message, conseil?, …}}`.",
        "required": ["erreur"],
        "properties": {"erreur": _ref("Message"), "erreurs": {"type": "array", "items": {"type": "object"}}},
    },
    "Etablissement": {
        "type": "object", "required": ["uai"],
        "properties": {"uai": {"type": "string"}, "nom": NULLABLE_STR},
    },
    "FormulaireDepot": {
        "type": "object", "description": "Un formulaire de dépôt S3 (POST multipart : les champs, puis le fichier « file »).",
        "required": ["url", "fields"],
        "properties": {"url": {"type": "string"}, "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
    "Import": {
        "type": "object", "required": ["import_id", "uai", "statut", "pre_controle", "fichier", "progression", "totaux"],
        "properties": {
            "import_id": {"type": "string"}, "uai": {"type": "string"}, "statut": {"enum": list(ImportStatut)},
            "pre_controle": {"type": "boolean"},
            "fichier": {"type": "object", "properties": {"nom": NULLABLE_STR, "taille": NULLABLE_INT, "sha256": NULLABLE_STR}},
            "cree_le": NULLABLE_STR, "termine_le": NULLABLE_STR,
            "progression": {"type": "object", "properties": {"traites": {"type": "integer"}, "total": NULLABLE_INT}},
            "totaux": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
    "ImportCree": {
        "type": "object", "required": ["import_id", "statut", "upload", "expire_a"],
        "properties": {"import_id": {"type": "string"}, "statut": {"const": "EN_ATTENTE_FICHIER"},
                       "upload": _ref("FormulaireDepot"), "expire_a": {"type": "string"}},
    },
    "Synthese": {
        "type": "object", "description": "La synthèse d'import (docs/contrats.md).",
        "required": ["statut", "totaux", "bilans"],
        "properties": {"import_id": NULLABLE_STR, "statut": {"enum": list(ImportStatut)},
                       "totaux": {"type": "object"}, "bilans": {"type": "array", "items": {"type": "object"}},
                       "messages": {"type": "array", "items": {"type": "object"}},
                       "erreurs_fichier": {"type": "array", "items": {"type": "object"}}},
    },
    "Bilan": {
        "type": "object", "description": "Un bilan tel que LSU le présente, chaque partie avec sa provenance.",
        "required": ["type", "cle", "eleve", "verrouille", "statut"],
        "properties": {"type": NULLABLE_STR, "cle": NULLABLE_STR, "eleve": {"type": "object"},
                       "mode": NULLABLE_STR, "verrouille": {"type": "boolean"}, "statut": {"type": "string"},
                       "manquants": {"type": "array", "items": {"type": "string"}}},
    },
    "ResumeBilan": {
        "type": "object", "required": ["id_be", "bilan", "statut", "verrouille", "provenances"],
        "properties": {"id_be": NULLABLE_STR, "nom": NULLABLE_STR, "prenom": NULLABLE_STR, "division": NULLABLE_STR,
                       "bilan": NULLABLE_STR, "type": NULLABLE_STR, "statut": NULLABLE_STR, "mode": NULLABLE_STR,
                       "verrouille": {"type": "boolean"}, "provenances": {"type": "array", "items": {"type": "string"}}},
    },
    "VersionReferentiel": {
        "type": "object", "required": ["uai", "version", "resume"],
        "properties": {"uai": {"type": "string"}, "version": {"type": "string"},
                       "resume": {"type": "object", "additionalProperties": {"type": "integer"}}},
    },
    "RapportExports": {
        "type": "object", "required": ["uai", "pre_controle", "rapport"],
        "properties": {"uai": {"type": "string"}, "version": {"type": "string"}, "pre_controle": {"type": "boolean"},
                       "resume": {"type": "object"}, "rapport": {"type": "object"}},
    },
    "DepotCree": {
        "type": "object", "required": ["depot", "expire_a", "taille_max", "fichiers"],
        "properties": {
            "depot": {"type": "string"}, "expire_a": {"type": "string"}, "taille_max": {"type": "integer"},
            "fichiers": {"type": "array", "items": {
                "type": "object", "required": ["n", "nom", "taille", "upload"],
                "properties": {"n": {"type": "integer"}, "nom": {"type": "string"}, "taille": {"type": "integer"},
                               "upload": _ref("FormulaireDepot")}}},
        },
    },
    # A value entered in a bilan: any JSON, bounded (its form is checked by LSU's rules: SAISIE_INVALIDE).
    "ValeurSaisie": {
        "type": ["null", "boolean", "integer", "number", "string", "array", "object"],
        "maxLength": 2000, "maxItems": 100, "maxProperties": 20,
        "items": _ref("ValeurSaisie"), "additionalProperties": _ref("ValeurSaisie"),
    },
}

_DEPOT_ID = {"type": "string", "pattern": "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$", "maxLength": 40}

BODIES: dict = {
    "dev_login": {
        "type": "object", "required": ["uai", "role"], "additionalProperties": False,
        "properties": {"uai": {"type": "string", "minLength": 8, "maxLength": 8}, "role": {"enum": list(Role)},
                       "id_sts": {"type": ["string", "null"], "maxLength": 64}},
    },
    "create_import": {
        "type": "object", "required": ["nom_fichier", "taille"], "additionalProperties": False,
        "properties": {"nom_fichier": {"type": "string", "minLength": 1, "maxLength": 255},
                       "taille": {"type": "integer", "minimum": 0, "maximum": 2 ** 53},
                       "pre_controle": {"type": "boolean"},
                       "dry_run": {"type": "boolean", "deprecated": True, "description": "ancien nom de pre_controle"}},
    },
    "put_referentiel": {
        "type": "object", "maxProperties": 20,
        "description": "Le référentiel de l'établissement (chalicelib/referentiel/schema.json, docs/referentiel.md) ; "
                       "ses erreurs : 400 REFERENTIEL_INVALIDE avec la liste `erreurs`.",
    },
    "import_referentiel_exports": {
        "type": "object", "additionalProperties": False, "maxProperties": 2,
        "description": "Les exports, soit en ligne (base64, au plus EXPORTS_INLINE_MAX_BYTES décodés), soit "
                       "déposés au préalable (POST /referentiel/exports/depots), désignés par `depot`.",
        "properties": {
            "pre_controle": {"type": "boolean"},
            "fichiers": {"type": "array", "minItems": 1, "maxItems": EXPORTS_MAX_FILES, "items": {
                "type": "object", "required": ["contenu"], "additionalProperties": False,
                "properties": {"nom": {"type": ["string", "null"], "maxLength": 255},
                               "contenu": {"type": "string", "maxLength": MAX_REQUEST_BYTES}}}},
            "depot": _DEPOT_ID,
        },
        "oneOf": [{"required": ["fichiers"]}, {"required": ["depot"]}],
    },
    "create_exports_depot": {
        "type": "object", "required": ["fichiers"], "additionalProperties": False,
        "properties": {"fichiers": {"type": "array", "minItems": 1, "maxItems": EXPORTS_MAX_FILES, "items": {
            "type": "object", "required": ["nom", "taille"], "additionalProperties": False,
            "properties": {"nom": {"type": "string", "minLength": 1, "maxLength": 255},
                           "taille": {"type": "integer", "minimum": 1, "maximum": EXPORT_FILE_MAX_BYTES}}}}},
    },
    "set_division_mode": {
        "type": "object", "required": ["mode_import"], "additionalProperties": False,
        "properties": {"mode_import": {"enum": list(Mode)}},
    },
    "set_division_evaluation": {
        "type": "object", "required": ["systeme_evaluation"], "additionalProperties": False,
        "properties": {"systeme_evaluation": {"enum": [*SystemeEvaluation, None]}},
    },
    "edit_bilan": {
        "type": "object", "required": ["valeur"], "additionalProperties": False,
        "properties": {"valeur": _ref("ValeurSaisie"), "discipline": {"type": ["string", "null"], "maxLength": 60}},
    },
}

MAX_BYTES = {"import_referentiel_exports": MAX_REQUEST_BYTES, "put_referentiel": MAX_REQUEST_BYTES}
# The routes whose malformed bodies kept their code of before the contract (clients rely on it).
LEGACY_CODES = {"set_division_mode": "BAD_REQUEST", "set_division_evaluation": "BAD_REQUEST"}


# --- parameters ----------------------------------------------------------------------------------

def _path(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


P_IMPORT = _path("import_id", _str(80, minLength=1, pattern="^[^/]+$"), "identifiant de l'import (`<UAI>-<date>-<aléa>`)")
P_ID_BE = _path("id_be", _str(20, pattern="^[0-9]+$"), "identifiant SIECLE (id-be) de l'élève")
P_BILAN = _path("bilan", _str(40, pattern="^(P-[0-9]+-[0-9]+-[0-9]+|C-[0-9]+-[0-9]+)$"),
                "P-MILLESIME-NB-INDICE (bilan périodique) ou C-CYCLE-MILLESIME (fin de cycle)")
P_PART = _path("part", {"enum": list(EDITABLE)}, "la partie saisie")
P_CODE = _path("code", _str(40, minLength=1, pattern="^[^/]+$"), "code de la classe (division)")
P_NAME = _path("name", _str(120, minLength=1, pattern="^[^/]+$"), "nom d'un fichier du DSFR (liste du manifeste)")
Q_DIVISION = _query("division", _str(500), "code d'une classe")
Q_BILAN = _query("bilan", _str(40), "un bilan (P-…, C-…)")
Q_STATUT = _query("statut", {"enum": ["COMPLET", "A_COMPLETER", "VERROUILLE"]}, "état des bilans")
Q_PROVENANCE = _query("provenance", {"enum": ["IMPORT", "SAISIE"]}, "provenance d'une partie")
Q_ELEVE = _query("eleve", _str(20), "identifiant SIECLE (id-be) d'un élève")


# --- responses -----------------------------------------------------------------------------------

_ERROR_TEXT = {400: "requête invalide ou non conforme", 401: "authentification requise (AUTH_REQUIRED)",
               403: "droits insuffisants ou autre établissement (FORBIDDEN…)", 404: "introuvable (NOT_FOUND)",
               409: "conflit : référentiel absent, modification concurrente, bilan verrouillé…",
               413: "corps de requête ou fichier trop volumineux", 415: "type de contenu non pris en charge"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _binary(media: str, description: str) -> dict:
    return {"description": description, "content": {media: {"schema": {"type": "string", "format": "binary"}}}}


def _errors(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


AUTH = (400, 401, 403)


def _op(op_id: str, summary: str, responses: dict, *, errors=AUTH, parameters=(), public: bool = False,
        body: bool = False, tags=(), links: dict | None = None) -> dict:
    op = {"operationId": op_id, "summary": summary, "tags": list(tags),
          "responses": {**responses, **_errors(*errors)}}
    if parameters:
        op["parameters"] = list(parameters)
    if public:
        op["security"] = []
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": BODIES[op_id]}}}
        op["responses"].update(_errors(413, 415))
        op["x-lsu-max-octets"] = MAX_BYTES.get(op_id, SMALL_BODY_BYTES)
        if op_id in LEGACY_CODES:
            op["x-lsu-code-erreur"] = LEGACY_CODES[op_id]
    if links:
        first = next(iter(responses))
        op["responses"][first] = {**op["responses"][first], "links": links}
    return op


def _link(op_id: str, parameters: dict, description: str, body=None) -> dict:
    link = {"operationId": op_id, "parameters": parameters, "description": description}
    if body is not None:
        link["requestBody"] = body
    return link


_BILAN_PARAMS = {"id_be": "$request.path.id_be", "bilan": "$request.path.bilan"}
_BILAN_LINKS = {
    "VoirLeBilan": _link("get_bilan", _BILAN_PARAMS, "le bilan après la saisie"),
    "PdfDuBilan": _link("bilan_pdf", _BILAN_PARAMS, "le PDF du bilan après la saisie"),
}
_FROM_SEARCH = {"id_be": "$response.body#/bilans/0/id_be", "bilan": "$response.body#/bilans/0/bilan"}
_SEARCH_LINKS = {
    "VoirLePremier": _link("get_bilan", _FROM_SEARCH, "le premier bilan trouvé"),
    "SaisirLePremier": _link("edit_bilan", {**_FROM_SEARCH, "part": "acquis_conseils"},
                             "saisir l'appréciation générale du premier bilan trouvé",
                             {"valeur": "Élève sérieux, de bons progrès ce trimestre."}),
    "PdfDuPremier": _link("bilan_pdf", _FROM_SEARCH, "le PDF du premier bilan trouvé"),
}
_IMPORT_LINKS = {
    "LireLImport": _link("get_import", {"import_id": "$response.body#/import_id"}, "l'import créé"),
    "SaSynthese": _link("get_synthese", {"import_id": "$response.body#/import_id"}, "la synthèse de l'import"),
}
_FROM_LIST = {"import_id": "$response.body#/imports/0/import_id"}


def _paths() -> dict:
    ok = lambda schema, text="succès": {"200": _json(schema, text)}  # noqa: E731
    pdf = {"200": _binary("application/pdf", "le document PDF")}
    return {
        "/": {"get": _op("index", "La page de l'application (HTML).", {"200": _binary("text/html", "la page")},
                         errors=(), public=True, tags=["web"])},
        "/app.js": {"get": _op("script", "Le script de la page.", {"200": _binary("application/javascript", "le script")},
                               errors=(), public=True, tags=["web"])},
        "/openapi.json": {"get": _op("openapi_document", "Ce document (OpenAPI 3.1).",
                                     ok({"type": "object", "required": ["openapi", "paths"]}, "le contrat de l'API"),
                                     errors=(), public=True, tags=["web"])},
        "/dsfr/{name}": {"get": _op("dsfr_asset", "Un fichier du système de design de l'État (liste du manifeste).", {
            "200": {"description": "le fichier", "content": {
                m: {"schema": {"type": "string"}} for m in
                ("text/css", "text/javascript", "image/svg+xml", "font/woff2", "font/woff")}}},
            errors=(404,), parameters=[P_NAME], public=True, tags=["web"])},
        "/dev/etablissements": {"get": _op(
            "dev_schools", "Étape locale uniquement (404 ailleurs) : les établissements et les personnes d'essai.",
            ok({"type": "object", "required": ["etablissements"],
                "properties": {"etablissements": {"type": "array", "items": {"type": "object"}}}}),
            errors=(404,), public=True, tags=["développement"])},
        "/dev/connexion": {"post": _op(
            "dev_login", "Étape locale uniquement (404 ailleurs) : un jeton de développement.",
            ok({"type": "object", "required": ["jeton"], "properties": {"jeton": {"type": "string"}}}),
            errors=(400, 404), public=True, body=True, tags=["développement"])},
        "/divisions": {"get": _op(
            "list_divisions", "Les classes que l'appelant peut voir (niveau, mode d'import, système d'évaluation).",
            ok({"type": "object", "required": ["etablissement", "divisions"],
                "properties": {"etablissement": _ref("Etablissement"),
                               "divisions": {"type": "array", "items": {"type": "object", "required": ["code"]}}}}),
            errors=(*AUTH, 409), tags=["bilans"])},
        "/tableau-de-bord": {"get": _op(
            "get_dashboard", "Le tableau de bord : par classe et par période, les bilans importés, à compléter, verrouillés.",
            ok({"type": "object", "required": ["etablissement", "classes"],
                "properties": {"etablissement": _ref("Etablissement"), "classes": {"type": "array"}}}),
            errors=(*AUTH, 404, 409), parameters=[Q_DIVISION], tags=["bilans"])},
        "/imports": {
            "post": _op("create_import", "Crée un import et son formulaire de dépôt S3 (le fichier LSU y est déposé).",
                        {"201": _json(_ref("ImportCree"), "l'import, en attente de son fichier")},
                        errors=(*AUTH, 409), body=True, tags=["imports"], links=_IMPORT_LINKS),
            "get": _op("list_imports", "Les 50 derniers imports de l'établissement.",
                       {"200": {**_json({"type": "object", "required": ["imports"],
                                         "properties": {"imports": {"type": "array", "items": _ref("Import")}}},
                                        "les imports"),
                                "links": {"LireLePremier": _link("get_import", _FROM_LIST, "le plus récent"),
                                          "SynthèseDuPremier": _link("get_synthese", _FROM_LIST, "sa synthèse")}}},
                       tags=["imports"]),
        },
        "/imports/{import_id}": {"get": _op(
            "get_import", "L'état d'un import (statut, progression, totaux).", ok(_ref("Import")),
            errors=(*AUTH, 404), parameters=[P_IMPORT], tags=["imports"],
            links={"SaSynthese": _link("get_synthese", {"import_id": "$request.path.import_id"}, "sa synthèse")})},
        "/imports/{import_id}/synthese": {"get": _op(
            "get_synthese", "La synthèse d'un import : JSON, `?format=csv` (tableur) ou `?format=pdf`.",
            {"200": {"description": "la synthèse", "content": {
                "application/json": {"schema": _ref("Synthese")},
                "text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
            errors=(*AUTH, 404), parameters=[P_IMPORT, _query("format", {"enum": ["json", "csv", "pdf"]}, "format")],
            tags=["imports"])},
        "/referentiel": {
            "put": _op("put_referentiel", "Remplace le référentiel (`If-Match` : la version lue ; `If-None-Match: *` : "
                       "seulement s'il n'y en a pas).", ok(_ref("VersionReferentiel"), "la nouvelle version"),
                       errors=(*AUTH, 409), body=True, tags=["référentiel"],
                       parameters=[{"name": "If-Match", "in": "header", "required": False, "schema": _str(100)},
                                   {"name": "If-None-Match", "in": "header", "required": False, "schema": _str(100)}]),
            "get": _op("get_referentiel", "Le référentiel en vigueur ; `ETag` : sa version.",
                       {"200": _json({"type": "object", "required": ["etablissement", "millesime"]}, "le référentiel",
                                     {"ETag": {"schema": {"type": "string"}, "description": "la version"}})},
                       errors=(*AUTH, 409), tags=["référentiel"]),
        },
        "/referentiel/exports": {"post": _op(
            "import_referentiel_exports", "Met à jour le référentiel depuis les exports SIECLE et STS Web, envoyés en "
            "ligne ou déposés (`depot`).", ok(_ref("RapportExports"), "le compte rendu (et la version enregistrée)"),
            errors=(*AUTH, 404, 409), body=True, tags=["référentiel"])},
        "/referentiel/exports/depots": {"post": _op(
            "create_exports_depot", "Annonce les exports à déposer : un formulaire de dépôt S3 par fichier, borné par "
            "sa taille annoncée.", {"201": _json(_ref("DepotCree"), "le dépôt et ses formulaires")},
            errors=AUTH, body=True, tags=["référentiel"])},
        "/referentiel/divisions/{code}/mode": {"put": _op(
            "set_division_mode", "Le mode d'import d'une classe (chef d'établissement).", ok(_ref("VersionReferentiel")),
            errors=(*AUTH, 404, 409), parameters=[P_CODE], body=True, tags=["référentiel"])},
        "/referentiel/divisions/{code}/evaluation": {"put": _op(
            "set_division_evaluation", "Le système d'évaluation d'une classe (chef d'établissement).",
            ok(_ref("VersionReferentiel")), errors=(*AUTH, 404, 409), parameters=[P_CODE], body=True,
            tags=["référentiel"])},
        "/bilans": {"get": _op(
            "search_bilans", "Recherche de bilans, par classe (`division`) ou par élève (`eleve`).",
            {"200": {**_json({"type": "object", "required": ["bilans"],
                              "properties": {"bilans": {"type": "array", "items": _ref("ResumeBilan")}}}, "les bilans"),
                     "links": _SEARCH_LINKS}},
            parameters=[Q_DIVISION, Q_ELEVE, Q_BILAN, Q_STATUT, Q_PROVENANCE], tags=["bilans"])},
        "/bilans/{id_be}/{bilan}": {"get": _op(
            "get_bilan", "Un bilan.", ok(_ref("Bilan")), errors=(*AUTH, 404), parameters=[P_ID_BE, P_BILAN],
            tags=["bilans"], links={"SonPdf": _link("bilan_pdf", _BILAN_PARAMS, "son PDF"),
                                    "LeVerrouiller": _link("lock_bilan", _BILAN_PARAMS, "le verrouiller")})},
        "/bilans/{id_be}/{bilan}/pdf": {"get": _op(
            "bilan_pdf", "Le PDF d'un bilan.", pdf, errors=(*AUTH, 404), parameters=[P_ID_BE, P_BILAN], tags=["bilans"])},
        "/bilans/{id_be}/{bilan}/parties/{part}": {"put": _op(
            "edit_bilan", "Saisit (ou efface, `valeur: null`) une partie d'un bilan ; `discipline` : la clé de l'acquis "
            "pour les éléments de programme.", ok(_ref("Bilan"), "le bilan après la saisie"),
            errors=(*AUTH, 404, 409), parameters=[P_ID_BE, P_BILAN, P_PART], body=True, tags=["bilans"],
            links=_BILAN_LINKS)},
        "/bilans/{id_be}/{bilan}/verrou": {
            "put": _op("lock_bilan", "Verrouille un bilan complet.", ok(_ref("Bilan")), errors=(*AUTH, 404, 409),
                       parameters=[P_ID_BE, P_BILAN], tags=["bilans"],
                       links={**_BILAN_LINKS, "LeDeverrouiller": _link("unlock_bilan", _BILAN_PARAMS, "le déverrouiller")}),
            "delete": _op("unlock_bilan", "Déverrouille un bilan (chef d'établissement ; jamais un bilan Éditeur).",
                          ok(_ref("Bilan")), errors=(*AUTH, 404, 409), parameters=[P_ID_BE, P_BILAN], tags=["bilans"],
                          links=_BILAN_LINKS),
        },
        "/divisions/{code}/pdf": {"get": _op(
            "division_pdf", "Les PDF des bilans d'une classe.", pdf, errors=(*AUTH, 404),
            parameters=[P_CODE, Q_BILAN, Q_STATUT, Q_PROVENANCE], tags=["bilans"])},
        "/divisions/{code}/brevet": {"get": _op(
            "division_brevet", "Le tableau « Brevet 2026 » d'une classe de 3e (JSON ou `?format=csv`).",
            {"200": {"description": "le tableau", "content": {"application/json": {"schema": {"type": "object"}},
                                                              "text/csv": {"schema": {"type": "string"}}}}},
            errors=(*AUTH, 404, 409), parameters=[P_CODE, _query("format", {"enum": ["json", "csv"]}, "format")],
            tags=["brevet"])},
    }


@lru_cache(maxsize=1)
def document() -> dict:
    """The OpenAPI 3.1 document of the API (the same on every stage: /dev/* answer 404 off the local one)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "lsu-import — Bilans > Import", "version": "1.0.0",
                 "description": "L'import des bilans LSU, le référentiel de l'établissement, la saisie et les PDF. "
                                "Messages et erreurs en français, codes stables (docs/contrats.md). Tout corps de "
                                "requête est borné (`x-lsu-max-octets`, 413 REQUETE_TROP_VOLUMINEUSE) et validé par "
                                "son schéma (400 REQUETE_NON_CONFORME, le champ nommé par un pointeur JSON)."},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "security": [{"jeton": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"jeton": {
                "type": "http", "scheme": "bearer",
                "description": "Sur AWS, le jeton d'identité Cognito (groupes = rôles, `custom:uai`) ; sur l'étape "
                               "locale, un jeton de développement (POST /dev/connexion)."}},
            "schemas": SCHEMAS,
            "responses": {f"E{s}": _json(_ref("Erreur"), text) for s, text in _ERROR_TEXT.items()},
        },
    }


@lru_cache(maxsize=1)
def document_json() -> str:
    return json.dumps(document(), ensure_ascii=False)


def operations() -> dict[str, tuple[str, str, dict]]:
    """operationId → (path, method, operation)."""
    return {op["operationId"]: (path, method, op)
            for path, item in document()["paths"].items() for method, op in item.items()}


@lru_cache(maxsize=None)
def body_schema(op_id: str) -> dict:
    """The request body's schema of an operation, standalone (its `$ref`s resolvable)."""
    return {**copy.deepcopy(BODIES[op_id]), "components": {"schemas": SCHEMAS}}
