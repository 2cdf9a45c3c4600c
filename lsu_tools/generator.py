"""Deterministic generator of whole-school LSU import files (collège).

`generate_referentiel` gives the school's référentiel (a JSON-ready dict) and
`generate_lsu_xml` a `lsun-bilans` document valid against the official XSD
(« import complet », schemaVersion 7.0); both describe the same school. The same
`SchoolSpec` always gives byte-identical output: every random draw comes from a
`random.Random` seeded with the spec's seed, never from the clock.

    python -m lsu_tools.generator --out DIR [--divisions-par-niveau N]
        [--eleves-par-division N] [--seed S] [--periodes 1,2,3] [--types-enseignants dir,autre]
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import random
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from lxml import etree

from chalicelib.referentiel import TYPE_ENSEIGNANT_PAR_DEFAUT, TYPES_ENSEIGNANT

NS = "urn:fr:edu:scolarite:lsun:bilans:import"
_Q = f"{{{NS}}}"

# --------------------------------------------------------------------------------------------
# Static data
# --------------------------------------------------------------------------------------------

NIVEAUX = ("6E", "5E", "4E", "3E")
_CHIFFRE = {"6E": "6", "5E": "5", "4E": "4", "3E": "3"}
_CYCLE = {"6E": 3, "5E": 4, "4E": 4, "3E": 4}
_LETTRES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CYCLE_4 = ("5E", "4E", "3E")

MODALITES_ELECTION = (
    ("S", "Tronc commun"),
    ("O", "Option obligatoire"),
    ("F", "Option facultative"),
)


@dataclass(frozen=True)
class _Matiere:
    code: str                 # 6 chars, BCN-like
    libelle: str              # ≤ 40 chars (xsd Chaine40)
    modalite: str             # S, O (LV2) or F (latin)
    niveaux: tuple[str, ...]
    charge: int               # divisions per teacher
    programme: tuple[str, ...]  # éléments de programme (libellés unique in the whole document)
    remarques: tuple[str, ...]  # subject-specific end of appréciation


FRANCAIS, MATHS, HG, ANGLAIS = "020700", "061300", "043000", "030201"
ESPAGNOL, ALLEMAND, LATIN = "030602", "030102", "020300"
SVT, PHYSIQUE, TECHNO, SCIENCES_TECHNO = "062900", "063500", "070700", "064000"
EPS, ARTS, MUSIQUE = "100100", "080100", "081000"

MATIERES: tuple[_Matiere, ...] = (
    _Matiere(FRANCAIS, "Français", "S", NIVEAUX, 4, (
        "Lire et comprendre des textes littéraires variés",
        "Écrire des textes de genres différents",
        "S'exprimer à l'oral de façon claire et organisée",
        "Maîtriser le fonctionnement de la langue : grammaire et orthographe",
    ), ("La lecture à voix haute progresse.", "Soigner l'orthographe dans les rédactions.",
        "Les analyses de textes gagneraient à être plus développées.")),
    _Matiere(MATHS, "Mathématiques", "S", NIVEAUX, 4, (
        "Nombres et calculs : fractions et nombres relatifs",
        "Géométrie : figures planes et transformations",
        "Grandeurs et mesures : aires, volumes, conversions",
        "Organisation et gestion de données, probabilités",
        "Algorithmique et programmation avec Scratch",
    ), ("Les automatismes de calcul sont à consolider.", "Les démonstrations sont bien rédigées.",
        "Attention à la rigueur dans la rédaction des solutions.")),
    _Matiere(HG, "Histoire-géographie-EMC", "S", NIVEAUX, 5, (
        "Se repérer dans le temps : construire des repères historiques",
        "Se repérer dans l'espace : lire et réaliser des croquis",
        "Analyser et comprendre un document",
        "EMC : la laïcité et les valeurs de la République",
    ), ("Les repères chronologiques doivent être mieux appris.",
        "Les croquis sont soignés et bien légendés.")),
    _Matiere(ANGLAIS, "Anglais LV1", "S", NIVEAUX, 5, (
        "Écouter et comprendre des documents oraux en anglais",
        "Lire et comprendre des textes en anglais",
        "Parler en continu et réagir à l'oral en anglais",
        "Écrire un court récit en anglais",
    ), ("Bonne prise de parole à l'oral.", "Le vocabulaire doit être appris plus régulièrement.")),
    _Matiere(ESPAGNOL, "Espagnol LV2", "O", _CYCLE_4, 6, (
        "Comprendre un document audio en espagnol",
        "Se présenter et parler de son quotidien en espagnol",
        "Découvrir la culture des pays hispanophones",
    ), ("¡Muy bien! L'accent progresse.", "Les conjugaisons sont encore hésitantes.")),
    _Matiere(ALLEMAND, "Allemand LV2", "O", _CYCLE_4, 6, (
        "Comprendre un document audio en allemand",
        "Se présenter et parler de son quotidien en allemand",
        "Découvrir la culture des pays germanophones",
    ), ("Sehr gut ! Participation active.", "Les déclinaisons restent à travailler.")),
    _Matiere(LATIN, "LCA latin", "F", _CYCLE_4, 6, (
        "Lire et comprendre des textes latins simples",
        "Découvrir la mythologie gréco-romaine",
        "Étymologie : le latin dans la langue française",
    ), ("Bonne curiosité pour la civilisation romaine.",)),
    _Matiere(SCIENCES_TECHNO, "Sciences et technologie", "S", ("6E",), 3, (
        "Matière, mouvement, énergie, information",
        "Le vivant, sa diversité et les fonctions qui le caractérisent",
        "Matériaux et objets techniques",
        "La planète Terre, les êtres vivants dans leur environnement",
    ), ("Les comptes rendus d'expérience sont soignés.",)),
    _Matiere(SVT, "Sciences de la vie et de la Terre", "S", _CYCLE_4, 8, (
        "Le vivant et son évolution",
        "Le corps humain et la santé",
        "La planète Terre, l'environnement et l'action humaine",
    ), ("Bonne démarche d'investigation en travaux pratiques.",)),
    _Matiere(PHYSIQUE, "Physique-chimie", "S", _CYCLE_4, 8, (
        "Organisation et transformations de la matière",
        "Mouvement et interactions",
        "L'énergie et ses conversions",
        "Des signaux pour observer et communiquer",
    ), ("Les unités doivent accompagner chaque résultat.",)),
    _Matiere(TECHNO, "Technologie", "S", _CYCLE_4, 8, (
        "Design, innovation et créativité",
        "Les objets techniques, les services et les changements induits dans la société",
        "Modélisation et simulation des objets techniques",
        "L'informatique et la programmation",
    ), ("Le travail en îlot est efficace.",)),
    _Matiere(EPS, "Éducation physique et sportive", "S", NIVEAUX, 6, (
        "Produire une performance optimale : demi-fond",
        "Adapter ses déplacements : course d'orientation",
        "S'exprimer devant les autres : danse",
        "Conduire et maîtriser un affrontement collectif : handball",
    ), ("Engagement remarquable lors du cycle de handball.", "Attention aux oublis de tenue.")),
    _Matiere(ARTS, "Arts plastiques", "S", NIVEAUX, 18, (
        "La représentation : images, réalité et fiction",
        "La matérialité de l'œuvre",
        "L'œuvre, l'espace, l'auteur, le spectateur",
    ), ("Des productions originales et abouties.",)),
    _Matiere(MUSIQUE, "Éducation musicale", "S", NIVEAUX, 18, (
        "Chanter et interpréter",
        "Écouter, comparer, construire une culture musicale",
        "Explorer, imaginer et créer",
    ), ("Belle implication dans le projet de chorale.",)),
)
_MATIERE = {m.code: m for m in MATIERES}
_LV2 = (ESPAGNOL, ALLEMAND)
# The MEF (SIECLE formation) of the 3e élèves; its programme is every 3e subject with its modalité.
MEF_3E = "10310019110"
# Subjects a professeur principal is usually taken from.
_MATIERES_PP = (FRANCAIS, MATHS, HG, ANGLAIS, SVT, PHYSIQUE, SCIENCES_TECHNO, TECHNO, EPS)

PRENOMS_F = (
    "Chloé", "Léa", "Zoë", "Emma", "Jade", "Louise", "Alice", "Lina", "Rose", "Anna", "Mila",
    "Ambre", "Inès", "Léna", "Agathe", "Juliette", "Manon", "Camille", "Héloïse", "Maëlys",
    "Anaïs", "Clémence", "Margaux", "Salomé", "Noémie", "Éléonore", "Maïwenn", "Marie-Ève",
    "Aïcha", "Yasmine", "Océane", "Romane", "Lucie", "Célia", "Capucine", "Gaëlle", "Bérénice",
)
PRENOMS_M = (
    "Noé", "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Maël", "Lucas", "Adam",
    "Hugo", "Nathan", "Éthan", "Théo", "Timothée", "Mathéo", "Sacha", "Côme", "Loïc",
    "Jean-Baptiste", "Anatole", "Youssef", "Ibrahim", "Clément", "Valentin", "Évan", "Noah",
    "Aurélien", "Gaël", "Titouan", "Joël", "Rayan", "Amaury", "Benoît", "François",
)
PRENOMS_ADULTES_F = (
    "Isabelle", "Nathalie", "Sylvie", "Stéphanie", "Véronique", "Hélène", "Cécile", "Sophie",
    "Frédérique", "Agnès", "Béatrice", "Françoise", "Séverine", "Aurélie", "Émilie", "Anne-Sophie",
)
PRENOMS_ADULTES_M = (
    "Philippe", "Stéphane", "Frédéric", "Jérôme", "Laurent", "Benoît", "Éric", "Hervé",
    "Jean-François", "Olivier", "Thierry", "Grégoire", "François", "Sébastien", "Rémi", "Joël",
)
NOMS = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
    "Muller", "Henry", "Roussel", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont",
    "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Gérard", "Nguyen", "Boyer", "Denis",
    "Lemaire", "Duval", "Joly", "Roche", "Noël", "Meyer", "Meunier", "Pérez", "Marchand",
    "Dufour", "Blanchard", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Colin",
    "Lecœur", "Cœurdevey", "Bénard", "Hébert", "Lévêque", "Pelletier", "N'Diaye",
    "Saint-Martin", "Diallo", "Traoré", "Benali", "Da Silva", "Le Goff", "Le Gall", "Ferrière",
)

RESPONSABLES_ETAB = (
    ("RESP_PRINCIPAL", "Mme Principale", "Principale"),
    ("RESP_ADJOINT", "M. Principal adjoint", "Principal adjoint"),
)
# Who chairs the conseil de classe of each niveau (index in RESPONSABLES_ETAB).
_PRESIDENT = {"6E": 1, "5E": 1, "4E": 0, "3E": 0}

# Domaines du socle, each with the subject whose affinity shifts the positionnement.
DOMAINES_SOCLE = (("CPD_FRA", FRANCAIS), ("CPD_ETR", ANGLAIS), ("CPD_SCI", MATHS), ("CPD_ART", ARTS),
                  ("MET_APP", FRANCAIS), ("FRM_CIT", HG), ("SYS_NAT", SVT), ("REP_MND", HG))
COMPETENCES_NUMERIQUES = ("CN_INF_MEN", "CN_INF_GER", "CN_COM_INT", "CN_COM_COL", "CN_CRE_TEX",
                          "CN_CRE_MUL", "CN_PRO_SEC", "CN_ENV_RES")

# (code, libellé) of thématiques defined by the school in `epis-thematiques`.
EPIS_THEMATIQUES = (("PATRIMOINE_LOCAL", "Patrimoine et histoire du quartier"),)
# One EPI per cycle-4 niveau: (niveau, id, intitulé, thématique, disciplines, période).
EPIS = (
    ("5E", "EPI_5E", "Au cœur du corps humain", "EPI_SAN", (SVT, EPS), 3),
    ("4E", "EPI_4E", "Le collège, un patrimoine de notre quartier", "PATRIMOINE_LOCAL",
     (HG, ARTS, FRANCAIS), 3),
    ("3E", "EPI_3E", "Objets connectés et développement durable", "EPI_ECO", (TECHNO, PHYSIQUE), 2),
)
ACC_PERSO = ("AP_6E", "Méthodologie et maîtrise de la langue", (FRANCAIS, MATHS))

# Texts: "{periode}" → "ce trimestre" / "ce semestre"; "{m|f}" → masculine / feminine form.
APPRECIATIONS = {
    1: ("Des difficultés importantes persistent {periode}. Il faut reprendre les bases et solliciter de l'aide.",
        "Travail insuffisant et irrégulier : un sursaut est attendu.",
        "Résultats fragiles ; l'investissement en classe doit nettement progresser."),
    2: ("Des acquis encore fragiles. Un travail plus régulier permettra de progresser.",
        "Ensemble moyen {periode} ; attention à la concentration et au soin.",
        "Des efforts visibles, mais les leçons doivent être apprises avec plus de rigueur."),
    3: ("Bon travail {periode}, sérieux et participation active.",
        "Des résultats satisfaisants ; continuez ainsi.",
        "Élève impliqué{|e}, les acquis sont solides."),
    4: ("Excellent travail {periode} ! Compétences approfondies et très bonne participation.",
        "Très bons résultats, fruit d'un travail régulier et rigoureux. Bravo.",
        "Élève moteur dans la classe, à l'écoute et curieu{x|se}. Félicitations."),
}
APPRECIATION_DISPENSE = "Dispensé{|e} d'activité physique pour raison médicale {periode}."
CONSEILS = {
    1: ("Le conseil de classe s'inquiète des résultats. Il est indispensable de fournir un travail "
        "personnel régulier et de profiter de l'aide proposée (Devoirs faits, AP).",
        "Résultats très insuffisants. Un entretien avec la famille est souhaité pour définir des "
        "objectifs précis."),
    2: ("Résultats en demi-teinte. Des progrès sont possibles avec davantage de régularité et "
        "d'organisation.",
        "Des efforts à poursuivre : l'apprentissage des leçons doit devenir quotidien."),
    3: ("Bon bilan. Le conseil encourage l'élève à poursuivre ses efforts avec la même "
        "régularité.",
        "Encouragements du conseil de classe : le travail est sérieux et les résultats suivent."),
    4: ("Excellent bilan, félicitations du conseil de classe. Continuez ainsi !",
        "Félicitations : un travail remarquable, mené avec enthousiasme et de tout cœur."),
}
COMMENTAIRES_VIE_SCOLAIRE = (
    "Attention aux retards répétés en début de journée.",
    "Élève ponctuel{|le} et respectueu{x|se} du règlement.",
    "Comportement parfois bavard en étude ; des progrès sont attendus.",
    "Implication appréciée au foyer du collège.",
)
COMMENTAIRES_VIE_SCOLAIRE_COMMUNS = (
    "Classe agréable et dynamique ; quelques bavardages en fin de journée.",
    "Bonne ambiance de travail. Les délégués jouent pleinement leur rôle.",
    "Groupe sérieux mais encore trop passif à l'oral.",
    "Classe vivante ; la ponctualité au retour des récréations doit s'améliorer.",
)
PARCOURS_COMMUNS = {
    "PAR_CIT": "Élection des délégués et participation au conseil de la vie collégienne.",
    "PAR_ART": "Sortie au musée d'Orsay et atelier de pratique théâtrale.",
    "PAR_SAN": "Intervention de l'infirmière scolaire sur le sommeil et les écrans.",
    "PAR_AVN": "Découverte des métiers : forum des formations et rencontre avec des professionnels.",
}
PARCOURS_INDIVIDUELS = {
    "PAR_CIT": "Élu{|e} délégué{|e} de classe, très investi{|e} dans son rôle.",
    "PAR_ART": "Participation à la chorale du collège et au concert de fin d'année.",
    "PAR_SAN": "Formation aux gestes de premiers secours (PSC1) validée.",
    "PAR_AVN": "Stage d'observation en entreprise réalisé dans une pharmacie du quartier.",
}
COMPLEMENT_PPRE = "PPRE en français : lecture fluide et compréhension de consignes."
DEVOIRS_FAITS = "Participe à Devoirs faits le mardi et le jeudi ; travail régulier."
SYNTHESES = {
    1: "Les compétences du socle sont encore fragiles à la fin du cycle {cycle}. {Prenom} devra "
       "consolider la maîtrise de la langue et les méthodes de travail.",
    2: "{Prenom} a acquis une partie des compétences du cycle {cycle}. Les efforts doivent porter "
       "sur l'autonomie et la régularité du travail personnel.",
    3: "{Prenom} maîtrise de façon satisfaisante les compétences du cycle {cycle} et fait preuve "
       "d'une réelle implication dans la vie de la classe.",
    4: "{Prenom} maîtrise très bien l'ensemble des compétences du cycle {cycle}. Curiosité, "
       "autonomie et sens des responsabilités sont remarquables.",
}
APPRECIATION_NUMERIQUE = "Bonne maîtrise des outils de l'ENT et des règles de sécurité en ligne."
COMPETENCES_NUMERIQUES_COMMUN = ("Classe initiée au traitement de texte, à la recherche "
                                 "documentaire et à l'usage responsable d'Internet.")
COMMENTAIRE_EPI = "Production finale présentée à l'oral avec aisance."
COMMENTAIRE_AP = "Progrès nets dans l'organisation du cartable et de l'agenda."


# --------------------------------------------------------------------------------------------
# School model
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SchoolSpec:
    """What school to generate; the seed fixes every random choice."""
    uai: str = "0750001A"
    nom: str = "Collège Victor Hugo"
    commune: str = "Paris"
    millesime: str = "2025"
    divisions_par_niveau: int = 6
    eleves_par_division: int = 25
    seed: int = 42
    # LSU teacher types (`Enseignant/@type`) given in turn to the first teachers by id_sts, e.g.
    # ("dir", "autre"); the others are "epp". Both the référentiel and the file carry them.
    types_enseignants: tuple[str, ...] = ()
    # Brevet checks: the first `brevet_sans_matiere` élèves (class order) of each 3e division have
    # no acquis for `brevet_matiere_omise` (an obligatory subject) in the LSU file. 0: none.
    brevet_sans_matiere: int = 0
    brevet_matiere_omise: str = "043000"


@dataclass
class _Eleve:
    id_be: int
    nom: str
    prenom: str
    sexe: str
    division: str
    date_entree: str
    options: tuple[str, ...]
    aptitude: float                 # expected mark /20
    affinites: dict[str, float]     # per-subject offset
    dispositif: str | None          # PAP, PPRE, PAI, PPS or None

    @property
    def ref(self) -> str:
        return f"EL{self.id_be}"

    def matieres(self, niveau: str) -> list[str]:
        return [m.code for m in MATIERES
                if niveau in m.niveaux and (m.modalite == "S" or m.code in self.options)]


@dataclass
class _Enseignant:
    id_sts: int
    civilite: str
    nom: str
    prenom: str
    type: str = TYPE_ENSEIGNANT_PAR_DEFAUT

    @property
    def ref(self) -> str:
        return f"ENS{self.id_sts}"


@dataclass
class _Division:
    code: str
    niveau: str
    rang: int
    sans_notes: bool
    president: int                                   # index in RESPONSABLES_ETAB
    eleves: list[_Eleve] = field(default_factory=list)
    services: dict[str, int] = field(default_factory=dict)   # matière → id_sts
    profs_principaux: list[int] = field(default_factory=list)

    @property
    def cycle(self) -> int:
        return _CYCLE[self.niveau]


@dataclass
class _Ecole:
    spec: SchoolSpec
    annee: int
    divisions: list[_Division]
    enseignants: list[_Enseignant]

    @property
    def eleves(self) -> list[_Eleve]:
        return [e for d in self.divisions for e in d.eleves]


def _rng(spec: SchoolSpec, stream: str) -> random.Random:
    """An independent, reproducible random stream (str seeds are hashed with SHA-512)."""
    return random.Random(f"lsu-gen/{spec.seed}/{stream}")


def _cle_tri(texte: str) -> str:
    """Alphabetical key ignoring accents and case (Élodie sorts with E)."""
    return unicodedata.normalize("NFKD", texte).encode("ascii", "ignore").decode().casefold()


def _check_spec(spec: SchoolSpec) -> None:
    if len(spec.uai) != 8:
        raise ValueError(f"uai must be 8 characters: {spec.uai!r}")
    if not (len(spec.millesime) == 4 and spec.millesime.isdigit()):
        raise ValueError(f"millesime must be a 4-digit year: {spec.millesime!r}")
    if not 1 <= spec.divisions_par_niveau <= len(_LETTRES):
        raise ValueError("divisions_par_niveau must be between 1 and 26")
    if spec.eleves_par_division < 1:
        raise ValueError("eleves_par_division must be at least 1")
    inconnus = [t for t in spec.types_enseignants if t not in TYPES_ENSEIGNANT]
    if inconnus:
        raise ValueError(f"types_enseignants must be among {TYPES_ENSEIGNANT}: {inconnus}")
    if spec.brevet_sans_matiere < 0:
        raise ValueError("brevet_sans_matiere must be at least 0")
    omise = _MATIERE.get(spec.brevet_matiere_omise)
    if omise is None or omise.modalite != "S" or "3E" not in omise.niveaux:
        raise ValueError(f"brevet_matiere_omise must be a tronc commun subject of 3e: {spec.brevet_matiere_omise!r}")


@functools.lru_cache(maxsize=8)
def _ecole(spec: SchoolSpec) -> _Ecole:
    """Divisions, élèves, enseignants and services of the school (never mutated afterwards)."""
    _check_spec(spec)
    rng = _rng(spec, "ecole")
    annee = int(spec.millesime)
    n_div = spec.divisions_par_niveau
    divisions = [
        _Division(code=f"{_CHIFFRE[niv]}{_LETTRES[i]}", niveau=niv, rang=i,
                  sans_notes=niv in ("6E", "5E") and i == n_div - 1, president=_PRESIDENT[niv])
        for niv in NIVEAUX for i in range(n_div)
    ]
    total = len(divisions) * spec.eleves_par_division
    ids_be = rng.sample(range(1_000_000, 10_000_000), total)
    rentree = _premier_jour_ouvre(dt.date(annee, 9, 1))
    arrivees = _jours_ouvres(dt.date(annee, 9, 15), dt.date(annee, 10, 17))
    for d in divisions:
        vus: set[tuple[str, str]] = set()
        for _ in range(spec.eleves_par_division):
            sexe = rng.choice("FM")
            for _try in range(20):   # avoid exact homonyms in one division
                nom = rng.choice(NOMS)
                prenom = rng.choice(PRENOMS_F if sexe == "F" else PRENOMS_M)
                if (nom, prenom) not in vus:
                    break
            vus.add((nom, prenom))
            options: list[str] = []
            if d.niveau != "6E":
                options.append(ESPAGNOL if rng.random() < 0.65 else ALLEMAND)
                if rng.random() < 0.2:
                    options.append(LATIN)
            r = rng.random()
            dispositif = ("PAP" if r < 0.04 else "PPRE" if r < 0.06 else "PAI" if r < 0.07
                          else "PPS" if r < 0.08 else None)
            entree = rng.choice(arrivees) if rng.random() < 0.02 else rentree
            d.eleves.append(_Eleve(
                id_be=ids_be.pop(), nom=nom, prenom=prenom, sexe=sexe, division=d.code,
                date_entree=entree.isoformat(),
                options=tuple(m.code for m in MATIERES if m.code in options),
                aptitude=min(18.5, max(4.0, rng.gauss(12.0, 3.0))),
                affinites={m.code: rng.gauss(0.0, 1.8) for m in MATIERES},
                dispositif=dispositif,
            ))
        d.eleves.sort(key=lambda e: (_cle_tri(e.nom), _cle_tri(e.prenom), e.id_be))

    # Services: a teacher takes `charge` divisions, spread over the niveaux (6A, 5A, 4A, 3A, 6B…).
    enseignants: list[_Enseignant] = []
    ids_sts: set[int] = set()
    entrelacees = sorted(divisions, key=lambda d: (d.rang, NIVEAUX.index(d.niveau)))
    for m in MATIERES:
        concernees = [d for d in entrelacees if d.niveau in m.niveaux and (
            m.modalite == "S" or any(m.code in e.options for e in d.eleves))]
        for start in range(0, len(concernees), m.charge):
            ens = _nouvel_enseignant(rng, ids_sts)
            enseignants.append(ens)
            for d in concernees[start:start + m.charge]:
                d.services[m.code] = ens.id_sts

    # Professeurs principaux: 1 per division (2 in 3e), preferring teachers not yet PP.
    nb_pp: dict[int, int] = {}
    for d in divisions:
        candidats = sorted({d.services[c] for c in _MATIERES_PP if c in d.services})
        for _ in range(2 if d.niveau == "3E" else 1):
            libres = [c for c in candidats if c not in d.profs_principaux]
            moins = min(nb_pp.get(c, 0) for c in libres)
            choix = rng.choice([c for c in libres if nb_pp.get(c, 0) == moins])
            d.profs_principaux.append(choix)
            nb_pp[choix] = nb_pp.get(choix, 0) + 1
    for ens, genre in zip(sorted(enseignants, key=lambda t: t.id_sts), spec.types_enseignants):
        ens.type = genre
    return _Ecole(spec=spec, annee=annee, divisions=divisions, enseignants=enseignants)


def _nouvel_enseignant(rng: random.Random, pris: set[int]) -> _Enseignant:
    id_sts = rng.randrange(10_000, 1_000_000)
    while id_sts in pris:
        id_sts = rng.randrange(10_000, 1_000_000)
    pris.add(id_sts)
    civilite = "MME" if rng.random() < 0.65 else "M"
    prenom = rng.choice(PRENOMS_ADULTES_F if civilite == "MME" else PRENOMS_ADULTES_M)
    return _Enseignant(id_sts=id_sts, civilite=civilite, nom=rng.choice(NOMS), prenom=prenom)


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------

def _premier_jour_ouvre(jour: dt.date) -> dt.date:
    while jour.weekday() >= 5:
        jour += dt.timedelta(days=1)
    return jour


def _jours_ouvres(debut: dt.date, fin: dt.date) -> list[dt.date]:
    n = (fin - debut).days + 1
    jours = (debut + dt.timedelta(days=i) for i in range(n))
    return [j for j in jours if j.weekday() < 5]


def _periodes(annee: int, nb_periodes: int) -> list[tuple[dt.date, dt.date]]:
    """(début, fin) of each period of the school year starting in September `annee`."""
    a, b = annee, annee + 1
    if nb_periodes == 3:
        return [(dt.date(a, 9, 1), dt.date(a, 11, 30)), (dt.date(a, 12, 1), dt.date(b, 3, 13)),
                (dt.date(b, 3, 14), dt.date(b, 7, 4))]
    if nb_periodes == 2:
        return [(dt.date(a, 9, 1), dt.date(b, 1, 23)), (dt.date(b, 1, 24), dt.date(b, 7, 4))]
    raise ValueError("nb_periodes must be 2 (semestres) or 3 (trimestres)")


def _date_conseil(annee: int, nb_periodes: int, indice: int, division: _Division,
                  rang_global: int) -> dt.date:
    """Conseils de classe in the last weeks of each period; the 3e meet earlier in June."""
    a, b = annee, annee + 1
    if indice == nb_periodes:
        fenetre = ((dt.date(b, 6, 1), dt.date(b, 6, 5)) if division.niveau == "3E"
                   else (dt.date(b, 6, 8), dt.date(b, 6, 19)))
    elif nb_periodes == 3:
        fenetre = ((dt.date(a, 11, 17), dt.date(a, 11, 28)) if indice == 1
                   else (dt.date(b, 3, 2), dt.date(b, 3, 13)))
    else:
        fenetre = (dt.date(b, 1, 12), dt.date(b, 1, 23))
    jours = _jours_ouvres(*fenetre)
    return jours[rang_global % len(jours)]


def _dates_conseil(ecole: _Ecole, nb_periodes: int) -> dict[str, list[str]]:
    return {
        d.code: [_date_conseil(ecole.annee, nb_periodes, i, d, k).isoformat()
                 for i in range(1, nb_periodes + 1)]
        for k, d in enumerate(ecole.divisions)
    }


# --------------------------------------------------------------------------------------------
# Référentiel
# --------------------------------------------------------------------------------------------

def generate_referentiel(spec: SchoolSpec) -> dict:
    """The school's référentiel (JSON-ready), consistent with `generate_lsu_xml(spec)`."""
    ecole = _ecole(spec)
    conseils = _dates_conseil(ecole, 3)
    niveaux = {d.code: d.niveau for d in ecole.divisions}
    return {
        "etablissement": {"uai": spec.uai, "nom": spec.nom, "commune": spec.commune},
        "millesime": spec.millesime,
        "responsables_etab": [{"libelle": lib, "fonction": fonction}
                              for _id, lib, fonction in RESPONSABLES_ETAB],
        "calendrier": {"trimestres": {"nb_periodes": 3, "periodes": [
            {"indice": i, "debut": debut.isoformat(), "fin": fin.isoformat()}
            for i, (debut, fin) in enumerate(_periodes(ecole.annee, 3), start=1)
        ]}},
        "modalites_election": [{"code": c, "libelle": lib} for c, lib in MODALITES_ELECTION],
        "matieres": [{"code": m.code, "libelle": m.libelle, "modalite": m.modalite,
                      "niveaux": list(m.niveaux), "hors_programme": False} for m in MATIERES],
        "divisions": [{
            "code": d.code, "niveau": d.niveau, "cycle": d.cycle, "mode_import": "EDITEUR",
            "periodes": "trimestres", "nb_periodes": 3, "dates_conseil": conseils[d.code],
            "profs_principaux": [str(i) for i in d.profs_principaux],
            "president_conseil": RESPONSABLES_ETAB[d.president][1], "sans_notes": d.sans_notes,
        } for d in ecole.divisions],
        "eleves": [{
            "id_be": str(e.id_be), "nom": e.nom, "prenom": e.prenom, "sexe": e.sexe,
            "division": e.division, "date_entree": e.date_entree, "date_sortie": None,
            **({"mef": MEF_3E} if niveaux[e.division] == "3E" else {}),
            "options": list(e.options), "dispositifs": [],
        } for e in ecole.eleves],
        "programmes": [{"mef": MEF_3E, "matiere": m.code, "modalite_election": m.modalite}
                       for m in MATIERES if "3E" in m.niveaux],
        "enseignants": [{"id_sts": str(t.id_sts), "type": t.type, "civilite": t.civilite,
                         "nom": t.nom, "prenom": t.prenom}
                        for t in sorted(ecole.enseignants, key=lambda t: t.id_sts)],
        "services": [{"enseignant": str(ens), "matiere": code, "modalite": _MATIERE[code].modalite,
                      "division": d.code, "hors_programme": False}
                     for d in ecole.divisions for code, ens in d.services.items()],
    }


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------

