"""Development login (stage « local » only; Cognito on AWS)."""
from __future__ import annotations

import logging
from functools import wraps

from chalice import Response

from chalicelib.adapters.ports import NotFound
from chalicelib.api.auth import ROLES, issue_token
from chalicelib.api.errors import ApiError, error_response, json_response, validated_body

logger = logging.getLogger(__name__)

def local_only(fn):
    """Development routes: the « local » stage only (elsewhere 404); errors as French JSON."""
    @wraps(fn)
    def wrapper(request, rt):
        try:
            if rt.settings.stage != "local":
                raise ApiError("NOT_FOUND", "Connexion de développement indisponible sur cette étape.")
            return fn(request, rt)
        except ApiError as exc:
            return error_response(exc.code, exc.status, exc.detail, **exc.extra)
    return wrapper


@local_only
def dev_schools(request, rt) -> Response:
    """Schools with a référentiel, and the people a developer may log in as."""
    out = []
    for etab in rt.repos.schools.all():
        try:
            ref = rt.referentiel(etab.referentiel_cle)
        except NotFound:
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
    body = validated_body(request, "dev_login")
    uai, role, sub = body.get("uai"), body.get("role"), str(body.get("id_sts") or "dev")
    if not isinstance(uai, str) or len(uai) != 8 or role not in ROLES:
        raise ApiError("BAD_REQUEST", f"Établissement (UAI) et rôle ({', '.join(ROLES)}) sont obligatoires.")
    if role in ("PP", "ENSEIGNANT") and sub == "dev":
        raise ApiError("BAD_REQUEST", "Un professeur se connecte avec son identifiant STS.")
    return json_response({"jeton": issue_token(rt.settings.token_secret, uai, role, sub=sub)})
