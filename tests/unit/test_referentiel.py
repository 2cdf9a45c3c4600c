"""Tests du contrat « référentiel » : schéma, messages français, contrôles croisés, index."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from chalicelib.referentiel import (
    CODE_ERREUR,
    MAX_ERREURS,
    Referentiel,
    enseignements_facultatifs,
    enseignements_obligatoires,
    index_referentiel,
    schema_referentiel,
    validate_referentiel,
    verifier_calendrier,
    verifier_dates_eleves,
    verifier_divisions_des_eleves,
    verifier_doublons,
    verifier_periodes_des_divisions,
    verifier_profs_principaux,
    verifier_services,
)


# --------------------------------------------------------------------------
# Jeu de données
# --------------------------------------------------------------------------


def referentiel_valide(**remplacements) -> dict:
    """Petit référentiel valide ; les arguments nommés remplacent des clés de premier niveau."""
    data = {
        "etablissement": {"uai": "0750001A", "nom": "Collège Jean Moulin", "commune": "Paris"},
        "millesime": "2025",
        "responsables_etab": [{"libelle": "M. Jean Dupont", "fonction": "Principal"}],
        "calendrier": {
            "trimestres": {
                "nb_periodes": 3,
                "periodes": [
                    {"indice": 1, "debut": "2025-09-01", "fin": "2025-11-30"},
                    {"indice": 2, "debut": "2025-12-01", "fin": "2026-02-28"},
                    {"indice": 3, "debut": "2026-03-01", "fin": "2026-07-04"},
                ],
            },
            "semestres": {
                "nb_periodes": 2,
                "periodes": [
                    {"indice": 1, "debut": "2025-09-01", "fin": "2026-01-31"},
                    {"indice": 2, "debut": "2026-02-01", "fin": "2026-07-04"},
                ],
            },
        },
        "modalites_election": [
            {"code": "S", "libelle": "Tronc commun"},
            {"code": "F", "libelle": "Option facultative"},
        ],
        "matieres": [
            {"code": "020700", "libelle": "FRANCAIS", "modalite": "S",
             "niveaux": ["6E", "5E", "4E", "3E"], "hors_programme": False},
            {"code": "061300", "libelle": "MATHEMATIQUES"},
            {"code": "030201", "libelle": "ANGLAIS LV1", "modalite": "S", "niveaux": ["6E", "3E"]},
            {"code": "020100", "libelle": "LATIN", "modalite": "F", "niveaux": ["5E"]},
        ],
        "divisions": [
            {"code": "6A", "niveau": "6E", "cycle": 3, "mode_import": "EDITEUR",
             "periodes": "trimestres", "nb_periodes": 3,
             "dates_conseil": ["2025-12-04", "2026-03-12", "2026-06-11"],
             "profs_principaux": ["1001"], "president_conseil": "M. Dupont", "sans_notes": False},
            {"code": "3B", "niveau": "3E", "mode_import": "SAISIE", "periodes": "semestres"},
        ],
        "eleves": [
            {"id_be": "123456", "nom": "MARTIN", "prenom": "Léa", "sexe": "F", "division": "6A",
             "date_entree": "2025-09-01", "date_sortie": None, "options": [], "dispositifs": ["PAP"]},
            {"id_be": "123457", "nom": "DURAND", "prenom": "Hugo", "sexe": "M", "division": "6A",
             "date_entree": "2025-09-01", "date_sortie": "2026-02-13"},
            {"id_be": "123458", "nom": "PETIT", "prenom": "Inès", "division": "3B",
             "date_entree": "2025-10-06", "options": ["020100"]},
        ],
        "enseignants": [
            {"id_sts": "1001", "type": "epp", "civilite": "MME", "nom": "BERNARD", "prenom": "Claire"},
            {"id_sts": "1002", "nom": "THOMAS"},
            {"id_sts": "1003", "type": "local", "civilite": "M", "nom": "ROBERT", "prenom": "Paul"},
        ],
        "services": [
            {"enseignant": "1001", "matiere": "020700", "modalite": "S", "division": "6A", "hors_programme": False},
            {"enseignant": "1002", "matiere": "061300", "division": "6A"},
            {"enseignant": "1003", "matiere": "020100", "modalite": "F", "division": "3B"},
        ],
    }
    data.update(remplacements)
    return data


def chemins(erreurs: list[dict]) -> list[str]:
    return [e["chemin"] for e in erreurs]


def seule_erreur(data) -> dict:
    erreurs = validate_referentiel(data)
    assert len(erreurs) == 1, erreurs
    return erreurs[0]


# --------------------------------------------------------------------------
# Cas valides
# --------------------------------------------------------------------------


def test_schema_est_un_schema_2020_12_valide():
    schema = schema_referentiel()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_referentiel_renvoie_une_copie():
    schema_referentiel()["required"].clear()
    assert "eleves" in schema_referentiel()["required"]


def test_referentiel_valide_passe():
    assert validate_referentiel(referentiel_valide()) == []


def test_referentiel_minimal_passe():
    data = {
        "etablissement": {"uai": "0750001A", "nom": "Collège"},
        "millesime": "2025",
        "calendrier": {"semestres": {"nb_periodes": 1, "periodes": [
            {"indice": 1, "debut": "2025-09-01", "fin": "2026-07-04"}]}},
        "matieres": [], "divisions": [], "eleves": [], "enseignants": [], "services": [],
    }
    assert validate_referentiel(data) == []


def test_referentiel_valide_est_un_json_serialisable():
    data = referentiel_valide()
    assert validate_referentiel(json.loads(json.dumps(data))) == []


def test_cles_inconnues_ignorees():
    data = referentiel_valide(version_export="3.2", _commentaire={"x": 1})
    data["etablissement"]["academie"] = "Paris"
    data["calendrier"]["bimestres"] = {"nb": 6}
    data["calendrier"]["trimestres"]["code"] = "T"
    data["calendrier"]["trimestres"]["periodes"][0]["libelle"] = "T1"
    data["eleves"][0]["ine"] = "1234567890A"
    data["divisions"][0]["libelle"] = "Sixième A"
    data["enseignants"][0]["email"] = None
    data["services"][0]["coefficient"] = 2
    data["matieres"][0]["code_gestion"] = "FRANC"
    assert validate_referentiel(data) == []


def test_validation_ne_modifie_pas_les_donnees():
    data = referentiel_valide()
    avant = copy.deepcopy(data)
    validate_referentiel(data)
    index_referentiel(data)
    assert data == avant


# --------------------------------------------------------------------------
# Erreurs de schéma : chemin et message
# --------------------------------------------------------------------------


def test_format_des_erreurs():
    data = referentiel_valide()
    del data["eleves"][2]["id_be"]
    assert validate_referentiel(data) == [{
        "code": "REFERENTIEL_INVALIDE",
        "chemin": "eleves[2].id_be",
        "message": "Le champ « id_be » est obligatoire.",
    }]
    assert CODE_ERREUR == "REFERENTIEL_INVALIDE"


def test_racine_non_objet():
    for valeur in ([], None, "texte", 3):
        assert validate_referentiel(valeur) == [{
            "code": "REFERENTIEL_INVALIDE", "chemin": "",
            "message": "Le référentiel doit être un objet JSON.",
        }]


def test_champ_obligatoire_de_premier_niveau():
    data = referentiel_valide()
    del data["millesime"]
    assert seule_erreur(data) == {
        "code": "REFERENTIEL_INVALIDE", "chemin": "millesime",
        "message": "Le champ « millesime » est obligatoire.",
    }


def test_plusieurs_champs_obligatoires_manquants_dans_le_meme_objet():
    data = referentiel_valide()
    del data["services"][1]["enseignant"]
    del data["services"][1]["division"]
    assert chemins(validate_referentiel(data)) == ["services[1].enseignant", "services[1].division"]


@pytest.mark.parametrize(
    ("modifier", "chemin", "message"),
    [
        (lambda d: d["eleves"][1].__setitem__("id_be", 123457),
         "eleves[1].id_be", "Le champ « id_be » doit être un texte."),
        (lambda d: d["divisions"][0].__setitem__("nb_periodes", "3"),
         "divisions[0].nb_periodes", "Le champ « nb_periodes » doit être un nombre entier."),
        (lambda d: d["matieres"][0].__setitem__("hors_programme", "non"),
         "matieres[0].hors_programme", "Le champ « hors_programme » doit être un booléen (true ou false)."),
        (lambda d: d.__setitem__("eleves", {"123456": {}}),
         "eleves", "Le champ « eleves » doit être une liste."),
        (lambda d: d.__setitem__("etablissement", "0750001A"),
         "etablissement", "Le champ « etablissement » doit être un objet."),
        (lambda d: d["eleves"][0].__setitem__("date_sortie", 0),
         "eleves[0].date_sortie", "Le champ « date_sortie » doit être un texte ou null."),
        (lambda d: d["eleves"][2].__setitem__("options", [20100]),
         "eleves[2].options[0]", "L'élément « options[0] » doit être un texte."),
        # Type erroné : l'énumération n'est pas signalée en plus.
        (lambda d: d["divisions"][0].__setitem__("cycle", "3"),
         "divisions[0].cycle", "Le champ « cycle » doit être un nombre entier."),
    ],
)
def test_erreurs_de_type(modifier, chemin, message):
    data = referentiel_valide()
    modifier(data)
    assert seule_erreur(data) == {"code": CODE_ERREUR, "chemin": chemin, "message": message}


@pytest.mark.parametrize(
    ("modifier", "chemin", "message"),
    [
        (lambda d: d["eleves"][0].__setitem__("sexe", "H"),
         "eleves[0].sexe",
         "Le champ « sexe » doit valoir l'une des valeurs : « M », « F » ; valeur reçue : « H »."),
        (lambda d: d["divisions"][1].__setitem__("mode_import", "editeur"),
         "divisions[1].mode_import",
         "Le champ « mode_import » doit valoir l'une des valeurs : « EDITEUR », « SCONET_NOTES », "
         "« SAISIE » ; valeur reçue : « editeur »."),
        (lambda d: d["divisions"][0].__setitem__("cycle", 5),
         "divisions[0].cycle",
         "Le champ « cycle » doit valoir l'une des valeurs : 3, 4 ; valeur reçue : « 5 »."),
        (lambda d: d["enseignants"][1].__setitem__("type", "EPP"),
         "enseignants[1].type",
         "Le champ « type » doit valoir l'une des valeurs : « epp », « local », « dir », « autre » ; "
         "valeur reçue : « EPP »."),
        (lambda d: d["enseignants"][0].__setitem__("civilite", "Mme"),
         "enseignants[0].civilite",
         "Le champ « civilite » doit valoir l'une des valeurs : « M », « MME » ; valeur reçue : « Mme »."),
        (lambda d: d["divisions"][0].__setitem__("periodes", "bimestres"),
         "divisions[0].periodes",
         "Le champ « periodes » doit valoir l'une des valeurs : « trimestres », « semestres » ; "
         "valeur reçue : « bimestres »."),
    ],
)
def test_erreurs_d_enumeration(modifier, chemin, message):
    data = referentiel_valide()
    modifier(data)
    assert seule_erreur(data) == {"code": CODE_ERREUR, "chemin": chemin, "message": message}


@pytest.mark.parametrize(
    ("modifier", "chemin", "message"),
    [
        (lambda d: d["etablissement"].__setitem__("uai", "075001A"),
         "etablissement.uai",
         "Le champ « uai » doit comporter 8 caractères : 7 chiffres suivis d'une lettre majuscule "
         "(ex. « 0750001A ») ; valeur reçue : « 075001A »."),
        (lambda d: d["etablissement"].__setitem__("uai", "0750001a"),
         "etablissement.uai",
         "Le champ « uai » doit comporter 8 caractères : 7 chiffres suivis d'une lettre majuscule "
         "(ex. « 0750001A ») ; valeur reçue : « 0750001a »."),
        (lambda d: d.__setitem__("millesime", "2025-2026"),
         "millesime",
         "Le champ « millesime » doit comporter exactement 4 chiffres, la première année de l'année "
         "scolaire (ex. « 2025 » pour 2025-2026) ; valeur reçue : « 2025-2026 »."),
        (lambda d: d["eleves"][0].__setitem__("id_be", "12A456"),
         "eleves[0].id_be",
         "Le champ « id_be » doit être composé uniquement de chiffres (ex. « 1234567 ») ; "
         "valeur reçue : « 12A456 »."),
        (lambda d: d["enseignants"][2].__setitem__("id_sts", ""),
         "enseignants[2].id_sts",
         "Le champ « id_sts » doit être composé uniquement de chiffres (ex. « 1234567 »)."),
        (lambda d: d["matieres"][1].__setitem__("code", "61300"),
         "matieres[1].code",
         "Le champ « code » doit être un code matière BCN de 6 chiffres (ex. « 020700 ») ; "
         "valeur reçue : « 61300 »."),
        (lambda d: d["eleves"][1].__setitem__("nom", "   "),
         "eleves[1].nom", "Le champ « nom » ne doit pas être vide."),
        (lambda d: d["divisions"][0].__setitem__("code", ""),
         "divisions[0].code", "Le champ « code » ne doit pas être vide."),
        (lambda d: d["services"][0].__setitem__("division", "6A-" + "X" * 18),
         "services[0].division",
         "Le champ « division » ne doit pas dépasser 20 caractères (21 reçus) ; "
         "valeur reçue : « 6A-XXXXXXXXXXXXXXXXXX »."),
        (lambda d: d["eleves"][2].__setitem__("date_entree", "06/10/2025"),
         "eleves[2].date_entree",
         "Le champ « date_entree » doit être une date valide au format AAAA-MM-JJ "
         "(ex. « 2025-09-01 ») ; valeur reçue : « 06/10/2025 »."),
        (lambda d: d["eleves"][1].__setitem__("date_sortie", "2026-02-30"),
         "eleves[1].date_sortie",
         "Le champ « date_sortie » doit être une date valide au format AAAA-MM-JJ "
         "(ex. « 2025-09-01 ») ; valeur reçue : « 2026-02-30 »."),
        (lambda d: d["divisions"][0]["dates_conseil"].__setitem__(1, "2026-3-12"),
         "divisions[0].dates_conseil[1]",
         "L'élément « dates_conseil[1] » doit être une date valide au format AAAA-MM-JJ "
         "(ex. « 2025-09-01 ») ; valeur reçue : « 2026-3-12 »."),
        (lambda d: d["calendrier"]["trimestres"].__setitem__("nb_periodes", 4),
         "calendrier.trimestres.nb_periodes",
         "Le champ « nb_periodes » doit être inférieur ou égal à 3 ; valeur reçue : « 4 »."),
        (lambda d: d["calendrier"]["semestres"]["periodes"][0].__setitem__("indice", 0),
         "calendrier.semestres.periodes[0].indice",
         "Le champ « indice » doit être supérieur ou égal à 1 ; valeur reçue : « 0 »."),
        (lambda d: d["calendrier"]["semestres"].__setitem__("periodes", []),
         "calendrier.semestres.periodes",
         "Le champ « periodes » doit contenir au moins 1 élément."),
        (lambda d: d.__setitem__("calendrier", {"annuel": {}}),
         "calendrier",
         "Le champ « calendrier » doit contenir au moins l'un des champs « trimestres » ou « semestres »."),
    ],
)
def test_erreurs_de_format(modifier, chemin, message):
    data = referentiel_valide()
    modifier(data)
    assert seule_erreur(data) == {"code": CODE_ERREUR, "chemin": chemin, "message": message}


@pytest.mark.parametrize("valeur", ["0750001A\n", "2025\n"])
def test_motif_refuse_un_saut_de_ligne_final(valeur):
    # « $ » suit ECMA-262 (fin du texte), pas Python (qui tolère un « \n » final).
    data = referentiel_valide()
    if len(valeur) == 9:
        data["etablissement"]["uai"] = valeur
    else:
        data["millesime"] = valeur
    assert len(validate_referentiel(data)) == 1


def test_valeur_recue_longue_tronquee():
    data = referentiel_valide()
    data["eleves"][0]["sexe"] = "X" * 200
    message = seule_erreur(data)["message"]
    assert message.endswith("valeur reçue : « " + "X" * 59 + "… ».")
    assert len(message) < 200


def test_erreurs_dans_l_ordre_du_document():
    data = referentiel_valide()
    data["services"][2]["matiere"] = "XX"
    data["eleves"][2]["sexe"] = "?"
    data["eleves"][0]["date_entree"] = "hier"
    del data["eleves"][0]["nom"]
    data["etablissement"]["uai"] = "?"
    data["millesime"] = 2025
    assert chemins(validate_referentiel(data)) == [
        "etablissement.uai",
        "millesime",
        "eleves[0].nom",  # champ manquant : avant les autres champs de l'objet
        "eleves[0].date_entree",
        "eleves[2].sexe",
        "services[2].matiere",
    ]


def test_au_plus_50_erreurs():
    data = referentiel_valide()
    data["eleves"] = [
        {"id_be": f"x{i}", "nom": "", "prenom": "", "division": "6A", "date_entree": "?"}
        for i in range(100)
    ]
    erreurs = validate_referentiel(data)
    assert len(erreurs) == MAX_ERREURS == 50
    assert erreurs[0]["chemin"] == "eleves[0].id_be"
    # Ordre du document, 4 erreurs par élève (id_be, nom, prenom, date_entree) : 12 × 4 + 2.
    assert erreurs[-1]["chemin"] == "eleves[12].nom"


def test_au_plus_50_erreurs_pour_les_controles_croises():
    data = referentiel_valide()
    data["eleves"] = [
        {"id_be": str(i), "nom": "N", "prenom": "P", "division": "ZZ", "date_entree": "2025-09-01"}
        for i in range(80)
    ]
    erreurs = validate_referentiel(data)
    assert len(erreurs) == 50
    assert chemins(erreurs) == [f"eleves[{i}].division" for i in range(50)]


def test_controles_croises_non_executes_si_schema_invalide():
    data = referentiel_valide()
    data["eleves"][0]["division"] = "ZZ"  # erreur croisée
    data["eleves"][1]["sexe"] = "?"  # erreur de schéma
    assert chemins(validate_referentiel(data)) == ["eleves[1].sexe"]


# --------------------------------------------------------------------------
# Propriété : toute clé obligatoire supprimée est signalée à son chemin
# --------------------------------------------------------------------------


def _resoudre(schema: dict, racine: dict) -> dict:
    """Fusionne les « $ref » locaux (#/$defs/…) d'un sous-schéma."""
    while "$ref" in schema:
        cible = racine
        for partie in schema["$ref"].removeprefix("#/").split("/"):
            cible = cible[partie]
        schema = {**cible, **{k: v for k, v in schema.items() if k != "$ref"},
                  "properties": {**cible.get("properties", {}), **schema.get("properties", {})}}
    return schema


def chemins_obligatoires(schema: dict, racine: dict, donnees, chemin=()):
    """Tous les chemins (tuples) des clés obligatoires présentes dans ``donnees``, d'après le schéma."""
    schema = _resoudre(schema, racine)
    if isinstance(donnees, dict):
        for cle in schema.get("required", []):
            if cle in donnees:
                yield chemin + (cle,)
        for cle, sous_schema in schema.get("properties", {}).items():
            if cle in donnees:
                yield from chemins_obligatoires(sous_schema, racine, donnees[cle], chemin + (cle,))
    elif isinstance(donnees, list) and "items" in schema:
        for i, element in enumerate(donnees):
            yield from chemins_obligatoires(schema["items"], racine, element, chemin + (i,))


def formater(chemin) -> str:
    texte = ""
    for partie in chemin:
        texte += f"[{partie}]" if isinstance(partie, int) else (f".{partie}" if texte else partie)
    return texte


chiffres = st.text(alphabet="0123456789", min_size=1, max_size=10)
textes = st.text(min_size=1, max_size=12).filter(lambda s: s.strip())
dates = st.dates().map(lambda d: d.isoformat())


@st.composite
def referentiels(draw) -> dict:
    """Référentiels valides de taille et de contenu variables."""
    data = referentiel_valide()
    data["etablissement"] = {"uai": draw(st.from_regex(r"\A[0-9]{7}[A-Z]\Z")), "nom": draw(textes)}
    if draw(st.booleans()):
        data["etablissement"]["commune"] = draw(textes)
    data["millesime"] = str(draw(st.integers(2000, 2099)))
    if draw(st.booleans()):
        del data["calendrier"]["semestres"]
        for division in data["divisions"]:
            division["periodes"] = "trimestres"
            division.pop("nb_periodes", None)
    matieres = draw(st.lists(st.from_regex(r"\A[0-9]{6}\Z"), min_size=1, max_size=4, unique=True))
    data["matieres"] = [{"code": code, "libelle": draw(textes)} for code in matieres]
    ids_sts = draw(st.lists(chiffres, min_size=1, max_size=4, unique=True))
    data["enseignants"] = [
        {"id_sts": i, "nom": draw(textes), **({"prenom": draw(textes)} if draw(st.booleans()) else {})}
        for i in ids_sts
    ]
    codes = draw(st.lists(textes.filter(lambda s: len(s) <= 20), min_size=1, max_size=3, unique=True))
    data["divisions"] = [
        {"code": code, "niveau": draw(st.sampled_from(["6E", "5E", "4E", "3E"])),
         "mode_import": draw(st.sampled_from(["EDITEUR", "SCONET_NOTES", "SAISIE"])),
         "profs_principaux": draw(st.lists(st.sampled_from(ids_sts), max_size=2))}
        for code in codes
    ]
    ids_be = draw(st.lists(chiffres, min_size=1, max_size=5, unique=True))
    data["eleves"] = [
        {"id_be": i, "nom": draw(textes), "prenom": draw(textes),
         "division": draw(st.sampled_from(codes)), "date_entree": draw(dates)}
        for i in ids_be
    ]
    data["services"] = [
        {"enseignant": draw(st.sampled_from(ids_sts)), "matiere": draw(st.sampled_from(matieres)),
         "division": draw(st.sampled_from(codes))}
        for _ in range(draw(st.integers(0, 4)))
    ]
    return data


@given(st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_propriete_cle_obligatoire_supprimee(donnees):
    data = donnees.draw(referentiels())
    assert validate_referentiel(data) == []
    schema = schema_referentiel()
    possibles = list(chemins_obligatoires(schema, schema, data))
    chemin = donnees.draw(st.sampled_from(possibles))
    parent = data
    for partie in chemin[:-1]:
        parent = parent[partie]
    del parent[chemin[-1]]

    erreurs = validate_referentiel(data)
    assert erreurs
    assert all(e["code"] == CODE_ERREUR for e in erreurs)
    assert formater(chemin) in chemins(erreurs)
    assert {"code": CODE_ERREUR, "chemin": formater(chemin),
            "message": f"Le champ « {chemin[-1]} » est obligatoire."} in erreurs


def test_les_chemins_obligatoires_couvrent_les_identifiants():
    schema = schema_referentiel()
    tous = {formater(c) for c in chemins_obligatoires(schema, schema, referentiel_valide())}
    for attendu in ("etablissement.uai", "millesime", "divisions[0].code", "divisions[0].niveau",
                    "divisions[0].mode_import", "eleves[0].id_be", "eleves[0].nom", "eleves[0].prenom",
                    "eleves[0].division", "eleves[0].date_entree", "enseignants[0].id_sts",
                    "enseignants[0].nom", "services[0].enseignant", "services[0].matiere",
                    "services[0].division", "matieres[0].code", "matieres[0].libelle",
                    "calendrier.trimestres.periodes[0].debut"):
        assert attendu in tous


# --------------------------------------------------------------------------
# Contrôles croisés
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("liste", "cle", "chemin", "message"),
    [
        ("eleves", "id_be", "eleves[2].id_be",
         "L'identifiant élève (id_be) « 123456 » apparaît plusieurs fois : déjà utilisé en eleves[0]."),
        ("enseignants", "id_sts", "enseignants[2].id_sts",
         "L'identifiant enseignant (id_sts) « 1001 » apparaît plusieurs fois : déjà utilisé en enseignants[0]."),
        ("matieres", "code", "matieres[2].code",
         "Le code matière « 020700 » apparaît plusieurs fois : déjà utilisé en matieres[0]."),
        ("modalites_election", "code", "modalites_election[1].code",
         "Le code de modalité d'élection « S » apparaît plusieurs fois : déjà utilisé en modalites_election[0]."),
    ],
)
def test_doublons(liste, cle, chemin, message):
    data = referentiel_valide()
    index = int(chemin.split("[")[1].split("]")[0])
    data[liste][index][cle] = data[liste][0][cle]
    # Garder les références croisées cohérentes : seule l'erreur de doublon doit sortir.
    if liste == "enseignants":
        data["services"] = [s for s in data["services"] if s["enseignant"] != "1003"]
    if liste == "matieres":
        data["services"] = [s for s in data["services"] if s["matiere"] != "030201"]
    assert validate_referentiel(data) == [{"code": CODE_ERREUR, "chemin": chemin, "message": message}]
    assert [e.message for e in verifier_doublons(data)] == [message]


def test_doublon_de_division():
    data = referentiel_valide()
    data["divisions"].append(dict(data["divisions"][0], niveau="5E"))
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "divisions[2].code",
        "message": "Le code de division « 6A » apparaît plusieurs fois : déjà utilisé en divisions[0].",
    }


