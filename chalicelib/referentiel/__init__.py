"""Référentiel d'établissement (données SIECLE/STS au format JSON).

Contrat décrit dans ``schema.json`` (JSON Schema 2020-12) et dans
``docs/referentiel.md``.  Ce module ne contient que des fonctions pures :
aucune entrée/sortie à l'import, aucune lecture de l'environnement ; le
schéma est lu paresseusement, une seule fois.

API publique :

- :func:`validate_referentiel` — liste d'erreurs en français (vide si valide) ;
- :func:`index_referentiel` — index de recherche rapide (:class:`Referentiel`)
  d'un référentiel **déjà validé** ;
- :func:`schema_referentiel` — copie du schéma JSON ;
- les contrôles croisés ``verifier_*`` (une règle chacun), exécutés par
  :func:`validate_referentiel` seulement si le schéma est respecté.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator, ValidationError, validators

from chalicelib.domain.vocabulary import Mode, SystemeEvaluation

__all__ = [
    "CODE_ERREUR",
    "CONTROLES_CROISES",
    "MAX_ERREURS",
    "SYSTEMES_EVALUATION",
    "TYPES_ENSEIGNANT",
    "TYPE_ENSEIGNANT_PAR_DEFAUT",
    "ErreurReferentiel",
    "MODALITES_OBLIGATOIRES",
    "MODALITE_FACULTATIVE",
    "Referentiel",
    "enseignements_facultatifs",
    "enseignements_obligatoires",
    "formater_chemin",
    "index_referentiel",
    "schema_referentiel",
    "validate_referentiel",
    "verifier_calendrier",
    "verifier_dates_eleves",
    "verifier_divisions_des_eleves",
    "verifier_doublons",
    "verifier_periodes_des_divisions",
    "verifier_profs_principaux",
    "verifier_services",
]

CODE_ERREUR = "REFERENTIEL_INVALIDE"
MAX_ERREURS = 50

# Every teacher type of the official XSD (``Enseignant/@type``, simple type ``TypeEnseignant``).
TYPES_ENSEIGNANT = ("epp", "local", "dir", "autre")
TYPE_ENSEIGNANT_PAR_DEFAUT = "epp"
# A division's evaluation system as set in LSU (one per class): chalicelib.domain.vocabulary's.
SYSTEMES_EVALUATION = tuple(s.value for s in SystemeEvaluation)

# Modalités d'élection of SIECLE's programmes: S (tronc commun) and O (option obligatoire) are
# obligatory enseignements, F (option facultative) a facultatif one; other codes are ignored.
TRONC_COMMUN, OPTION_OBLIGATOIRE, MODALITE_FACULTATIVE = "S", "O", "F"
MODALITES_OBLIGATOIRES = (TRONC_COMMUN, OPTION_OBLIGATOIRE)

Chemin = tuple[str | int, ...]


class ErreurReferentiel(NamedTuple):
    """Une anomalie : chemin brut (clés et indices) et message en français."""

    chemin: Chemin
    message: str

    def en_dict(self) -> dict[str, str]:
        return {
            "code": CODE_ERREUR,
            "chemin": formater_chemin(self.chemin),
            "message": self.message,
        }


def formater_chemin(chemin: Iterable[str | int]) -> str:
    """``("eleves", 3, "id_be")`` → ``"eleves[3].id_be"`` ; racine → ``""``."""
    texte = ""
    for element in chemin:
        if isinstance(element, int):
            texte += f"[{element}]"
        else:
            texte += f".{element}" if texte else str(element)
    return texte


# --------------------------------------------------------------------------
# Schéma et validateur (chargés paresseusement, une fois)
# --------------------------------------------------------------------------


def _enumerations() -> dict[str, tuple[str, ...]]:
    """The value lists schema.json names with "x-enum": defined in code, once."""
    return {
        "Mode": tuple(m.value for m in Mode),
        "TypeEnseignant": TYPES_ENSEIGNANT,
        "SystemeEvaluation": SYSTEMES_EVALUATION,
    }


def _completer_enumerations(noeud: Any, enumerations: Mapping[str, tuple[str, ...]]) -> None:
    """Give each "x-enum" node its "enum" (plus ``null`` where its type admits null)."""
    if isinstance(noeud, dict):
        nom = noeud.get("x-enum")
        if nom is not None:
            types = noeud.get("type")
            nullable = types == "null" or (isinstance(types, list) and "null" in types)
            noeud["enum"] = [*enumerations[nom], *([None] if nullable else [])]
        for valeur in noeud.values():
            _completer_enumerations(valeur, enumerations)
    elif isinstance(noeud, list):
        for valeur in noeud:
            _completer_enumerations(valeur, enumerations)


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    texte = resources.files(__name__).joinpath("schema.json").read_text(encoding="utf-8")
    schema = json.loads(texte)
    _completer_enumerations(schema, _enumerations())
    return schema


def schema_referentiel() -> dict[str, Any]:
    """Copie du schéma JSON du référentiel (modifiable sans risque)."""
    return copy.deepcopy(_schema())


@lru_cache(maxsize=None)
def _motif_compile(motif: str) -> re.Pattern[str]:
    # En ECMA-262 (la syntaxe de JSON Schema), « $ » sans drapeau « m » ne
    # reconnaît que la fin du texte ; en Python il accepte aussi un « \n »
    # final (« 0750001A\n » passerait). On remplace donc le « $ » final par « \Z ».
    if motif.endswith("$") and not motif.endswith("\\$"):
        motif = motif[:-1] + r"\Z"
    return re.compile(motif)


def _pattern_ecma(validator: Any, motif: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _motif_compile(motif).search(instance):
        yield ValidationError(f"{instance!r} does not match {motif!r}")


_Validateur = validators.extend(Draft202012Validator, {"pattern": _pattern_ecma})


@lru_cache(maxsize=1)
def _validateur() -> Any:
    return _Validateur(_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


# --------------------------------------------------------------------------
# Traduction des erreurs jsonschema en français
# --------------------------------------------------------------------------

_TYPES = {
    "string": "un texte",
    "integer": "un nombre entier",
    "number": "un nombre",
    "boolean": "un booléen (true ou false)",
    "array": "une liste",
    "object": "un objet",
    "null": "null",
}

_LONGUEUR_AFFICHEE = 60


def _valeur(valeur: Any) -> str:
    """Valeur reçue entre guillemets français, tronquée si trop longue."""
    texte = valeur if isinstance(valeur, str) else json.dumps(valeur, ensure_ascii=False)
    if len(texte) > _LONGUEUR_AFFICHEE:
        texte = texte[: _LONGUEUR_AFFICHEE - 1] + "…"
    return f"« {texte} »"


def _sujet(chemin: Chemin) -> str:
    if not chemin:
        return "Le référentiel"
    dernier = chemin[-1]
    if isinstance(dernier, int):
        return f"L'élément « {formater_chemin(chemin[-2:])} »"
    return f"Le champ « {dernier} »"


def _pluriel(nombre: int, mot: str) -> str:
    return f"{nombre} {mot}{'s' if nombre > 1 else ''}"


def _types_attendus(attendu: str | Sequence[str]) -> str:
    noms = [attendu] if isinstance(attendu, str) else list(attendu)
    libelles = [_TYPES.get(nom, nom) for nom in noms]
    if len(libelles) == 1:
        return libelles[0]
    return ", ".join(libelles[:-1]) + " ou " + libelles[-1]


def _traduire(erreur: ValidationError) -> list[ErreurReferentiel]:
    """Erreur(s) française(s) pour une erreur jsonschema (selon son mot-clé)."""
    chemin: Chemin = tuple(erreur.absolute_path)
    regle = erreur.validator
    attendu = erreur.validator_value
    valeur = erreur.instance
    sujet = _sujet(chemin)

    if regle == "required":
        # Une erreur jsonschema par clé manquante, mais sans moyen propre de
        # savoir laquelle : on recalcule les absentes (doublons fusionnés ensuite).
        presentes = valeur if isinstance(valeur, dict) else {}
        return [
            ErreurReferentiel(chemin + (cle,), f"Le champ « {cle} » est obligatoire.")
            for cle in attendu
            if cle not in presentes
        ]
    if regle == "type":
        message = f"{sujet} doit être {_types_attendus(attendu)}."
        if not chemin:
            message = "Le référentiel doit être un objet JSON."
        return [ErreurReferentiel(chemin, message)]
    if regle == "enum":
        valeurs = ", ".join(_valeur(v) if isinstance(v, str) else json.dumps(v) for v in attendu)
        return [ErreurReferentiel(
            chemin,
            f"{sujet} doit valoir l'une des valeurs : {valeurs} ; valeur reçue : {_valeur(valeur)}.",
        )]
    if regle == "const":
        return [ErreurReferentiel(chemin, f"{sujet} doit valoir {_valeur(attendu)}.")]
    if regle == "pattern":
        explication = erreur.schema.get("x-erreur-motif") if isinstance(erreur.schema, dict) else None
        explication = explication or f"doit respecter le motif « {attendu} »"
        message = f"{sujet} {explication}"
        if isinstance(valeur, str) and valeur.strip():
            message += f" ; valeur reçue : {_valeur(valeur)}"
        return [ErreurReferentiel(chemin, message + ".")]
    if regle == "format":
        if attendu == "date":
            return [ErreurReferentiel(
                chemin,
                f"{sujet} doit être une date valide au format AAAA-MM-JJ "
                f"(ex. « 2025-09-01 ») ; valeur reçue : {_valeur(valeur)}.",
            )]
        return [ErreurReferentiel(chemin, f"{sujet} doit respecter le format « {attendu} » ; valeur reçue : {_valeur(valeur)}.")]
    if regle == "minLength":
        if attendu == 1:
            return [ErreurReferentiel(chemin, f"{sujet} ne doit pas être vide.")]
        return [ErreurReferentiel(chemin, f"{sujet} doit contenir au moins {_pluriel(attendu, 'caractère')} ; valeur reçue : {_valeur(valeur)}.")]
    if regle == "maxLength":
        return [ErreurReferentiel(
            chemin,
            f"{sujet} ne doit pas dépasser {_pluriel(attendu, 'caractère')} "
            f"({len(valeur)} reçus) ; valeur reçue : {_valeur(valeur)}.",
        )]
    if regle == "minimum":
        return [ErreurReferentiel(chemin, f"{sujet} doit être supérieur ou égal à {attendu} ; valeur reçue : {_valeur(valeur)}.")]
    if regle == "maximum":
        return [ErreurReferentiel(chemin, f"{sujet} doit être inférieur ou égal à {attendu} ; valeur reçue : {_valeur(valeur)}.")]
    if regle == "minItems":
        return [ErreurReferentiel(chemin, f"{sujet} doit contenir au moins {_pluriel(attendu, 'élément')}.")]
    if regle == "maxItems":
        return [ErreurReferentiel(chemin, f"{sujet} doit contenir au plus {_pluriel(attendu, 'élément')}.")]
    if regle == "uniqueItems":
        return [ErreurReferentiel(chemin, f"{sujet} ne doit pas contenir de doublons.")]
    if regle == "anyOf" and all(
        isinstance(branche, dict) and set(branche) == {"required"} for branche in attendu
    ):
        cles = [cle for branche in attendu for cle in branche["required"]]
        liste = ", ".join(f"« {cle} »" for cle in cles[:-1]) + f" ou « {cles[-1]} »"
        return [ErreurReferentiel(chemin, f"{sujet} doit contenir au moins l'un des champs {liste}.")]
    return [ErreurReferentiel(chemin, f"{sujet} est invalide (règle « {regle} » non respectée).")]


def _erreurs_schema(data: object) -> list[ErreurReferentiel]:
    brutes = list(_validateur().iter_errors(data))
    # Un type erroné rend les autres règles au même endroit sans intérêt
    # (ex. « cycle » = "3" : seul le type est signalé, pas l'énumération).
    chemins_types = {tuple(e.absolute_path) for e in brutes if e.validator == "type"}
    erreurs: list[ErreurReferentiel] = []
    for brute in brutes:
        if brute.validator != "type" and tuple(brute.absolute_path) in chemins_types:
            continue
        erreurs.extend(_traduire(brute))
    return erreurs


# --------------------------------------------------------------------------
# Contrôles croisés (exécutés sur un référentiel conforme au schéma)
# --------------------------------------------------------------------------


_DOUBLONS = (
    ("eleves", "id_be", "L'identifiant élève (id_be)"),
    ("enseignants", "id_sts", "L'identifiant enseignant (id_sts)"),
    ("divisions", "code", "Le code de division"),
    ("matieres", "code", "Le code matière"),
    ("modalites_election", "code", "Le code de modalité d'élection"),
)


def verifier_doublons(data: Mapping[str, Any]) -> list[ErreurReferentiel]:
    """Identifiants en double : id_be, id_sts, codes de division, de matière, de modalité."""
    erreurs = []
    for liste, cle, libelle in _DOUBLONS:
        premiers: dict[Any, int] = {}
        for i, element in enumerate(data.get(liste, [])):
            valeur = element[cle]
            if valeur in premiers:
                erreurs.append(ErreurReferentiel(
                    (liste, i, cle),
                    f"{libelle} {_valeur(valeur)} apparaît plusieurs fois : "
                    f"déjà utilisé en {formater_chemin((liste, premiers[valeur]))}.",
                ))
            else:
                premiers[valeur] = i
    return erreurs


def verifier_divisions_des_eleves(data: Mapping[str, Any]) -> list[ErreurReferentiel]:
    """La division de chaque élève existe dans « divisions »."""
    codes = {division["code"] for division in data["divisions"]}
    return [
        ErreurReferentiel(
            ("eleves", i, "division"),
            f"La division {_valeur(eleve['division'])} de l'élève n'existe pas dans la liste des divisions.",
        )
        for i, eleve in enumerate(data["eleves"])
        if eleve["division"] not in codes
    ]


def verifier_services(data: Mapping[str, Any]) -> list[ErreurReferentiel]:
    """Chaque service désigne un enseignant, une matière et une division connus."""
    connus = {
        "enseignant": ({e["id_sts"] for e in data["enseignants"]}, "L'enseignant", "enseignants"),
        "matiere": ({m["code"] for m in data["matieres"]}, "La matière", "matières"),
        "division": ({d["code"] for d in data["divisions"]}, "La division", "divisions"),
    }
    erreurs = []
    for i, service in enumerate(data["services"]):
        for cle, (valeurs, libelle, liste) in connus.items():
            if service[cle] not in valeurs:
                erreurs.append(ErreurReferentiel(
                    ("services", i, cle),
                    f"{libelle} {_valeur(service[cle])} du service n'existe pas dans la liste des {liste}.",
                ))
    return erreurs


def verifier_profs_principaux(data: Mapping[str, Any]) -> list[ErreurReferentiel]:
    """Les professeurs principaux des divisions sont des enseignants connus."""
    ids = {e["id_sts"] for e in data["enseignants"]}
    return [
        ErreurReferentiel(
            ("divisions", i, "profs_principaux", j),
            f"Le professeur principal {_valeur(id_sts)} de la division "
            f"{_valeur(division['code'])} n'existe pas dans la liste des enseignants.",
        )
        for i, division in enumerate(data["divisions"])
        for j, id_sts in enumerate(division.get("profs_principaux", []))
        if id_sts not in ids
    ]


def verifier_dates_eleves(data: Mapping[str, Any]) -> list[ErreurReferentiel]:
    """La date de sortie d'un élève n'est pas antérieure à sa date d'entrée."""
    # Dates ISO AAAA-MM-JJ déjà validées : l'ordre lexicographique est chronologique.
    return [
        ErreurReferentiel(
            ("eleves", i, "date_sortie"),
            f"La date de sortie ({eleve['date_sortie']}) est antérieure "
            f"à la date d'entrée ({eleve['date_entree']}).",
        )
        for i, eleve in enumerate(data["eleves"])
        if eleve.get("date_sortie") is not None and eleve["date_sortie"] < eleve["date_entree"]
    ]