_ACCORD = re.compile(r"\{([^{}|]*)\|([^{}|]*)\}")


def _texte(modele: str, sexe: str = "M", periode: str = "", **valeurs: str) -> str:
    """Fill a text template: gender agreement `{m|f}`, `{periode}` and named values."""
    texte = modele.replace("{periode}", periode)
    for cle, val in valeurs.items():
        texte = texte.replace("{" + cle + "}", val)
    return _ACCORD.sub(lambda m: m.group(2 if sexe == "F" else 1), texte)


def _niveau_acquis(note: float) -> int:
    """Positionnement 1–4 from a mark out of 20."""
    return 1 if note < 8 else 2 if note < 11.5 else 3 if note < 15 else 4


def _fmt_moyenne(note: float) -> str:
    return f"{note:.1f}".replace(".", ",")


def _discipline_id(code: str) -> str:
    return f"DI_{code}_{_MATIERE[code].modalite}"


def _ep_id(code: str, k: int) -> str:
    return f"EP_{code}_{k + 1}"


def _sub(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None,
         text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _Q + tag, attrib or {})
    if text is not None:
        el.text = text
    return el


def generate_lsu_xml(spec: SchoolSpec, periodes: Sequence[int] = (3,), nb_periodes: int = 3,
                     cycle: bool = True, schema_version: str = "7.0", editeur: str = "LSU-GEN",
                     application: str = "lsu-import-generateur") -> bytes:
    """A `lsun-bilans` document: a bilan périodique per élève and requested period, plus the
    bilans de cycle of the 6e and 3e when `cycle` and the last period is requested."""
    ecole = _ecole(spec)
    periodes = sorted(set(periodes))
    _periodes(ecole.annee, nb_periodes)   # validates nb_periodes
    if not periodes or any(not 1 <= p <= nb_periodes for p in periodes):
        raise ValueError(f"periodes must be non-empty indices in 1..{nb_periodes}: {periodes}")
    mot_periode = "ce trimestre" if nb_periodes == 3 else "ce semestre"

    root = etree.Element(_Q + "lsun-bilans", {"schemaVersion": schema_version}, nsmap={None: NS})
    entete = _sub(root, "entete")
    _sub(entete, "editeur", text=editeur)
    _sub(entete, "application", text=application)
    _sub(entete, "etablissement", text=spec.uai)
    donnees = _sub(root, "donnees")

    box = _sub(donnees, "responsables-etab")
    for rid, libelle, _fonction in RESPONSABLES_ETAB:
        _sub(box, "responsable-etab", {"id": rid, "libelle": libelle})
    box = _sub(donnees, "eleves")
    for e in ecole.eleves:
        _sub(box, "eleve", {"id": e.ref, "id-be": str(e.id_be), "nom": e.nom, "prenom": e.prenom,
                            "code-division": e.division})
    box = _sub(donnees, "periodes")
    for p in periodes:
        _sub(box, "periode", {"id": f"P{p}", "millesime": spec.millesime, "indice": str(p),
                              "nb-periodes": str(nb_periodes)})
    box = _sub(donnees, "disciplines")
    for m in MATIERES:
        _sub(box, "discipline", {"id": _discipline_id(m.code), "code": m.code,
                                 "modalite-election": m.modalite, "libelle": m.libelle})
    box = _sub(donnees, "enseignants")
    for t in sorted(ecole.enseignants, key=lambda t: t.id_sts):
        _sub(box, "enseignant", {"id": t.ref, "type": t.type, "id-sts": str(t.id_sts),
                                 "civilite": t.civilite, "nom": t.nom, "prenom": t.prenom})
    box = _sub(donnees, "elements-programme")
    for m in MATIERES:
        for k, libelle in enumerate(m.programme):
            _sub(box, "element-programme", {"id": _ep_id(m.code, k), "libelle": libelle})

    sixiemes = [d for d in ecole.divisions if d.niveau == "6E"]
    cycle4 = [d for d in ecole.divisions if d.niveau in _CYCLE_4]
    if nb_periodes in periodes and sixiemes:
        box = _sub(donnees, "competences-numeriques-communs")
        for d in sixiemes:
            _sub(box, "competences-numeriques-commun",
                 {"id": f"CNC_{d.code}", "code-structure": d.code, "type-structure": "D"},
                 COMPETENCES_NUMERIQUES_COMMUN)

    rng_communs = _rng(spec, f"communs/{nb_periodes}")
    box = _sub(donnees, "parcours-communs")
    for p in periodes:
        for d in ecole.divisions:
            pc = _sub(box, "parcours-commun", {"periode-ref": f"P{p}", "code-division": d.code})
            autres = ["PAR_ART", "PAR_SAN"] + (["PAR_AVN"] if d.niveau in ("4E", "3E") else [])
            for code in ("PAR_CIT", rng_communs.choice(autres)):
                _sub(pc, "parcours", {"code": code}, PARCOURS_COMMUNS[code])
    box = _sub(donnees, "vies-scolaires-communs")
    for p in periodes:
        for d in ecole.divisions:
            vsc = _sub(box, "vie-scolaire-commun", {"periode-ref": f"P{p}", "code-division": d.code})
            _sub(vsc, "commentaire", text=rng_communs.choice(COMMENTAIRES_VIE_SCOLAIRE_COMMUNS))

    epis = [epi for epi in EPIS if any(d.niveau == epi[0] for d in cycle4)]
    if epis:
        box = _sub(donnees, "epis-thematiques")
        for code, libelle in EPIS_THEMATIQUES:
            _sub(box, "epi-thematique", {"code": code, "libelle": libelle})
        box = _sub(donnees, "epis")
        for _niv, epi_id, intitule, thematique, codes, _p in epis:
            epi = _sub(box, "epi", {"id": epi_id, "intitule": intitule, "thematique": thematique,
                                    "discipline-refs": " ".join(_discipline_id(c) for c in codes)})
            _sub(epi, "description", text=f"Projet interdisciplinaire : {intitule.lower()}.")
        box = _sub(donnees, "epis-groupes")
        for niv, epi_id, intitule, _t, codes, _p in epis:
            for d in (d for d in cycle4 if d.niveau == niv):
                _groupe(box, "epi-groupe", f"EPIG_{d.code}", {"epi-ref": epi_id},
                        f"{intitule} ({d.code})", d, codes)
    if sixiemes:
        ap_id, ap_intitule, ap_codes = ACC_PERSO
        box = _sub(donnees, "acc-persos")
        ap = _sub(box, "acc-perso", {"id": ap_id, "intitule": ap_intitule,
                                     "discipline-refs": " ".join(map(_discipline_id, ap_codes))})
        _sub(ap, "description", text="Accompagnement personnalisé en 6e : méthodes, lecture, calcul.")
        box = _sub(donnees, "acc-persos-groupes")
        for d in sixiemes:
            _groupe(box, "acc-perso-groupe", f"APG_{d.code}", {"acc-perso-ref": ap_id},
                    f"AP {d.code} : {ap_intitule.lower()}", d, ap_codes)

    box = _sub(donnees, "bilans-periodiques")
    for p in periodes:
        _bilans_periodiques(box, ecole, p, nb_periodes, mot_periode)

    if cycle and nb_periodes in periodes:
        box = _sub(donnees, "bilans-cycle")
        _bilans_cycle(box, ecole, nb_periodes)
        if len(box) == 0:
            donnees.remove(box)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _groupe(box: etree._Element, tag: str, gid: str, ref: dict[str, str], intitule: str,
            d: _Division, codes: Sequence[str]) -> None:
    """An epi-groupe / acc-perso-groupe: the division's own teacher for each discipline."""
    groupe = _sub(box, tag, {"id": gid, **ref, "intitule": intitule})
    ed = _sub(groupe, "enseignants-disciplines")
    for c in codes:
        _sub(ed, "enseignant-discipline", {"enseignant-ref": f"ENS{d.services[c]}",
                                           "discipline-ref": _discipline_id(c)})