def test_triple_doublon_signale_deux_fois():
    data = referentiel_valide()
    data["eleves"][1]["id_be"] = data["eleves"][2]["id_be"] = "123456"
    assert chemins(validate_referentiel(data)) == ["eleves[1].id_be", "eleves[2].id_be"]
    assert len(verifier_doublons(data)) == 2


def test_division_de_l_eleve_inconnue():
    data = referentiel_valide()
    data["eleves"][1]["division"] = "6Z"
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "eleves[1].division",
        "message": "La division « 6Z » de l'élève n'existe pas dans la liste des divisions.",
    }
    assert len(verifier_divisions_des_eleves(data)) == 1


@pytest.mark.parametrize(
    ("cle", "valeur", "message"),
    [
        ("enseignant", "9999",
         "L'enseignant « 9999 » du service n'existe pas dans la liste des enseignants."),
        ("matiere", "999999",
         "La matière « 999999 » du service n'existe pas dans la liste des matières."),
        ("division", "4C",
         "La division « 4C » du service n'existe pas dans la liste des divisions."),
    ],
)
def test_service_reference_inconnue(cle, valeur, message):
    data = referentiel_valide()
    data["services"][1][cle] = valeur
    assert seule_erreur(data) == {"code": CODE_ERREUR, "chemin": f"services[1].{cle}", "message": message}
    assert [e.message for e in verifier_services(data)] == [message]


