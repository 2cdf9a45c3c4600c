"""LSU's vocabulary, once: the values the synthèse, the API, the référentiel and the stored items
share. String enums, so a member is the string the contracts (docs/contrats.md) show and JSON,
DynamoDB and the tests see no difference."""
from __future__ import annotations

from enum import StrEnum


class ImportStatut(StrEnum):
    """Where an import stands (the synthèse's `statut`)."""
    EN_ATTENTE_FICHIER = "EN_ATTENTE_FICHIER"
    EN_COURS = "EN_COURS"
    TERMINE = "TERMINE"
    FICHIER_REJETE = "FICHIER_REJETE"
    EXPIRE = "EXPIRE"          # no file was deposited before the upload form expired (the watchdog)


# The statuts an import never leaves: the CLI and the tests wait for one of them (the page has its
# copy, FINAUX in chalicelib/api/static/app.js).
FINAL_IMPORT_STATUTS = (ImportStatut.TERMINE, ImportStatut.FICHIER_REJETE, ImportStatut.EXPIRE)


class BilanStatut(StrEnum):
    """What an import did to one bilan (a result of the synthèse)."""
    IMPORTE = "IMPORTE"
    MIS_A_JOUR = "MIS_A_JOUR"
    INCHANGE = "INCHANGE"
    REJETE = "REJETE"


class Mode(StrEnum):
    """A division's import mode (« Paramétrage des classes »)."""
    EDITEUR = "EDITEUR"
    SCONET_NOTES = "SCONET_NOTES"
    SAISIE = "SAISIE"


# The modes under which a file may bring a division's bilans (SAISIE: entered in LSU only).
IMPORT_MODES = (Mode.EDITEUR, Mode.SCONET_NOTES)


class SystemeEvaluation(StrEnum):
    """A class's evaluation system (« Paramétrage des classes »): LSU accepts one per class."""
    NOTES = "NOTES"
    POSITIONNEMENT = "POSITIONNEMENT"


class Role(StrEnum):
    """Who acts in LSU (the token's role)."""
    CE = "CE"
    DELEGUE_CE = "DELEGUE_CE"
    PP = "PP"
    CPE = "CPE"
    ENSEIGNANT = "ENSEIGNANT"


class Niveau(StrEnum):
    """A message's level: ERREUR refuses what it is about, the others only inform."""
    ERREUR = "ERREUR"
    AVERTISSEMENT = "AVERTISSEMENT"
    INFO = "INFO"


class Provenance(StrEnum):
    """Where a part of a bilan comes from (the bilan's view)."""
    IMPORT = "IMPORT"
    SAISIE = "SAISIE"
    ABSENT = "ABSENT"


class Completude(StrEnum):
    COMPLET = "COMPLET"
    A_COMPLETER = "A_COMPLETER"


class Civilite(StrEnum):
    """A teacher's civilité as the référentiel keeps it."""
    M = "M"
    MME = "MME"


_CIVILITES_ABREGEES = {Civilite.M: "M.", Civilite.MME: "Mme"}


def civilite_abregee(code: str | None) -> str:
    """« M. », « Mme » as a name is written in French; "" for none or an unknown code."""
    return _CIVILITES_ABREGEES.get(code or "", "")


def ou(values) -> str:
    """« A, B ou C »: the values a field accepts, as a French message names them."""
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} ou {values[-1]}"
