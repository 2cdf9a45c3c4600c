"""Merge what the SIECLE and STS Web exports bring into a référentiel, and say what changed.

`fusionner(referentiel, apports)` is pure: it works on a copy and returns the new référentiel and
a report; on any inconsistency it raises `ExportError` and returns nothing. Which export feeds which
field is documented in docs/referentiel.md (« Import des exports SIECLE et STS Web »). In short:

- SIECLE « Base élèves » owns `eleves` (added, changed, removed when absent from the export);
- STS Web owns `enseignants`, `services` and the `profs_principaux` of divisions, and names the
  school (`etablissement.nom`, `commune`);
- both bring divisions (code, niveau from the MEF); a division's settings — its import mode and
  its evaluation system first of all, its periods, conseils, président — are never touched; a new
  division gets `mode_nouvelles_divisions` (SAISIE unless told otherwise) and no evaluation system
  (`systeme_evaluation` absent: null, to be set in LSU); a division that no export lists and
  that no élève or service uses any more is removed;
- the nomenclatures (SIECLE, and the STS copy) add matières and modalités d'élection, and update
  their labels; they never remove one;
- SIECLE « Base élèves » gives each élève their MEF (`mef`), and SIECLE's nomenclatures own the
  `programmes` (matières of each MEF with their modalité d'élection): replaced as a whole by those
  of the export when it lists any, kept otherwise (a truncated export empties nothing)."""
from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chalicelib.referentiel import TYPE_ENSEIGNANT_PAR_DEFAUT
from chalicelib.referentiel._lecture import Erreurs, Mef
from chalicelib.referentiel.siecle import BaseElevesSiecle, EleveSiecle, NomenclaturesSiecle
from chalicelib.referentiel.sts import ENSEIGNANT, StsEmp
from chalicelib.domain.vocabulary import Mode

SAISIE = Mode.SAISIE
MODES = tuple(Mode)
MODE_NOUVELLES_DIVISIONS = SAISIE

# The first three digits of a collège MEF code name its niveau (100 6e … 103 3e; 164 … 167 SEGPA).
_NIVEAUX_MEF = {"100": "6E", "101": "5E", "102": "4E", "103": "3E",
                "164": "6E", "165": "5E", "166": "4E", "167": "3E"}
_NIVEAU_LIBELLE = re.compile(r"^([3-6])\s*(?:E|EME|ÈME)\b", re.IGNORECASE)
# schema.json's MEF code and BCN matière code: anything else from an export is left out.
_CODE_MEF = re.compile(r"[0-9A-Z]{11}")
_CODE_MATIERE = re.compile(r"[0-9]{6}")

CATEGORIES = ("eleves", "enseignants", "divisions", "services", "matieres", "modalites_election")


@dataclass(frozen=True)
class Apports:
    """What the import files bring, by kind (None: that export is not part of this import)."""
    eleves: BaseElevesSiecle | None = None
    nomenclatures: NomenclaturesSiecle | None = None
    sts: StsEmp | None = None


def niveau_du_mef(code: str | None, mefs: Mapping[str, Mef]) -> str | None:
    """« 6E » … « 3E » for a collège MEF: from its code, else from the MEF it is attached to, else
    from its formation label (« 3EME », « 6EME SEGPA »); None if it is no collège MEF."""
    if not code:
        return None
    if code[:3] in _NIVEAUX_MEF:
        return _NIVEAUX_MEF[code[:3]]
    mef = mefs.get(code)
    if mef is None:
        return None
    if mef.rattachement and mef.rattachement[:3] in _NIVEAUX_MEF:
        return _NIVEAUX_MEF[mef.rattachement[:3]]
    for libelle in (mef.formation, mef.libelle_long, mef.libelle_edition):
        m = _NIVEAU_LIBELLE.match(libelle or "")
        if m:
            return f"{m.group(1)}E"
    return None


def rapport_vide() -> dict:
    rapport: dict = {c: {"ajoutes": [], "modifies": [], "supprimes": []} for c in CATEGORIES}
    rapport["eleves"]["ignores"] = []
    rapport["etablissement"] = {"modifies": []}
    return rapport


def _resume(rapport: dict) -> dict:
    return {c: {k: len(v) for k, v in rapport[c].items() if isinstance(v, list)} for c in CATEGORIES}


