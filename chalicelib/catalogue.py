"""The one catalogue of message codes: each code has a level, a French message and, where LSU's
user guide gives one, a guidance text (« que faire ? »). Codes are stable: clients rely on them."""
from __future__ import annotations

from dataclasses import dataclass

ERREUR = "ERREUR"
AVERTISSEMENT = "AVERTISSEMENT"
INFO = "INFO"


@dataclass(frozen=True)
class Entry:
    code: str
    niveau: str
    message: str
    conseil: str | None = None


_ENTRIES = [
    # --- Fichier -------------------------------------------------------------------------
    Entry("EMPTY_FILE", ERREUR, "Le fichier est vide (0 octet).",
          "Exporter à nouveau le fichier depuis le logiciel de suivi des acquis."),
    Entry("BLANK_FILE", ERREUR, "Le fichier ne contient que des espaces ou des retours à la ligne.",
          "Exporter à nouveau le fichier depuis le logiciel de suivi des acquis."),
    Entry("NOT_XML", ERREUR, "Le fichier n'est pas au format XML attendu (PDF, tableur, texte…).",
          "Importer le fichier XML d'export LSU produit par le logiciel de suivi des acquis."),
    Entry("DOCTYPE_FORBIDDEN", ERREUR,
          "Le fichier contient une déclaration DOCTYPE ou d'entités, interdite dans un fichier d'import LSU.",
          "Exporter à nouveau le fichier depuis le logiciel de suivi des acquis, sans le modifier."),
    Entry("NOT_WELL_FORMED", ERREUR, "Le fichier XML est mal formé (tronqué ou altéré).",
          "Vérifier que le fichier a été transféré en entier, puis l'exporter à nouveau si besoin."),
    Entry("ENCODING_MISMATCH", ERREUR,
          "Le fichier n'est pas écrit dans l'encodage qu'il déclare : les accents seraient altérés.",
          "Exporter à nouveau le fichier depuis le logiciel de suivi des acquis, sans le modifier."),
    Entry("WRONG_NAMESPACE", ERREUR,
          "Le fichier n'est pas un fichier d'import des bilans LSU (élément racine « lsun-bilans » de "
          "l'espace de noms « urn:fr:edu:scolarite:lsun:bilans:import » attendu).",
          "Choisir le fichier « export LSU » des bilans, et non un autre export du logiciel."),
    Entry("XSD_INVALID", ERREUR, "Le fichier n'est pas conforme au schéma officiel d'import LSU.",
          "Signaler l'erreur à l'éditeur du logiciel qui a produit le fichier, avec la ligne indiquée."),
    Entry("UAI_MISMATCH", ERREUR,
          "Le fichier concerne un autre établissement que celui dans lequel vous importez.",
          "Vérifier l'UAI de l'établissement dans le logiciel de suivi des acquis."),
    Entry("FILE_TOO_LARGE", ERREUR, "Le fichier dépasse la taille maximale autorisée.",
          "Exporter les bilans par période ou par niveau pour obtenir des fichiers plus petits."),
    Entry("TOO_MANY_BILANS", ERREUR, "Le fichier contient plus de bilans qu'un établissement ne peut en importer en une fois.",
          "Exporter les bilans par période ou par niveau pour obtenir des fichiers plus petits."),
    Entry("REFERENCE_INVALIDE", ERREUR,
          "Une référence interne du fichier ne désigne pas le bon type d'élément (fichier incohérent).",
          "Signaler l'erreur à l'éditeur du logiciel qui a produit le fichier, avec la ligne indiquée."),
    Entry("IMPORT_INCONNU", ERREUR, "Aucun import en attente ne correspond à ce fichier déposé.",
          "Relancer l'import depuis « Bilans > Import »."),
    # --- Bilan (réservés : contrôles du référentiel et règles de fusion) --------------------
    Entry("STUDENT_UNKNOWN", ERREUR,
          "L'élève n'est pas scolarisé dans l'établissement pour la période.",
          "Vérifier la scolarité de l'élève pour la période dans SIECLE-BEE, puis dans les données "
          "du logiciel de suivi des acquis."),
    Entry("DIVISION_MODE_SAISIE", ERREUR,
          "La classe de l'élève n'est pas paramétrée en mode import (saisie dans LSU).",
          "Le chef d'établissement peut modifier le mode de la classe dans le paramétrage des classes."),
    Entry("CYCLE_BILAN_SCONET_DIVISION", ERREUR,
          "Cet import ne peut contenir les informations du bilan de fin de cycle : la classe est en "
          "mode Import Sconet Notes."),
    Entry("SUBJECT_UNKNOWN", ERREUR, "La matière n'est pas connue dans SIECLE pour l'établissement.",
          "Vérifier dans STS Web que les services d'enseignement sont bien définis. Le cas se produit "
          "souvent lors de l'évolution des nomenclatures (ex. « Histoire Géographie » devenue "
          "« Histoire Géographie Ens. Moral & civique ») ou pour des matières proches (« Sciences "
          "Physique » et « Physique - Chimie »). En dernier recours, vérifier le profilage de "
          "l'établissement dans le module Nomenclatures, sinon remonter le problème au SSA."),
    Entry("SUBJECT_HORS_PROGRAMME", INFO,
          "La matière est hors programme pour la classe : en mode import, les acquis sont tout de même intégrés."),
    Entry("SERVICE_UNKNOWN", AVERTISSEMENT,
          "L'enseignant n'a pas de service dans cette matière pour cette classe : il n'est pas rattaché "
          "à la discipline dans LSU.",
          "L'association des enseignants aux structures se fait dans STS Web ; les corrections y sont "
          "possibles tout au long de l'année."),
    Entry("TEACHER_WITHOUT_SERVICE", AVERTISSEMENT,
          "Ces enseignants ne peuvent consulter le bilan de l'élève dans LSU.",
          "Vérifier les services d'enseignement dans STS Web."),
    Entry("SCONET_PERIOD_MILLESIME", AVERTISSEMENT,
          "Le millésime de la période ne correspond pas à celui défini dans SIECLE ; le bilan est tout de même intégré."),
    Entry("SCONET_PERIOD_INDICE", AVERTISSEMENT,
          "La période n'existe pas dans SIECLE ; le bilan est tout de même intégré."),
    Entry("SCONET_PERIOD_NB_PERIODES", AVERTISSEMENT,
          "Le nombre de périodes ne correspond pas à celui défini dans SIECLE ; le bilan est tout de même intégré."),
    Entry("BILAN_INCOMPLET", ERREUR,
          "Le bilan est incomplet : un bilan importé en mode Import Éditeurs est verrouillé et doit donc être complet.",
          "Compléter le bilan dans le logiciel de suivi des acquis puis l'exporter à nouveau ; si la classe est "
          "suivie dans Sconet Notes, le chef d'établissement peut la passer en mode Import Sconet Notes."),
    Entry("MANUAL_AG_PRESENT", ERREUR,
          "L'appréciation générale a été saisie manuellement dans LSU : le bilan n'est pas importé et la "
          "saisie est conservée."),
    Entry("BILAN_LOCKED_EDITEUR", ERREUR,
          "Le bilan a été importé depuis un logiciel éditeur : il est verrouillé et ne peut pas être modifié dans LSU."),
    Entry("BILAN_VERROUILLE", ERREUR,
          "Le bilan est verrouillé : il ne peut être ni modifié ni remplacé par un import.",
          "Le chef d'établissement peut déverrouiller un bilan de classe en mode Import Sconet Notes."),
    Entry("PART_IMPORTEE", ERREUR,
          "Cette partie du bilan a été importée : elle n'est pas modifiable dans LSU.",
          "Corriger la donnée dans le logiciel d'origine puis importer à nouveau : l'import la remplacera."),
    Entry("BILAN_A_COMPLETER", ERREUR, "Le bilan ne peut pas être verrouillé : il est incomplet.",
          "Compléter les parties manquantes (chef d'établissement, professeur principal, CPE)."),
    Entry("ERREUR_TECHNIQUE", ERREUR,
          "Le bilan n'a pas pu être traité à la suite d'une erreur technique.",
          "Relancer l'import ; si l'erreur persiste, contacter l'assistance."),
    # --- Import -------------------------------------------------------------------------
    Entry("ALL_BILANS_REJECTED", ERREUR, "Aucun bilan du fichier n'a pu être importé."),
    Entry("NO_BILAN", AVERTISSEMENT, "Le fichier est conforme mais ne contient aucun bilan."),
    # --- API ----------------------------------------------------------------------------
    Entry("AUTH_REQUIRED", ERREUR, "Authentification requise : jeton absent, invalide ou expiré."),
    Entry("FORBIDDEN", ERREUR, "Vous n'avez pas les droits nécessaires pour cette action."),
    Entry("BAD_REQUEST", ERREUR, "La requête est invalide."),
    Entry("NOT_FOUND", ERREUR, "Ressource introuvable."),
    Entry("CONFLIT", ERREUR, "Modification concurrente refusée."),
    Entry("REFERENTIEL_INVALIDE", ERREUR, "Le référentiel de l'établissement est invalide."),
    Entry("REFERENTIEL_ABSENT", ERREUR,
          "Aucun référentiel (données SIECLE/STS) n'est chargé pour l'établissement.",
          "Charger le référentiel de l'établissement avant d'importer des bilans."),
]

CATALOGUE: dict[str, Entry] = {e.code: e for e in _ENTRIES}


def entry(code: str) -> Entry:
    return CATALOGUE[code]


def message(code: str, detail: str | None = None, **extra) -> dict:
    """A message of the synthèse or of the API: code, niveau, French text, guidance, extra fields."""
    e = CATALOGUE[code]
    out = {"code": code, "niveau": e.niveau, "message": e.message}
    if detail:
        out["message"] = f"{e.message} {detail}"
    if e.conseil:
        out["conseil"] = e.conseil
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def markdown_table() -> str:
    """The catalogue as docs/contrats.md shows it (`python -m chalicelib.catalogue`)."""
    rows = [f"| `{e.code}` | {e.niveau} | {e.message} | {e.conseil or ''} |" for e in _ENTRIES]
    return "\n".join(["| Code | Niveau | Message | Que faire ? |", "|---|---|---|---|", *rows])


if __name__ == "__main__":
    print(markdown_table())