def _bilans_periodiques(box: etree._Element, ecole: _Ecole, indice: int, nb_periodes: int,
                        mot_periode: str) -> None:
    """All bilans of one period. Its random stream does not depend on the other periods."""
    rng = _rng(ecole.spec, f"periode/{nb_periodes}/{indice}")
    derniere = indice == nb_periodes
    periode_epi = {niv: min(p, nb_periodes) for niv, _i, _t, _th, _c, p in EPIS}
    for k, d in enumerate(ecole.divisions):
        # Marks of the whole division first: moyenne-structure is their real average.
        notes: dict[tuple[int, str], float | None] = {}
        for e in d.eleves:
            for code in e.matieres(d.niveau):
                dispense = code == EPS and (e.dispositif == "PAI" or rng.random() < 0.01)
                bruit = rng.gauss(0.0, 1.2) + 0.3 * (indice - 1)
                note = min(20.0, max(0.0, e.aptitude + e.affinites[code] + bruit))
                notes[(e.id_be, code)] = None if dispense else round(note, 1)
        structure: dict[str, str] = {}
        for code in d.services:
            vals = [v for (i, c), v in notes.items() if c == code and v is not None]
            if vals:
                structure[code] = _fmt_moyenne(sum(vals) / len(vals))
        programme = {code: sorted(rng.sample(range(len(_MATIERE[code].programme)), rng.choice((1, 2))))
                     for code in d.services}
        conseil = _date_conseil(ecole.annee, nb_periodes, indice, d, k).isoformat()
        responsable = RESPONSABLES_ETAB[d.president][0]
        pp = " ".join(f"ENS{i}" for i in d.profs_principaux)
        sans_matiere = {e.id_be for e in d.eleves[:ecole.spec.brevet_sans_matiere]} if d.niveau == "3E" else set()
        for e in d.eleves:
            bilan = _sub(box, "bilan-periodique", {
                "eleve-ref": e.ref, "periode-ref": f"P{indice}", "date-conseil-classe": conseil,
                "date-scolarite": e.date_entree, "responsable-etab-ref": responsable,
                "prof-princ-refs": pp})
            liste = _sub(bilan, "liste-acquis")
            niveaux = []
            for code in e.matieres(d.niveau):
                if e.id_be in sans_matiere and code == ecole.spec.brevet_matiere_omise:
                    continue
                note = notes[(e.id_be, code)]
                a = {"discipline-ref": _discipline_id(code),
                     "enseignant-refs": f"ENS{d.services[code]}",
                     "element-programme-refs": " ".join(_ep_id(code, i) for i in programme[code])}
                if note is None:
                    a["eleve-non-note"] = "true"
                    appreciation = _texte(APPRECIATION_DISPENSE, e.sexe, mot_periode)
                else:
                    niv = _niveau_acquis(note)
                    niveaux.append(niv)
                    if d.sans_notes:
                        a["positionnement"] = str(niv)
                    else:
                        a["moyenne-eleve"] = _fmt_moyenne(note)
                    appreciation = _texte(rng.choice(APPRECIATIONS[niv]), e.sexe, mot_periode)
                    if rng.random() < 0.35:
                        appreciation += " " + rng.choice(_MATIERE[code].remarques)
                if not d.sans_notes:
                    if code in structure:
                        a["moyenne-structure"] = structure[code]
                    else:
                        a["structure-non-notee"] = "true"
                _sub(_sub(liste, "acquis", a), "appreciation", text=appreciation)
            global_niv = round(sum(niveaux) / len(niveaux)) if niveaux else 2

            if d.niveau == "6E" and derniere:
                cn = _sub(bilan, "competences-numeriques", {"comp-num-commun-refs": f"CNC_{d.code}"})
                if rng.random() < 0.5:
                    _sub(cn, "appreciation-num", text=APPRECIATION_NUMERIQUE)
                for code in sorted(rng.sample(COMPETENCES_NUMERIQUES, 4),
                                   key=COMPETENCES_NUMERIQUES.index):
                    _sub(cn, "competence-num", {"code": code, "niveau": str(rng.randint(1, 3))})
            if periode_epi.get(d.niveau) == indice:
                epi_el = _sub(_sub(bilan, "epis-eleve"), "epi-eleve",
                              {"epi-groupe-ref": f"EPIG_{d.code}"})
                if rng.random() < 0.4:
                    _sub(epi_el, "commentaire", text=COMMENTAIRE_EPI)
            if d.niveau == "6E":
                ap_el = _sub(_sub(bilan, "acc-persos-eleve"), "acc-perso-eleve",
                             {"acc-perso-groupe-ref": f"APG_{d.code}"})
                if rng.random() < 0.3:
                    _sub(ap_el, "commentaire", text=COMMENTAIRE_AP)
            if rng.random() < 0.3:
                choix = ["PAR_CIT", "PAR_ART", "PAR_SAN"] + (
                    ["PAR_AVN"] if d.niveau in ("4E", "3E") else [])
                lp = _sub(bilan, "liste-parcours")
                code = rng.choice(choix)
                _sub(lp, "parcours", {"code": code}, _texte(PARCOURS_INDIVIDUELS[code], e.sexe))
            if e.dispositif in ("PAP", "PPRE", "PAI", "PPS"):
                ma = _sub(_sub(bilan, "modalites-accompagnement"), "modalite-accompagnement",
                          {"code": e.dispositif})
                if e.dispositif == "PPRE":
                    _sub(ma, "complement-ppre", text=COMPLEMENT_PPRE)
            _sub(bilan, "acquis-conseils",
                 text=_texte(rng.choice(CONSEILS[global_niv]), e.sexe, mot_periode))
            if global_niv <= 2 and rng.random() < 0.4:
                _sub(bilan, "devoirs-faits", text=DEVOIRS_FAITS)
            absences = rng.choice((0, 0, 0, 1, 2, 2, 3, 4, 6, 9))
            vs = _sub(bilan, "vie-scolaire", {
                "nb-retards": str(rng.choice((0, 0, 0, 0, 1, 1, 2, 3, 5))),
                "nb-abs-justifiees": str(absences),
                "nb-abs-injustifiees": str(rng.choice((0,) * 8 + (1, 2))),
                "nb-heures-manquees": str(absences * 3 + rng.randint(0, 2)),
            })
            if rng.random() < 0.25:
                _sub(vs, "commentaire", text=_texte(rng.choice(COMMENTAIRES_VIE_SCOLAIRE), e.sexe))