def test_service_entierement_inconnu_donne_trois_erreurs_ordonnees():
    data = referentiel_valide()
    data["services"].append({"enseignant": "1", "matiere": "000000", "division": "X"})
    assert chemins(validate_referentiel(data)) == [
        "services[3].enseignant", "services[3].matiere", "services[3].division"]


def test_prof_principal_inconnu():
    data = referentiel_valide()
    data["divisions"][0]["profs_principaux"] = ["1001", "4242"]
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "divisions[0].profs_principaux[1]",
        "message": "Le professeur principal « 4242 » de la division « 6A » n'existe pas "
                   "dans la liste des enseignants.",
    }
    assert len(verifier_profs_principaux(data)) == 1


def test_date_de_sortie_avant_date_d_entree():
    data = referentiel_valide()
    data["eleves"][1]["date_sortie"] = "2025-08-31"
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "eleves[1].date_sortie",
        "message": "La date de sortie (2025-08-31) est antérieure à la date d'entrée (2025-09-01).",
    }
    assert len(verifier_dates_eleves(data)) == 1


def test_date_de_sortie_egale_a_la_date_d_entree_acceptee():
    data = referentiel_valide()
    data["eleves"][1]["date_sortie"] = "2025-09-01"
    assert validate_referentiel(data) == []


