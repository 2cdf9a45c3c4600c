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
    Entry("SCHEMA_VERSION_NON_PRISE_EN_CHARGE", ERREUR,
          "La version de schéma déclarée par le fichier (schemaVersion) n'est prise en charge par aucun "
          "schéma installé.",
          "Installer le schéma XSD officiel de cette version, publié par le ministère pour les éditeurs, "
          "dans le dossier des schémas (avec sa ligne dans le manifeste) ; à défaut, exporter le fichier "
          "dans une version prise en charge."),
    Entry("REFERENCE_INVALIDE", ERREUR,
          "Une référence interne du fichier ne désigne pas le bon type d'élément (fichier incohérent).",
          "Signaler l'erreur à l'éditeur du logiciel qui a produit le fichier, avec la ligne indiquée."),
    Entry("IMPORT_INCONNU", ERREUR, "Aucun import en attente ne correspond à ce fichier déposé.",
          "Relancer l'import depuis « Bilans > Import »."),
    # --- Dépôt du fichier (refus du stockage S3, politique du formulaire de dépôt) ------------
    Entry("DEPOT_TROP_VOLUMINEUX", ERREUR,
          "Le stockage a refusé le fichier : il est plus volumineux que la taille annoncée à la création "
          "de l'import (ou que la taille maximale).",
          "Relancer l'import avec le fichier choisi, sans le modifier entre-temps."),
    Entry("DEPOT_VIDE", ERREUR, "Le stockage a refusé le fichier : il est vide (0 octet).",
          "Vérifier l'export du logiciel de suivi des acquis, puis relancer l'import."),
    Entry("DEPOT_REFUSE", ERREUR,
          "Le stockage a refusé le dépôt : le formulaire de dépôt ne correspond pas à ce fichier "
          "(emplacement ou type de contenu).",
          "Relancer l'import depuis « Bilans > Import » ; si le refus persiste, contacter l'assistance."),
    Entry("DEPOT_EXPIRE", ERREUR,
          "Le stockage a refusé le dépôt : le formulaire de dépôt a expiré.",
          "Relancer l'import depuis « Bilans > Import » et déposer le fichier aussitôt."),
    Entry("IMPORT_EXPIRE", ERREUR,
          "Aucun fichier n'a été déposé pour cet import avant l'expiration du formulaire de dépôt.",
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
          "mode Import Sconet Notes.",
          "Saisir le bilan de fin de cycle dans LSU, ou, si un logiciel éditeur le produit complet, "
          "demander au chef d'établissement de passer la classe en mode Import Éditeurs (paramétrage "
          "des classes) puis importer le fichier de ce logiciel."),
    Entry("CYCLE_NIVEAU_INCOHERENT", ERREUR,
          "Le bilan de fin de cycle ne correspond pas au niveau de la classe de l'élève : le cycle 3 "
          "s'achève en 6e, le cycle 4 en 3e.",
          "Vérifier le cycle du bilan dans le logiciel de suivi des acquis et la classe de l'élève "
          "dans SIECLE-BEE."),
    Entry("CYCLE_MILLESIME", AVERTISSEMENT,
          "Le millésime du bilan de fin de cycle ne correspond pas à l'année scolaire définie dans "
          "SIECLE ; le bilan est tout de même intégré.",
          "Vérifier l'année du bilan dans le logiciel de suivi des acquis."),
    Entry("DIVISION_FICHIER_DIFFERENTE", AVERTISSEMENT,
          "La classe indiquée par le fichier n'est pas celle de l'élève dans SIECLE : le bilan est "
          "rattaché à sa classe SIECLE.",
          "Si l'élève a changé de classe, vérifier SIECLE-BEE ; sinon, exporter à nouveau un fichier "
          "à jour depuis le logiciel de suivi des acquis."),
    Entry("SYSTEME_EVALUATION_NON_RESPECTE", ERREUR,
          "Les acquis du bilan ne suivent pas le système d'évaluation de la classe (notes, ou "
          "positionnement sur l'échelle de 1 à 4) : LSU n'accepte qu'un système d'évaluation par classe.",
          "Vérifier le système d'évaluation de la classe dans le logiciel de suivi des acquis, ou "
          "celui que le chef d'établissement a paramétré pour la classe dans LSU."),
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
    Entry("ELEMENT_NON_MODELISE", INFO,
          "Le fichier porte des informations que cette version de l'application ne présente pas encore "
          "en détail : elles sont conservées avec le bilan (« autres informations du fichier »)."),
    Entry("BREVET_ENSEIGNEMENT_SANS_MOYENNE", AVERTISSEMENT,
          "Un enseignement obligatoire de la formation de l'élève n'a pas de moyenne : le contrôle continu "
          "du brevet 2026 repose sur la moyenne annuelle de chaque enseignement obligatoire suivi en 3e.",
          "Saisir la moyenne de cet enseignement dans le logiciel de suivi des acquis (ou vérifier la "
          "formation de l'élève dans SIECLE), puis exporter à nouveau le fichier."),
    Entry("BREVET_CLASSE_SANS_NOTES", AVERTISSEMENT,
          "La classe de 3e est évaluée sans notes : avec la réforme du brevet 2026, les classes de 3e "
          "sont évaluées avec des notes.",
          "Évaluer la classe avec des notes dans le logiciel de suivi des acquis et vérifier son "
          "paramétrage dans SIECLE."),
    Entry("BREVET_PERIODICITE", AVERTISSEMENT,
          "La classe de 3e n'est organisée ni en trimestres ni en semestres, comme le demande la réforme "
          "du brevet 2026.",
          "Vérifier le découpage de l'année de la classe dans SIECLE."),
    Entry("MANUAL_AG_PRESENT", ERREUR,
          "L'appréciation générale a été saisie manuellement dans LSU : le bilan n'est pas importé et la "
          "saisie est conservée.",
          "Pour importer le bilan du fichier, effacer d'abord l'appréciation générale saisie dans LSU "
          "(« Compléter un bilan »), puis importer à nouveau le fichier ; sinon, la saisie de LSU reste "
          "celle du bilan."),
    Entry("BILAN_EDITEUR_IMPORT_SCONET", ERREUR,
          "Le bilan a été importé depuis un logiciel éditeur : verrouillé et non déverrouillable, il ne "
          "peut pas être remplacé par un import Sconet Notes.",
          "Corriger le bilan dans le logiciel éditeur et l'importer à nouveau en mode Import Éditeurs ; "
          "vérifier le mode de la classe dans le paramétrage des classes."),
    Entry("PARTIES_CONSERVEES", INFO,
          "Des parties du bilan absentes du fichier sont conservées telles que LSU les détenait (import "
          "précédent)."),
    Entry("ELEMENTS_PROGRAMME_ABSENTS", INFO,
          "Des disciplines du bilan n'ont pas d'élément de programme ; le bilan, complet en mode Import "
          "Éditeurs, est tout de même intégré.",
          "Les éléments de programme travaillés peuvent être ajoutés dans le logiciel de suivi des "
          "acquis avant un nouvel export."),
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
    Entry("IMPORT_INTERROMPU", AVERTISSEMENT,
          "Le traitement de l'import s'est interrompu : il a été terminé par la surveillance des imports, "
          "et les bilans restés sans résultat sont rejetés pour erreur technique.",
          "Relancer l'import du même fichier : les bilans déjà intégrés resteront inchangés."),
    # --- API ----------------------------------------------------------------------------
    Entry("AUTH_REQUIRED", ERREUR, "Authentification requise : jeton absent, invalide ou expiré."),
    Entry("FORBIDDEN", ERREUR, "Vous n'avez pas les droits nécessaires pour cette action."),
    Entry("BAD_REQUEST", ERREUR, "La requête est invalide."),
    Entry("REQUETE_NON_CONFORME", ERREUR,
          "La requête n'est pas conforme au contrat de l'API (/openapi.json).",
          "Corriger le champ indiqué."),
    Entry("REQUETE_TROP_VOLUMINEUSE", ERREUR, "Le corps de la requête dépasse la taille maximale acceptée.",
          "Pour les exports SIECLE et STS Web volumineux, utiliser le dépôt de fichier (formulaire de dépôt)."),
    Entry("EXPORT_NON_DEPOSE", ERREUR,
          "Le fichier d'export annoncé n'a pas été déposé (ou son formulaire de dépôt a expiré).",
          "Déposer le fichier avec le formulaire reçu, puis relancer la prise en compte."),
    Entry("SAISIE_INVALIDE", ERREUR,
          "La saisie n'est pas conforme à ce que LSU accepte pour cette partie du bilan.",
          "Corriger la valeur indiquée (forme attendue, longueur maximale) puis enregistrer à nouveau."),
    Entry("NOT_FOUND", ERREUR, "Ressource introuvable."),
    Entry("CONFLIT", ERREUR, "Modification concurrente refusée."),
    Entry("REFERENTIEL_INVALIDE", ERREUR, "Le référentiel de l'établissement est invalide."),
    Entry("REFERENTIEL_ABSENT", ERREUR,
          "Aucun référentiel (données SIECLE/STS) n'est chargé pour l'établissement.",
          "Charger le référentiel de l'établissement avant d'importer des bilans."),
    # --- Exports SIECLE et STS Web (import dans le référentiel) ---------------------------
    Entry("EXPORT_FICHIER_EDT", ERREUR,
          "Ce fichier est l'export d'un logiciel d'emploi du temps destiné à STS Web (élément racine "
          "« EDT_STS ») : ce n'est pas l'export de STS Web attendu, il ne décrit pas les services "
          "d'enseignement de l'établissement.",
          "Dans STS Web, exporter les données de l'établissement (Mise à jour > Exports > Emplois du "
          "temps) et importer le fichier « sts_emp_UAI_ANNEE.xml » obtenu (par exemple "
          "sts_emp_0750001A_2025.xml, élément racine « STS_EDT »)."),
    Entry("EXPORT_FICHIER_INCONNU", ERREUR,
          "Le fichier n'est pas un export SIECLE ou STS Web reconnu (élément racine attendu : "
          "« BEE_ELEVES », « BEE_NOMENCLATURES » ou « STS_EDT »).",
          "Dans SIECLE, exporter la base élèves (ElevesSansAdresses.xml) et les nomenclatures "
          "(Nomenclature.xml) ; dans STS Web, exporter le fichier « sts_emp_UAI_ANNEE.xml »."),
    Entry("EXPORT_TYPE_INATTENDU", ERREUR,
          "Le fichier est bien un export SIECLE ou STS Web, mais pas celui attendu ici.",
          "Importer les exports SIECLE (base élèves, nomenclatures) et l'export STS Web chacun à "
          "l'emplacement prévu."),
    Entry("EXPORT_EN_DOUBLE", ERREUR, "Le même type d'export a été fourni plusieurs fois.",
          "Ne fournir qu'un fichier de chaque type : base élèves, nomenclatures, export STS Web."),
    Entry("EXPORT_UAI_MISMATCH", ERREUR, "L'export concerne un autre établissement que le vôtre.",
          "Exporter depuis SIECLE ou STS Web les données de votre établissement (son UAI figure dans "
          "le fichier)."),
    Entry("EXPORT_ANNEE_MISMATCH", ERREUR,
          "Les exports ne concernent pas tous la même année scolaire (celle du référentiel de "
          "l'établissement s'il en a un).",
          "Exporter les données de l'année scolaire du référentiel ; pour changer d'année scolaire, "
          "charger d'abord un nouveau référentiel."),
    Entry("EXPORT_DONNEE_INVALIDE", ERREUR, "Une donnée de l'export est absente ou invalide.",
          "Corriger la donnée indiquée dans SIECLE ou STS Web, puis exporter à nouveau le fichier "
          "sans le modifier."),
    Entry("EXPORT_NIVEAU_INCONNU", ERREUR,
          "Le niveau d'une division ne peut pas être déduit des exports (aucun MEF de collège reconnu "
          "pour la division ni pour ses élèves).",
          "Vérifier les MEF de la division dans STS Web et ceux de ses élèves dans SIECLE, puis importer "
          "aussi l'export des nomenclatures SIECLE."),
    Entry("EXPORT_REFERENTIEL_INVALIDE", ERREUR,
          "Le référentiel obtenu à partir des exports serait invalide : rien n'a été modifié.",
          "Corriger dans SIECLE ou STS Web les données signalées, puis importer à nouveau les exports."),
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
    """The catalogue as docs/contrats.md shows it (`python -m chalicelib.domain.catalogue`)."""
    rows = [f"| `{e.code}` | {e.niveau} | {e.message} | {e.conseil or ''} |" for e in _ENTRIES]
    return "\n".join(["| Code | Niveau | Message | Que faire ? |", "|---|---|---|---|", *rows])


if __name__ == "__main__":
    print(markdown_table())
