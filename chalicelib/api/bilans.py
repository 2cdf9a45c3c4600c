"""Routes of the bilans: read, complete, lock and unlock; search; PDF of a bilan or a division."""
from __future__ import annotations

from datetime import datetime, timezone

from chalice import Response

from chalicelib.adapters.ports import eleve_key, update_bilan
from chalicelib.api.auth import Identity
from chalicelib.api.errors import ApiError, current_school, endpoint, json_response, pdf_response, validated_body
from chalicelib.api.render import pdf
from chalicelib.domain import merge
from chalicelib.domain.merge import BilanState, EditRefused, Editor
from chalicelib.domain.synthese import french_key
from chalicelib.domain.vocabulary import Role

EDIT_STATUS = {"FORBIDDEN": 403, "BAD_REQUEST": 400, "SAISIE_INVALIDE": 400, "BILAN_LOCKED_EDITEUR": 409,
               "BILAN_VERROUILLE": 409, "PART_IMPORTEE": 409, "BILAN_A_COMPLETER": 409}


def bilan_key_from_path(uai: str, id_be: str, bilan: str) -> tuple[str, str]:
    """`P-2025-3-1` (période millésime-nb-indice) or `C-4-2025` (cycle-millésime) → stored key."""
    parts = bilan.split("-")
    valid = (len(parts) == 4 and parts[0] == "P") or (len(parts) == 3 and parts[0] == "C")
    if not valid or not all(p.isdigit() for p in parts[1:]) or not id_be.isdigit():
        raise ApiError("BAD_REQUEST", "Bilan attendu sous la forme P-MILLESIME-NB-INDICE ou C-CYCLE-MILLESIME.")
    return eleve_key(uai, id_be), "#".join(parts)


def _editor(rt, who: Identity, state: BilanState) -> Editor:
    """What the référentiel grants the caller on this bilan's division (PP, teacher's services)."""
    division = (merge.view(state).get("eleve") or {}).get("division")
    etab = current_school(rt, who.uai)
    if etab is None or division is None:
        return Editor(who.role, who.sub)
    ref = rt.referentiel(etab.referentiel_cle)
    d = ref.divisions_by_code.get(division) or {}
    return Editor(who.role, who.sub, pp_of_division=who.sub in (d.get("profs_principaux") or []),
                  services=frozenset(m for (e, m, div) in ref.services if e == who.sub and div == division))


def _bilan_not_found(rt, who: Identity, id_be: str) -> ApiError:
    """403 for an élève who is not the caller's school's (whatever another school holds), else 404."""
    etab = current_school(rt, who.uai)
    if etab is None or id_be not in rt.referentiel(etab.referentiel_cle).eleves_by_id_be:
        return ApiError("FORBIDDEN", "Cet élève n'est pas scolarisé dans votre établissement.")
    return ApiError("NOT_FOUND", "Bilan introuvable pour votre établissement.")


def _change_bilan(rt, who: Identity, id_be: str, bilan: str, change) -> Response:
    key = bilan_key_from_path(who.uai, id_be, bilan)
    try:
        stored = update_bilan(rt.repos.bilans, key, lambda state: change(state, _editor(rt, who, state)))
    except LookupError as exc:
        raise _bilan_not_found(rt, who, id_be) from exc
    except EditRefused as exc:
        return json_response({"erreur": exc.message}, EDIT_STATUS.get(exc.code, 409))
    return json_response(merge.view(stored.state))


def visible_bilan(rt, who: Identity, id_be: str, bilan: str) -> dict:
    """A bilan of the caller's school, as LSU shows it, if the caller may see its division."""
    stored = rt.repos.bilans.get(bilan_key_from_path(who.uai, id_be, bilan))
    if stored is None:
        raise _bilan_not_found(rt, who, id_be)
    v = merge.view(stored.state)
    _check_division((v.get("eleve") or {}).get("division"), visible_divisions(rt, who))
    return v


@endpoint("bilan:read")
def get_bilan(request, rt, who: Identity, id_be: str, bilan: str) -> Response:
    return json_response(visible_bilan(rt, who, id_be, bilan))


@endpoint("bilan:edit")
def edit_bilan(request, rt, who: Identity, id_be: str, bilan: str, part: str) -> Response:
    """Enter (or clear, with `valeur: null`) a part of a bilan; `discipline` names the subject
    for éléments de programme."""
    body = validated_body(request, "edit_bilan")
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
    if who.role in (Role.CE, Role.DELEGUE_CE, Role.CPE):
        return None
    etab = current_school(rt, who.uai)
    if etab is None:
        return set()
    ref = rt.referentiel(etab.referentiel_cle)
    if who.role == Role.PP:
        return {code for code, d in ref.divisions_by_code.items() if who.sub in (d.get("profs_principaux") or [])}
    return {div for (e, _m, div) in ref.services if e == who.sub}


def _check_division(division: str | None, allowed: set[str] | None) -> None:
    """`allowed` is what `visible_divisions` gives (None: every division)."""
    if allowed is not None and division not in allowed:
        raise ApiError("FORBIDDEN", "Ce bilan n'est pas celui d'une de vos classes.")


