"""The school head's « Tableau de bord » (issue 16): per class and période (or fin de cycle), how many
bilans are imported, how many are à compléter (and what they lack), complete but not locked, locked;
each count with the search (`GET /bilans`, chalicelib.api.bilans.search_views) that lists those bilans.

Pure and total: it reads the views `merge.view` gives and the référentiel's divisions, and leaves out
whatever it cannot read (a view that is not a dict, a bilan whose key is not `P#millésime#nb#indice`
nor `C#cycle#millésime`, since no search could list it)."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from chalicelib.domain.synthese import french_key

# The search's statut filter (search_views): A_COMPLETER and COMPLET exclude the locked bilans.
A_COMPLETER, COMPLET, VERROUILLE = "A_COMPLETER", "COMPLET", "VERROUILLE"
AG, VS, EP = "appréciation générale", "vie scolaire", "éléments de programme"
_EP_PREFIX = f"{EP} en "
_PERIODIQUE = re.compile(r"P#(\d{1,6})#(\d{1,3})#(\d{1,3})")
_CYCLE = re.compile(r"C#(\d{1,3})#(\d{1,6})")


def _dict(value) -> dict:
    return value if isinstance(value, Mapping) else {}


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def bilan_of(cle) -> tuple[tuple, str, str] | None:
    """A stored bilan key → (sort key, path as the search takes it, French label); None if malformed."""
    if not isinstance(cle, str):
        return None
    if m := _PERIODIQUE.fullmatch(cle):
        millesime, nb, indice = m.groups()
        return (0, int(millesime), int(nb), int(indice)), cle.replace("#", "-"), \
            f"période {int(indice)}/{int(nb)} ({millesime})"
    if m := _CYCLE.fullmatch(cle):
        cycle, millesime = m.groups()
        return (1, int(millesime), int(cycle)), cle.replace("#", "-"), f"fin de cycle {int(cycle)} ({millesime})"
    return None


def _manque(item: str) -> tuple[str, str | None]:
    """One of `merge.completeness`'s « manquants » → (partie, discipline)."""
    if item.startswith(_EP_PREFIX):
        return EP, item[len(_EP_PREFIX):] or "?"
    return item, None


def _manque_order(key: tuple[str, str | None]) -> tuple:
    partie, discipline = key
    rank = {AG: 0, VS: 1, EP: 2}.get(partie, 3)
    return rank, french_key(partie), french_key(discipline or "")


def _manques(counts: Counter) -> list[dict]:
    return [{"partie": partie, **({"discipline": discipline} if discipline is not None else {}), "nombre": n}
            for (partie, discipline), n in sorted(counts.items(), key=lambda kv: _manque_order(kv[0]))]


def _period(division: str, path: str, libelle: str, views: list[dict]) -> dict:
    locked = [v for v in views if v.get("verrouille") is True]
    open_ = [v for v in views if v.get("verrouille") is not True]
    a_completer = [v for v in open_ if v.get("statut") == A_COMPLETER]
    complets = [v for v in open_ if v.get("statut") == COMPLET]
    lacks: Counter = Counter()
    for v in a_completer:
        items = v.get("manquants") if isinstance(v.get("manquants"), list) else []
        lacks.update({_manque(item) for item in items if isinstance(item, str) and item})

    def recherche(statut: str) -> dict:
        return {"division": division, "bilan": path, "statut": statut}

    return {"bilan": path, "libelle": libelle, "importes": len(views),
            "a_completer": {"nombre": len(a_completer), "manques": _manques(lacks), "recherche": recherche(A_COMPLETER)},
            "complets_non_verrouilles": {"nombre": len(complets), "recherche": recherche(COMPLET)},
            "verrouilles": {"nombre": len(locked), "recherche": recherche(VERROUILLE)}}


def tableau_de_bord(views: Iterable, divisions: Mapping) -> list[dict]:
    """Per class of `divisions` (code → the référentiel's division: niveau, mode_import), sorted by
    code, its périodes and fins de cycle (sorted: périodes by millésime then indice, then cycles)
    with their counts. A bilan counts under its élève's division; one of a class not in `divisions`
    is left out. `a_completer.manques`: how many of those bilans lack each part (one per bilan)."""
    grouped: dict[str, dict[str, tuple[tuple, str, list]]] = {code: {} for code in divisions if isinstance(code, str)}
    for v in views if isinstance(views, Iterable) else ():
        if not isinstance(v, Mapping):
            continue
        division = _dict(v.get("eleve")).get("division")
        bilan = bilan_of(v.get("cle"))
        if not isinstance(division, str) or division not in grouped or bilan is None:
            continue
        order, path, libelle = bilan
        grouped[division].setdefault(path, (order, libelle, []))[2].append(v)
    classes = []
    for code in sorted(grouped):
        d = _dict(divisions.get(code))
        periods = sorted(grouped[code].items(), key=lambda kv: kv[1][0])
        classes.append({"division": code, "niveau": _text(d.get("niveau")), "mode": _text(d.get("mode_import")),
                        "periodes": [_period(code, path, libelle, vs) for path, (_o, libelle, vs) in periods]})
    return classes