def test_calendrier_indice_hors_intervalle():
    data = referentiel_valide()
    data["calendrier"]["trimestres"]["periodes"][2]["indice"] = 4
    assert validate_referentiel(data) == [
        {"code": CODE_ERREUR, "chemin": "calendrier.trimestres.periodes",
         "message": "Le calendrier des trimestres compte 3 périodes (nb_periodes) mais l'indice 3 manque."},
        {"code": CODE_ERREUR, "chemin": "calendrier.trimestres.periodes[2].indice",
         "message": "L'indice de période 4 est hors de l'intervalle attendu (1 à 3, d'après nb_periodes)."},
    ]


def test_calendrier_indice_en_double():
    data = referentiel_valide()
    data["calendrier"]["semestres"]["periodes"][1]["indice"] = 1
    erreurs = validate_referentiel(data)
    assert erreurs == [
        {"code": CODE_ERREUR, "chemin": "calendrier.semestres.periodes",
         "message": "Le calendrier des semestres compte 2 périodes (nb_periodes) mais l'indice 2 manque."},
        {"code": CODE_ERREUR, "chemin": "calendrier.semestres.periodes[1].indice",
         "message": "L'indice de période 1 apparaît plusieurs fois : "
                    "déjà utilisé en calendrier.semestres.periodes[0]."},
    ]


