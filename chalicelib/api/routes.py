"""HTTP API bodies (JSON, French messages with stable codes). `app.py` only routes here."""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import json
import secrets
from datetime import datetime, timezone
from functools import wraps

from chalice import BadRequestError, Response
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain import catalogue
from chalicelib.domain import merge
from chalicelib.api.render import pdf
from chalicelib.pipeline import report
from chalicelib.api.auth import AuthError, Identity, authorize, identify_request
from chalicelib.config import UPLOAD_PREFIX
from chalicelib.domain.merge import BilanState, EditRefused, Editor
from chalicelib.adapters.dynamodb import (EN_ATTENTE_FICHIER, bilan_state, current_school, division_key, eleve_key,
                              update_bilan)

logger = logging.getLogger(__name__)

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
                _same_school(identity, request)
                return fn(request, rt, identity, *args, **kwargs)
            except AuthError as exc:
                return error_response(exc.code, STATUS_OF[exc.code])
            except ApiError as exc:
                return error_response(exc.code, exc.status, exc.detail, **exc.extra)
        return wrapper
    return decorate


def _same_school(who: Identity, request) -> None:
    """The school comes from the identity only: a request naming another UAI is refused."""
    named = (request.query_params or {}).get("uai")
    if named is not None and named != who.uai:
        raise ApiError("FORBIDDEN", "Ces données ne sont pas celles de votre établissement.")


def _body(request) -> dict:
    try:
        body = request.json_body
    except BadRequestError as exc:
        raise ApiError("BAD_REQUEST", "Le corps de la requête n'est pas du JSON valide.") from exc
    if not isinstance(body, dict):
        raise ApiError("BAD_REQUEST", "Le corps de la requête doit être un objet JSON.")
    return body


def new_import_id(uai: str, now: datetime | None = None) -> str:
    """`<UAI>-<UTC time>-<random>`: sortable by time within a school, and it says whose it is."""
    now = now or datetime.now(timezone.utc)
    return f"{uai}-{now:%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


def upload_key(uai: str, import_id: str) -> str:
    return f"{UPLOAD_PREFIX}{uai}/{import_id}.xml"


def presigned_upload(s3, bucket: str, key: str, max_bytes: int, expires: int) -> dict:
    """A browser POST straight to S3, bounded: exact key, size range, content type, ≤ 15 min."""
    return s3.generate_presigned_post(
        Bucket=bucket, Key=key, Fields={"Content-Type": "application/xml"},
        Conditions=[{"key": key}, ["content-length-range", 1, max_bytes], {"Content-Type": "application/xml"}],
        ExpiresIn=min(expires, 900),
    )


@endpoint("import:create")
def create_import(request, rt, who: Identity) -> Response:
    body = _body(request)
    nom = body.get("nom_fichier")
    taille = body.get("taille")
    pre_controle = body.get("pre_controle", body.get("dry_run", False))
    if not isinstance(nom, str) or not nom.strip() or len(nom) > 255:
        raise ApiError("BAD_REQUEST", "« nom_fichier » est obligatoire (255 caractères au plus).")
    if not isinstance(taille, int) or isinstance(taille, bool) or taille < 0:
        raise ApiError("BAD_REQUEST", "« taille » doit être un nombre entier d'octets.")
    if not isinstance(pre_controle, bool):
        raise ApiError("BAD_REQUEST", "« pre_controle » doit valoir true ou false.")
    if taille == 0:
        raise ApiError("EMPTY_FILE")
    settings = rt.settings
    if taille > settings.max_file_bytes:
        raise ApiError("FILE_TOO_LARGE", f"Maximum : {settings.max_file_bytes} octets.", status=413)
    if _current(rt, who.uai) is None:
        raise ApiError("REFERENTIEL_ABSENT")
    now = datetime.now(timezone.utc)
    import_id = new_import_id(who.uai, now)
    key = upload_key(who.uai, import_id)
    rt.models.Import(who.uai, import_id, statut=EN_ATTENTE_FICHIER, pre_controle=pre_controle,
                     nom_fichier=nom.strip(), taille_declaree=taille, cle_s3=key,
                     cree_le=now.isoformat(timespec="seconds"), cree_par=f"{who.role}:{who.sub}").save()
    upload = presigned_upload(rt.s3, settings.bucket, key, settings.max_file_bytes, settings.upload_expiry_seconds)
    expire = datetime.fromtimestamp(now.timestamp() + min(settings.upload_expiry_seconds, 900), timezone.utc)
    return json_response({"import_id": import_id, "statut": EN_ATTENTE_FICHIER, "upload": upload,
                          "expire_a": expire.isoformat(timespec="seconds")}, 201)


