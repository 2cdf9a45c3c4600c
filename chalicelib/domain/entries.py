"""What LSU accepts as an entry made to complete a bilan (`merge.apply_edit`): one validator per
part, with the shape and the limits the official XSD (import-complet-strict.xsd) gives the same
data in an import file. Each returns the normalised value or raises
`EditRefused("SAISIE_INVALIDE", <French detail naming the field>)`. Pure.

Rules taken from the XSD (lengths count characters, i.e. code points, never bytes):
- vie scolaire (`VieScolaire`): `nb_retards`, `nb_abs_justifiees`, `nb_abs_injustifiees` required,
  `nb_heures_manquees` optional, integers 0–999 (`ValeurVieScolaire`); `commentaire` optional,
  `Chaine600`;
- appréciation générale (`acquis-conseils`): `Chaine1000`;
- parcours (`liste-parcours`): a list of `{code, texte}`, `code` one of `CodeParcours` (each once,
  `parcoursConstraint`), `texte` a `Chaine600`;
- EPI and AP (`epis-eleve`, `acc-persos-eleve`): a list of `{intitule, commentaire_eleve}`,
  `intitule` a `Chaine150` (the groupe's), each once (`epiGroupeEleveConstraint`),
  `commentaire_eleve` optional, `Chaine600`;
- éléments de programme (`element-programme-refs` → `ElementProgramme@libelle`): a non-empty list
  of `Chaine300` libellés, each once (`elementProgrammeLibelleConstraint`).
A `ChaineN` is non-blank (at least one character other than white space) and at most N
characters; every text holds only characters XML 1.0 can carry (`xs:string`). Unknown keys are
refused; an optional key given as null is left out of the normalised value."""
from __future__ import annotations

import re

PARCOURS_CODES = ("PAR_AVN", "PAR_CIT", "PAR_ART", "PAR_SAN")
VIE_SCOLAIRE_COUNTS = ("nb_retards", "nb_abs_justifiees", "nb_abs_injustifiees")
VIE_SCOLAIRE_OPTIONAL = ("nb_heures_manquees",)
MAX_VIE_SCOLAIRE = 999
MAX_COMMENTAIRE = 600
MAX_APPRECIATION_GENERALE = 1000
MAX_PARCOURS = 600
MAX_INTITULE = 150
MAX_ELEMENT_PROGRAMME = 300

# Characters outside XML 1.0's Char production (controls other than tab, LF, CR; lone surrogates;
# U+FFFE and U+FFFF): no XSD string holds them.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_LABELS = {"parcours": "parcours", "epis": "EPI", "acc_persos": "accompagnement personnalisé"}


def _refuse(detail: str):
    # Imported here: merge imports this module (EditRefused lives with the edits).
    from chalicelib.domain.merge import EditRefused
    raise EditRefused("SAISIE_INVALIDE", detail)


