"""A bilan as LSU keeps it: its state, its view, and what people may do to it after an import
(completion, locking). What an import does to it is `merge_import`, LSU's merge rules one by one
in `merge_rules.py`. Pure functions over `BilanState`; the worker and the API persist the states
they return (with a version attribute: nothing is lost in a race).

A bilan keeps its parts with their provenance: the imported content (which import, when) and the
entries made in LSU to complete it (who, which role, when)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from chalicelib.domain.catalogue import message
from chalicelib.domain.checks import EDITEUR

COMPLET, A_COMPLETER = "COMPLET", "A_COMPLETER"
# Parts that can be entered in LSU to complete an imported bilan.
EDITABLE = ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos", "elements_programme")
ROLE_PARTS = {
    "CE": set(EDITABLE), "DELEGUE_CE": set(EDITABLE),
    "PP": {"acquis_conseils", "elements_programme"},
    "CPE": {"vie_scolaire"},
    "ENSEIGNANT": {"elements_programme"},
}


class EditRefused(Exception):
    """An edit, lock or unlock LSU does not allow; `message` is the catalogue message."""

    def __init__(self, code: str, detail: str | None = None):
        super().__init__(code)
        self.code = code
        self.message = message(code, detail)


@dataclass(frozen=True)
class BilanState:
    importe: dict | None = None          # the imported bilan (as split from the file)
    empreinte: str | None = None         # fingerprint of `importe`
    import_id: str | None = None
    importe_le: str | None = None
    mode: str | None = None              # EDITEUR | SCONET_NOTES at the last import
    saisies: dict = field(default_factory=dict)   # part (or elements_programme/<code>) → entry
    verrouille: bool = False
    verrouille_par: str | None = None


@dataclass(frozen=True)
class MergeResult:
    statut: str                          # a BilanStatut: IMPORTE | MIS_A_JOUR | INCHANGE | REJETE
    messages: list
    state: BilanState | None             # None: nothing to write


def present(value) -> bool:
    """A part the bilan carries: neither missing nor empty."""
    return value is not None and value != "" and value != []


def merge_import(current: BilanState | None, bilan: dict, mode: str, import_id: str, now: str) -> MergeResult:
    """An imported bilan against LSU's state: the rules of the fiche « Bilans > Import », in its
    order (chalicelib.domain.merge_rules.RULES)."""
    # Imported here: the rules build on this module's BilanState and MergeResult.
    from chalicelib.domain.merge_rules import MergeContext, apply_rules
    return apply_rules(MergeContext(current, bilan, mode, import_id, now))


# --- the bilan as LSU shows it ---------------------------------------------------------------------

def _imported(state: BilanState, part: str):
    return (state.importe or {}).get(part)


def _entry(value, provenance: str, **extra) -> dict:
    return {"valeur": value, "provenance": provenance, **extra}


def discipline_code(acquis: dict) -> str:
    d = acquis.get("discipline") or {}
    return d.get("code") or d.get("code_national") or "?"


def graded(acquis: dict) -> bool:
    """A discipline « notée ou évaluée »: a mark or a positioning for the élève."""
    if str(acquis.get("eleve_non_note", "")).lower() == "true":
        return False
    return present(acquis.get("moyenne_eleve")) or present(acquis.get("positionnement"))


def view(state: BilanState) -> dict:
    """The merged bilan: each part with its value and provenance (IMPORT, SAISIE or ABSENT)."""
    imp = state.importe or {}
    src = {"import_id": state.import_id, "le": state.importe_le}

    def part(name: str) -> dict:
        if present(imp.get(name)):
            return _entry(imp[name], "IMPORT", **src)
        if name in state.saisies:
            s = state.saisies[name]
            return _entry(s["valeur"], "SAISIE", par=s["par"], le=s["le"])
        return _entry(None, "ABSENT")

    acquis = {}
    for a in imp.get("acquis", []):
        code = discipline_code(a)
        manual = state.saisies.get(f"elements_programme/{code}")
        if a.get("elements_programme"):
            ep = _entry(a["elements_programme"], "IMPORT", **src)
        elif manual:
            ep = _entry(manual["valeur"], "SAISIE", par=manual["par"], le=manual["le"])
        else:
            ep = _entry([], "ABSENT")
        acquis[code] = {
            "discipline": (a.get("discipline") or {}).get("libelle"),
            "moyenne_eleve": a.get("moyenne_eleve"), "moyenne_structure": a.get("moyenne_structure"),
            "positionnement": a.get("positionnement"), "appreciation": a.get("appreciation"),
            "enseignants": a.get("enseignants", []), "elements_programme": ep, "note": graded(a),
        }
    out = {
        "type": imp.get("type"), "cle": imp.get("cle"), "eleve": imp.get("eleve"), "periode": imp.get("periode"),
        "cycle": imp.get("cycle"), "mode": state.mode, "verrouille": state.verrouille,
        "modalites_accompagnement": imp.get("modalites_accompagnement") or [],
        "acquis": acquis, "socle": _entry(imp.get("socle"), "IMPORT", **src) if imp.get("socle") else _entry([], "ABSENT"),
        **{name: part(name) for name in ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos")},
    }
    if imp.get("type") == "cycle":
        out["synthese"] = _entry(imp.get("synthese"), "IMPORT", **src)
        out["enseignement_complement"] = imp.get("enseignement_complement")
    statut, manquants = completeness(out)
    out.update(statut=statut, manquants=manquants)
    return out


def completeness(v: dict) -> tuple[str, list[str]]:
    """COMPLET, or A_COMPLETER with what is missing: an élément de programme for each graded
    discipline, the appréciation générale and the vie scolaire (imported or entered)."""
    if v.get("type") == "cycle":
        return COMPLET, []
    missing = [f"éléments de programme en {a['discipline']}" for a in v["acquis"].values()
               if a["note"] and not a["elements_programme"]["valeur"]]
    if v["acquis_conseils"]["provenance"] == "ABSENT":
        missing.append("appréciation générale")
    if v["vie_scolaire"]["provenance"] == "ABSENT":
        missing.append("vie scolaire")
    return (A_COMPLETER if missing else COMPLET), missing


# --- completion, locking ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Editor:
    """Who edits: role, STS id (for PP and teachers), and what the référentiel grants them."""
    role: str
    sub: str
    pp_of_division: bool = False
    services: frozenset = frozenset()    # matière codes the teacher teaches in the bilan's division


def _check_unlocked(state: BilanState) -> None:
    if state.verrouille:
        if state.mode == EDITEUR:
            raise EditRefused("BILAN_LOCKED_EDITEUR")
        raise EditRefused("BILAN_VERROUILLE")


def may_edit(editor: Editor, part: str, code: str | None = None) -> bool:
    """LSU's roles: CE (and delegates) everything; PP the appréciation générale and éléments de
    programme of their divisions; CPE the vie scolaire; a teacher the éléments de programme of
    their own services."""
    if part not in ROLE_PARTS.get(editor.role, set()):
        return False
    if editor.role == "PP":
        return editor.pp_of_division
    if editor.role == "ENSEIGNANT":
        return code in editor.services
    return True


def apply_edit(state: BilanState, editor: Editor, part: str, value, now: str, code: str | None = None) -> BilanState:
    """Enter a part in LSU to complete an imported bilan. Imported parts stay read-only."""
    if part not in EDITABLE:
        raise EditRefused("BAD_REQUEST", f"Partie inconnue : « {part} ».")
    _check_unlocked(state)
    if not may_edit(editor, part, code):
        raise EditRefused("FORBIDDEN", f"Le rôle {editor.role} ne peut pas saisir « {part} » sur ce bilan.")
    imp = state.importe or {}
    if part == "elements_programme":
        acquis = {discipline_code(a): a for a in imp.get("acquis", [])}
        if code not in acquis:
            raise EditRefused("BAD_REQUEST", f"Discipline « {code} » absente du bilan.")
        if acquis[code].get("elements_programme"):
            raise EditRefused("PART_IMPORTEE", "Éléments de programme de cette discipline.")
        key = f"elements_programme/{code}"
    else:
        if present(imp.get(part)):
            raise EditRefused("PART_IMPORTEE", f"Partie « {part} ».")
        key = part
    if value is not None and not present(value.strip() if isinstance(value, str) else value):
        raise EditRefused("BAD_REQUEST", "Valeur vide : pour effacer une saisie, envoyer null.")
    saisies = dict(state.saisies)
    if value is None:
        saisies.pop(key, None)
    else:
        saisies[key] = {"valeur": value, "par": f"{editor.role}:{editor.sub}", "le": now}
    return replace(state, saisies=saisies)


def may_lock(editor: Editor) -> bool:
    """The chef d'établissement (and delegates) and the professeur principal of the division
    lock the bilans they completed."""
    return editor.role in ("CE", "DELEGUE_CE") or (editor.role == "PP" and editor.pp_of_division)


def lock(state: BilanState, editor: Editor) -> BilanState:
    if not may_lock(editor):
        raise EditRefused("FORBIDDEN", "Seuls le chef d'établissement, son délégué et le professeur principal "
                                       "de la classe verrouillent un bilan.")
    if state.verrouille:
        return state
    statut, manquants = completeness(view(state))
    if statut != COMPLET:
        raise EditRefused("BILAN_A_COMPLETER", f"Il manque : {', '.join(manquants)}.")
    return replace(state, verrouille=True, verrouille_par=f"{editor.role}:{editor.sub}")


def unlock(state: BilanState, editor: Editor) -> BilanState:
    if editor.role != "CE":
        raise EditRefused("FORBIDDEN", "Seul le chef d'établissement déverrouille un bilan.")
    if state.mode == EDITEUR:
        raise EditRefused("BILAN_LOCKED_EDITEUR")
    return replace(state, verrouille=False, verrouille_par=None)