_NOMS_DECOUPAGES = {"trimestres": "des trimestres", "semestres": "des semestres"}


def verifier_calendrier(data: Mapping[str, Any]) -> list[ErreurReferentiel]:
    """Périodes d'indices 1..nb_periodes, chacune une fois, début ≤ fin, sans chevauchement."""
    erreurs = []
    for nom, decoupage in data["calendrier"].items():
        if nom not in _NOMS_DECOUPAGES:
            continue  # clé inconnue : ignorée
        base: Chemin = ("calendrier", nom, "periodes")
        nb = decoupage["nb_periodes"]
        valides: dict[int, int] = {}  # indice → position dans la liste
        for i, periode in enumerate(decoupage["periodes"]):
            indice = periode["indice"]
            if not 1 <= indice <= nb:
                erreurs.append(ErreurReferentiel(
                    base + (i, "indice"),
                    f"L'indice de période {indice} est hors de l'intervalle attendu "
                    f"(1 à {nb}, d'après nb_periodes).",
                ))
            elif indice in valides:
                erreurs.append(ErreurReferentiel(
                    base + (i, "indice"),
                    f"L'indice de période {indice} apparaît plusieurs fois : "
                    f"déjà utilisé en {formater_chemin(base + (valides[indice],))}.",
                ))
            else:
                valides[indice] = i
            if periode["fin"] < periode["debut"]:
                erreurs.append(ErreurReferentiel(
                    base + (i, "fin"),
                    f"La date de fin ({periode['fin']}) est antérieure "
                    f"à la date de début ({periode['debut']}).",
                ))
        manquants = [k for k in range(1, nb + 1) if k not in valides]
        if manquants:
            liste = ", ".join(str(k) for k in manquants)
            absents = f"les indices {liste} manquent" if len(manquants) > 1 else f"l'indice {liste} manque"
            erreurs.append(ErreurReferentiel(
                base,
                f"Le calendrier {_NOMS_DECOUPAGES[nom]} compte {_pluriel(nb, 'période')} "
                f"(nb_periodes) mais {absents}.",
            ))
        ordonnees = sorted(valides.items())
        for (ind_prec, pos_prec), (ind, pos) in zip(ordonnees, ordonnees[1:]):
            precedente, periode = decoupage["periodes"][pos_prec], decoupage["periodes"][pos]
            if periode["debut"] <= precedente["fin"]:
                erreurs.append(ErreurReferentiel(
                    base + (pos, "debut"),
                    f"La période d'indice {ind} commence le {periode['debut']} alors que la "
                    f"période d'indice {ind_prec} se termine le {precedente['fin']} : "
                    f"les périodes se chevauchent.",
                ))
    return erreurs


