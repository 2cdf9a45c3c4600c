"""LSU's merge rules, one named pure function each, in the fiche's order (« Bilans > Import »,
docs/contrats.md « Règles de fusion »), and `decide`: what the worker does with one bilan of an
import (checks against the référentiel, then these rules, then the counter it advances).

Each rule takes the `MergeContext` (what LSU stores, what the file brings) and the `Draft` built
so far (what the import would write), and returns the next draft, or a `Refusal` that stops the
sequence: the bilan is rejected with that catalogue message and nothing is written. The state
types, the view, completion and locks live in `merge.py`."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from chalicelib.domain import checks, merge, outcome
from chalicelib.domain.catalogue import message
from chalicelib.domain.merge import BilanState, MergeResult, present
from chalicelib.domain.vocabulary import BilanStatut, Mode
from chalicelib.referentiel import Referentiel

EDITEUR_LOCK = "import éditeur"          # `verrouille_par` of a bilan locked by an Éditeur import

# The import's counter each bilan status advances (the synthèse's `compteurs`).
COUNTER_OF = {BilanStatut.IMPORTE: "nouveaux", BilanStatut.MIS_A_JOUR: "mis_a_jour",
              BilanStatut.INCHANGE: "inchanges", BilanStatut.REJETE: "rejetes"}


@dataclass(frozen=True)
class MergeContext:
    """One imported bilan against LSU's state of it."""
    current: BilanState | None           # what LSU stores (None: no such bilan yet)
    bilan: dict                          # the bilan as split from the file
    mode: Mode | str                     # the import mode of the élève's division
    import_id: str
    now: str

    @property
    def saisies(self) -> dict:
        """The entries made in LSU, as stored."""
        return self.current.saisies if self.current else {}


@dataclass(frozen=True)
class Draft:
    """What the import would write, as the rules build it (then `state()`), and its status."""
    importe: dict | None = None
    empreinte: str | None = None
    import_id: str | None = None
    importe_le: str | None = None
    mode: str | None = None
    removed: frozenset = frozenset()     # keys of the entries made in LSU that the import deletes
    saisies: dict = field(default_factory=dict)
    verrouille: bool = False
    verrouille_par: str | None = None
    statut: BilanStatut | None = None
    messages: tuple = ()                 # what the import says of the bilan without refusing it

    def state(self) -> BilanState:
        return BilanState(importe=self.importe, empreinte=self.empreinte, import_id=self.import_id,
                          importe_le=self.importe_le, mode=self.mode, saisies=self.saisies,
                          verrouille=self.verrouille, verrouille_par=self.verrouille_par)


@dataclass(frozen=True)
class Refusal:
    """The bilan is rejected: its catalogue message code."""
    code: str

    @property
    def message(self) -> dict:
        return message(self.code)


Rule = Callable[[MergeContext, Draft], "Draft | Refusal"]


