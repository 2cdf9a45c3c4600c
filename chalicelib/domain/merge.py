"""A bilan as LSU keeps it: its state, its view, and what people may do to it after an import
(completion, locking). What an import does to it is `merge_import`, LSU's merge rules one by one
in `merge_rules.py`. Pure functions over `BilanState`; the worker and the API persist the states
they return (with a version attribute: nothing is lost in a race).

A bilan keeps its parts with their provenance: the imported content (which import, when) and the
entries made in LSU to complete it (who, which role, when)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from chalicelib.domain import entries
from chalicelib.domain.catalogue import message
from chalicelib.domain.checks import EDITEUR, non_note

COMPLET, A_COMPLETER = "COMPLET", "A_COMPLETER"
# The imported fields the bilan document shows, as the split names them (api/render/pdf.py prints them).
DOCUMENT_KEYS = ("date_conseil_classe", "date_creation", "millesime", "responsable_etab", "profs_principaux",
                 "devoirs_faits", "competences_numeriques", "parcours_communs", "vie_scolaire_commun",
                 "langue_culture_regionale")
# Parts that can be entered in LSU to complete an imported bilan.
EDITABLE = ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos", "elements_programme")
# The optional parts the fiche lets the CE, the PP and the CPE enter (parcours, EPI, AP).
OPTIONAL = ("parcours", "epis", "acc_persos")
ROLE_PARTS = {
    "CE": set(EDITABLE), "DELEGUE_CE": set(EDITABLE),
    "PP": {"acquis_conseils", "elements_programme", *OPTIONAL},
    "CPE": {"vie_scolaire", *OPTIONAL},
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
# `view` and `completeness` are total: whatever a stored state holds (wrong types, missing keys,
# None), they show what is well-formed and leave the rest out (a malformed part shows as ABSENT).

def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _str(value) -> str | None:
    return value if isinstance(value, str) else None


def _scalar(value):
    """A mark, a positioning: a text or a number, else None."""
    return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


def _count(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _well_formed_vie_scolaire(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    if not all(_count(value.get(k)) for k in ("nb_retards", "nb_abs_justifiees", "nb_abs_injustifiees",
                                                "nb_heures_manquees")):
        return None
    return value if isinstance(value.get("commentaire"), (str, type(None))) else None


def _items(value, ok) -> list | None:
    return None if not isinstance(value, list) else [x for x in value if ok(x)]


def _parcours_item(p) -> bool:
    return isinstance(p, dict) and isinstance(p.get("code"), str) and isinstance(p.get("texte"), (str, type(None)))


_WELL_FORMED = {
    "acquis_conseils": _str, "synthese": _str, "vie_scolaire": _well_formed_vie_scolaire,
    "parcours": lambda v: _items(v, _parcours_item),
    "epis": lambda v: _items(v, lambda g: isinstance(g, dict)),
    "acc_persos": lambda v: _items(v, lambda g: isinstance(g, dict)),
    "elements_programme": lambda v: _items(v, lambda x: isinstance(x, str)),
    "socle": lambda v: _items(v, lambda d: isinstance(d, dict)),
}


def well_formed(part: str, value):
    """What of a stored part can be shown (None: nothing)."""
    return _WELL_FORMED[part](value)


def _imported(state: BilanState, part: str):
    """An imported part, if the bilan carries it well-formed (None: not imported)."""
    value = well_formed(part, _dict(state.importe).get(part))
    return value if present(value) else None


def _saisie(state: BilanState, key: str, part: str) -> dict | None:
    """An entry made in LSU, as the view shows it (None: none, or not well-formed)."""
    s = _dict(state.saisies).get(key)
    if not isinstance(s, dict):
        return None
    value = well_formed(part, s.get("valeur"))
    return _entry(value, "SAISIE", par=_str(s.get("par")), le=_str(s.get("le"))) if present(value) else None


def _entry(value, provenance: str, **extra) -> dict:
    return {"valeur": value, "provenance": provenance, **extra}


def discipline_code(acquis: dict) -> str:
    d = _dict(_dict(acquis).get("discipline"))
    code = d.get("code") or d.get("code_national")
    return str(code) if isinstance(code, (str, int)) and not isinstance(code, bool) else "?"


def acquis_keys(acquis: list) -> list[str]:
    """The key of each acquis of a bilan, in order, as the view, the PDF, completeness and the
    entries `elements_programme/<key>` name it. The XSD's key of a discipline is (code, modalité
    d'élection, id-lv): the plain code where the code is unique among the bilan's acquis (so
    entries keyed by code keep working), else `code-modalité`, else `code-modalité-id_lv`
    (an LV1 and an LV2 of one code); `#n` (its rank among its namesakes) in last resort, so two
    acquis never share a key."""
    def part(a: dict, name: str) -> str:
        value = _dict(_dict(a).get("discipline")).get(name)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else "?"

    codes = [discipline_code(a) for a in acquis]
    by_code = Counter(codes)
    with_modalite = [f"{c}-{part(a, 'modalite_election')}" for a, c in zip(acquis, codes)]
    by_modalite = Counter(with_modalite)
    keys = [c if by_code[c] == 1 else m if by_modalite[m] == 1 else f"{m}-{part(a, 'id_lv')}"
            for a, c, m in zip(acquis, codes, with_modalite)]
    repeated, rank, out = Counter(keys), Counter(), []
    for key in keys:
        if repeated[key] > 1:
            rank[key] += 1
            key = f"{key}#{rank[key]}"
        out.append(key)
    return out


def acquis_key(acquis: dict, among: list | None = None) -> str:
    """`acquis_keys` of one acquis among the bilan's (`among`; alone: its plain code)."""
    among = among if among is not None else [acquis]
    return dict(zip(map(id, among), acquis_keys(among))).get(id(acquis), discipline_code(acquis))


