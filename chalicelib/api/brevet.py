"""Route of the « Brevet 2026 » table of a 3e class: `GET /divisions/{code}/brevet` (JSON, or
`?format=csv`). Read-only; the rights are those of the division's bilans."""
from __future__ import annotations

from chalice import Response

from chalicelib.api.auth import Identity
from chalicelib.api.bilans import _check_division, visible_divisions
from chalicelib.api.errors import ApiError, current_school, endpoint, json_response
from chalicelib.api.render.csv import table as csv_table
from chalicelib.domain import brevet, merge
from chalicelib.domain.checks import is_3e


def _fr(value) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def brevet_csv(table: dict) -> str:
    """The table for a spreadsheet: `;`-separated, UTF-8 with a BOM, every cell neutralised."""
    matieres = table.get("matieres") or []
    header = ["id_be", "nom", "prenom"] + [m["libelle"] for m in matieres] + [
        "moyenne des moyennes annuelles", "enseignements sans moyenne", "meilleur enseignement facultatif",
        "points au-dessus de 10", "remarque"]
    libelles = {m["matiere"]: m["libelle"] for m in matieres}

    def rows():
        yield [f"{table.get('titre')} : classe {table.get('division')} ({table.get('indicatif')})"]
        yield header
        for r in table.get("eleves") or []:
            by_code = {line["matiere"]: line for line in r["enseignements"]}
            cells = [r["id_be"], r["nom"], r["prenom"]]
            for m in matieres:
                line = by_code.get(m["matiere"])
                if line is None:
                    cells.append("")
                elif line["dispense"]:
                    cells.append("dispensé")
                else:
                    cells.append(_fr(line["moyenne"]) + (" (estimée)" if line["estimee"] and line["moyenne"] is not None
                                                          else ""))
            fac = r.get("facultatif")
            cells += [_fr(r["moyenne"]), ", ".join(libelles.get(c, c) for c in r["manquants"]),
                      fac["libelle"] if fac else "", _fr(fac["points"]) if fac else "",
                      "" if r["formation_connue"] else "formation (MEF) inconnue"]
            yield cells

    rows_ = rows()
    return csv_table(next(rows_), rows_)


def _csv_response(text: str, name: str) -> Response:
    return Response(body=text.encode("utf-8"), status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'})


def _safe_name(code: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in code)[:40] or "classe"


@endpoint("bilan:read")
def division_brevet(request, rt, who: Identity, code: str) -> Response:
    """The « Brevet 2026 » table of a 3e class the caller may see."""
    fmt = (request.query_params or {}).get("format") or "json"
    if fmt not in ("json", "csv"):
        raise ApiError("BAD_REQUEST", "« format » vaut « json » ou « csv ».")
    etab = current_school(rt, who.uai)
    if etab is None:
        raise ApiError("REFERENTIEL_ABSENT")
    ref = rt.referentiel(etab.referentiel_cle)
    division = ref.divisions_by_code.get(code)
    if division is None:
        raise ApiError("NOT_FOUND", f"La classe « {code} » n'existe pas dans votre établissement.")
    _check_division(code, visible_divisions(rt, who))
    if not is_3e(division):
        raise ApiError("BAD_REQUEST", f"La classe « {code} » n'est pas une classe de 3e (niveau "
                       f"{division.get('niveau')}) : le tableau du brevet ne concerne que les 3e.")
    views = [merge.view(r.state) for r in rt.repos.bilans.of_division(who.uai, code)]
    table = brevet.division_table(views, division, ref)
    if fmt == "csv":
        return _csv_response(brevet_csv(table), f"brevet-2026-{_safe_name(code)}.csv")
    return json_response(table)