def rule_bilan_verrouille(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """Verrouillage : « un bilan verrouillé refuse saisies et imports (`BILAN_VERROUILLE`) ».

    A Sconet Notes bilan completed and locked in LSU: the import is refused until the chef
    d'établissement unlocks it. (A bilan locked by an Éditeur import is replaced: rule 1.)"""
    if ctx.current and ctx.current.verrouille and ctx.current.mode == Mode.SCONET_NOTES:
        return Refusal("BILAN_VERROUILLE")
    return draft


def rule_1_import_editeurs(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """1. « Import Éditeurs : bilan complet, verrouillé, jamais déverrouillable ; toute saisie est
    refusée (`BILAN_LOCKED_EDITEUR`) ; un nouvel import Éditeurs le remplace, un import Sconet Notes
    est refusé pour ce bilan (`BILAN_EDITEUR_IMPORT_SCONET`). Il n'est jamais « à compléter » : des
    éléments de programme absents sont signalés sans bloquer (`ELEMENTS_PROGRAMME_ABSENTS`). »

    An Éditeur bilan is complete: nothing entered in LSU remains, and it is locked « import
    éditeur » (`merge.apply_edit` and `merge.unlock` refuse then). A Sconet Notes import is
    partial, to complete and lock in LSU: the bilan is unlocked (a locked one was refused above);
    over an Éditeur bilan it would unlock what the fiche says is « non dé-verrouillable »: refused."""
    if ctx.mode == Mode.EDITEUR:
        missing = [_label(a) for a in ctx.bilan.get("acquis") or []
                   if isinstance(a, dict) and merge.graded(a) and not a.get("elements_programme")]
        notes = (message("ELEMENTS_PROGRAMME_ABSENTS", f"Disciplines : {', '.join(missing)}."),) if missing else ()
        return replace(draft, removed=draft.removed | frozenset(ctx.saisies), verrouille=True,
                       verrouille_par=EDITEUR_LOCK, messages=draft.messages + notes)
    if ctx.current is not None and ctx.current.importe is not None and ctx.current.mode == Mode.EDITEUR:
        return Refusal("BILAN_EDITEUR_IMPORT_SCONET")
    return replace(draft, verrouille=False, verrouille_par=None)


def rule_2_donnees_importees(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """2. « Les données importées ne sont pas modifiables dans LSU (`PART_IMPORTEE`) ; un nouvel
    import les remplace. Un import Sconet Notes ne remplace que les parties qu'il porte : celles
    qu'un import précédent avait apportées et que le nouveau fichier ne porte pas (appréciation
    générale, vie scolaire, parcours, EPI, AP, éléments de programme d'une discipline) sont
    conservées (`PARTIES_CONSERVEES`), sauf si une saisie LSU les complète déjà. »

    The file's content replaces what the previous import brought, with its provenance (which
    import, when, in which mode) and its fingerprint (the file's: the same file again is
    INCHANGE); the socle is rule 6's. Read-only in LSU: `merge.apply_edit` refuses an entry on an
    imported part. An Éditeur file is complete: it replaces everything."""
    content = outcome.bilan_content(ctx.bilan)
    importe = {k: v for k, v in content.items() if k != "socle"}
    notes = ()
    if ctx.mode == Mode.SCONET_NOTES and ctx.current is not None and ctx.current.importe:
        importe, kept = kept_parts(ctx.current, importe)
        if kept:
            notes = (message("PARTIES_CONSERVEES", f"Conservé : {', '.join(kept)}."),)
    return replace(draft, importe=importe, empreinte=outcome.empreinte(ctx.bilan), import_id=ctx.import_id,
                   importe_le=ctx.now, mode=ctx.mode, messages=draft.messages + notes)


def _label(acquis: dict) -> str:
    """A discipline as the bilan's messages name it: its label, or its code."""
    d = acquis.get("discipline") if isinstance(acquis.get("discipline"), dict) else {}
    return d.get("libelle") or merge.discipline_code(acquis)


# The parts a partial (Sconet Notes) file may leave out, with how the bilan's messages name them.
PARTIAL_PARTS = (("acquis_conseils", "appréciation générale"), ("vie_scolaire", "vie scolaire"),
                 ("parcours", "parcours"), ("epis", "EPI"), ("acc_persos", "AP"))


def kept_parts(current: BilanState, importe: dict) -> tuple[dict, list[str]]:
    """The new imported content, completed with what the stored import carried and the new file
    does not — unless an entry made in LSU fills that part (it shows again, rule 5) — each kept
    part remembering the import that brought it (under `conserve`); and the French names of the
    parts kept."""
    previous = current.importe or {}
    origin = {"import_id": current.import_id, "le": current.importe_le}
    earlier = previous.get("conserve") if isinstance(previous.get("conserve"), dict) else {}
    out, kept, conserve = dict(importe), [], {}
    for part, label in PARTIAL_PARTS:
        if not present(out.get(part)) and present(previous.get(part)) and part not in current.saisies:
            out[part] = previous[part]
            conserve[part] = earlier.get(part) or origin
            kept.append(label)
    old_acquis = merge.acquis_by_key(previous)
    new_acquis = [a for a in out.get("acquis") or [] if isinstance(a, dict)]
    acquis = []
    for a, key in zip(new_acquis, merge.acquis_keys(new_acquis)):
        before = old_acquis.get(key)
        if (before is not None and not a.get("elements_programme") and before.get("elements_programme")
                and f"elements_programme/{key}" not in current.saisies):
            a = {**a, "elements_programme": before["elements_programme"]}
            conserve[f"elements_programme/{key}"] = earlier.get(f"elements_programme/{key}") or origin
            kept.append(f"éléments de programme ({_label(a)})")
        acquis.append(a)
    if "acquis" in out:
        out["acquis"] = acquis
    if conserve:
        out["conserve"] = conserve
    return out, kept


def rule_3_appreciation_generale(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """3. « Appréciation générale présente dans le fichier : mise à jour si absente ou importée
    dans LSU ; si elle a été saisie dans LSU, le bilan est rejeté (`MANUAL_AG_PRESENT`) et la
    saisie conservée. »

    « Saisie dans LSU »: an entry of the stored bilan (in any mode: an Éditeur file does not
    overwrite it either). Absent or imported, rule 2 replaces it with the file's."""
    if present(ctx.bilan.get("acquis_conseils")) and "acquis_conseils" in ctx.saisies:
        return Refusal("MANUAL_AG_PRESENT")
    return draft


def rule_4_vie_scolaire(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """4. « Vie scolaire : fichier sans → la saisie LSU est conservée ; fichier avec → elle
    remplace (et supprime) la saisie LSU. »"""
    if ctx.bilan.get("vie_scolaire") is None:
        return draft
    return replace(draft, removed=draft.removed | {"vie_scolaire"})


def rule_5_saisies_conservees(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """5. « Ce qui a été saisi dans LSU pour compléter un import (parcours, éléments de programme,
    EPI, AP…) est conservé à la réimportation. »

    Every entry is kept but those rules 1 and 4 delete. An imported part shadows the entry of
    the same part in the view, without deleting it."""
    return replace(draft, saisies={k: v for k, v in ctx.saisies.items() if k not in draft.removed})


def rule_6_socle(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """6. « Les bilans importés portent le positionnement du socle. »

    The socle (its domaines and their positionnement) is imported with the bilan, de fin de
    cycle or périodique, where the file puts it."""
    content = outcome.bilan_content(ctx.bilan)
    if "socle" not in content:
        return draft
    carried = {**(draft.importe or {}), "socle": content["socle"]}
    ordered = {k: carried[k] for k in content if k in carried}       # the file's order of keys
    return replace(draft, importe={**ordered, **{k: v for k, v in carried.items() if k not in ordered}})


def rule_7_statut(ctx: MergeContext, draft: Draft) -> Draft | Refusal:
    """7. « Statut à la réimportation : `IMPORTE`, `MIS_A_JOUR` ou `INCHANGE`. »

    IMPORTE: LSU had no imported bilan. INCHANGE: same content, same entries, same mode, same
    lock (nothing is written). MIS_A_JOUR otherwise."""
    cur = ctx.current
    if cur is None or cur.importe is None:
        statut = BilanStatut.IMPORTE
    elif (cur.empreinte == draft.empreinte and cur.saisies == draft.saisies and cur.mode == draft.mode
          and cur.verrouille == draft.verrouille):
        statut = BilanStatut.INCHANGE
    else:
        statut = BilanStatut.MIS_A_JOUR
    return replace(draft, statut=statut)


RULES: tuple[Rule, ...] = (
    rule_bilan_verrouille,
    rule_1_import_editeurs,
    rule_2_donnees_importees,
    rule_3_appreciation_generale,
    rule_4_vie_scolaire,
    rule_5_saisies_conservees,
    rule_6_socle,
    rule_7_statut,
)


def apply_rules(ctx: MergeContext) -> MergeResult:
    """The imported bilan against LSU's state: the first refusal rejects it (nothing written);
    otherwise its status and the state to write (None when INCHANGE)."""
    draft = Draft()
    for rule in RULES:
        result = rule(ctx, draft)
        if isinstance(result, Refusal):
            return MergeResult(BilanStatut.REJETE, [result.message], None)
        draft = result
    return MergeResult(draft.statut, list(draft.messages),
                       None if draft.statut == BilanStatut.INCHANGE else draft.state())


# --- one bilan of an import ---------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """What the worker records for one bilan of an import."""
    statut: BilanStatut
    messages: list                       # the merge's messages first, then the checks'
    state: BilanState | None             # the bilan to write; None: nothing to write
    counter: str                         # nouveaux | mis_a_jour | inchanges | rejetes
    warning: bool                        # counts in `avertissements`
    eleve: dict = field(default_factory=dict)    # the élève as the result shows it (SIECLE's class)
    systeme_evaluation: str | None = None        # what the bilan's acquis follow (checks.evaluation_system)
    a_completer: list = field(default_factory=list)   # what the bilan lacks in LSU after the import


def _carries_unmodelled(bilan: dict) -> bool:
    """The bilan carries data of the file the project does not model yet (`autres`, see the split)."""
    return bool(bilan.get("autres")) or any(isinstance(a, dict) and a.get("autres") for a in bilan.get("acquis") or [])


def _unmodelled_names(bilan: dict) -> list[str]:
    names = [str(x.get("nom")) for x in bilan.get("autres") or [] if isinstance(x, dict)]
    names += [str(x.get("nom")) for a in bilan.get("acquis") or [] if isinstance(a, dict)
              for x in a.get("autres") or [] if isinstance(x, dict)]
    return sorted(set(names))[:10]


def decide(current: BilanState | None, bilan: dict, referentiel: Referentiel, import_id: str, now: str,
           pre_controle: bool) -> Decision:
    """Checks against the référentiel first (any ERREUR rejects the bilan), then LSU's merge
    rules against the stored state. The bilan is attached to the élève's SIECLE class (the one
    whose mode and services the checks used: storage, search and rights follow it). A pré-contrôle
    reports the same, and writes nothing."""
    messages = checks.evaluate_bilan(bilan, referentiel)
    bilan = checks.siecle_division(bilan, referentiel)
    lacking: list = []
    if outcome.refused(messages):
        statut, state = BilanStatut.REJETE, None
    else:
        mode = checks.division_mode(bilan, referentiel)
        merged = apply_rules(MergeContext(current, bilan, mode, import_id, now))
        statut, messages, state = merged.statut, merged.messages + messages, merged.state
        if statut != BilanStatut.REJETE and _carries_unmodelled(bilan):
            messages = messages + [message("ELEMENT_NON_MODELISE", f"Éléments : {', '.join(_unmodelled_names(bilan))}.")]
        after = state if state is not None else current
        if statut != BilanStatut.REJETE and after is not None:
            done, lacking = merge.completeness(merge.view(after))
            lacking = list(lacking) if done == merge.A_COMPLETER else []
    return Decision(statut, messages, None if pre_controle else state, COUNTER_OF[statut],
                    outcome.has_warning(messages), bilan.get("eleve") or {},
                    checks.evaluation_system(bilan) if bilan.get("type") == "periodique" else None, list(lacking))
