"""Routes of the school's référentiel: replace it (optimistic lock), read it, a division's mode,
the SIECLE and STS Web exports."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime, timezone

from chalice import Response

from chalicelib.adapters.ports import Conflict
from chalicelib.api.auth import Identity
from chalicelib.api.errors import ApiError, body_of, current_school, endpoint, json_response
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
    data = body_of(request)
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
    mode = body_of(request).get("mode_import")
    if mode not in tuple(Mode):
        raise ApiError("BAD_REQUEST", f"« mode_import » doit valoir {ou(Mode)}.")
    return _set_division(rt, who, code, "mode_import", mode)


@endpoint("division:mode")
def set_division_evaluation(request, rt, who: Identity, code: str) -> Response:
    """The chef d'établissement sets a division's evaluation system (NOTES, POSITIONNEMENT), or
    unsets it (null): LSU accepts one evaluation system per class."""
    body = body_of(request)
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


# Exports travel base64-encoded in the JSON body: API Gateway takes at most 10 MB a request.
EXPORTS_MAX_BYTES = 7 * 1024 * 1024


def _export_files(body: dict) -> tuple[list[bytes], list[str]]:
    fichiers = body.get("fichiers")
    if not isinstance(fichiers, list) or not fichiers or len(fichiers) > 5:
        raise ApiError("BAD_REQUEST", "« fichiers » : de 1 à 5 fichiers d'export {nom, contenu (base64)}.")
    datas, noms = [], []
    for f in fichiers:
        if not isinstance(f, dict) or not isinstance(f.get("contenu"), str):
            raise ApiError("BAD_REQUEST", "Chaque fichier est un objet {nom, contenu (base64)}.")
        try:
            datas.append(base64.b64decode(f["contenu"], validate=True))
        except (ValueError, binascii.Error) as exc:
            raise ApiError("BAD_REQUEST", f"Contenu base64 illisible : {str(f.get('nom'))[:100]}.") from exc
        noms.append(str(f.get("nom") or f"fichier {len(noms) + 1}")[:255])
    if sum(map(len, datas)) > EXPORTS_MAX_BYTES:
        raise ApiError("FILE_TOO_LARGE", f"Maximum : {EXPORTS_MAX_BYTES} octets par envoi ; envoyez les "
                       "fichiers un par un.", status=413)
    return datas, noms


@endpoint("referentiel:write")
def import_referentiel_exports(request, rt, who: Identity) -> Response:
    """The référentiel from the school's SIECLE and STS Web exports: merged into the current one
    (modes of existing divisions kept), atomic, with the report of what changed. `pre_controle`:
    the report only, nothing stored."""
    from chalicelib.referentiel.exports import ExportError, import_exports
    body = body_of(request)
    pre_controle = body.get("pre_controle", False)
    if not isinstance(pre_controle, bool):
        raise ApiError("BAD_REQUEST", "« pre_controle » doit valoir true ou false.")
    datas, noms = _export_files(body)
    try:
        current, etab = read_referentiel(rt, who.uai)
    except ApiError as exc:
        if exc.code != "REFERENTIEL_ABSENT":
            raise
        current, etab = None, None
    try:
        data, rapport = import_exports(current, datas, who.uai, noms=noms, max_bytes=EXPORTS_MAX_BYTES)
    except ExportError as exc:
        return json_response({"erreur": exc.erreurs[0], "erreurs": exc.erreurs}, 400)
    if pre_controle:
        return json_response({"uai": who.uai, "pre_controle": True, "rapport": rapport})
    stored = store_referentiel(rt, data, etab.referentiel_sha256 if etab else None)
    return json_response({**stored, "pre_controle": False, "rapport": rapport})