def _bilans_cycle(box: etree._Element, ecole: _Ecole, nb_periodes: int) -> None:
    """Bilans de fin de cycle: cycle 3 for the 6e, cycle 4 for the 3e."""
    rng = _rng(ecole.spec, "cycle")
    for k, d in enumerate(ecole.divisions):
        if d.niveau not in ("6E", "3E"):
            continue
        attrs = {
            "cycle": str(d.cycle), "millesime": ecole.spec.millesime,
            "date-creation": _date_conseil(ecole.annee, nb_periodes, nb_periodes, d, k).isoformat(),
            "responsable-etab-ref": RESPONSABLES_ETAB[d.president][0],
            "prof-princ-refs": " ".join(f"ENS{i}" for i in d.profs_principaux),
        }
        for e in d.eleves:
            bilan = _sub(box, "bilan-cycle", {"eleve-ref": e.ref, **attrs})
            socle = _sub(bilan, "socle")
            niveaux = []
            for dom, matiere in DOMAINES_SOCLE:
                dispense = (dom == "CPD_ETR" and e.dispositif == "PPS") or rng.random() < 0.003
                note = e.aptitude + 0.5 * e.affinites[matiere] + rng.gauss(0.0, 1.2)
                niv = 0 if dispense else _niveau_acquis(note)
                if niv:
                    niveaux.append(niv)
                _sub(socle, "domaine", {"code": dom, "positionnement": str(niv)})
            global_niv = round(sum(niveaux) / len(niveaux)) if niveaux else 2
            _sub(bilan, "synthese", text=_texte(SYNTHESES[global_niv], e.sexe,
                                                 Prenom=e.prenom, cycle=str(d.cycle)))
            if d.niveau == "3E" and LATIN in e.options:
                _sub(bilan, "enseignement-complement",
                     {"code": "LCA", "positionnement": "2" if e.aptitude >= 13 else "1"})


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    """Write `referentiel.json` and `import.xml` into --out."""
    parser = argparse.ArgumentParser(prog="python -m lsu_tools.generator",
                                     description="Génère un établissement LSU fictif.")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--divisions-par-niveau", type=int, default=SchoolSpec.divisions_par_niveau)
    parser.add_argument("--eleves-par-division", type=int, default=SchoolSpec.eleves_par_division)
    parser.add_argument("--seed", type=int, default=SchoolSpec.seed)
    parser.add_argument("--periodes", default="3", help="comma-separated indices, e.g. 1,2,3")
    parser.add_argument("--types-enseignants", default="",
                        help="types of the first teachers by id_sts, comma-separated, e.g. dir,autre")
    args = parser.parse_args(argv)
    spec = SchoolSpec(divisions_par_niveau=args.divisions_par_niveau,
                      eleves_par_division=args.eleves_par_division, seed=args.seed,
                      types_enseignants=tuple(t.strip() for t in args.types_enseignants.split(",") if t.strip()))
    try:
        periodes = [int(p) for p in args.periodes.split(",") if p.strip()]
        referentiel = generate_referentiel(spec)
        xml = generate_lsu_xml(spec, periodes=periodes)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "referentiel.json").write_text(
        json.dumps(referentiel, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "import.xml").write_bytes(xml)
    print(f"{args.out / 'referentiel.json'}\n{args.out / 'import.xml'} ({len(xml)} octets)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
