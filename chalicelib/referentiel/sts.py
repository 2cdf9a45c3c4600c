"""Reader of the STS Web export `sts_emp_<UAI>_<année>.xml` (root `STS_EDT`), from an already parsed
and guarded root (see `exports.py`):

- `PARAMETRES/UAJ@CODE` (DENOM_PRINC, DENOM_COMPL, COMMUNE) and `PARAMETRES/ANNEE_SCOLAIRE@ANNEE`;
- `NOMENCLATURES/MATIERES/MATIERE@CODE`, `NOMENCLATURES/MEFS/MEF@CODE`;
- `DONNEES/INDIVIDUS/INDIVIDU@ID@TYPE` (epp|local) with NOM_USAGE, PRENOM, CIVILITE, SEXE, FONCTION,
  `PROFS_PRINC/PROF_PRINC/CODE_STRUCTURE`; the LSU teacher type (`IndividuSts.type_lsu`: epp, local,
  dir, autre) comes from TYPE and FONCTION;
- `DONNEES/STRUCTURE/DIVISIONS/DIVISION@CODE` with `MEFS_APPARTENANCE/MEF_APPARTENANCE@CODE` and
  `SERVICES/SERVICE@CODE_MATIERE@CODE_MOD_COURS/ENSEIGNANTS/ENSEIGNANT@ID@TYPE`;
- `DONNEES/STRUCTURE/GROUPES/GROUPE@CODE` with `DIVISIONS_APPARTENANCE/DIVISION_APPARTENANCE@CODE`
  and their services.

The timetable file (root `EDT_STS`) is refused before this reader is called."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from chalicelib.referentiel._lecture import (
    Erreurs, Matiere, Mef, attribut, code_matiere_valide, donnees, identifiant_valide, lire_matieres,
    lire_mefs, texte,
)

EPP, LOCAL = "epp", "local"
ENSEIGNANT = "ENS"
# STS Web's INDIVIDU@TYPE says where a person comes from (epp: the EPP personnel base; local:
# created in STS Web), FONCTION what they do (ENS teaching, DIR direction, EDU CPE, DOC
# documentation, SUR, ADF…). An LSU file's Enseignant@type has four values: a member of the
# direction is "dir", any other non-teaching staff member "autre", a teacher (or an individual
# without FONCTION) keeps epp or local.
DIRECTION = "DIR"
DIR, AUTRE = "dir", "autre"
# STS writes the civilité as a code (1 M., 2 Mme, 3 Mlle) or as a label; the sex as 1 or 2.
_CIVILITES = {"1": "M", "M": "M", "M.": "M", "MR": "M", "2": "MME", "3": "MME", "MME": "MME",
              "MLLE": "MME", "MELLE": "MME"}
_CIVILITE_DU_SEXE = {"1": "M", "2": "MME", "M": "M", "F": "MME"}


@dataclass(frozen=True)
class IndividuSts:
    id: str
    type: str
    nom: str
    prenom: str | None = None
    civilite: str | None = None
    fonction: str | None = None
    profs_principaux: tuple[str, ...] = ()     # codes of the structures where they are PP

    @property
    def type_lsu(self) -> str:
        """The `type` of the référentiel's teacher, as an LSU file writes it."""
        if self.fonction == DIRECTION:
            return DIR
        if self.fonction not in (None, ENSEIGNANT):
            return AUTRE
        return self.type


@dataclass(frozen=True)
class ServiceSts:
    code_matiere: str
    code_mod_cours: str | None
    enseignants: tuple[str, ...]               # individus' ids


@dataclass(frozen=True)
class DivisionSts:
    code: str
    libelle: str | None
    mefs: tuple[str, ...]
    services: tuple[ServiceSts, ...]


@dataclass(frozen=True)
class GroupeSts:
    code: str
    libelle: str | None
    divisions: tuple[str, ...]
    mefs: tuple[str, ...]
    services: tuple[ServiceSts, ...]


@dataclass(frozen=True)
class StsEmp:
    nom_etablissement: str | None
    commune: str | None
    matieres: tuple[Matiere, ...]
    mefs: tuple[Mef, ...]
    individus: tuple[IndividuSts, ...]
    divisions: tuple[DivisionSts, ...]
    groupes: tuple[GroupeSts, ...]


def _civilite(el: etree._Element) -> str | None:
    brut = (texte(el, "CIVILITE") or "").upper()
    return _CIVILITES.get(brut) or _CIVILITE_DU_SEXE.get((texte(el, "SEXE") or "").upper())


