"""What the SIECLE and STS Web readers share: the error they raise, an error collector, and the
helpers that read a text, a code or a date out of an element. Pure; no I/O."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from lxml import etree

from chalicelib.domain.catalogue import message

MAX_ERREURS = 20


class ExportError(Exception):
    """The exports cannot be used. `erreurs` holds catalogue messages (`code`, `niveau`, `message`,
    `conseil`, and `fichier` when one file is at fault). Raised before anything is merged: the
    référentiel is never left half-merged."""

    def __init__(self, erreurs: list[dict]):
        self.erreurs = list(erreurs)
        super().__init__("; ".join(f"[{e['code']}] {e['message']}" for e in self.erreurs))

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.erreurs]


class Erreurs:
    """Collects the problems of one pass (a file, a merge) to report them together, at most
    `MAX_ERREURS`; `lever()` raises them as one `ExportError`."""

    def __init__(self, **commun):
        self.liste: list[dict] = []
        self.commun = commun
        self.tronque = 0

    def ajouter(self, code: str, detail: str | None = None, **extra) -> None:
        if len(self.liste) >= MAX_ERREURS:
            self.tronque += 1
            return
        self.liste.append(message(code, detail, **self.commun, **extra))

    def __bool__(self) -> bool:
        return bool(self.liste)

    def lever(self) -> None:
        if not self.liste:
            return
        if self.tronque:
            dernier = self.liste[-1]
            dernier["message"] += f" (et {self.tronque} autre(s) anomalie(s) non affichée(s))"
        raise ExportError(self.liste)


def texte(el: etree._Element | None, chemin: str | None = None) -> str | None:
    """Text of `el` (or of its child at `chemin`), spaces collapsed; None if absent or blank.
    SIECLE pads its values with trailing spaces (« ANGLAIS LV1         »)."""
    if el is None:
        return None
    brut = el.text if chemin is None else el.findtext(chemin)
    if brut is None:
        return None
    propre = " ".join(brut.split())
    return propre or None


def attribut(el: etree._Element | None, nom: str) -> str | None:
    if el is None:
        return None
    valeur = el.get(nom)
    if valeur is None:
        return None
    return " ".join(valeur.split()) or None


def donnees(racine: etree._Element) -> etree._Element:
    """The `DONNEES` block of an export (the root itself if a file has none)."""
    bloc = racine.find("DONNEES")
    return bloc if bloc is not None else racine


_DATE_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def date_iso(valeur: str | None) -> str | None:
    """`JJ/MM/AAAA` (SIECLE, STS) or `AAAA-MM-JJ` → `AAAA-MM-JJ`; None if absent.
    Raises ValueError for anything else or an impossible date."""
    if valeur is None:
        return None
    m = _DATE_FR.match(valeur)
    if m:
        jour, mois, annee = (int(x) for x in m.groups())
    else:
        m = _DATE_ISO.match(valeur)
        if not m:
            raise ValueError(valeur)
        annee, mois, jour = (int(x) for x in m.groups())
    return dt.date(annee, mois, jour).isoformat()


_CODE_MATIERE = re.compile(r"^[0-9]{6}$")
_NUMERIQUE = re.compile(r"^[0-9]+$")


def code_matiere_valide(code: str | None) -> bool:
    return bool(code and _CODE_MATIERE.match(code))


def identifiant_valide(code: str | None) -> bool:
    return bool(code and _NUMERIQUE.match(code))


@dataclass(frozen=True)
class Matiere:
    """A subject of a nomenclature (SIECLE `MATIERE@CODE_MATIERE`, STS `MATIERE@CODE`)."""
    code: str
    code_gestion: str | None = None
    libelle_court: str | None = None
    libelle_long: str | None = None
    libelle_edition: str | None = None

    @property
    def libelle(self) -> str:
        """The label shown to users: the edition label (« Français »), else the long one."""
        return self.libelle_edition or self.libelle_long or self.libelle_court or self.code_gestion or self.code


@dataclass(frozen=True)
class Mef:
    """A MEF (module élémentaire de formation): `CODE_MEF`, its formation (« 3EME »), its labels
    and the MEF it is attached to (`MEF_RATTACHEMENT`)."""
    code: str
    formation: str | None = None
    libelle_long: str | None = None
    libelle_edition: str | None = None
    rattachement: str | None = None


def lire_matieres(conteneur: etree._Element | None, attribut_code: str, erreurs: Erreurs) -> tuple[Matiere, ...]:
    """`MATIERES/MATIERE` of a nomenclature block; a code that is not 6 digits is an error."""
    if conteneur is None:
        return ()
    vues: dict[str, Matiere] = {}
    for el in conteneur.iterfind("MATIERES/MATIERE"):
        code = attribut(el, attribut_code)
        if not code_matiere_valide(code):
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"Matière (ligne {el.sourceline}) : code "
                            f"« {code or ''} » au lieu d'un code de 6 chiffres.", ligne=el.sourceline)
            continue
        vues.setdefault(code, Matiere(code, texte(el, "CODE_GESTION"), texte(el, "LIBELLE_COURT"),
                                      texte(el, "LIBELLE_LONG"), texte(el, "LIBELLE_EDITION")))
    return tuple(vues.values())


def lire_mefs(conteneur: etree._Element | None, attribut_code: str) -> tuple[Mef, ...]:
    """`MEFS/MEF` of a nomenclature block (MEFs only help to find a division's niveau: a MEF
    without a code is skipped, never an error)."""
    if conteneur is None:
        return ()
    vus: dict[str, Mef] = {}
    for el in conteneur.iterfind("MEFS/MEF"):
        code = attribut(el, attribut_code)
        if code:
            vus.setdefault(code, Mef(code, texte(el, "FORMATION"), texte(el, "LIBELLE_LONG"),
                                     texte(el, "LIBELLE_EDITION"), texte(el, "MEF_RATTACHEMENT")))
    return tuple(vus.values())
