"""« Brevet 2026 » table of a 3e class: an indicative contrôle continu per élève.

Since the 2026 session the contrôle continu of the brevet (DNB, 40 % of the mark) is the mean of
the 3e annual averages of every obligatory enseignement followed; the points above 10/20 of the
best facultatif enseignement (Latin, LSF…) are added. The official computation is Cyclades'; this
one is indicative, from what was imported.

`division_table(views, division, ref)` is pure and total: the stored bilans arrive as
`merge.view`s, whose content comes from a file (hostile: any key may be missing or of any type);
nothing here raises on them. Per élève of the division (référentiel order):

- each obligatory enseignement of their formation (`enseignements_obligatoires`: S of the MEF,
  O among their options) with its annual average: the file's (`moyenne_annuelle` of an acquis)
  when one is carried, otherwise the mean of the imported periodic averages (`moyenne_eleve`,
  French decimals « 12,5 »), marked `estimee`; an acquis « élève non noté » (dispensed) with no
  mark neutralises the enseignement (`dispense`), counted neither as missing nor in the mean;
- `manquants`: the obligatory enseignements without any average;
- `moyenne`: the mean of the annual averages found (2 decimals), None if none;
- `facultatif`: the best facultatif enseignement (F of the MEF) with an average, and its points
  above 10 (`points`).
An élève whose formation is unknown (no MEF, or no programme of it) gets `formation_connue: false`
and no computation."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from chalicelib.domain.checks import brevet_mark, non_note
from chalicelib.referentiel import Referentiel, enseignements_facultatifs, enseignements_obligatoires

INDICATIF = "indicatif : le calcul officiel est celui de l'application Cyclades"
TITRE = "Brevet 2026"
_CODE = re.compile(r"^([0-9]{6})(?:[-#]|$)")
_CENTIEME = Decimal("0.01")


def _dec(value) -> Decimal | None:
    mark = brevet_mark(value)
    return None if mark is None else Decimal(str(value).strip().replace(",", "."))


def _round(value: Decimal) -> float:
    return float(value.quantize(_CENTIEME, rounding=ROUND_HALF_UP))


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _subject_code(key, acquis: dict) -> str | None:
    """The matière of an acquis of a view: the head of its key (`acquis_keys`: the code, then
    « -modalité », « -id_lv » or « #n » where needed), else its `code` if the view carries one."""
    for candidate in (key, acquis.get("code")):
        if isinstance(candidate, str):
            m = _CODE.match(candidate)
            if m:
                return m.group(1)
    return None


def _periode_order(view: dict) -> tuple[int, int]:
    p = _dict(view.get("periode"))
    indice, nb = p.get("indice"), p.get("nb_periodes")
    ok = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    return (nb if ok(nb) else 0, indice if ok(indice) else 0)


class _Marks:
    """What an élève's periodic bilans give for one matière."""

    def __init__(self) -> None:
        self.periodic: list[Decimal] = []
        self.annual: Decimal | None = None
        self.non_note = False


def _marks_of(views: list[dict]) -> dict[str, _Marks]:
    out: dict[str, _Marks] = {}
    for view in sorted(views, key=_periode_order):        # the latest period's annual average wins
        acquis = view.get("acquis")
        if not isinstance(acquis, dict):
            continue
        seen: set[str] = set()
        for key, a in acquis.items():
            a = _dict(a)
            code = _subject_code(key, a)
            if code is None:
                continue
            marks = out.setdefault(code, _Marks())
            annual = _dec(a.get("moyenne_annuelle"))
            if annual is not None:
                marks.annual = annual
            periodic = _dec(a.get("moyenne_eleve"))
            if periodic is not None and code not in seen:  # one mark per matière and period
                seen.add(code)
                marks.periodic.append(periodic)
            if non_note(a):
                marks.non_note = True
    return out


def _label(code: str, ref: Referentiel) -> str:
    libelle = _dict(ref.matieres_by_code.get(code)).get("libelle")
    return libelle if isinstance(libelle, str) else code


def _average(code: str, marks: _Marks | None, ref: Referentiel) -> dict:
    row = {"matiere": code, "libelle": _label(code, ref), "moyenne": None, "estimee": False, "dispense": False,
           "nb_periodes": 0}
    if marks is None:
        return row
    row["nb_periodes"] = len(marks.periodic)
    if marks.annual is not None:
        row["moyenne"] = _round(marks.annual)
    elif marks.periodic:
        row.update(moyenne=_round(_mean(marks.periodic)), estimee=True)
    elif marks.non_note:
        row["dispense"] = True
    return row


def eleve_row(eleve: dict, views: list[dict], ref: Referentiel) -> dict:
    """The brevet line of one élève from their periodic bilans' views."""
    row = {"id_be": eleve.get("id_be"), "nom": eleve.get("nom"), "prenom": eleve.get("prenom"),
           "mef": eleve.get("mef"), "formation_connue": False, "enseignements": [], "manquants": [],
           "moyenne": None, "complet": False, "facultatif": None}
    expected = enseignements_obligatoires(ref, eleve)
    if expected is None:
        return row
    marks = _marks_of([v for v in views if v.get("type") == "periodique"])
    lines = [_average(code, marks.get(code), ref) for code in expected]
    found = [Decimal(str(line["moyenne"])) for line in lines if line["moyenne"] is not None]
    missing = [line["matiere"] for line in lines if line["moyenne"] is None and not line["dispense"]]
    best = None
    for code in enseignements_facultatifs(ref, eleve):
        line = _average(code, marks.get(code), ref)
        if line["moyenne"] is not None and (best is None or line["moyenne"] > best["moyenne"]):
            best = line
    if best is not None:
        best = {**best, "points": _round(max(Decimal(str(best["moyenne"])) - 10, Decimal(0)))}
    row.update(formation_connue=True, enseignements=lines, manquants=missing,
               moyenne=_round(_mean(found)) if found else None, complet=not missing, facultatif=best)
    return row


def division_table(views: list, division: dict, ref: Referentiel) -> dict:
    """The « Brevet 2026 » table of a 3e class: one line per élève of the division in the
    référentiel, from the views of the division's stored bilans."""
    code = division.get("code")
    by_eleve: dict[str, list[dict]] = {}
    for view in views:
        if not isinstance(view, dict):
            continue
        id_be = _dict(view.get("eleve")).get("id_be")
        if isinstance(id_be, str):
            by_eleve.setdefault(id_be, []).append(view)
    eleves = [e for e in ref.eleves_by_id_be.values() if e.get("division") == code]
    rows = [eleve_row(e, by_eleve.get(e["id_be"], []), ref) for e in eleves]
    columns: dict[str, str] = {}
    for r in rows:
        for line in r["enseignements"]:
            columns.setdefault(line["matiere"], line["libelle"])
    return {"titre": TITRE, "indicatif": INDICATIF, "division": code, "niveau": division.get("niveau"),
            "matieres": [{"matiere": c, "libelle": lib} for c, lib in columns.items()], "eleves": rows}