def path_of(cle: str) -> str:
    return cle.replace("#", "-")


def summary(view: dict) -> dict:
    """A bilan in the search results; total over what `merge.view` gives (missing keys, None)."""
    e = view.get("eleve") if isinstance(view.get("eleve"), dict) else {}
    cle = view.get("cle")
    parts = [view.get(k) for k in ("acquis_conseils", "vie_scolaire", "parcours")]
    return {"id_be": e.get("id_be"), "nom": e.get("nom"), "prenom": e.get("prenom"), "division": e.get("division"),
            "bilan": path_of(cle) if isinstance(cle, str) else None, "type": view.get("type"),
            "periode": view.get("periode"), "cycle": view.get("cycle"), "mode": view.get("mode"),
            "statut": view.get("statut"), "verrouille": view.get("verrouille") is True,
            "provenances": sorted({str(p.get("provenance")) for p in parts if isinstance(p, dict)} - {"ABSENT", "None"})}


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _order(view: dict) -> tuple:
    """Search results as a class list: division, nom, prénom, bilan."""
    e = view.get("eleve") if isinstance(view.get("eleve"), dict) else {}
    return (_text(e.get("division")), french_key(_text(e.get("nom"))), french_key(_text(e.get("prenom"))),
            _text(view.get("cle")))


def search_views(rt, who: Identity, params: dict) -> list[dict]:
    """Bilans by division (and bilan), or by élève; filtered by statut (COMPLET, A_COMPLETER,
    VERROUILLE) and provenance (IMPORT, SAISIE)."""
    division, eleve, bilan = params.get("division"), params.get("eleve"), params.get("bilan")
    cle = bilan.replace("-", "#") if bilan else None
    allowed = visible_divisions(rt, who)
    if division:
        _check_division(division, allowed)
        rows = rt.repos.bilans.of_division(who.uai, division, cle)
    elif eleve:
        if not eleve.isdigit():
            raise ApiError("BAD_REQUEST", "« eleve » est l'identifiant SIECLE (id-be) de l'élève, en chiffres.")
        rows = rt.repos.bilans.of_eleve(who.uai, eleve, cle)
        if not rows and (refused := _bilan_not_found(rt, who, eleve)).code == "FORBIDDEN":
            raise refused
    else:
        raise ApiError("BAD_REQUEST", "Indiquez une classe (division) ou un élève (eleve).")
    views = [merge.view(r.state) for r in rows]
    views = [v for v in views if allowed is None or (v.get("eleve") or {}).get("division") in allowed]
    statut, provenance = params.get("statut"), params.get("provenance")
    if statut == "VERROUILLE":
        views = [v for v in views if v["verrouille"]]
    elif statut:
        views = [v for v in views if v["statut"] == statut and not v["verrouille"]]
    if provenance:
        views = [v for v in views if provenance in summary(v)["provenances"]]
    return sorted(views, key=_order)


@endpoint("bilan:read")
def search_bilans(request, rt, who: Identity) -> Response:
    return json_response({"bilans": [summary(v) for v in search_views(rt, who, request.query_params or {})]})


def _etab_name(rt, uai: str) -> str:
    etab = current_school(rt, uai)
    return (etab.nom if etab else None) or uai


@endpoint("bilan:read")
def bilan_pdf(request, rt, who: Identity, id_be: str, bilan: str) -> Response:
    v = visible_bilan(rt, who, id_be, bilan)
    e = v.get("eleve") or {}
    return pdf_response(pdf.render([v], _etab_name(rt, who.uai), who.uai),
                        pdf.file_name("bilan", e.get("nom") or "", e.get("prenom") or "", bilan))


@endpoint("bilan:read")
def division_pdf(request, rt, who: Identity, code: str) -> Response:
    params = dict(request.query_params or {})
    views = search_views(rt, who, {**params, "division": code})
    if not views:
        raise ApiError("NOT_FOUND", "Aucun bilan pour cette classe.")
    return pdf_response(pdf.render(views, _etab_name(rt, who.uai), who.uai),
                        pdf.file_name("bilans", code, params.get("bilan") or ""))


@endpoint("bilan:read")
def list_divisions(request, rt, who: Identity) -> Response:
    """The divisions the caller may see, with their niveau, import mode and evaluation system
    (NOTES, POSITIONNEMENT or None: not set)."""
    etab = current_school(rt, who.uai)
    if etab is None:
        raise ApiError("REFERENTIEL_ABSENT")
    ref = rt.referentiel(etab.referentiel_cle)
    allowed = visible_divisions(rt, who)
    return json_response({"etablissement": {"uai": who.uai, "nom": etab.nom}, "divisions": [
        {"code": code, "niveau": d.get("niveau"), "mode_import": d.get("mode_import"), "periodes": d.get("periodes"),
         "nb_periodes": d.get("nb_periodes"), "systeme_evaluation": d.get("systeme_evaluation")}
        for code, d in sorted(ref.divisions_by_code.items()) if allowed is None or code in allowed]})
