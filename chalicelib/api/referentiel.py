"""Routes of the school's référentiel: replace it (optimistic lock), read it, a division's mode,
the SIECLE and STS Web exports."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from datetime import datetime, timezone

from chalice import Response

from chalicelib.adapters.ports import Conflict
from chalicelib.api import openapi
from chalicelib.api.auth import Identity
from chalicelib.api.errors import ApiError, current_school, endpoint, json_response, validated_body
from chalicelib.domain import catalogue
from chalicelib.domain.vocabulary import Mode, SystemeEvaluation, ou

def referentiel_key(uai: str, sha256: str) -> str:
    """Each version of a référentiel is an immutable object named by its content."""
    return f"referentiels/{uai}/{sha256}.json"


def _invalid_referentiel(errors: list[dict]) -> Response:
    return json_response({"erreur": catalogue.message("REFERENTIEL_INVALIDE"), "erreurs": errors}, 400)


def store_referentiel(rt, data: dict, previous_sha: str | None) -> dict:
    """Write a new version, then switch the school to it — only if nobody switched it since
    `previous_sha` was read (optimistic lock). A rejected référentiel changes nothing."""
    uai = data["etablissement"]["uai"]
    raw = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
    sha = hashlib.sha256(raw).hexdigest()
    key = referentiel_key(uai, sha)
    rt.repos.blobs.put(key, raw, "application/json; charset=utf-8")
    resume = {k: len(data.get(k) or []) for k in ("divisions", "eleves", "enseignants", "matieres", "services")}
    try:
        rt.repos.schools.switch_referentiel(
            uai, nom=data["etablissement"].get("nom"), millesime=data["millesime"], cle=key, sha256=sha,
            charge_le=datetime.now(timezone.utc).isoformat(timespec="seconds"), resume=resume,
            expected_sha256=previous_sha)
    except Conflict as exc:
        raise ApiError("CONFLIT", "Le référentiel a été modifié entre-temps : rechargez-le et recommencez.",
                       status=409) from exc
    return {"uai": uai, "version": sha, "resume": resume}


@endpoint("referentiel:write")
def put_referentiel(request, rt, who: Identity) -> Response:
    from chalicelib.referentiel import validate_referentiel
    data = validated_body(request, "put_referentiel")
    errors = validate_referentiel(data)
    if errors:
        return _invalid_referentiel(errors)
    uai = data["etablissement"]["uai"]
    if uai != who.uai:
        raise ApiError("UAI_MISMATCH", f"UAI du référentiel : {uai} ; votre établissement : {who.uai}.", status=403)
    # `If-Match: "<version>"` (the ETag of GET /referentiel): replace only that version, so that a
    # change made since the caller read it (a division's mode…) is never overwritten;
    # `If-None-Match: *`: only if the school has none yet.
    headers = request.headers or {}
    expected, absent = headers.get("if-match"), headers.get("if-none-match", "").strip() == "*"
    if absent:
        previous = None
    elif expected is not None and expected.strip() != "*":
        previous = expected.strip().removeprefix("W/").strip('"')
    else:
        current = current_school(rt, uai)
        if expected is not None and current is None:
            raise ApiError("CONFLIT", "Aucun référentiel à remplacer pour votre établissement.", status=409)
        previous = current.referentiel_sha256 if current else None
    return json_response(store_referentiel(rt, data, previous))


def read_referentiel(rt, uai: str) -> tuple[dict, object]:
    etab = current_school(rt, uai)
    if etab is None:
        raise ApiError("REFERENTIEL_ABSENT")
    return json.loads(rt.repos.blobs.get(etab.referentiel_cle)), etab


@endpoint("referentiel:read")
def get_referentiel(request, rt, who: Identity) -> Response:
    data, etab = read_referentiel(rt, who.uai)
    return json_response(data, headers={"ETag": f'"{etab.referentiel_sha256}"'})


@endpoint("division:mode")
def set_division_mode(request, rt, who: Identity, code: str) -> Response:
    """The chef d'établissement sets a division's import mode (EDITEUR, SCONET_NOTES, SAISIE)."""
    mode = validated_body(request, "set_division_mode").get("mode_import")
    if mode not in tuple(Mode):
        raise ApiError("BAD_REQUEST", f"« mode_import » doit valoir {ou(Mode)}.")
    return _set_division(rt, who, code, "mode_import", mode)


@endpoint("division:mode")
def set_division_evaluation(request, rt, who: Identity, code: str) -> Response:
    """The chef d'établissement sets a division's evaluation system (NOTES, POSITIONNEMENT), or
    unsets it (null): LSU accepts one evaluation system per class."""
    body = validated_body(request, "set_division_evaluation")
    if "systeme_evaluation" not in body or body["systeme_evaluation"] not in (*SystemeEvaluation, None):
        raise ApiError("BAD_REQUEST", f"« systeme_evaluation » doit valoir {ou(SystemeEvaluation)} ou null.")
    return _set_division(rt, who, code, "systeme_evaluation", body["systeme_evaluation"])


def _set_division(rt, who: Identity, code: str, field: str, value) -> Response:
    """A class parameter of the référentiel, as a new version replacing only the one read."""
    from chalicelib.referentiel import validate_referentiel
    data, etab = read_referentiel(rt, who.uai)
    divisions = [d for d in data["divisions"] if d["code"] == code]
    if not divisions:
        raise ApiError("NOT_FOUND", f"Classe « {code} » absente du référentiel.")
    for d in divisions:
        d[field] = value
    errors = validate_referentiel(data)
    if errors:
        return _invalid_referentiel(errors)
    return json_response(store_referentiel(rt, data, etab.referentiel_sha256))


# Exports travel base64-encoded in the JSON body (at most EXPORTS_INLINE_MAX_BYTES decoded, so that
# the request stays under what API Gateway and Lambda take), or are deposited first to S3 by
# presigned forms (POST /referentiel/exports/depots), each bounded by its announced size, all
# together by EXPORTS_DEPOT_MAX_BYTES; each file is then read under import_exports' own bound
# (EXPORT_FILE_MAX_BYTES, its MAX_EXPORT_BYTES).
EXPORTS_MAX_BYTES = openapi.EXPORTS_INLINE_MAX_BYTES
EXPORTS_DEPOT_MAX_BYTES = openapi.EXPORTS_DEPOT_MAX_BYTES
EXPORT_FILE_MAX_BYTES = openapi.EXPORT_FILE_MAX_BYTES
DEPOT_PREFIX = "depots-referentiel/"          # infra/lsu_infra/access.py EXPORTS
DEPOT_CONTENT_TYPE = "application/xml"
DEPOT_EXPIRY_SECONDS = 900


def depot_key(uai: str, depot: str, n: int | str) -> str:
    """`depots-referentiel/<UAI>/<dépôt>/<n>` (n from 1), the manifest at `…/<dépôt>/manifeste.json`."""
    return f"{DEPOT_PREFIX}{uai}/{depot}/{n}"


def _inline_files(fichiers: list) -> tuple[list[bytes], list[str]]:
    datas, noms = [], []
    for f in fichiers:
        try:
            datas.append(base64.b64decode(f["contenu"], validate=True))
        except (ValueError, binascii.Error) as exc:
            raise ApiError("BAD_REQUEST", f"Contenu base64 illisible : {str(f.get('nom'))[:100]}.") from exc
        noms.append(str(f.get("nom") or f"fichier {len(noms) + 1}")[:255])
    if sum(map(len, datas)) > EXPORTS_MAX_BYTES:
        raise ApiError("FILE_TOO_LARGE", f"Maximum : {EXPORTS_MAX_BYTES} octets par envoi en ligne ; au-delà, "
                       "déposez les fichiers (POST /referentiel/exports/depots).", status=413)
    return datas, noms


@endpoint("referentiel:write")
def create_exports_depot(request, rt, who: Identity) -> Response:
    """Announce the exports to deposit: one presigned form per file, bounded by its announced size,
    under `depots-referentiel/<UAI>/<dépôt>/<n>`; the manifest of what was announced is kept."""
    fichiers = validated_body(request, "create_exports_depot")["fichiers"]
    total = sum(f["taille"] for f in fichiers)
    if total > EXPORTS_DEPOT_MAX_BYTES:
        raise ApiError("FILE_TOO_LARGE", f"Maximum : {EXPORTS_DEPOT_MAX_BYTES} octets par dépôt (annoncé : "
                       f"{total}).", status=413)
    now = datetime.now(timezone.utc)
    depot = f"{now:%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"
    announced = [{"n": n, "nom": f["nom"].strip()[:255] or f"fichier {n}", "taille": f["taille"]}
                 for n, f in enumerate(fichiers, start=1)]
    manifest = {"uai": who.uai, "depot": depot, "cree_le": now.isoformat(timespec="seconds"),
                "cree_par": f"{who.role}:{who.sub}", "fichiers": announced}
    rt.repos.blobs.put(depot_key(who.uai, depot, "manifeste.json"),
                       json.dumps(manifest, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")
    expire = datetime.fromtimestamp(now.timestamp() + DEPOT_EXPIRY_SECONDS, timezone.utc)
    return json_response({"depot": depot, "expire_a": expire.isoformat(timespec="seconds"),
                          "taille_max": EXPORTS_DEPOT_MAX_BYTES, "fichiers": [
                              {**f, "upload": rt.repos.blobs.presigned_post(
                                  depot_key(who.uai, depot, f["n"]), f["taille"], DEPOT_EXPIRY_SECONDS,
                                  DEPOT_CONTENT_TYPE)} for f in announced]}, 201)


def _deposited_files(rt, uai: str, depot: str) -> tuple[list[bytes], list[str]]:
    """The files of a deposit of the caller's school, each exactly its announced size (S3's form
    bounds it from above), all within EXPORTS_DEPOT_MAX_BYTES; one missing: EXPORT_NON_DEPOSE.
    Whether an object is there is asked by listing its exact key (the API may list this prefix
    only: infra/lsu_infra/access.py), so a real refusal of S3 is never taken for a missing file."""
    blobs = rt.repos.blobs
    manifest_key = depot_key(uai, depot, "manifeste.json")
    if not blobs.exists(manifest_key):
        raise ApiError("NOT_FOUND", f"Dépôt d'exports « {depot} » introuvable pour votre établissement.")
    fichiers = json.loads(blobs.get(manifest_key))["fichiers"]
    sizes = []
    for f in fichiers:
        key = depot_key(uai, depot, f["n"])
        if not blobs.exists(key):
            raise ApiError("EXPORT_NON_DEPOSE", f"Fichier « {f['nom']} » (n° {f['n']}) du dépôt {depot}.",
                           fichier=f["nom"])
        size = blobs.size(key)
        if size != f["taille"]:
            raise ApiError("EXPORT_NON_DEPOSE", f"Fichier « {f['nom']} » : {size} octets déposés pour {f['taille']} "
                           "annoncés (dépôt incomplet ou autre fichier) ; recommencez le dépôt.", fichier=f["nom"])
        sizes.append(size)
    if sum(sizes) > EXPORTS_DEPOT_MAX_BYTES:
        raise ApiError("FILE_TOO_LARGE", f"Maximum : {EXPORTS_DEPOT_MAX_BYTES} octets par dépôt.", status=413)
    datas = []
    for f in fichiers:
        data = rt.repos.blobs.get(depot_key(uai, depot, f["n"]))
        if len(data) != f["taille"]:           # replaced between the HEAD and the GET
            raise ApiError("EXPORT_NON_DEPOSE", f"Fichier « {f['nom']} » modifié pendant la lecture ; recommencez.",
                           fichier=f["nom"])
        datas.append(data)
    return datas, [f["nom"] for f in fichiers]


@endpoint("referentiel:write")
def import_referentiel_exports(request, rt, who: Identity) -> Response:
    """The référentiel from the school's SIECLE and STS Web exports (inline `fichiers`, or a
    `depot`): merged into the current one (modes of existing divisions kept), atomic, with the
    report of what changed. `pre_controle`: the report only, nothing stored."""
    from chalicelib.referentiel.exports import ExportError, import_exports
    body = validated_body(request, "import_referentiel_exports")
    pre_controle = body.get("pre_controle", False)
    if "depot" in body:
        datas, noms = _deposited_files(rt, who.uai, body["depot"])
    else:
        datas, noms = _inline_files(body["fichiers"])
    try:
        current, etab = read_referentiel(rt, who.uai)
    except ApiError as exc:
        if exc.code != "REFERENTIEL_ABSENT":
            raise
        current, etab = None, None
    try:
        data, rapport = import_exports(current, datas, who.uai, noms=noms, max_bytes=EXPORT_FILE_MAX_BYTES)
    except ExportError as exc:
        return json_response({"erreur": exc.erreurs[0], "erreurs": exc.erreurs}, 400)
    if pre_controle:
        return json_response({"uai": who.uai, "pre_controle": True, "rapport": rapport})
    stored = store_referentiel(rt, data, etab.referentiel_sha256 if etab else None)
    return json_response({**stored, "pre_controle": False, "rapport": rapport})