def acquis_by_key(bilan: dict) -> dict[str, dict]:
    """A bilan's (well-formed) acquis by key."""
    acquis = [a for a in _list(_dict(bilan).get("acquis")) if isinstance(a, dict)]
    return dict(zip(acquis_keys(acquis), acquis))


def graded(acquis: dict) -> bool:
    """A discipline « notée ou évaluée »: a mark or a positioning for the élève."""
    if non_note(acquis):
        return False
    return present(acquis.get("moyenne_eleve")) or present(acquis.get("positionnement"))


def _eleve(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    return {k: v if isinstance(v, (str, int)) and not isinstance(v, bool) else None for k, v in value.items()}


# What the split carries beyond what the project models (`autres`, chalicelib.pipeline.split.bilans),
# shown as name / value lines: nested names joined by « › », an acquis' under its discipline.
AUTRES_MAX_LINES = 200
_AUTRES_MAX_DEPTH = 8
TRONQUE = "(tronqué : limite de taille atteinte)"
AUTRES_TRONQUES = "Informations supplémentaires du fichier non conservées (limite de taille atteinte)."


def _text_value(value) -> str | None:
    return value if isinstance(value, str) else str(value) if _scalar(value) is not None else None


def _autres_lines(items, prefix: str, out: list, depth: int = 0) -> None:
    for item in _list(items):
        if len(out) >= AUTRES_MAX_LINES:
            return
        if not isinstance(item, dict) or not isinstance(item.get("nom"), str):
            continue
        path = f"{prefix} › {item['nom']}" if prefix else item["nom"]
        if item.get("attribut") is True:
            out.append({"nom": path, "valeur": _text_value(item.get("valeur")) or ""})
        else:
            attributes = _dict(item.get("attributs"))
            text = _text_value(item.get("texte"))
            children = _list(item.get("enfants"))
            if text is not None or not (attributes or children):
                out.append({"nom": path, "valeur": text or ""})
            out.extend({"nom": f"{path} › {k}", "valeur": _text_value(v) or ""}
                       for k, v in list(attributes.items())[:AUTRES_MAX_LINES] if isinstance(k, str))
            if depth < _AUTRES_MAX_DEPTH:
                _autres_lines(children, path, out, depth + 1)
        if item.get("tronque") is True:
            out.append({"nom": path, "valeur": TRONQUE})
    del out[AUTRES_MAX_LINES:]


def autres_informations(bilan: dict) -> list[dict]:
    """A bilan's carried data as `view` shows it: [{"nom", "valeur"}] in document order, the bilan's
    own then each acquis' (the line names its discipline; `acquis`: its key). Empty: none."""
    bilan = _dict(bilan)
    out: list = []
    _autres_lines(bilan.get("autres"), "", out)
    acquis = [a for a in _list(bilan.get("acquis")) if isinstance(a, dict)]
    for key, a in zip(acquis_keys(acquis), acquis):
        if len(out) >= AUTRES_MAX_LINES:
            break
        lines: list = []
        _autres_lines(a.get("autres"), _str(_dict(a.get("discipline")).get("libelle")) or key, lines)
        if a.get("autres_tronques") is True:
            lines.append({"nom": _str(_dict(a.get("discipline")).get("libelle")) or key, "valeur": AUTRES_TRONQUES})
        out.extend({**line, "acquis": key} for line in lines)
    if bilan.get("autres_tronques") is True:
        out.append({"nom": "…", "valeur": AUTRES_TRONQUES})
    return out[:AUTRES_MAX_LINES]


def view(state: BilanState) -> dict:
    """The merged bilan: each part with its value and provenance (IMPORT, SAISIE or ABSENT)."""
    imp = _dict(state.importe)
    src = {"import_id": state.import_id, "le": state.importe_le}
    kept = _dict(imp.get("conserve"))

    def origin(key: str) -> dict:
        """Which import brought a part: the last one, or the earlier one a partial file kept it from."""
        o = _dict(kept.get(key))
        return {"import_id": _str(o.get("import_id")), "le": _str(o.get("le"))} if o else src

    def part(name: str) -> dict:
        imported = _imported(state, name)
        if imported is not None:
            return _entry(imported, "IMPORT", **origin(name))
        return _saisie(state, name, name) or _entry(None, "ABSENT")

    acquis = {}
    for key, a in acquis_by_key(imp).items():
        imported = well_formed("elements_programme", a.get("elements_programme"))
        if present(imported):
            ep = _entry(imported, "IMPORT", **origin(f"elements_programme/{key}"))
        else:
            ep = _saisie(state, f"elements_programme/{key}", "elements_programme") or _entry([], "ABSENT")
        acquis[key] = {
            "discipline": _str(_dict(a.get("discipline")).get("libelle")),
            "moyenne_eleve": _scalar(a.get("moyenne_eleve")), "moyenne_structure": _scalar(a.get("moyenne_structure")),
            "positionnement": _scalar(a.get("positionnement")), "appreciation": _str(a.get("appreciation")),
            "enseignants": [e for e in _list(a.get("enseignants")) if isinstance(e, dict)],
            "elements_programme": ep, "note": graded(a),
        }
        if _scalar(a.get("moyenne_annuelle")) is not None:      # a newer schema's annual average
            acquis[key]["moyenne_annuelle"] = _scalar(a.get("moyenne_annuelle"))
        if non_note(a):   # dispensé (the brevet table leaves it out)
            acquis[key]["eleve_non_note"] = True
    socle = _imported(state, "socle")
    out = {
        "type": _str(imp.get("type")), "cle": _str(imp.get("cle")), "eleve": _eleve(imp.get("eleve")),
        "periode": imp.get("periode") if isinstance(imp.get("periode"), dict) else None,
        "cycle": _scalar(imp.get("cycle")), "mode": _str(state.mode), "verrouille": bool(state.verrouille),
        "modalites_accompagnement": [m for m in _list(imp.get("modalites_accompagnement"))
                                     if isinstance(m, dict) and isinstance(m.get("code"), str)],
        "acquis": acquis, "socle": _entry(socle, "IMPORT", **src) if socle else _entry([], "ABSENT"),
        **{name: part(name) for name in ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos")},
    }
    if imp.get("type") == "cycle":
        out["synthese"] = _entry(_str(imp.get("synthese")), "IMPORT", **src)
        ens = imp.get("enseignement_complement")
        out["enseignement_complement"] = ens if isinstance(ens, dict) else None
    autres = autres_informations(imp)
    if autres:
        out["autres_informations"] = autres
    # What the bilan document prints beyond the parts (api/render/pdf.py DOCUMENT_KEYS): the conseil's
    # date, the PP and chef d'établissement, devoirs faits, compétences numériques, the class's parcours
    # and vie scolaire, the LCR. As the file gave them (the PDF copes with any shape).
    document = {k: imp[k] for k in DOCUMENT_KEYS if imp.get(k) not in (None, "", [], {})}
    if document:
        out["document"] = document
    statut, manquants = completeness(out)
    out.update(statut=statut, manquants=manquants)
    return out


def completeness(v: dict) -> tuple[str, list[str]]:
    """COMPLET, or A_COMPLETER with what is missing: an élément de programme for each graded
    discipline, the appréciation générale and the vie scolaire (imported or entered). A bilan of
    the mode Import Éditeurs is complete by definition (the fiche: « les données importées depuis
    un Editeur privé sont complètes »), and so is a bilan de fin de cycle."""
    v = _dict(v)
    if v.get("type") == "cycle" or v.get("mode") == EDITEUR:
        return COMPLET, []
    missing = [f"éléments de programme en {a.get('discipline') or key}"
               for key, a in _dict(v.get("acquis")).items()
               if isinstance(a, dict) and a.get("note") and not _dict(a.get("elements_programme")).get("valeur")]
    if _dict(v.get("acquis_conseils")).get("provenance", "ABSENT") == "ABSENT":
        missing.append("appréciation générale")
    if _dict(v.get("vie_scolaire")).get("provenance", "ABSENT") == "ABSENT":
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
    """LSU's roles (the fiche: « le chef d'établissement, le professeur principal et le CPE
    doivent compléter les bilans … De plus ils peuvent aussi saisir les informations facultatives
    suivantes : parcours, EPI, AP »): CE (and delegates) everything; PP the appréciation générale,
    the éléments de programme and the optional parts of their divisions; CPE the vie scolaire and
    the optional parts; a teacher the éléments de programme of their own services (`code`: the
    discipline's matière code)."""
    if part not in ROLE_PARTS.get(editor.role, set()):
        return False
    if editor.role == "PP":
        return editor.pp_of_division
    if editor.role == "ENSEIGNANT":
        return isinstance(code, str) and code in editor.services
    return True


def apply_edit(state: BilanState, editor: Editor, part: str, value, now: str, code: str | None = None) -> BilanState:
    """Enter a part in LSU to complete an imported bilan (`code`: for éléments de programme, the
    discipline's key in the view, `acquis_keys`). Imported parts stay read-only; the value must be
    what LSU accepts for the part (chalicelib.domain.entries), else SAISIE_INVALIDE. Refusals
    come in this order: unknown part, locked, role, discipline, imported part, empty, invalid."""
    if part not in EDITABLE:
        raise EditRefused("BAD_REQUEST", f"Partie inconnue : « {part} ».")
    if part == "elements_programme" and code is not None and not isinstance(code, str):
        raise EditRefused("BAD_REQUEST", "« discipline » est la clé de la discipline dans le bilan, en texte.")
    _check_unlocked(state)
    imp = _dict(state.importe)
    acquis = acquis_by_key(imp).get(code) if part == "elements_programme" else None
    if not may_edit(editor, part, discipline_code(acquis) if acquis is not None else code):
        raise EditRefused("FORBIDDEN", f"Le rôle {editor.role} ne peut pas saisir « {part} » sur ce bilan.")
    if part == "elements_programme":
        if acquis is None:
            raise EditRefused("BAD_REQUEST", f"Discipline « {str(code)[:40]} » absente du bilan.")
        if present(well_formed(part, acquis.get("elements_programme"))):
            raise EditRefused("PART_IMPORTEE", "Éléments de programme de cette discipline.")
        key = f"elements_programme/{code}"
    else:
        if _imported(state, part) is not None:
            raise EditRefused("PART_IMPORTEE", f"Partie « {part} ».")
        key = part
    if value is not None and not present(value.strip() if isinstance(value, str) else value):
        raise EditRefused("BAD_REQUEST", "Valeur vide : pour effacer une saisie, envoyer null.")
    saisies = dict(_dict(state.saisies))
    if value is None:
        saisies.pop(key, None)
    else:
        saisies[key] = {"valeur": entries.validate(part, value), "par": f"{editor.role}:{editor.sub}", "le": now}
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