def verifier_periodes_des_divisions(data: Mapping[str, Any]) -> list[ErreurReferentiel]:
    """Le découpage d'une division existe dans le calendrier et en a le nombre de périodes."""
    calendrier = data["calendrier"]
    erreurs = []
    for i, division in enumerate(data["divisions"]):
        nom = division.get("periodes", "trimestres")
        code = _valeur(division["code"])
        if nom not in calendrier:
            precision = "" if "periodes" in division else " (valeur par défaut)"
            erreurs.append(ErreurReferentiel(
                ("divisions", i, "periodes"),
                f"La division {code} est organisée en {nom}{precision}, "
                f"mais le calendrier ne définit pas de {nom}.",
            ))
        elif "nb_periodes" in division and division["nb_periodes"] != calendrier[nom]["nb_periodes"]:
            erreurs.append(ErreurReferentiel(
                ("divisions", i, "nb_periodes"),
                f"La division {code} déclare {_pluriel(division['nb_periodes'], 'période')} alors que "
                f"le calendrier {_NOMS_DECOUPAGES[nom]} en compte {calendrier[nom]['nb_periodes']}.",
            ))
    return erreurs


CONTROLES_CROISES: tuple[Callable[[Mapping[str, Any]], list[ErreurReferentiel]], ...] = (
    verifier_doublons,
    verifier_divisions_des_eleves,
    verifier_services,
    verifier_profs_principaux,
    verifier_dates_eleves,
    verifier_calendrier,
    verifier_periodes_des_divisions,
)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _ordre_document(data: object, chemin: Chemin) -> tuple[int, ...]:
    """Clé de tri suivant l'ordre d'apparition dans le document.

    Une clé absente (champ obligatoire manquant) se place avant les autres
    champs du même objet.
    """
    positions = []
    courant: Any = data
    for element in chemin:
        if isinstance(element, int):
            positions.append(element)
            courant = courant[element] if isinstance(courant, list) and element < len(courant) else None
        elif isinstance(courant, dict) and element in courant:
            positions.append(list(courant).index(element))
            courant = courant[element]
        else:
            positions.append(-1)
            courant = None
    return tuple(positions)