def test_calendrier_periodes_manquantes():
    data = referentiel_valide()
    del data["calendrier"]["trimestres"]["periodes"][1:]
    assert seule_erreur(data)["message"] == (
        "Le calendrier des trimestres compte 3 périodes (nb_periodes) mais les indices 2, 3 manquent.")


def test_calendrier_debut_apres_fin():
    data = referentiel_valide()
    data["calendrier"]["trimestres"]["periodes"][0]["fin"] = "2025-08-31"
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "calendrier.trimestres.periodes[0].fin",
        "message": "La date de fin (2025-08-31) est antérieure à la date de début (2025-09-01).",
    }


def test_calendrier_periode_d_un_jour_acceptee():
    data = referentiel_valide()
    data["calendrier"]["semestres"] = {"nb_periodes": 1, "periodes": [
        {"indice": 1, "debut": "2025-09-01", "fin": "2025-09-01"}]}
    data["divisions"][1]["nb_periodes"] = 1
    assert validate_referentiel(data) == []


def test_calendrier_periodes_qui_se_chevauchent():
    data = referentiel_valide()
    data["calendrier"]["trimestres"]["periodes"][1]["debut"] = "2025-11-30"
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "calendrier.trimestres.periodes[1].debut",
        "message": "La période d'indice 2 commence le 2025-11-30 alors que la période d'indice 1 "
                   "se termine le 2025-11-30 : les périodes se chevauchent.",
    }