def _get_import(rt, uai: str, import_id: str):
    if import_id.split("-", 1)[0] != uai:
        raise ApiError("FORBIDDEN", "Cet import n'appartient pas à votre établissement.")
    try:
        return rt.models.Import.get(uai, import_id, consistent_read=True)
    except DoesNotExist as exc:
        raise ApiError("NOT_FOUND", "Import introuvable pour votre établissement.") from exc


@endpoint("import:read")
def get_import(request, rt, who: Identity, import_id: str) -> Response:
    return json_response(report.import_summary(_get_import(rt, who.uai, import_id)))


@endpoint("import:read")
def get_synthese(request, rt, who: Identity, import_id: str) -> Response:
    """The synthèse as JSON, `?format=csv` for a spreadsheet (UTF-8 with BOM, `;`) or `?format=pdf`."""
    synthese = report.read_synthese(rt, _get_import(rt, who.uai, import_id))
    if (request.query_params or {}).get("format") == "pdf":
        return pdf_response(pdf.render_synthese(synthese), pdf.file_name("synthese-import", import_id))
    if (request.query_params or {}).get("format") == "csv":
        return Response(body=report.synthese_csv(synthese), status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="synthese-import-{import_id}.csv"'})
    return json_response(synthese)


@endpoint("import:read")
def list_imports(request, rt, who: Identity) -> Response:
    items = rt.models.Import.query(who.uai, scan_index_forward=False, limit=50)
    return json_response({"imports": [report.import_summary(r) for r in items]})


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
    rt.s3.put_object(Bucket=rt.settings.bucket, Key=key, Body=raw, ContentType="application/json; charset=utf-8")
    resume = {k: len(data.get(k) or []) for k in ("divisions", "eleves", "enseignants", "matieres", "services")}
    Etab = rt.models.Etablissement
    condition = Etab.uai.does_not_exist() if previous_sha is None else Etab.referentiel_sha256 == previous_sha
    nom = data["etablissement"].get("nom")
    try:
        # An update, not a whole-item save: the school's import lease (store.acquire_school) stays.
        Etab(uai).update(actions=[
            Etab.nom.set(nom) if nom else Etab.nom.remove(), Etab.millesime.set(data["millesime"]),
            Etab.referentiel_cle.set(key), Etab.referentiel_sha256.set(sha),
            Etab.charge_le.set(datetime.now(timezone.utc).isoformat(timespec="seconds")), Etab.resume.set(resume)],
            condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise ApiError("CONFLIT", "Le référentiel a été modifié entre-temps : rechargez-le et recommencez.",
                           status=409) from exc
        raise
    return {"uai": uai, "version": sha, "resume": resume}


def _current(rt, uai: str):
    return current_school(rt.models, uai)


@endpoint("referentiel:write")
def put_referentiel(request, rt, who: Identity) -> Response:
    from chalicelib.referentiel import validate_referentiel
    data = _body(request)
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
        current = _current(rt, uai)
        if expected is not None and current is None:
            raise ApiError("CONFLIT", "Aucun référentiel à remplacer pour votre établissement.", status=409)
        previous = current.referentiel_sha256 if current else None
    return json_response(store_referentiel(rt, data, previous))


def _read_referentiel(rt, uai: str) -> tuple[dict, object]:
    etab = _current(rt, uai)
    if etab is None:
        raise ApiError("REFERENTIEL_ABSENT")
    obj = rt.s3.get_object(Bucket=rt.settings.bucket, Key=etab.referentiel_cle)
    return json.loads(obj["Body"].read()), etab


@endpoint("referentiel:read")
def get_referentiel(request, rt, who: Identity) -> Response:
    data, etab = _read_referentiel(rt, who.uai)
    return json_response(data, headers={"ETag": f'"{etab.referentiel_sha256}"'})


@endpoint("division:mode")
def set_division_mode(request, rt, who: Identity, code: str) -> Response:
    """The chef d'établissement sets a division's import mode (EDITEUR, SCONET_NOTES, SAISIE)."""
    from chalicelib.referentiel import validate_referentiel
    mode = _body(request).get("mode_import")
    if mode not in ("EDITEUR", "SCONET_NOTES", "SAISIE"):
        raise ApiError("BAD_REQUEST", "« mode_import » doit valoir EDITEUR, SCONET_NOTES ou SAISIE.")
    data, etab = _read_referentiel(rt, who.uai)
    divisions = [d for d in data["divisions"] if d["code"] == code]
    if not divisions:
        raise ApiError("NOT_FOUND", f"Classe « {code} » absente du référentiel.")
    for d in divisions:
        d["mode_import"] = mode
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
    body = _body(request)
    pre_controle = body.get("pre_controle", False)
    if not isinstance(pre_controle, bool):
        raise ApiError("BAD_REQUEST", "« pre_controle » doit valoir true ou false.")
    datas, noms = _export_files(body)
    try:
        current, etab = _read_referentiel(rt, who.uai)
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


# --- bilans: read, complete, lock ------------------------------------------------------------------

EDIT_STATUS = {"FORBIDDEN": 403, "BAD_REQUEST": 400, "BILAN_LOCKED_EDITEUR": 409, "BILAN_VERROUILLE": 409,
               "PART_IMPORTEE": 409, "BILAN_A_COMPLETER": 409}


def bilan_key_from_path(uai: str, id_be: str, bilan: str) -> tuple[str, str]:
    """`P-2025-3-1` (période millésime-nb-indice) or `C-4-2025` (cycle-millésime) → stored key."""
    parts = bilan.split("-")
    valid = (len(parts) == 4 and parts[0] == "P") or (len(parts) == 3 and parts[0] == "C")
    if not valid or not all(p.isdigit() for p in parts[1:]) or not id_be.isdigit():
        raise ApiError("BAD_REQUEST", "Bilan attendu sous la forme P-MILLESIME-NB-INDICE ou C-CYCLE-MILLESIME.")
    return eleve_key(uai, id_be), "#".join(parts)


def _editor(rt, who: Identity, state: BilanState) -> Editor:
    """What the référentiel grants the caller on this bilan's division (PP, teacher's services)."""
    division = ((state.importe or {}).get("eleve") or {}).get("division")
    etab = _current(rt, who.uai)
    if etab is None or division is None:
        return Editor(who.role, who.sub)
    ref = rt.referentiel(etab.referentiel_cle)
    d = ref.divisions_by_code.get(division) or {}
    return Editor(who.role, who.sub, pp_of_division=who.sub in (d.get("profs_principaux") or []),
                  services=frozenset(m for (e, m, div) in ref.services if e == who.sub and div == division))


def _bilan_not_found(rt, who: Identity, id_be: str) -> ApiError:
    """403 for an élève who is not the caller's school's (whatever another school holds), else 404."""
    etab = _current(rt, who.uai)
    if etab is None or id_be not in rt.referentiel(etab.referentiel_cle).eleves_by_id_be:
        return ApiError("FORBIDDEN", "Cet élève n'est pas scolarisé dans votre établissement.")
    return ApiError("NOT_FOUND", "Bilan introuvable pour votre établissement.")


def _change_bilan(rt, who: Identity, id_be: str, bilan: str, change) -> Response:
    key = bilan_key_from_path(who.uai, id_be, bilan)
    try:
        row = update_bilan(rt.models, key, lambda state: change(state, _editor(rt, who, state)))
    except LookupError as exc:
        raise _bilan_not_found(rt, who, id_be) from exc
    except EditRefused as exc:
        return json_response({"erreur": exc.message}, EDIT_STATUS.get(exc.code, 409))
    return json_response(merge.view(bilan_state(row)))


def visible_bilan(rt, who: Identity, id_be: str, bilan: str) -> dict:
    """A bilan of the caller's school, as LSU shows it, if the caller may see its division."""
    try:
        row = rt.models.Bilan.get(*bilan_key_from_path(who.uai, id_be, bilan), consistent_read=True)
    except DoesNotExist as exc:
        raise _bilan_not_found(rt, who, id_be) from exc
    v = merge.view(bilan_state(row))
    _check_division((v.get("eleve") or {}).get("division"), visible_divisions(rt, who))
    return v


@endpoint("bilan:read")
def get_bilan(request, rt, who: Identity, id_be: str, bilan: str) -> Response:
    return json_response(visible_bilan(rt, who, id_be, bilan))


@endpoint("bilan:edit")
def edit_bilan(request, rt, who: Identity, id_be: str, bilan: str, part: str) -> Response:
    """Enter (or clear, with `valeur: null`) a part of a bilan; `discipline` names the subject
    for éléments de programme."""
    body = _body(request)
    if "valeur" not in body:
        raise ApiError("BAD_REQUEST", "« valeur » est obligatoire (null pour effacer la saisie).")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return _change_bilan(rt, who, id_be, bilan, lambda state, editor: merge.apply_edit(
        state, editor, part, body["valeur"], now, code=body.get("discipline")))


@endpoint("bilan:lock")
def lock_bilan(request, rt, who: Identity, id_be: str, bilan: str) -> Response:
    return _change_bilan(rt, who, id_be, bilan, merge.lock)


@endpoint("bilan:unlock")
def unlock_bilan(request, rt, who: Identity, id_be: str, bilan: str) -> Response:
    return _change_bilan(rt, who, id_be, bilan, merge.unlock)


# --- search and PDF ---------------------------------------------------------------------------------

def visible_divisions(rt, who: Identity) -> set[str] | None:
    """The divisions whose bilans the caller may see: all (None) for CE, delegates and CPE; a PP
    their divisions; a teacher the divisions of their services."""
    if who.role in ("CE", "DELEGUE_CE", "CPE"):
        return None
    etab = _current(rt, who.uai)
    if etab is None:
        return set()
    ref = rt.referentiel(etab.referentiel_cle)
    if who.role == "PP":
        return {code for code, d in ref.divisions_by_code.items() if who.sub in (d.get("profs_principaux") or [])}
    return {div for (e, _m, div) in ref.services if e == who.sub}


def _check_division(division: str | None, allowed: set[str] | None) -> None:
    """`allowed` is what `visible_divisions` gives (None: every division)."""
    if allowed is not None and division not in allowed:
        raise ApiError("FORBIDDEN", "Ce bilan n'est pas celui d'une de vos classes.")


def path_of(cle: str) -> str:
    return cle.replace("#", "-")


def summary(view: dict) -> dict:
    e = view.get("eleve") or {}
    return {"id_be": e.get("id_be"), "nom": e.get("nom"), "prenom": e.get("prenom"), "division": e.get("division"),
            "bilan": path_of(view["cle"]), "type": view["type"], "periode": view.get("periode"),
            "cycle": view.get("cycle"), "mode": view.get("mode"), "statut": view["statut"],
            "verrouille": view["verrouille"],
            "provenances": sorted({p["provenance"] for k in ("acquis_conseils", "vie_scolaire", "parcours")
                                   for p in [view[k]]} - {"ABSENT"})}


def search_views(rt, who: Identity, params: dict) -> list[dict]:
    """Bilans by division (and bilan), or by élève; filtered by statut (COMPLET, A_COMPLETER,
    VERROUILLE) and provenance (IMPORT, SAISIE)."""
    Bilan = rt.models.Bilan
    division, eleve, bilan = params.get("division"), params.get("eleve"), params.get("bilan")
    cle = bilan.replace("-", "#") if bilan else None
    allowed = visible_divisions(rt, who)
    if division:
        _check_division(division, allowed)
        condition = (Bilan.cle == cle) if cle else None
        rows = Bilan.par_division.query(division_key(who.uai, division), range_key_condition=condition)
    elif eleve:
        if not eleve.isdigit():
            raise ApiError("BAD_REQUEST", "« eleve » est l'identifiant SIECLE (id-be) de l'élève, en chiffres.")
        rows = list(Bilan.query(eleve_key(who.uai, eleve), range_key_condition=(Bilan.cle == cle) if cle else None,
                           consistent_read=True))
        if not rows and (refused := _bilan_not_found(rt, who, eleve)).code == "FORBIDDEN":
            raise refused
    else:
        raise ApiError("BAD_REQUEST", "Indiquez une classe (division) ou un élève (eleve).")
    views = [merge.view(bilan_state(r)) for r in rows]
    views = [v for v in views if allowed is None or (v.get("eleve") or {}).get("division") in allowed]
    statut, provenance = params.get("statut"), params.get("provenance")
    if statut == "VERROUILLE":
        views = [v for v in views if v["verrouille"]]
    elif statut:
        views = [v for v in views if v["statut"] == statut and not v["verrouille"]]
    if provenance:
        views = [v for v in views if provenance in summary(v)["provenances"]]
    return sorted(views, key=lambda v: (v["eleve"]["division"], report.french_key(v["eleve"].get("nom")),
                                        report.french_key(v["eleve"].get("prenom")), v["cle"]))


@endpoint("bilan:read")
def search_bilans(request, rt, who: Identity) -> Response:
    return json_response({"bilans": [summary(v) for v in search_views(rt, who, request.query_params or {})]})


def pdf_response(data: bytes, name: str) -> Response:
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{name}"'})


def _etab_name(rt, uai: str) -> str:
    etab = _current(rt, uai)
    return (etab.nom if etab else None) or uai


@endpoint("bilan:read")
def bilan_pdf(request, rt, who: Identity, id_be: str, bilan: str) -> Response:
    v = visible_bilan(rt, who, id_be, bilan)
    e = v.get("eleve") or {}
    return pdf_response(pdf.render([v], _etab_name(rt, who.uai)),
                        pdf.file_name("bilan", e.get("nom") or "", e.get("prenom") or "", bilan))


@endpoint("bilan:read")
def division_pdf(request, rt, who: Identity, code: str) -> Response:
    params = dict(request.query_params or {})
    views = search_views(rt, who, {**params, "division": code})
    if not views:
        raise ApiError("NOT_FOUND", "Aucun bilan pour cette classe.")
    return pdf_response(pdf.render(views, _etab_name(rt, who.uai)),
                        pdf.file_name("bilans", code, params.get("bilan") or ""))


@endpoint("bilan:read")
def list_divisions(request, rt, who: Identity) -> Response:
    """The divisions the caller may see, with their niveau and import mode."""
    etab = _current(rt, who.uai)
    if etab is None:
        raise ApiError("REFERENTIEL_ABSENT")
    ref = rt.referentiel(etab.referentiel_cle)
    allowed = visible_divisions(rt, who)
    return json_response({"etablissement": {"uai": who.uai, "nom": etab.nom}, "divisions": [
        {"code": code, "niveau": d.get("niveau"), "mode_import": d.get("mode_import"), "periodes": d.get("periodes"),
         "nb_periodes": d.get("nb_periodes")}
        for code, d in sorted(ref.divisions_by_code.items()) if allowed is None or code in allowed]})


# --- development login (stage « local » only; Cognito on AWS) -------------------------------------

def local_only(fn):
    """Development routes: the « local » stage only (elsewhere 404); errors as French JSON."""
    @wraps(fn)
    def wrapper(request, rt):
        try:
            if rt.settings.stage != "local":
                raise ApiError("NOT_FOUND", "Connexion de développement indisponible sur cette étape.")
            return fn(request, rt)
        except ApiError as exc:
            return error_response(exc.code, exc.status, exc.detail)
    return wrapper


@local_only
def dev_schools(request, rt) -> Response:
    """Schools with a référentiel, and the people a developer may log in as."""
    out = []
    for etab in rt.models.Etablissement.scan():
        try:
            ref = rt.referentiel(etab.referentiel_cle)
        except rt.s3.exceptions.NoSuchKey:
            logger.warning("référentiel illisible pour %s : %s", etab.uai, etab.referentiel_cle)
            continue
        pps = {pp for d in ref.divisions_by_code.values() for pp in (d.get("profs_principaux") or [])}
        out.append({"uai": etab.uai, "nom": etab.nom, "enseignants": [
            {"id_sts": i, "nom": f"{e.get('prenom') or ''} {e.get('nom')}".strip(), "pp": i in pps}
            for i, e in sorted(ref.enseignants_by_id_sts.items(), key=lambda kv: kv[1].get("nom") or "")]})
    return json_response({"etablissements": sorted(out, key=lambda e: e["uai"])})


@local_only
def dev_login(request, rt) -> Response:
    """A signed development token for a school and a role (what Cognito gives on AWS)."""
    from chalicelib.api.auth import ROLES, issue_token
    body = _body(request)
    uai, role, sub = body.get("uai"), body.get("role"), str(body.get("id_sts") or "dev")
    if not isinstance(uai, str) or len(uai) != 8 or role not in ROLES:
        raise ApiError("BAD_REQUEST", f"Établissement (UAI) et rôle ({', '.join(ROLES)}) sont obligatoires.")
    if role in ("PP", "ENSEIGNANT") and sub == "dev":
        raise ApiError("BAD_REQUEST", "Un professeur se connecte avec son identifiant STS.")
    return json_response({"jeton": issue_token(rt.settings.token_secret, uai, role, sub=sub)})