def validate_referentiel(data: object) -> list[dict[str, str]]:
    """Valide un référentiel ; renvoie ``[]`` s'il est valide.

    Sinon, au plus :data:`MAX_ERREURS` erreurs, dans l'ordre du document, de
    la forme ``{"code": "REFERENTIEL_INVALIDE", "chemin": "eleves[3].id_be",
    "message": "…"}``.  Les contrôles croisés ne sont exécutés que si le
    schéma est respecté.
    """
    erreurs = _erreurs_schema(data)
    if not erreurs:
        assert isinstance(data, dict)
        erreurs = [e for controle in CONTROLES_CROISES for e in controle(data)]
    # Tri stable : à chemin égal, l'ordre des règles est conservé.
    erreurs.sort(key=lambda e: _ordre_document(data, e.chemin))
    resultat: list[dict[str, str]] = []
    vues: set[tuple[Chemin, str]] = set()
    for erreur in erreurs:
        if (erreur.chemin, erreur.message) in vues:
            continue
        vues.add((erreur.chemin, erreur.message))
        resultat.append(erreur.en_dict())
        if len(resultat) == MAX_ERREURS:
            break
    return resultat


# --------------------------------------------------------------------------
# Index
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Referentiel:
    """Index d'un référentiel validé.

    Les enregistrements sont des copies dont les champs facultatifs absents
    reçoivent leur valeur par défaut (voir docs/referentiel.md).
    """

    uai: str
    millesime: str
    eleves_by_id_be: dict[str, dict]
    divisions_by_code: dict[str, dict]
    matieres_by_code: dict[str, dict]
    enseignants_by_id_sts: dict[str, dict]
    services: frozenset[tuple[str, str, str]]
    calendrier: dict[str, dict] = field(default_factory=dict)
    services_hors_programme: frozenset[tuple[str, str, str]] = frozenset()
    # Programmes of each MEF (SIECLE): its obligatory matières with their modalité (S or O) and
    # its facultatif matières (F), in the document's order.
    obligatoires_by_mef: dict[str, dict[str, str]] = field(default_factory=dict)
    facultatives_by_mef: dict[str, tuple[str, ...]] = field(default_factory=dict)