class _Fusion:
    def __init__(self, referentiel: Mapping, apports: Apports, mode: str):
        self.ref = copy.deepcopy(dict(referentiel))
        for liste in ("matieres", "divisions", "eleves", "enseignants", "services"):
            self.ref.setdefault(liste, [])
        self.apports, self.mode = apports, mode
        self.rapport = rapport_vide()
        self.erreurs = Erreurs()
        self.mefs: dict[str, Mef] = {}
        for source in (apports.nomenclatures, apports.sts):
            for mef in (source.mefs if source else ()):
                self.mefs.setdefault(mef.code, mef)
        self.divisions_modifiees: dict[str, list[str]] = {}

    # --- helpers ------------------------------------------------------------------------------

    def _modifie(self, categorie: str, cle: str, ident: str, champs: list[str]) -> None:
        if champs:
            self.rapport[categorie]["modifies"].append({cle: ident, "champs": champs})

    def _division_modifiee(self, code: str, champ: str) -> None:
        champs = self.divisions_modifiees.setdefault(code, [])
        if champ not in champs:
            champs.append(champ)

    # --- nomenclatures and school -------------------------------------------------------------

    def matieres(self) -> None:
        apport = {}
        for source in (self.apports.nomenclatures, self.apports.sts):
            for m in (source.matieres if source else ()):
                apport.setdefault(m.code, m)
        existantes = {m["code"]: m for m in self.ref["matieres"]}
        for code, m in apport.items():
            actuelle = existantes.get(code)
            if actuelle is None:
                self.ref["matieres"].append({"code": code, "libelle": m.libelle})
                self.rapport["matieres"]["ajoutes"].append(code)
            elif actuelle.get("libelle") != m.libelle:
                actuelle["libelle"] = m.libelle
                self._modifie("matieres", "code", code, ["libelle"])

    def modalites(self) -> None:
        nomenclatures = self.apports.nomenclatures
        if nomenclatures is None or not nomenclatures.modalites:
            return
        liste = self.ref.setdefault("modalites_election", [])
        existantes = {m["code"]: m for m in liste}
        for mod in nomenclatures.modalites:
            actuelle = existantes.get(mod.code)
            if actuelle is None:
                liste.append({"code": mod.code, "libelle": mod.libelle})
                existantes[mod.code] = liste[-1]
                self.rapport["modalites_election"]["ajoutes"].append(mod.code)
            elif actuelle.get("libelle") != mod.libelle:
                actuelle["libelle"] = mod.libelle
                self._modifie("modalites_election", "code", mod.code, ["libelle"])

    def programmes(self) -> None:
        """The matières of each MEF, as the nomenclatures list them (valid codes, first of each
        (MEF, matière) pair, modalité in capitals)."""
        nomenclatures = self.apports.nomenclatures
        if nomenclatures is None:
            return
        apport: dict[tuple[str, str], dict] = {}
        for p in nomenclatures.programmes:
            mef, matiere, modalite = p.code_mef or "", p.code_matiere or "", (p.modalite or "").strip().upper()
            if _CODE_MEF.fullmatch(mef) and _CODE_MATIERE.fullmatch(matiere) and modalite:
                apport.setdefault((mef, matiere), {"mef": mef, "matiere": matiere, "modalite_election": modalite})
        if apport and list(apport.values()) != self.ref.get("programmes", []):
            self.ref["programmes"] = list(apport.values())

    def etablissement(self) -> None:
        sts = self.apports.sts
        if sts is None:
            return
        etab = self.ref.setdefault("etablissement", {})
        for champ, valeur in (("nom", sts.nom_etablissement), ("commune", sts.commune)):
            if valeur and etab.get(champ) != valeur:
                etab[champ] = valeur
                self.rapport["etablissement"]["modifies"].append(champ)

    # --- divisions ----------------------------------------------------------------------------

    def _divisions_des_exports(self) -> dict[str, Counter]:
        """Division codes the exports list, in their order, each with the niveaux its MEFs give."""
        codes: dict[str, Counter] = {}
        if self.apports.sts:
            for d in self.apports.sts.divisions:
                codes.setdefault(d.code, Counter()).update(
                    n for n in (niveau_du_mef(m, self.mefs) for m in d.mefs) if n)
        if self.apports.eleves:
            for e in self.apports.eleves.eleves:
                if e.division:
                    niveau = niveau_du_mef(e.code_mef, self.mefs)
                    codes.setdefault(e.division, Counter()).update([niveau] if niveau else [])
        return codes

    def divisions(self) -> list[str]:
        listees = self._divisions_des_exports()
        existantes = {d["code"]: d for d in self.ref["divisions"]}
        for code, niveaux in listees.items():
            niveau = max(sorted(niveaux), key=lambda n: niveaux[n]) if niveaux else None
            division = existantes.get(code)
            if division is not None:
                if niveau and division.get("niveau") != niveau:
                    division["niveau"] = niveau
                    division.pop("cycle", None)          # derived again from the new niveau
                    self._division_modifiee(code, "niveau")
            elif niveau is None:
                self.erreurs.ajouter("EXPORT_NIVEAU_INCONNU", f"Division « {code} ».")
            else:
                # No `systeme_evaluation`: unset (null by default) until the school sets it in LSU.
                self.ref["divisions"].append({"code": code, "niveau": niveau, "mode_import": self.mode})
                existantes[code] = self.ref["divisions"][-1]
                self.rapport["divisions"]["ajoutes"].append(code)
        return list(listees)

    def retirer_divisions_orphelines(self, listees: Iterable[str]) -> None:
        utilisees = set(listees) | {e["division"] for e in self.ref["eleves"]} \
            | {s["division"] for s in self.ref["services"]}
        gardees = []
        for d in self.ref["divisions"]:
            if d["code"] in utilisees:
                gardees.append(d)
            else:
                self.rapport["divisions"]["supprimes"].append(d["code"])
                self.divisions_modifiees.pop(d["code"], None)
        self.ref["divisions"] = gardees

    def rapporter_divisions_modifiees(self) -> None:
        ajoutees = set(self.rapport["divisions"]["ajoutes"])
        for code, champs in self.divisions_modifiees.items():
            if code not in ajoutees:
                self._modifie("divisions", "code", code, champs)

    # --- élèves -------------------------------------------------------------------------------

    def _date_entree_par_defaut(self) -> str:
        return f"{self.ref['millesime']}-09-01"

    def eleves(self) -> None:
        base = self.apports.eleves
        if base is None:
            return
        anciens = {e["id_be"]: e for e in self.ref["eleves"]}
        nouveaux = []
        for e in base.eleves:
            ancien = anciens.get(e.id_be)
            division = e.division or (ancien or {}).get("division")
            if division is None:
                self.rapport["eleves"]["ignores"].append({
                    "id_be": e.id_be, "nom": e.nom, "prenom": e.prenom,
                    "motif": "aucune division (structure de type D) dans l'export SIECLE"})
                continue
            nouveaux.append(self._eleve(e, ancien, division))
        gardes = {e["id_be"] for e in nouveaux}
        self.rapport["eleves"]["supprimes"] = [i for i in anciens if i not in gardes]
        self.ref["eleves"] = nouveaux

    def _eleve(self, e: EleveSiecle, ancien: dict | None, division: str) -> dict:
        rec = dict(ancien) if ancien else {"id_be": e.id_be}
        rec["nom"], rec["prenom"] = e.nom, e.prenom
        if e.sexe:
            rec["sexe"] = e.sexe
        rec["division"] = division
        rec["date_entree"] = e.date_entree or rec.get("date_entree") or self._date_entree_par_defaut()
        rec["date_sortie"] = e.date_sortie
        rec["options"] = [o.code_matiere for o in e.options]
        if e.code_mef and _CODE_MEF.fullmatch(e.code_mef):
            rec["mef"] = e.code_mef
        else:
            rec.pop("mef", None)
        if ancien is None:
            self.rapport["eleves"]["ajoutes"].append(e.id_be)
        else:
            defauts = {"sexe": None, "date_sortie": None, "options": [], "mef": None}
            champs = [c for c in ("nom", "prenom", "sexe", "division", "date_entree", "date_sortie", "mef",
                                  "options")
                      if ancien.get(c, defauts.get(c)) != rec.get(c, defauts.get(c))]
            self._modifie("eleves", "id_be", e.id_be, champs)
        return rec

    # --- STS: enseignants, services, professeurs principaux -------------------------------------

    def enseignants_et_services(self) -> None:
        sts = self.apports.sts
        if sts is None:
            return
        individus = {i.id: i for i in sts.individus}
        triplets = self._triplets(sts, individus)
        utiles = {t[0] for t in triplets}
        retenus = [i for i in sts.individus if i.fonction == ENSEIGNANT or i.id in utiles or i.profs_principaux]
        self._enseignants(retenus)
        self._services(triplets)
        self._profs_principaux(retenus)

    def _triplets(self, sts: StsEmp, individus: Mapping) -> list[tuple[str, str, str]]:
        """(enseignant, matière, division) of every service; a groupe's service counts in each of
        its divisions (LSU checks a teacher against the élève's division)."""
        matieres = {m["code"] for m in self.ref["matieres"]}
        divisions = {d["code"] for d in self.ref["divisions"]} | {d.code for d in sts.divisions}
        structures = [(f"Division « {d.code} »", d.services, (d.code,)) for d in sts.divisions]
        structures += [(f"Groupe « {g.code} »", g.services, g.divisions) for g in sts.groupes]
        triplets: dict[tuple[str, str, str], None] = {}
        for ou, services, codes in structures:
            for code in codes:
                if code not in divisions:
                    self.erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{ou} : la division « {code} » n'est ni "
                                         f"dans l'export STS Web ni dans le référentiel.")
            for s in services:
                if s.code_matiere not in matieres:
                    self.erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{ou} : la matière {s.code_matiere} du "
                                         f"service est absente des nomenclatures (STS Web et SIECLE).")
                    continue
                for ens in s.enseignants:
                    if ens not in individus:
                        self.erreurs.ajouter("EXPORT_DONNEE_INVALIDE", f"{ou} : l'enseignant {ens} du service "
                                             f"{s.code_matiere} n'est pas dans la liste des individus.")
                        continue
                    for code in codes:
                        triplets[(ens, s.code_matiere, code)] = None
        return list(triplets)

    def _enseignants(self, retenus: list) -> None:
        anciens = {e["id_sts"]: e for e in self.ref["enseignants"]}
        nouveaux = []
        for i in retenus:
            ancien = anciens.get(i.id)
            rec = dict(ancien) if ancien else {"id_sts": i.id}
            rec["type"] = i.type_lsu
            if i.civilite:
                rec["civilite"] = i.civilite
            rec["nom"] = i.nom
            if i.prenom:
                rec["prenom"] = i.prenom
            if ancien is None:
                self.rapport["enseignants"]["ajoutes"].append(i.id)
            else:
                defauts = {"type": TYPE_ENSEIGNANT_PAR_DEFAUT}
                champs = [c for c in ("type", "civilite", "nom", "prenom")
                          if ancien.get(c, defauts.get(c)) != rec.get(c, defauts.get(c))]
                self._modifie("enseignants", "id_sts", i.id, champs)
            nouveaux.append(rec)
        gardes = {e["id_sts"] for e in nouveaux}
        self.rapport["enseignants"]["supprimes"] = [i for i in anciens if i not in gardes]
        self.ref["enseignants"] = nouveaux

    def _services(self, triplets: list[tuple[str, str, str]]) -> None:
        anciens: dict[tuple[str, str, str], dict] = {}
        for s in self.ref["services"]:
            anciens.setdefault((s["enseignant"], s["matiere"], s["division"]), s)
        nouveaux = []
        for t in triplets:
            ancien = anciens.get(t)
            if ancien is None:
                self.rapport["services"]["ajoutes"].append(dict(zip(("enseignant", "matiere", "division"), t)))
            nouveaux.append(dict(ancien) if ancien else dict(zip(("enseignant", "matiere", "division"), t)))
        gardes = set(triplets)
        self.rapport["services"]["supprimes"] = [dict(zip(("enseignant", "matiere", "division"), t))
                                                 for t in anciens if t not in gardes]
        self.ref["services"] = nouveaux

    def _profs_principaux(self, retenus: list) -> None:
        par_division: dict[str, list[str]] = {}          # one pass over the teachers, not one per division
        for i in retenus:
            for code in i.profs_principaux:                # distinct already (sts.lire_sts)
                par_division.setdefault(code, []).append(i.id)
        for d in self.ref["divisions"]:
            pp = par_division.get(d["code"], [])
            if d.get("profs_principaux", []) != pp:
                self._division_modifiee(d["code"], "profs_principaux")
            d["profs_principaux"] = pp