def test_calendrier_periodes_dans_le_desordre_acceptees():
    data = referentiel_valide()
    data["calendrier"]["trimestres"]["periodes"].reverse()
    assert validate_referentiel(data) == []
    assert verifier_calendrier(data) == []


def test_periodes_de_la_division_absentes_du_calendrier():
    data = referentiel_valide()
    del data["calendrier"]["semestres"]
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "divisions[1].periodes",
        "message": "La division « 3B » est organisée en semestres, "
                   "mais le calendrier ne définit pas de semestres.",
    }


def test_periodes_par_defaut_de_la_division_absentes_du_calendrier():
    data = referentiel_valide()
    del data["calendrier"]["trimestres"]
    data["divisions"] = [data["divisions"][1], {"code": "6A", "niveau": "6E", "mode_import": "EDITEUR"}]
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "divisions[1].periodes",
        "message": "La division « 6A » est organisée en trimestres (valeur par défaut), "
                   "mais le calendrier ne définit pas de trimestres.",
    }
    assert len(verifier_periodes_des_divisions(data)) == 1


def test_nombre_de_periodes_de_la_division_different_du_calendrier():
    data = referentiel_valide()
    data["divisions"][0]["nb_periodes"] = 2
    assert seule_erreur(data) == {
        "code": CODE_ERREUR, "chemin": "divisions[0].nb_periodes",
        "message": "La division « 6A » déclare 2 périodes alors que le calendrier des trimestres en compte 3.",
    }


