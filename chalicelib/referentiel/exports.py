"""Import of the SIECLE and STS Web exports into the school's référentiel.

- `lire_export(data, uai)` — one file: the guards of LSU files (reused from
  `chalicelib.pipeline.split.file_checks`: size cap, DOCTYPE/entities refused, no DTD, no network, encoding
  declared but not used), the kind of export from its root (`BEE_ELEVES`, `BEE_NOMENCLATURES`,
  `STS_EDT`; the timetable file `EDT_STS` is refused with a message that names the right file),
  then its school (UAI) and school year, then its content (`siecle.py`, `sts.py`).
- `import_exports(current_referentiel, files, uai)` — several files at once: read them all,
  check that each kind comes once and that the years agree with the référentiel, merge
  (`fusion.py`), validate the result with `validate_referentiel`. Returns the new référentiel and
  the report; raises `ExportError` (codes from the catalogue, French messages) otherwise, having
  changed nothing.

ISO-8859-1 files (SIECLE's usual encoding, declared in their XML declaration) and UTF-8 files are
both read. Pure functions: bytes in, dicts out."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from chalicelib.domain.catalogue import message
from chalicelib.referentiel import validate_referentiel
from chalicelib.referentiel._lecture import Erreurs, ExportError, attribut, texte
from chalicelib.referentiel.fusion import MODE_NOUVELLES_DIVISIONS, Apports, fusionner
from chalicelib.referentiel.siecle import lire_base_eleves, lire_nomenclatures
from chalicelib.referentiel.sts import lire_sts
from chalicelib.pipeline.split.file_checks import check_size, parse_guarded

__all__ = [
    "BEE_ELEVES", "BEE_NOMENCLATURES", "EDT_STS", "STS_EDT", "TYPES_SIECLE", "TYPES_STS", "LIBELLES",
    "MAX_EXPORT_BYTES", "Export", "ExportError", "import_exports", "lire_export", "referentiel_vide",
]

BEE_ELEVES, BEE_NOMENCLATURES, STS_EDT, EDT_STS = "BEE_ELEVES", "BEE_NOMENCLATURES", "STS_EDT", "EDT_STS"
TYPES_SIECLE = (BEE_ELEVES, BEE_NOMENCLATURES)
TYPES_STS = (STS_EDT,)
LIBELLES = {
    BEE_ELEVES: "export SIECLE « Base élèves »",
    BEE_NOMENCLATURES: "export SIECLE des nomenclatures",
    STS_EDT: "export STS Web (sts_emp)",
}
MAX_EXPORT_BYTES = 50 * 1024 * 1024
# The file-level messages come from the LSU checks; their advice is about LSU files, this one
# about exports.
CONSEIL_FICHIER = "Exporter à nouveau le fichier depuis SIECLE ou STS Web, puis l'importer sans le modifier."

_LECTEURS: dict[str, Callable[[etree._Element, Erreurs], Any]] = {
    BEE_ELEVES: lire_base_eleves,
    BEE_NOMENCLATURES: lire_nomenclatures,
    STS_EDT: lire_sts,
}
_ANNEE = re.compile(r"^(\d{4})")


@dataclass(frozen=True)
class Export:
    """One export file, read: its kind (root element), its name, school, school year, content."""
    type: str
    nom: str
    uai: str
    annee: str | None
    contenu: Any

    def en_dict(self) -> dict:
        return {"nom": self.nom, "type": self.type, "libelle": LIBELLES[self.type], "uai": self.uai,
                "annee": self.annee}


def _annee_scolaire(millesime: str) -> str:
    return f"{millesime}-{int(millesime) + 1}"


def _entete(racine: etree._Element) -> tuple[str | None, str | None, str | None]:
    """(UAI, millésime, raw year) from `PARAMETRES`: `UAJ` as text (SIECLE) or `UAJ@CODE` (STS),
    `ANNEE_SCOLAIRE` as text (SIECLE) or `ANNEE_SCOLAIRE@ANNEE` (STS)."""
    parametres = racine.find("PARAMETRES")
    if parametres is None:
        return None, None, None
    uaj = parametres.find("UAJ")
    uai = attribut(uaj, "CODE") or texte(uaj)
    annee = parametres.find("ANNEE_SCOLAIRE")
    brute = attribut(annee, "ANNEE") or texte(annee)
    m = _ANNEE.match(brute or "")
    return (uai.upper() if uai else None), (m.group(1) if m else None), brute


def lire_export(data: bytes, uai: str, *, nom: str | None = None, types: Iterable[str] | None = None,
                max_bytes: int = MAX_EXPORT_BYTES) -> Export:
    """Read one SIECLE or STS Web export of school `uai`; `types` restricts the kinds accepted.
    Raises `ExportError` (each message carries `fichier`)."""
    nom = nom or "fichier"

    def refus(msg: dict) -> ExportError:
        return ExportError([{**msg, "conseil": CONSEIL_FICHIER, "fichier": nom}])

    err = check_size(len(data), max_bytes)
    if err:
        raise refus(err)
    racine, err = parse_guarded(data)
    if err:
        raise refus(err)

    qname = etree.QName(racine)
    genre = qname.localname if qname.namespace is None else racine.tag
    if genre == EDT_STS:
        raise ExportError([message("EXPORT_FICHIER_EDT", fichier=nom)])
    if genre not in _LECTEURS:
        raise ExportError([message("EXPORT_FICHIER_INCONNU", f"Élément racine trouvé : « {qname.localname} »"
                                   + (f" de l'espace de noms « {qname.namespace} »." if qname.namespace else "."),
                                   fichier=nom)])
    attendus = tuple(types) if types is not None else tuple(_LECTEURS)
    if genre not in attendus:
        raise ExportError([message("EXPORT_TYPE_INATTENDU", f"Fichier : {LIBELLES[genre]} ; attendu : "
                                   f"{' ou '.join(LIBELLES[t] for t in attendus)}.", fichier=nom)])

    uai_fichier, annee, brute = _entete(racine)
    if uai_fichier != uai.upper():
        trouve = uai_fichier or "absent (PARAMETRES/UAJ)"
        raise ExportError([message("EXPORT_UAI_MISMATCH", f"UAI du fichier : {trouve} ; UAI de "
                                   f"l'établissement : {uai}.", fichier=nom)])
    if brute and annee is None:
        raise ExportError([message("EXPORT_DONNEE_INVALIDE", f"Année scolaire « {brute} » illisible "
                                   f"(PARAMETRES/ANNEE_SCOLAIRE).", fichier=nom)])
    erreurs = Erreurs(fichier=nom)
    contenu = _LECTEURS[genre](racine, erreurs)
    erreurs.lever()
    return Export(genre, nom, uai_fichier, annee, contenu)


def referentiel_vide(uai: str, millesime: str, nom: str | None = None) -> dict:
    """A référentiel with no data yet for a school and a year, to merge the first exports into.
    Its calendar is a default one (three trimestres covering the whole school year: no élève is
    « out of period » until the school sets its real dates); its name a placeholder until the STS
    Web export brings the real one."""
    a = int(millesime)
    fin_fevrier = dt.date(a + 1, 3, 1) - dt.timedelta(days=1)
    return {
        "etablissement": {"uai": uai, "nom": nom or f"Établissement {uai}"},
        "millesime": millesime,
        "calendrier": {"trimestres": {"nb_periodes": 3, "periodes": [
            {"indice": 1, "debut": f"{a}-09-01", "fin": f"{a}-11-30"},
            {"indice": 2, "debut": f"{a}-12-01", "fin": fin_fevrier.isoformat()},
            {"indice": 3, "debut": f"{a + 1}-03-01", "fin": f"{a + 1}-08-31"},
        ]}},
        "matieres": [], "divisions": [], "eleves": [], "enseignants": [], "services": [],
    }


_CHEMIN = re.compile(r"^(eleves|enseignants|divisions|services|matieres)\[(\d+)\]")


def _designer(ref: Mapping, chemin: str) -> str:
    """« élève 1234567 » rather than « eleves[3] » in the messages of an invalid result."""
    m = _CHEMIN.match(chemin)
    if not m:
        return chemin or "référentiel"
    liste, i = m.group(1), int(m.group(2))
    try:
        el = ref[liste][i]
    except (KeyError, IndexError, TypeError):
        return chemin
    if liste == "eleves":
        return f"élève {el.get('id_be')} ({el.get('nom')} {el.get('prenom')})"
    if liste == "enseignants":
        return f"enseignant {el.get('id_sts')} ({el.get('nom')})"
    if liste == "services":
        return f"service {el.get('enseignant')} / {el.get('matiere')} / {el.get('division')}"
    return f"{'division' if liste == 'divisions' else 'matière'} « {el.get('code')} »"


def import_exports(current_referentiel: Mapping | None, files: Sequence[bytes], uai: str, *,
                   noms: Sequence[str] | None = None, types: Iterable[str] | None = None,
                   millesime: str | None = None, max_bytes: int = MAX_EXPORT_BYTES,
                   mode_nouvelles_divisions: str = MODE_NOUVELLES_DIVISIONS) -> tuple[dict, dict]:
    """Merge the exports `files` (bytes; `noms` their file names, for messages) of school `uai`
    into `current_referentiel` (None: the school has none yet — a new one is made for the year
    of the files, or `millesime`). Returns `(referentiel, rapport)`: the new référentiel, valid
    under `validate_referentiel`, and the report (files read, then per category the identifiers
    added, changed with their fields, removed). Raises `ExportError` with every problem found;
    nothing is merged then."""
    if not files:
        raise ExportError([message("BAD_REQUEST", "Aucun fichier d'export fourni.")])
    noms = [*(noms or [])][: len(files)]
    noms += [f"fichier {i + 1}" for i in range(len(noms), len(files))]
    if current_referentiel is not None:
        uai_ref = (current_referentiel.get("etablissement") or {}).get("uai")
        if uai_ref != uai:
            raise ExportError([message("EXPORT_UAI_MISMATCH", f"UAI du référentiel : {uai_ref} ; UAI de "
                                       f"l'établissement : {uai}.")])
    types = tuple(types) if types is not None else None

    exports: list[Export] = []
    erreurs: list[dict] = []
    for data, nom in zip(files, noms):
        try:
            exports.append(lire_export(data, uai, nom=nom, types=types, max_bytes=max_bytes))
        except ExportError as exc:
            erreurs.extend(exc.erreurs)
    if erreurs:
        raise ExportError(erreurs)

    par_type: dict[str, Export] = {}
    for e in exports:
        if e.type in par_type:
            erreurs.append(message("EXPORT_EN_DOUBLE", f"{LIBELLES[e.type][0].upper()}{LIBELLES[e.type][1:]} : "
                                   f"{par_type[e.type].nom} et {e.nom}.", fichier=e.nom))
        else:
            par_type[e.type] = e

    annees = sorted({e.annee for e in exports if e.annee})
    if current_referentiel is not None:
        cible = current_referentiel.get("millesime")
    elif millesime:
        cible = millesime
    elif len(annees) == 1:
        cible = annees[0]
    else:
        cible = None
        if annees:
            erreurs.append(message("EXPORT_ANNEE_MISMATCH", "Les exports portent sur des années différentes : "
                                   + ", ".join(_annee_scolaire(a) for a in annees) + "."))
        else:
            erreurs.append(message("EXPORT_DONNEE_INVALIDE", "Aucun export n'indique l'année scolaire "
                                   "(PARAMETRES/ANNEE_SCOLAIRE) : indiquer le millésime."))
    if cible and not (re.fullmatch(r"\d{4}", str(cible)) and 2000 <= int(cible) <= 2100):
        erreurs.append(message("EXPORT_DONNEE_INVALIDE", f"Millésime « {cible} » : l'année de rentrée sur 4 "
                               "chiffres est attendue (ex. « 2025 » pour 2025-2026)."))
        cible = None
    if cible:
        for e in exports:
            if e.annee and e.annee != cible:
                erreurs.append(message("EXPORT_ANNEE_MISMATCH", f"Année du fichier : {_annee_scolaire(e.annee)} ; "
                                       f"année du référentiel : {_annee_scolaire(cible)}.", fichier=e.nom))
    if erreurs:
        raise ExportError(erreurs)

    base = current_referentiel if current_referentiel is not None else referentiel_vide(uai, cible)
    apports = Apports(
        eleves=par_type[BEE_ELEVES].contenu if BEE_ELEVES in par_type else None,
        nomenclatures=par_type[BEE_NOMENCLATURES].contenu if BEE_NOMENCLATURES in par_type else None,
        sts=par_type[STS_EDT].contenu if STS_EDT in par_type else None,
    )
    referentiel, rapport = fusionner(base, apports, mode_nouvelles_divisions=mode_nouvelles_divisions)
    problemes = validate_referentiel(referentiel)
    if problemes:
        raise ExportError([message("EXPORT_REFERENTIEL_INVALIDE",
                                   f"{_designer(referentiel, p['chemin'])} : {p['message']}", chemin=p["chemin"])
                           for p in problemes])
    return referentiel, {"fichiers": [e.en_dict() for e in exports], "cree": current_referentiel is None,
                         **rapport}
