"""Readers of two SIECLE exports, from an already parsed and guarded root (see `exports.py`):

- « Base élèves » (root `BEE_ELEVES`, e.g. ElevesSansAdresses.xml): `DONNEES/ELEVES/ELEVE@ELEVE_ID`,
  `DONNEES/STRUCTURES/STRUCTURES_ELEVE@ELEVE_ID/STRUCTURE` (type D division, G groupe) and
  `DONNEES/OPTIONS/OPTION@ELEVE_ID/OPTIONS_ELEVE`;
- nomenclatures (root `BEE_NOMENCLATURES`): `MATIERES/MATIERE@CODE_MATIERE`, `MEFS/MEF@CODE_MEF`,
  `PROGRAMMES/PROGRAMME`, `MODALITES_ELECTION/MODALITE_ELECTION@CODE_MODALITE_ELECT`.

`ELEVE_ID` is the `id-be` of LSU files (not the INE). Pure functions; every problem found is
reported (up to a limit) in one `ExportError`."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from chalicelib.referentiel._lecture import (
    Erreurs, Matiere, Mef, attribut, code_matiere_valide, date_iso, donnees, identifiant_valide,
    lire_matieres, lire_mefs, texte,
)

DIVISION, GROUPE = "D", "G"
_SEXES = {"1": "M", "2": "F", "M": "M", "F": "F"}


@dataclass(frozen=True)
class OptionEleve:
    code_matiere: str
    modalite: str | None = None


@dataclass(frozen=True)
class EleveSiecle:
    id_be: str
    nom: str
    prenom: str
    sexe: str | None = None
    date_naissance: str | None = None
    date_entree: str | None = None
    date_sortie: str | None = None
    code_mef: str | None = None
    ine: str | None = None
    division: str | None = None
    groupes: tuple[str, ...] = ()
    options: tuple[OptionEleve, ...] = ()


@dataclass(frozen=True)
class BaseElevesSiecle:
    eleves: tuple[EleveSiecle, ...]


@dataclass(frozen=True)
class Programme:
    code_mef: str | None
    code_matiere: str | None
    modalite: str | None
    horaire: str | None


@dataclass(frozen=True)
class ModaliteElection:
    code: str
    libelle_court: str | None = None
    libelle_long: str | None = None

    @property
    def libelle(self) -> str:
        return self.libelle_long or self.libelle_court or self.code


@dataclass(frozen=True)
class NomenclaturesSiecle:
    matieres: tuple[Matiere, ...]
    mefs: tuple[Mef, ...]
    programmes: tuple[Programme, ...]
    modalites: tuple[ModaliteElection, ...]


def _qui(id_be: str, nom: str | None = None, prenom: str | None = None) -> str:
    noms = " ".join(x for x in (nom, prenom) if x)
    return f"Élève {id_be}" + (f" ({noms})" if noms else "")


def _date(el: etree._Element, balise: str, qui: str, erreurs: Erreurs, stricte: bool = True) -> str | None:
    brut = texte(el, balise)
    try:
        return date_iso(brut)
    except ValueError:
        if stricte:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : {balise} « {brut} » n'est pas une date "
                            f"JJ/MM/AAAA valide.", ligne=el.sourceline)
        return None


def _structures(bloc: etree._Element, erreurs: Erreurs) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """ELEVE_ID → (its division, its groupes)."""
    out: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for el in bloc.iterfind("STRUCTURES/STRUCTURES_ELEVE"):
        id_be = attribut(el, "ELEVE_ID")
        if not id_be:
            continue
        divisions, groupes = [], []
        for s in el.iterfind("STRUCTURE"):
            code, genre = texte(s, "CODE_STRUCTURE"), (texte(s, "TYPE_STRUCTURE") or "").upper()
            if not code:
                continue
            if genre == DIVISION and code not in divisions:
                divisions.append(code)
            elif genre == GROUPE and code not in groupes:
                groupes.append(code)
        precedent = out.get(id_be, (None, ()))
        if precedent[0] and precedent[0] not in divisions:
            divisions.insert(0, precedent[0])
        if len(divisions) > 1:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"Élève {id_be} : rattaché à plusieurs divisions "
                            f"({', '.join(divisions)}).", ligne=el.sourceline)
        out[id_be] = (divisions[0] if divisions else None, tuple(dict.fromkeys(precedent[1] + tuple(groupes))))
    return out


def _options(bloc: etree._Element, erreurs: Erreurs) -> dict[str, tuple[OptionEleve, ...]]:
    out: dict[str, list[OptionEleve]] = {}
    for el in bloc.iterfind("OPTIONS/OPTION"):
        id_be = attribut(el, "ELEVE_ID")
        if not id_be:
            continue
        for o in el.iterfind("OPTIONS_ELEVE"):
            code = texte(o, "CODE_MATIERE")
            if not code_matiere_valide(code):
                erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"Élève {id_be} : option de code matière "
                                f"« {code or ''} » au lieu d'un code de 6 chiffres.", ligne=o.sourceline)
                continue
            options = out.setdefault(id_be, [])
            if all(x.code_matiere != code for x in options):
                options.append(OptionEleve(code, texte(o, "CODE_MODALITE_ELECT")))
    return {k: tuple(v) for k, v in out.items()}


def lire_base_eleves(racine: etree._Element, erreurs: Erreurs) -> BaseElevesSiecle:
    """The élèves of a `BEE_ELEVES` export with their division, groupes and options."""
    bloc = donnees(racine)
    structures = _structures(bloc, erreurs)
    options = _options(bloc, erreurs)
    eleves: dict[str, EleveSiecle] = {}
    for el in bloc.iterfind("ELEVES/ELEVE"):
        id_be = attribut(el, "ELEVE_ID")
        nom = texte(el, "NOM_DE_FAMILLE") or texte(el, "NOM_USAGE") or texte(el, "NOM")
        prenom = texte(el, "PRENOM")
        qui = _qui(id_be or "?", nom, prenom)
        if not identifiant_valide(id_be):
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : ELEVE_ID « {id_be or ''} » n'est pas "
                            f"un identifiant numérique.", ligne=el.sourceline)
            continue
        if id_be in eleves:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : ELEVE_ID présent plusieurs fois.",
                            ligne=el.sourceline)
            continue
        if not nom or not prenom:
            manque = "nom (NOM_DE_FAMILLE)" if not nom else "prénom (PRENOM)"
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : {manque} absent.", ligne=el.sourceline)
            continue
        entree = _date(el, "DATE_ENTREE", qui, erreurs)
        sortie = _date(el, "DATE_SORTIE", qui, erreurs)
        if entree and sortie and sortie < entree:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : date de sortie ({sortie}) antérieure à la "
                            f"date d'entrée ({entree}).", ligne=el.sourceline)
        division, groupes = structures.get(id_be, (None, ()))
        eleves[id_be] = EleveSiecle(
            id_be=id_be, nom=nom, prenom=prenom, sexe=_SEXES.get(texte(el, "CODE_SEXE") or ""),
            date_naissance=_date(el, "DATE_NAISS", qui, erreurs, stricte=False),
            date_entree=entree, date_sortie=sortie, code_mef=texte(el, "CODE_MEF"),
            ine=texte(el, "ID_NATIONAL"), division=division, groupes=groupes,
            options=options.get(id_be, ()),
        )
    if bloc.find("ELEVES/ELEVE") is None:      # a truncated or wrong export must not empty the référentiel
        erreurs.ajouter("EXPORT_DONNEE_INVALIDE", "Aucun élève (DONNEES/ELEVES/ELEVE) dans l'export : fichier "
                        "tronqué ou mauvais export ; le référentiel n'est pas vidé.")
    return BaseElevesSiecle(tuple(eleves.values()))


def lire_nomenclatures(racine: etree._Element, erreurs: Erreurs) -> NomenclaturesSiecle:
    """Matières, MEF, programmes and modalités d'élection of a `BEE_NOMENCLATURES` export."""
    bloc = donnees(racine)
    programmes = tuple(
        Programme(texte(el, "CODE_MEF"), texte(el, "CODE_MATIERE"), texte(el, "CODE_MODALITE_ELECT"),
                  texte(el, "HORAIRE"))
        for el in bloc.iterfind("PROGRAMMES/PROGRAMME")
    )
    modalites: dict[str, ModaliteElection] = {}
    for el in bloc.iterfind("MODALITES_ELECTION/MODALITE_ELECTION"):
        code = attribut(el, "CODE_MODALITE_ELECT") or texte(el, "CODE_MODALITE_ELECT")
        if code:
            modalites.setdefault(code, ModaliteElection(code, texte(el, "LIBELLE_COURT"), texte(el, "LIBELLE_LONG")))
    return NomenclaturesSiecle(
        matieres=lire_matieres(bloc, "CODE_MATIERE", erreurs),
        mefs=lire_mefs(bloc, "CODE_MEF"),
        programmes=programmes,
        modalites=tuple(modalites.values()),
    )