def test_controles_croises_purs_sur_referentiel_valide():
    data = referentiel_valide()
    for controle in (verifier_doublons, verifier_divisions_des_eleves, verifier_services,
                     verifier_profs_principaux, verifier_dates_eleves, verifier_calendrier,
                     verifier_periodes_des_divisions):
        assert controle(data) == []


# --------------------------------------------------------------------------
# Index
# --------------------------------------------------------------------------


def test_index_referentiel():
    ref = index_referentiel(referentiel_valide())
    assert isinstance(ref, Referentiel)
    assert (ref.uai, ref.millesime) == ("0750001A", "2025")
    assert set(ref.eleves_by_id_be) == {"123456", "123457", "123458"}
    assert ref.eleves_by_id_be["123458"]["division"] == "3B"
    assert set(ref.divisions_by_code) == {"6A", "3B"}
    assert set(ref.matieres_by_code) == {"020700", "061300", "030201", "020100"}
    assert set(ref.enseignants_by_id_sts) == {"1001", "1002", "1003"}
    assert ref.services == frozenset({
        ("1001", "020700", "6A"), ("1002", "061300", "6A"), ("1003", "020100", "3B")})
    assert ("1002", "061300", "6A") in ref.services
    assert set(ref.calendrier) == {"trimestres", "semestres"}


def test_index_applique_les_valeurs_par_defaut():
    ref = index_referentiel(referentiel_valide())
    assert ref.divisions_by_code["3B"] == {
        "code": "3B", "niveau": "3E", "cycle": 4, "mode_import": "SAISIE", "periodes": "semestres",
        "nb_periodes": 2, "dates_conseil": [], "profs_principaux": [], "president_conseil": None,
        "sans_notes": False, "systeme_evaluation": None,
    }
    assert ref.divisions_by_code["6A"]["cycle"] == 3
    assert ref.matieres_by_code["061300"] == {
        "code": "061300", "libelle": "MATHEMATIQUES", "modalite": "S", "niveaux": [], "hors_programme": False}
    assert ref.eleves_by_id_be["123458"]["date_sortie"] is None
    assert ref.eleves_by_id_be["123458"]["options"] == ["020100"]
    assert ref.enseignants_by_id_sts["1002"] == {
        "id_sts": "1002", "nom": "THOMAS", "type": "epp", "civilite": None, "prenom": None}


def test_index_est_gele():
    ref = index_referentiel(referentiel_valide())
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.uai = "0000000X"  # type: ignore[misc]


# --------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------


def test_exemple_minimal_de_la_documentation_est_valide():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "referentiel.md").read_text(encoding="utf-8")
    exemple = doc.rsplit("```json", 1)[1].split("```", 1)[0]
    data = json.loads(exemple)
    assert validate_referentiel(data) == []
    ref = index_referentiel(data)
    assert ("45678", "020700", "3A") in ref.services
    assert ref.divisions_by_code["3A"]["nb_periodes"] == 3


# --------------------------------------------------------------------------
# Système d'évaluation d'une division (issue 14) ; les modes viennent de Mode
# --------------------------------------------------------------------------


@pytest.mark.parametrize("valeur", ["NOTES", "POSITIONNEMENT", None])
def test_systeme_evaluation_accepte_et_conserve_par_l_index(valeur):
    data = referentiel_valide()
    data["divisions"][0]["systeme_evaluation"] = valeur
    assert validate_referentiel(data) == []
    ref = index_referentiel(data)
    assert ref.divisions_by_code["6A"]["systeme_evaluation"] == valeur
    assert ref.divisions_by_code["3B"]["systeme_evaluation"] is None      # absent : non paramétré
    assert ref.divisions_by_code["6A"]["sans_notes"] is False             # l'indicateur SIECLE reste à part


@pytest.mark.parametrize(("valeur", "message"), [
    ("notes", "Le champ « systeme_evaluation » doit valoir l'une des valeurs : « NOTES », « POSITIONNEMENT », "
              "null ; valeur reçue : « notes »."),
    ("SANS_NOTES", "Le champ « systeme_evaluation » doit valoir l'une des valeurs : « NOTES », "
                   "« POSITIONNEMENT », null ; valeur reçue : « SANS_NOTES »."),
    ("", "Le champ « systeme_evaluation » doit valoir l'une des valeurs : « NOTES », « POSITIONNEMENT », "
         "null ; valeur reçue : «  »."),
    (True, "Le champ « systeme_evaluation » doit être un texte ou null."),
    (4, "Le champ « systeme_evaluation » doit être un texte ou null."),
    (["NOTES"], "Le champ « systeme_evaluation » doit être un texte ou null."),
])
def test_systeme_evaluation_refuse_les_autres_valeurs(valeur, message):
    data = referentiel_valide()
    data["divisions"][1]["systeme_evaluation"] = valeur
    assert seule_erreur(data) == {"code": CODE_ERREUR, "chemin": "divisions[1].systeme_evaluation",
                                  "message": message}