def _shown(value) -> str:
    """A value the user sent, as a message quotes it: short (it is echoed back)."""
    shown = value if isinstance(value, str) else repr(value)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _kind(value) -> str:
    """The JSON type of a value, as a French message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, (int, float)):
        return "un nombre"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "un objet"
    return "une valeur d'un autre type"


def text(value, field: str, maximum: int) -> str:
    """A `ChaineN` of the XSD (N = `maximum`): a non-blank text of at most N characters."""
    if not isinstance(value, str):
        _refuse(f"« {field} » : un texte est attendu, pas {_kind(value)}.")
    if not value.strip():
        _refuse(f"« {field} » : le texte est vide.")
    if len(value) > maximum:
        _refuse(f"« {field} » : {len(value)} caractères, {maximum} au plus.")
    bad = _NOT_XML_CHAR.search(value)
    if bad:
        _refuse(f"« {field} » : caractère interdit (U+{ord(bad.group()):04X}) en position {bad.start() + 1}.")
    return value


def _count(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse(f"« {field} » : un nombre entier est attendu, pas {_kind(value)}.")
    if not 0 <= value <= MAX_VIE_SCOLAIRE:
        _refuse(f"« {field} » : le nombre doit être compris entre 0 et {MAX_VIE_SCOLAIRE}.")
    return value


def _object(value, field: str, required: tuple, optional: tuple) -> dict:
    if not isinstance(value, dict):
        _refuse(f"« {field} » : un objet est attendu, pas {_kind(value)}.")
    unknown = sorted(_shown(k) for k in value if k not in required and k not in optional)
    if unknown:
        _refuse(f"« {field} » : champ(s) inconnu(s) {', '.join(f'« {k} »' for k in unknown[:5])} "
                f"(champs acceptés : {', '.join(required + optional)}).")
    missing = [k for k in required if value.get(k) is None]
    if missing:
        _refuse(f"« {field} » : champ(s) obligatoire(s) absent(s) {', '.join(f'« {k} »' for k in missing)}.")
    return value


def _list(value, field: str) -> list:
    if not isinstance(value, list):
        _refuse(f"« {field} » : une liste est attendue, pas {_kind(value)}.")
    if not value:
        _refuse(f"« {field} » : la liste est vide (pour effacer la saisie, envoyer null).")
    return value


def vie_scolaire(value) -> dict:
    """The vie scolaire, as a split bilan carries it (counts, then an optional comment)."""
    v = _object(value, "vie_scolaire", VIE_SCOLAIRE_COUNTS, VIE_SCOLAIRE_OPTIONAL + ("commentaire",))
    out = {k: _count(v[k], f"vie_scolaire.{k}") for k in VIE_SCOLAIRE_COUNTS}
    for k in VIE_SCOLAIRE_OPTIONAL:
        if v.get(k) is not None:
            out[k] = _count(v[k], f"vie_scolaire.{k}")
    if v.get("commentaire") is not None:
        out["commentaire"] = text(v["commentaire"], "vie_scolaire.commentaire", MAX_COMMENTAIRE)
    return out


def acquis_conseils(value) -> str:
    """The appréciation générale (`Chaine1000`)."""
    return text(value, "acquis_conseils", MAX_APPRECIATION_GENERALE)


def parcours(value) -> list[dict]:
    """The parcours éducatifs: each of the four codes once, with its text."""
    out, seen = [], set()
    for n, item in enumerate(_list(value, "parcours"), 1):
        field = f"parcours[{n}]"
        p = _object(item, field, ("code", "texte"), ())
        if not isinstance(p["code"], str) or p["code"] not in PARCOURS_CODES:
            _refuse(f"« {field}.code » : « {_shown(p['code'])} » n'est pas un code de parcours "
                    f"({', '.join(PARCOURS_CODES)}).")
        if p["code"] in seen:
            _refuse(f"« {field}.code » : le parcours {p['code']} est saisi deux fois.")
        seen.add(p["code"])
        out.append({"code": p["code"], "texte": text(p["texte"], f"{field}.texte", MAX_PARCOURS)})
    return out


def _groups(value, part: str) -> list[dict]:
    """EPI or AP entries: each intitulé once, with an optional comment for the élève."""
    out, seen = [], set()
    for n, item in enumerate(_list(value, part), 1):
        field = f"{part}[{n}]"
        g = _object(item, field, ("intitule",), ("commentaire_eleve",))
        intitule = text(g["intitule"], f"{field}.intitule", MAX_INTITULE)
        if intitule in seen:
            _refuse(f"« {field}.intitule » : {_LABELS[part]} « {_shown(intitule)} » saisi deux fois.")
        seen.add(intitule)
        entry = {"intitule": intitule}
        if g.get("commentaire_eleve") is not None:
            entry["commentaire_eleve"] = text(g["commentaire_eleve"], f"{field}.commentaire_eleve", MAX_COMMENTAIRE)
        out.append(entry)
    return out


def epis(value) -> list[dict]:
    return _groups(value, "epis")


def acc_persos(value) -> list[dict]:
    return _groups(value, "acc_persos")


def elements_programme(value) -> list[str]:
    """The éléments de programme of one discipline: libellés, each once."""
    out = []
    for n, item in enumerate(_list(value, "elements_programme"), 1):
        libelle = text(item, f"elements_programme[{n}]", MAX_ELEMENT_PROGRAMME)
        if libelle in out:
            _refuse(f"« elements_programme[{n}] » : « {_shown(libelle)} » est saisi deux fois.")
        out.append(libelle)
    return out


VALIDATORS = {"acquis_conseils": acquis_conseils, "vie_scolaire": vie_scolaire, "parcours": parcours,
              "epis": epis, "acc_persos": acc_persos, "elements_programme": elements_programme}


def validate(part: str, value):
    """The normalised entry of `part` (one of merge.EDITABLE), or SAISIE_INVALIDE."""
    return VALIDATORS[part](value)