def enseignements_obligatoires(ref: Referentiel, eleve: Mapping[str, Any]) -> list[str] | None:
    """The obligatory matières an élève follows, from their MEF's programme: every tronc commun
    (S) one, and the options obligatoires (O) among the élève's options (an LV2 is chosen among
    several). None when the élève has no MEF or their MEF has no obligatory matière known: the
    brevet checks then say nothing."""
    programme = ref.obligatoires_by_mef.get(eleve.get("mef") or "")
    if not programme:
        return None
    options = set(eleve.get("options") or [])
    return [m for m, modalite in programme.items() if modalite == TRONC_COMMUN or m in options]


def enseignements_facultatifs(ref: Referentiel, eleve: Mapping[str, Any]) -> list[str]:
    """The facultatif matières (F) of the élève's MEF (Latin, LSF…), whether or not followed."""
    return list(ref.facultatives_by_mef.get(eleve.get("mef") or "", ()))


def _cycle_par_defaut(niveau: str) -> int:
    return 3 if niveau == "6E" else 4


_NB_PERIODES_PAR_DEFAUT = {"trimestres": 3, "semestres": 2}


def index_referentiel(data: Mapping[str, Any]) -> Referentiel:
    """Construit l'index d'un référentiel **déjà validé** par :func:`validate_referentiel`.

    Les données d'origine ne sont pas modifiées.
    """
    calendrier = copy.deepcopy(dict(data["calendrier"]))

    def matiere(m: Mapping[str, Any]) -> dict:
        return {"modalite": "S", "niveaux": [], "hors_programme": False, **copy.deepcopy(dict(m))}

    def division(d: Mapping[str, Any]) -> dict:
        periodes = d.get("periodes", "trimestres")
        nb = calendrier.get(periodes, {}).get("nb_periodes", _NB_PERIODES_PAR_DEFAUT[periodes])
        return {
            "cycle": _cycle_par_defaut(d["niveau"]),
            "periodes": periodes,
            "nb_periodes": nb,
            "dates_conseil": [],
            "profs_principaux": [],
            "president_conseil": None,
            "sans_notes": False,
            "systeme_evaluation": None,
            **copy.deepcopy(dict(d)),
        }

    def eleve(e: Mapping[str, Any]) -> dict:
        return {"sexe": None, "date_sortie": None, "mef": None, "options": [], "dispositifs": [],
                **copy.deepcopy(dict(e))}

    def enseignant(e: Mapping[str, Any]) -> dict:
        return {"type": TYPE_ENSEIGNANT_PAR_DEFAUT, "civilite": None, "prenom": None, **copy.deepcopy(dict(e))}

    def par_cle(liste: Iterable[Mapping[str, Any]], cle: str, normaliser: Callable) -> dict[str, dict]:
        index: dict[str, dict] = {}
        for element in liste:
            index.setdefault(element[cle], normaliser(element))  # le premier l'emporte
        return index

    obligatoires: dict[str, dict[str, str]] = {}
    facultatives: dict[str, dict[str, None]] = {}
    for p in data.get("programmes", []):
        mef, code, modalite = p["mef"], p["matiere"], p["modalite_election"].strip().upper()
        if code in obligatoires.get(mef, {}) or code in facultatives.get(mef, {}):
            continue  # le premier l'emporte
        if modalite in MODALITES_OBLIGATOIRES:
            obligatoires.setdefault(mef, {})[code] = modalite
        elif modalite == MODALITE_FACULTATIVE:
            facultatives.setdefault(mef, {})[code] = None

    return Referentiel(
        uai=data["etablissement"]["uai"],
        millesime=data["millesime"],
        eleves_by_id_be=par_cle(data["eleves"], "id_be", eleve),
        divisions_by_code=par_cle(data["divisions"], "code", division),
        matieres_by_code=par_cle(data["matieres"], "code", matiere),
        enseignants_by_id_sts=par_cle(data["enseignants"], "id_sts", enseignant),
        services=frozenset((s["enseignant"], s["matiere"], s["division"]) for s in data["services"]),
        calendrier=calendrier,
        services_hors_programme=frozenset((s["enseignant"], s["matiere"], s["division"])
                                          for s in data["services"] if s.get("hors_programme")),
        obligatoires_by_mef=obligatoires,
        facultatives_by_mef={mef: tuple(m) for mef, m in facultatives.items()},
    )