def fusionner(referentiel: Mapping, apports: Apports, *,
              mode_nouvelles_divisions: str = MODE_NOUVELLES_DIVISIONS) -> tuple[dict, dict]:
    """The référentiel with the exports merged in, and the report of what changed (lists of
    identifiers added, changed — with the fields —, removed). The input is not modified.
    Raises `ExportError` on anything inconsistent; the result is checked by the caller
    (`validate_referentiel`)."""
    if mode_nouvelles_divisions not in MODES:
        raise ValueError(f"mode inconnu : {mode_nouvelles_divisions}")
    f = _Fusion(referentiel, apports, mode_nouvelles_divisions)
    f.matieres()
    f.modalites()
    f.programmes()
    f.etablissement()
    listees = f.divisions()
    f.eleves()
    f.enseignants_et_services()
    if apports.eleves is not None and apports.sts is not None:
        # Only the whole picture (SIECLE's élèves and STS's services at once) may remove a
        # division: a partial import never drops one, nor its mode.
        f.retirer_divisions_orphelines(listees)
    f.rapporter_divisions_modifiees()
    f.erreurs.lever()
    f.rapport["divisions"]["mode_nouvelles_divisions"] = mode_nouvelles_divisions
    f.rapport["resume"] = _resume(f.rapport)
    return f.ref, f.rapport