def test_schema_systeme_evaluation_documente_en_francais():
    propriete = schema_referentiel()["properties"]["divisions"]["items"]["properties"]["systeme_evaluation"]
    assert propriete["title"] == "Système d'évaluation"
    assert "Facultatif ; non paramétré (null) par défaut." in propriete["description"]
    assert propriete["enum"] == ["NOTES", "POSITIONNEMENT", None] and propriete["default"] is None
    assert "systeme_evaluation" not in schema_referentiel()["properties"]["divisions"]["items"]["required"]


def test_les_modes_du_schema_viennent_de_l_enumeration_mode():
    from importlib import resources

    from chalicelib.domain.vocabulary import Mode
    brut = json.loads(resources.files("chalicelib.referentiel").joinpath("schema.json").read_text(encoding="utf-8"))
    proprietes = brut["properties"]["divisions"]["items"]["properties"]
    assert "enum" not in proprietes["mode_import"] and proprietes["mode_import"]["x-enum"] == "Mode"
    assert "enum" not in proprietes["systeme_evaluation"]
    charge = schema_referentiel()["properties"]["divisions"]["items"]["properties"]["mode_import"]
    assert charge["enum"] == [m.value for m in Mode]


# --------------------------------------------------------------------------
# Formation (MEF) des élèves et programmes des MEF (brevet 2026)
# --------------------------------------------------------------------------

MEF_3E = "10310019110"


def _avec_programmes(programmes: list[dict], mef: str | None = MEF_3E, options=("020100",)) -> dict:
    data = referentiel_valide(programmes=programmes)
    eleve = data["eleves"][2]
    eleve["options"] = list(options)
    if mef is not None:
        eleve["mef"] = mef
    return data


def test_mef_et_programmes_facultatifs_valeurs_par_defaut():
    ref = index_referentiel(referentiel_valide())
    assert ref.eleves_by_id_be["123458"]["mef"] is None
    assert ref.obligatoires_by_mef == {} and ref.facultatives_by_mef == {}
    assert enseignements_obligatoires(ref, ref.eleves_by_id_be["123458"]) is None
    assert enseignements_facultatifs(ref, ref.eleves_by_id_be["123458"]) == []


def test_programmes_indexes_par_mef_obligatoires_et_facultatifs():
    data = _avec_programmes([
        {"mef": MEF_3E, "matiere": "020700", "modalite_election": "S"},
        {"mef": MEF_3E, "matiere": "030201", "modalite_election": "O"},
        {"mef": MEF_3E, "matiere": "061300", "modalite_election": "O"},
        {"mef": MEF_3E, "matiere": "020100", "modalite_election": "f"},      # casse normalisée
        {"mef": MEF_3E, "matiere": "020700", "modalite_election": "F"},      # doublon : le premier l'emporte
        {"mef": MEF_3E, "matiere": "030201", "modalite_election": "X"},      # autre modalité : ignorée
        {"mef": "10010012110", "matiere": "020700", "modalite_election": "S"},
    ], options=("030201", "020100"))
    assert validate_referentiel(data) == []
    ref = index_referentiel(data)
    assert ref.obligatoires_by_mef == {MEF_3E: {"020700": "S", "030201": "O", "061300": "O"},
                                       "10010012110": {"020700": "S"}}
    assert ref.facultatives_by_mef == {MEF_3E: ("020100",)}
    inès = ref.eleves_by_id_be["123458"]
    assert inès["mef"] == MEF_3E
    # S always; O only where the élève follows it (an option obligatoire such as an LV2).
    assert enseignements_obligatoires(ref, inès) == ["020700", "030201"]
    assert enseignements_facultatifs(ref, inès) == ["020100"]


@pytest.mark.parametrize("modifier, chemin, extrait", [
    (lambda d: d["eleves"][2].update(mef="1031"), "eleves[2].mef", "code MEF de 11 caractères"),
    (lambda d: d["eleves"][2].update(mef=10310019110), "eleves[2].mef", None),
    (lambda d: d.update(programmes=[{"mef": MEF_3E, "matiere": "0207", "modalite_election": "S"}]),
     "programmes[0].matiere", "code matière BCN de 6 chiffres"),
    (lambda d: d.update(programmes=[{"mef": MEF_3E, "matiere": "020700"}]), "programmes[0].modalite_election", None),
    (lambda d: d.update(programmes=[{"mef": MEF_3E, "matiere": "020700", "modalite_election": " "}]),
     "programmes[0].modalite_election", "ne doit pas être vide"),
    (lambda d: d.update(programmes={"mef": MEF_3E}), "programmes", None),
])
def test_mef_et_programmes_invalides_refuses_en_francais(modifier, chemin, extrait):
    data = referentiel_valide()
    modifier(data)
    erreur = seule_erreur(data)
    assert erreur["code"] == "REFERENTIEL_INVALIDE" and erreur["chemin"] == chemin
    if extrait:
        assert extrait in erreur["message"]


def test_mef_null_accepte():
    data = referentiel_valide()
    data["eleves"][0]["mef"] = None
    assert validate_referentiel(data) == []