def _individus(bloc: etree._Element, erreurs: Erreurs) -> tuple[IndividuSts, ...]:
    vus: dict[str, IndividuSts] = {}
    for el in bloc.iterfind("INDIVIDUS/INDIVIDU"):
        ident, genre = attribut(el, "ID"), (attribut(el, "TYPE") or EPP).lower()
        nom = texte(el, "NOM_USAGE") or texte(el, "NOM_PATRONYMIQUE") or texte(el, "NOM")
        qui = f"Individu {ident or '?'}" + (f" ({nom})" if nom else "")
        if not identifiant_valide(ident):
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : ID « {ident or ''} » n'est pas un "
                            f"identifiant numérique.", ligne=el.sourceline)
            continue
        if genre not in (EPP, LOCAL):
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : TYPE « {genre} » au lieu de « epp » ou "
                            f"« local ».", ligne=el.sourceline)
            continue
        if ident in vus:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : ID présent plusieurs fois dans INDIVIDUS.",
                            ligne=el.sourceline)
            continue
        if not nom:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{qui} : nom (NOM_USAGE) absent.", ligne=el.sourceline)
            continue
        pp = tuple(dict.fromkeys(c for c in (texte(p, "CODE_STRUCTURE") for p in el.iterfind("PROFS_PRINC/PROF_PRINC"))
                                 if c))
        vus[ident] = IndividuSts(ident, genre, nom, texte(el, "PRENOM"), _civilite(el),
                                 (texte(el, "FONCTION") or "").upper() or None, pp)
    return tuple(vus.values())


def _services(structure: etree._Element, ou: str, erreurs: Erreurs) -> tuple[ServiceSts, ...]:
    out = []
    for el in structure.iterfind("SERVICES/SERVICE"):
        code = attribut(el, "CODE_MATIERE")
        if not code_matiere_valide(code):
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{ou} : service de code matière « {code or ''} » au "
                            f"lieu d'un code de 6 chiffres.", ligne=el.sourceline)
            continue
        ids = tuple(dict.fromkeys(i for i in (attribut(e, "ID") for e in el.iterfind("ENSEIGNANTS/ENSEIGNANT")) if i))
        out.append(ServiceSts(code, attribut(el, "CODE_MOD_COURS"), ids))
    return tuple(out)


def _mefs_appartenance(el: etree._Element) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in (attribut(m, "CODE") for m in el.iterfind("MEFS_APPARTENANCE/MEF_APPARTENANCE"))
                               if c))


def lire_sts(racine: etree._Element, erreurs: Erreurs) -> StsEmp:
    """Individus, divisions, groupes and their services of an `STS_EDT` export."""
    uaj = racine.find("PARAMETRES/UAJ")
    nom = " ".join(x for x in (texte(uaj, "DENOM_PRINC"), texte(uaj, "DENOM_COMPL")) if x) or None
    bloc = donnees(racine)
    divisions: dict[str, DivisionSts] = {}
    for el in bloc.iterfind("STRUCTURE/DIVISIONS/DIVISION"):
        code = attribut(el, "CODE")
        if not code:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", "Division sans code (attribut CODE).", ligne=el.sourceline)
            continue
        if code in divisions:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"Division « {code} » présente plusieurs fois.",
                            ligne=el.sourceline)
            continue
        divisions[code] = DivisionSts(code, texte(el, "LIBELLE_LONG"), _mefs_appartenance(el),
                                      _services(el, f"Division « {code} »", erreurs))
    groupes: dict[str, GroupeSts] = {}
    for el in bloc.iterfind("STRUCTURE/GROUPES/GROUPE"):
        code = attribut(el, "CODE")
        if not code or code in groupes:
            erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"Groupe « {code or ''} » sans code ou présent plusieurs "
                            f"fois.", ligne=el.sourceline)
            continue
        membres = tuple(dict.fromkeys(c for c in (attribut(d, "CODE") for d in
                                                  el.iterfind("DIVISIONS_APPARTENANCE/DIVISION_APPARTENANCE")) if c))
        groupes[code] = GroupeSts(code, texte(el, "LIBELLE_LONG"), membres, _mefs_appartenance(el),
                                  _services(el, f"Groupe « {code} »", erreurs))
    if bloc.find("INDIVIDUS/INDIVIDU") is None or not divisions:   # truncated or wrong: nothing emptied
        erreurs.ajouter("EXPORT_DONNEE_INVALIDE", "Aucun enseignant (DONNEES/INDIVIDUS/INDIVIDU) ou aucune division "
                        "(DONNEES/STRUCTURE/DIVISIONS/DIVISION) dans l'export : fichier tronqué ou mauvais "
                        "export ; le référentiel n'est pas vidé.")
    nomenclatures = racine.find("NOMENCLATURES")
    return StsEmp(
        nom_etablissement=nom,
        commune=texte(uaj, ".//COMMUNE"),
        matieres=lire_matieres(nomenclatures, "CODE", erreurs),
        mefs=lire_mefs(nomenclatures, "CODE"),
        individus=_individus(bloc, erreurs),
        divisions=tuple(divisions.values()),
        groupes=tuple(groupes.values()),
    )
