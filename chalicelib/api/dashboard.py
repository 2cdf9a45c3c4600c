"""The « Tableau de bord » route (issue 16): per class the caller may see and per période, the
bilans imported, à compléter (and what they lack), complete but not locked, locked; each count with
the `GET /bilans` search that lists those bilans (chalicelib.domain.dashboard). Read-only."""
from __future__ import annotations

from chalice import Response

from chalicelib.api.auth import Identity
from chalicelib.api.bilans import visible_divisions
from chalicelib.api.errors import ApiError, current_school, endpoint, json_response
from chalicelib.domain import merge
from chalicelib.domain.dashboard import tableau_de_bord


def _divisions(rt, who: Identity, ref, named: str | None) -> dict:
    """The référentiel's divisions the caller may see (CE, delegates, CPE: all; PP: theirs; a
    teacher: their services'), or only `named` (404 unknown, 403 not the caller's)."""
    allowed = visible_divisions(rt, who)
    known = ref.divisions_by_code
    if named is not None:
        if not named.strip():
            raise ApiError("BAD_REQUEST", "« division » est le code d'une classe du référentiel.")
        if named not in known:
            raise ApiError("NOT_FOUND", f"Classe « {named[:40]} » absente du référentiel de l'établissement.")
        if allowed is not None and named not in allowed:
            raise ApiError("FORBIDDEN", f"La classe « {named[:40]} » n'est pas une de vos classes.")
        return {named: known[named]}
    return {code: d for code, d in known.items() if allowed is None or code in allowed}


@endpoint("bilan:read")
def get_dashboard(request, rt, who: Identity) -> Response:
    etab = current_school(rt, who.uai)
    if etab is None:
        raise ApiError("REFERENTIEL_ABSENT")
    ref = rt.referentiel(etab.referentiel_cle)
    divisions = _divisions(rt, who, ref, (request.query_params or {}).get("division"))
    views = [merge.view(stored.state) for code in sorted(divisions)
             for stored in rt.repos.bilans.of_division(who.uai, code)]
    return json_response({"etablissement": {"uai": who.uai, "nom": etab.nom},
                          "classes": tableau_de_bord(views, divisions)})
