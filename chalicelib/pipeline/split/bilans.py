"""Split a valid LSU document into self-contained bilans: each one carries everything a worker
needs (élève, période or cycle, disciplines, enseignants, éléments de programme, EPI/AP groups,
parcours and vie scolaire communs it references — resolved). Pure: an element tree in, dicts out;
`encode_bilan` gives the JSON the splitter sends (tests/unit/test_stream.py checks the two agree).

The builders also run inside the streamed validation (stream.py), on elements the schema may not
have refused yet: its verdict on an element can come after the element's "end" event. Whatever
they find wrong in the file itself is an `InvalidFile`: `InvalidReference`, `DuplicateId`, or
`SchemaViolation` where something the schema requires and the builders read is missing (an
attribute, a child) or is not a number. Any other exception is a bug of ours."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import orjson
from lxml import etree

from chalicelib.domain import catalogue
from chalicelib.pipeline.split.file_checks import NS

_Q = f"{{{NS}}}"


def q(name: str) -> str:
    return _Q + name


def encode_bilan(bilan: dict) -> str:
    """A bilan as the splitter sends it: compact JSON, non-ASCII characters as they are — byte for
    byte what `json.dumps(bilan, ensure_ascii=False, separators=(",", ":"))` gives (checked by
    tests/unit/test_stream.py), ≈ 5× faster (bench/profile_split.py). orjson writes integers of
    64 bits at most: the builders' are xs:int at most (`integer`) or line numbers."""
    return orjson.dumps(bilan).decode()


class _Names(dict):
    """XML attribute name → Python-friendly name (`nb-periodes` → `nb_periodes`), learnt on first
    use; bounded in a warm process, whatever the files."""

    def __missing__(self, name: str) -> str:
        if len(self) > 4096:
            self.clear()
        python = self[name] = name.replace("-", "_")
        return python


_python_name = _Names().__getitem__


def attrs(el: etree._Element) -> dict:
    """Attributes with Python-friendly names (`nb-periodes` → `nb_periodes`), in document order."""
    return dict(zip(map(_python_name, el.keys()), el.values()))


def text_of(el: etree._Element | None, name: str) -> str | None:
    """The text of a child element (None if absent or empty)."""
    return None if el is None else _text(el, _Q + name)


def _text(el: etree._Element, tag: str) -> str | None:
    """text_of with the tag qualified: the first child of that tag (a loop over the few children
    of an element costs less than `findtext`)."""
    for child in el:
        if child.tag == tag:
            return child.text or None
    return None


def _children(el: etree._Element) -> dict:
    """A bilan's children by tag. The schema allows each tag once at most; of a repeated one (in
    a file it refuses) the first is kept, as `find` would."""
    return {child.tag: child for child in reversed(el)}


def periodique_key(periode: dict) -> str:
    return f"P#{periode['millesime']}#{periode['nb_periodes']}#{periode['indice']}"


def cycle_key(cycle: str, millesime: str) -> str:
    return f"C#{cycle}#{millesime}"


KIND_LABELS = {
    "eleve": "un élève", "periode": "une période", "discipline": "une discipline",
    "enseignant": "un enseignant", "element-programme": "un élément de programme",
    "responsable-etab": "un responsable de l'établissement",
    "competences-numeriques-commun": "une appréciation commune de compétences numériques",
    "epi": "un EPI", "acc-perso": "un accompagnement personnalisé", "epi-groupe": "un groupe d'EPI",
    "acc-perso-groupe": "un groupe d'accompagnement personnalisé",
}


class InvalidFile(Exception):
    """Something wrong in the file itself, found by the builders (never a bug of ours)."""

    def __init__(self, el: etree._Element, detail: str):
        super().__init__(detail)
        self.element, self.line = etree.QName(el).localname, el.sourceline


class SchemaViolation(InvalidFile):
    """An attribute or a child the schema requires (and the builders read) is missing, or a number
    is not one: the schema refuses the file, possibly after this element's "end" event."""


class InvalidReference(InvalidFile):
    """An IDREF the XSD accepts (it does not type them) that points at the wrong kind of element."""

    def __init__(self, el: etree._Element, attribute: str, value: str, kind: str):
        super().__init__(el, f"{attribute}={value}")
        self.attribute, self.value, self.kind = attribute, value, kind

    def message(self) -> dict:
        return catalogue.message(
            "REFERENCE_INVALIDE",
            f"Ligne {self.line}, élément « {self.element} », attribut « {self.attribute} » : "
            f"« {self.value} » ne désigne pas {KIND_LABELS[self.kind]}.",
            ligne=self.line, element=self.element)


class DuplicateId(InvalidFile):
    """Two definitions with one id (xs:ID): the schema refuses it, but libxml2's streamed
    validation does not see it (only a validation of the whole tree does)."""

    def __init__(self, el: etree._Element, value: str):
        super().__init__(el, f"id={value}")
        self.value = value

    def message(self) -> dict:
        return catalogue.message(
            "XSD_INVALID",
            f"Ligne {self.line}, élément « {self.element} » : l'identifiant « {self.value} » est déjà celui "
            f"d'un autre élément du fichier (attribut id, de type xs:ID).",
            ligne=self.line, element=self.element)


def required(el: etree._Element, attribute: str) -> str:
    """An attribute the schema requires."""
    value = el.get(attribute)
    if value is None:
        raise SchemaViolation(el, f"attribut {attribute} absent")
    return value


def required_child(el: etree._Element, children: dict, tag: str) -> etree._Element:
    """A child the schema requires, given `el`'s `_children` (`tag` qualified)."""
    child = children.get(tag)
    if child is None:
        raise SchemaViolation(el, f"élément {tag.removeprefix(_Q)} absent")
    return child


def integer(el: etree._Element, attribute: str, value: str) -> int:
    """An attribute the schema types as an integer: xs:int at most (the others here are narrower)."""
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not -2**31 <= number < 2**31:
        raise SchemaViolation(el, f"attribut {attribute} : « {value} » n'est pas un entier (xs:int)")
    return number


# What the builders read of each shared definition, all required by the schema: checked once, when
# the definition is indexed, so that reading it later cannot fail.
_REQUIRED = {
    "responsable-etab": ("id", "libelle"), "periode": ("id", "millesime", "indice", "nb-periodes"),
    "element-programme": ("id", "libelle"), "eleve": ("id", "id-be", "code-division"),
    "epi": ("id", "thematique", "discipline-refs"), "acc-perso": ("id", "discipline-refs"),
    "epi-groupe": ("id", "epi-ref"), "acc-perso-groupe": ("id", "acc-perso-ref"),
}
_INTEGERS = {"periode": ("indice", "nb-periodes")}


@dataclass
class Index:
    """The document's shared definitions, by id and kind, resolved once per file."""
    by_id: dict[str, dict] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    communs_vie_scolaire: dict[tuple[str, str], str] = field(default_factory=dict)
    communs_parcours: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    public: dict[str, dict] = field(default_factory=dict)
    acquis_refs: dict[tuple, tuple] = field(default_factory=dict)

    def add(self, kind: str, d: dict, el: etree._Element) -> dict:
        if d["id"] in self.by_id:
            raise DuplicateId(el, d["id"])
        self.by_id[d["id"]] = d
        self.kinds[d["id"]] = kind
        return d

    def shown(self, d: dict | None) -> dict | None:
        """A definition as bilans carry it (without its document id), built once and shared. A
        discipline keeps its `id_lv`: with its code and modalité d'élection, it is the XSD's key
        of a discipline (`disciplineConstraint`), the one thing telling apart two acquis of one code
        and one modalité (merge.acquis_keys)."""
        if d is None:
            return None
        key = d["id"]
        if key not in self.public:
            self.public[key] = {k: v for k, v in d.items() if k != "id"}
        return self.public[key]

    def ref(self, kind: str, el: etree._Element, attribute: str) -> dict | None:
        """The definition `el@attribute` points at; it must be of the expected kind."""
        return self.definition(kind, el, attribute, el.get(attribute))

    def required_ref(self, kind: str, el: etree._Element, attribute: str) -> dict:
        """`ref` of an attribute the schema requires."""
        return self.definition(kind, el, attribute, required(el, attribute))

    def definition(self, kind: str, el: etree._Element, attribute: str, value: str | None) -> dict | None:
        """`ref`, given the attribute's value."""
        if value is None:
            return None
        if self.kinds.get(value) != kind:
            raise InvalidReference(el, attribute, value, kind)
        return self.by_id[value]

    def refs(self, kind: str, el: etree._Element, attribute: str) -> list[dict]:
        """The definitions `el@attribute` (IDREFS) points at, in order; all of the expected kind."""
        return self.definitions(kind, el, attribute, el.get(attribute))

    def definitions(self, kind: str, el: etree._Element, attribute: str, value: str | None) -> list[dict]:
        """`refs`, given the attribute's value."""
        return [self.definition(kind, el, attribute, v) for v in value.split()] if value else []

    def shown_refs(self, kind: str, el: etree._Element, attribute: str) -> list[dict]:
        """[shown(d) for d in refs(…)]."""
        return [self.shown(d) for d in self.definitions(kind, el, attribute, el.get(attribute))]


def _definition(kind: str, el: etree._Element) -> dict:
    """attrs(el) of a shared definition, once what the bilans read of it is checked."""
    for attribute in _REQUIRED.get(kind, ("id",)):
        required(el, attribute)
    for attribute in _INTEGERS.get(kind, ()):
        integer(el, attribute, el.get(attribute))
    return attrs(el)


def build_index(donnees: etree._Element) -> Index:
    idx = Index()
    for kind in ("responsable-etab", "periode", "discipline", "enseignant", "element-programme",
                 "competences-numeriques-commun", "eleve"):
        for el in donnees.iter(q(kind)):
            d = _definition(kind, el)
            if kind == "competences-numeriques-commun":
                d["texte"] = el.text
            idx.add(kind, d, el)
    thematiques = {el.get("code"): attrs(el) for el in donnees.iter(q("epi-thematique"))}
    for kind in ("epi", "acc-perso"):
        for el in donnees.iter(q(kind)):
            d = _definition(kind, el)
            del d["discipline_refs"]
            if kind == "epi":
                d["thematique"] = thematiques.get(d["thematique"], {"code": d["thematique"]})
            d["disciplines"] = idx.shown_refs("discipline", el, "discipline-refs")
            d["description"] = text_of(el, "description")
            idx.add(kind, d, el)
    for kind, ref in (("epi-groupe", "epi-ref"), ("acc-perso-groupe", "acc-perso-ref")):
        for el in donnees.iter(q(kind)):
            d = _definition(kind, el)
            del d[ref.replace("-", "_")]
            parent = idx.ref(kind.removesuffix("-groupe"), el, ref)
            d["definition"] = {k: v for k, v in parent.items() if k != "id"}
            d["commentaire"] = text_of(el, "commentaire")
            d["enseignants_disciplines"] = [
                {"enseignant": idx.shown(idx.ref("enseignant", ed, "enseignant-ref")),
                 "discipline": idx.shown(idx.ref("discipline", ed, "discipline-ref"))}
                for ed in el.iter(q("enseignant-discipline"))
            ]
            idx.add(kind, d, el)
    for el in donnees.iter(q("vie-scolaire-commun")):
        idx.ref("periode", el, "periode-ref")
        idx.communs_vie_scolaire[(el.get("periode-ref"), el.get("code-division"))] = text_of(el, "commentaire")
    for el in donnees.iter(q("parcours-commun")):
        idx.ref("periode", el, "periode-ref")
        idx.communs_parcours[(el.get("periode-ref"), el.get("code-division"))] = [
            {"code": p.get("code"), "texte": p.text} for p in el.iter(q("parcours"))]
    return idx


def _eleve(d: dict) -> dict:
    return {"id_be": d["id_be"], "nom": d.get("nom"), "prenom": d.get("prenom"),
            "division": d["code_division"]}


def _periode(d: dict) -> dict:
    return {"millesime": d["millesime"], "indice": int(d["indice"]), "nb_periodes": int(d["nb_periodes"])}


(_LISTE_ACQUIS, _COMPETENCES_NUMERIQUES, _EPIS, _ACC_PERSOS, _LISTE_PARCOURS, _MODALITES, _ACQUIS_CONSEILS,
 _DEVOIRS_FAITS, _VIE_SCOLAIRE, _SOCLE, _RESPONSABLES, _SYNTHESE, _ENSEIGNEMENT_COMPLEMENT, _LCR) = (
    q(n) for n in ("liste-acquis", "competences-numeriques", "epis-eleve", "acc-persos-eleve", "liste-parcours",
                   "modalites-accompagnement", "acquis-conseils", "devoirs-faits", "vie-scolaire", "socle",
                   "responsables", "synthese", "enseignement-complement", "langue-culture-regionale"))
(_APPRECIATION, _COMMENTAIRE, _ADRESSE, _PPRE, _CONTRAT, _APPRECIATION_NUM, _COMPETENCE_NUM) = (
    q(n) for n in ("appreciation", "commentaire", "adresse", "complement-ppre", "complement-contrat-reussite",
                   "appreciation-num", "competence-num"))


def _text_in(children: dict, tag: str) -> str | None:
    """text_of, given the element's `_children`."""
    child = children.get(tag)
    return None if child is None else child.text or None


def _responsables(container: etree._Element | None) -> list[dict]:
    out = []
    for r in (container if container is not None else ()):
        d = attrs(r)
        for child in r:
            if child.tag == _ADRESSE:
                d["adresse"] = attrs(child)
                break
        out.append(d)
    return out


# --- what a bilan carries beyond what the project models ----------------------------------------------
# A newer schema (LSU 12.0, 13.0 …) may give a bilan or an acquis an attribute or a child the builders
# do not read (13.0's annual averages, say): it is carried with its bilan, generically, under `autres`
# (a list, in document order: the element's attributes, then its children), so that nothing of a valid
# file is silently lost. A carried element is {"nom", "espace"?, "attributs"?, "texte"?, "enfants"?,
# "tronque"?}, a carried attribute {"nom", "espace"?, "attribut": true, "valeur", "tronque"?}; "espace"
# is the namespace where it is not LSU's. The file is hostile: depth, count and lengths are bounded
# (what is cut is marked `tronque`; a bilan that had more than the budget gets `autres_tronques`).
# A bilan with nothing extra gets no key: its JSON, and its fingerprint, stay what they were.

AUTRES_MAX_NODES = 64        # carried elements and attributes per bilan (its acquis included)
AUTRES_MAX_DEPTH = 4         # levels of nesting below a carried element
AUTRES_MAX_TEXT = 600        # characters of a text or an attribute value (LSU's own texts: 600 to 1500)
AUTRES_MAX_NAME = 100        # characters of a name
AUTRES_MAX_NAMESPACE = 200   # characters of a namespace

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"    # xsi:type, xsi:schemaLocation…: no data
_PERIODIQUE_ATTRIBUTES = frozenset(("eleve-ref", "periode-ref", "date-conseil-classe", "date-scolarite",
                                    "date-verrou", "responsable-etab-ref", "prof-princ-refs"))
_CYCLE_ATTRIBUTES = frozenset(("eleve-ref", "cycle", "millesime", "date-creation", "date-verrou",
                               "responsable-etab-ref", "prof-princ-refs"))
# An acquis' attributes: LSU 7.0's, and the annual average of a newer schema, all carried as they are
# (`moyenne-annuelle` → `moyenne_annuelle`, like `moyenne-eleve` → `moyenne_eleve`).
_ACQUIS_ATTRIBUTES = frozenset(("discipline-ref", "enseignant-refs", "element-programme-refs", "moyenne-eleve",
                                "moyenne-structure", "eleve-non-note", "structure-non-notee", "positionnement",
                                "moyenne-annuelle"))
_ACQUIS_READ = _ACQUIS_ATTRIBUTES - {"discipline-ref", "enseignant-refs", "element-programme-refs"}
_ACQUIS_READ_NAMES = frozenset(name.replace("-", "_") for name in _ACQUIS_READ)
_ACQUIS_CHILDREN = frozenset((q("appreciation"),))
_PERIODIQUE_CHILDREN = frozenset(q(n) for n in (
    "liste-acquis", "competences-numeriques", "epis-eleve", "acc-persos-eleve", "liste-parcours",
    "modalites-accompagnement", "acquis-conseils", "devoirs-faits", "vie-scolaire", "socle", "responsables"))
_CYCLE_CHILDREN = frozenset(q(n) for n in (
    "socle", "synthese", "enseignement-complement", "responsables", "langue-culture-regionale"))


class _Budget:
    """What is left of a bilan's AUTRES_MAX_NODES."""
    __slots__ = ("left", "exceeded")

    def __init__(self):
        self.left, self.exceeded = AUTRES_MAX_NODES, False

    def take(self) -> bool:
        if self.left <= 0:
            self.exceeded = True
            return False
        self.left -= 1
        return True


def _unknown_children(el: etree._Element, known: frozenset, first: bool = False) -> list:
    """`el`'s children the builder does not read: of an unknown tag, or (`first`) a known one
    repeated — the builders read the first of each, as `_children` and `_text` do."""
    seen, out = set(), []
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag not in known or (first and tag in seen):
            out.append(child)
        seen.add(tag)
    return out


def _cut(text: str, limit: int, node: dict) -> str:
    if len(text) <= limit:
        return text
    node["tronque"] = True
    return text[: limit - 1] + "…"


def _name(clark: str, node: dict) -> tuple[str, str | None]:
    """The local name and the namespace (None: none, or LSU's) of a Clark name, bounded (a cut
    marks `node`)."""
    if clark[:1] == "{":
        namespace, _, local = clark[1:].partition("}")
    else:
        namespace, local = "", clark
    namespace = _cut(namespace, AUTRES_MAX_NAMESPACE, node) if namespace and namespace != NS else None
    return _cut(local, AUTRES_MAX_NAME, node), namespace


def _carried_attribute(clark: str, value: str) -> dict:
    node: dict = {}
    local, namespace = _name(clark, node)
    node["nom"] = local
    if namespace is not None:
        node["espace"] = namespace
    node["attribut"] = True
    node["valeur"] = _cut(value, AUTRES_MAX_TEXT, node)
    return node


def _carried_element(el: etree._Element, depth: int, budget: _Budget) -> dict:
    """An element as generic data (its own node of the budget already taken), within the bounds."""
    node: dict = {}
    local, namespace = _name(el.tag, node)
    node["nom"] = local
    if namespace is not None:
        node["espace"] = namespace
    attributes = {}
    for clark, value in el.items():
        if clark.startswith(_XSI):
            continue
        if not budget.take():
            node["tronque"] = True
            break
        name, space = _name(clark, node)
        attributes[name if space is None else f"{{{space}}}{name}"] = _cut(value, AUTRES_MAX_TEXT, node)
    if attributes:
        node["attributs"] = attributes
    text = el.text
    if text and not text.isspace():
        node["texte"] = _cut(text, AUTRES_MAX_TEXT, node)
    children = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if depth >= AUTRES_MAX_DEPTH or not budget.take():
            node["tronque"] = True
            break
        children.append(_carried_element(child, depth + 1, budget))
    if children:
        node["enfants"] = children
    return node


def _carry_extra(into: dict, el: etree._Element, known_attributes: frozenset, children, budget: _Budget) -> None:
    """`into["autres"]`: `el`'s attributes not in `known_attributes`, then `children` (its children the
    builder does not read), as generic data; no key if there is none."""
    out = []
    for name, value in el.items():
        if name in known_attributes or name.startswith(_XSI):
            continue
        if not budget.take():
            break
        out.append(_carried_attribute(name, value))
    for child in children:
        if not budget.take():
            break
        out.append(_carried_element(child, 0, budget))
    if out:
        into["autres"] = out
    if budget.exceeded:
        into["autres_tronques"] = True


def _acquis(el: etree._Element, idx: Index, budget: _Budget) -> dict:
    rest = attrs(el)                 # the schema allows an acquis these three references, no other
    refs = rest.pop("discipline_ref", None), rest.pop("enseignant_refs", None), rest.pop("element_programme_refs", None)
    discipline, enseignants, elements = idx.acquis_refs.get(refs) or _acquis_refs(el, idx, refs)
    appreciation, extra = None, False
    count = len(el)                  # an appreciation at most (LSU 7.0), more in a newer schema
    if count == 1:
        child = el[0]
        if child.tag == _APPRECIATION:
            appreciation = child.text or None
        else:
            extra = True
    elif count:
        appreciation, extra = _text(el, _APPRECIATION), True
    if extra or not rest.keys() <= _ACQUIS_READ_NAMES:
        extra = True                 # what the builder reads, by name (not by Python name)
        rest = {_python_name(k): v for k, v in el.items() if k in _ACQUIS_READ}
    acquis = {
        "discipline": discipline,
        "enseignants": list(enseignants),
        "elements_programme": list(elements),
        "appreciation": appreciation,
        **rest,
    }
    if extra:
        _carry_extra(acquis, el, _ACQUIS_ATTRIBUTES, _unknown_children(el, _ACQUIS_CHILDREN, first=True), budget)
    return acquis


def _acquis_refs(el: etree._Element, idx: Index, refs: tuple) -> tuple:
    """An acquis' references resolved (checked in this order), once per file for each distinct
    (discipline-ref, enseignant-refs, element-programme-refs): a wrong one is not kept, so each
    acquis that holds it raises."""
    discipline, enseignants, elements = refs
    resolved = idx.acquis_refs[refs] = (
        idx.shown(idx.definition("discipline", el, "discipline-ref", discipline)),
        tuple(idx.shown(e) for e in idx.definitions("enseignant", el, "enseignant-refs", enseignants)),
        tuple(e["libelle"] for e in idx.definitions("element-programme", el, "element-programme-refs", elements)),
    )
    return resolved


def _groups(box: etree._Element | None, kind: str, idx: Index) -> list[dict]:
    out = []
    attribute = f"{kind}-ref"
    for item in (box if box is not None else ()):
        groupe = dict(idx.required_ref(kind, item, attribute))
        groupe.pop("id", None)
        groupe["commentaire_eleve"] = _text(item, _COMMENTAIRE)
        out.append(groupe)
    return out


def bilan_periodique(el: etree._Element, idx: Index) -> dict:
    children = _children(el)
    budget = _Budget()
    eleve = idx.required_ref("eleve", el, "eleve-ref")
    periode = idx.required_ref("periode", el, "periode-ref")
    communs = (periode["id"], eleve["code_division"])
    vs = children.get(_VIE_SCOLAIRE)
    vie_scolaire = None   # absent from a Sconet Notes partial bilan: completed in LSU
    if vs is not None:
        vie_scolaire = {_python_name(k): integer(vs, k, v) for k, v in vs.items()}
        vie_scolaire["commentaire"] = _text(vs, _COMMENTAIRE)
    comp = children.get(_COMPETENCES_NUMERIQUES)
    box = children.get
    bilan = {
        "type": "periodique",
        "ligne": el.sourceline,
        "eleve": _eleve(eleve),
        "periode": _periode(periode),
        "date_conseil_classe": required(el, "date-conseil-classe"),
        "date_scolarite": required(el, "date-scolarite"),
        "date_verrou": el.get("date-verrou"),
        "responsable_etab": idx.required_ref("responsable-etab", el, "responsable-etab-ref")["libelle"],
        "profs_principaux": idx.shown_refs("enseignant", el, "prof-princ-refs"),
        "acquis": [_acquis(a, idx, budget) for a in required_child(el, children, _LISTE_ACQUIS)],
        "epis": _groups(box(_EPIS), "epi-groupe", idx),
        "acc_persos": _groups(box(_ACC_PERSOS), "acc-perso-groupe", idx),
        "parcours": [{"code": p.get("code"), "texte": p.text} for p in box(_LISTE_PARCOURS, ())],
        "parcours_communs": idx.communs_parcours.get(communs, []),
        "modalites_accompagnement": [
            {"code": m.get("code"), "complement_ppre": _text(m, _PPRE),
             "complement_contrat_reussite": _text(m, _CONTRAT)}
            for m in box(_MODALITES, ())
        ],
        "acquis_conseils": _text_in(children, _ACQUIS_CONSEILS),
        "devoirs_faits": _text_in(children, _DEVOIRS_FAITS),
        "vie_scolaire": vie_scolaire,
        "vie_scolaire_commun": idx.communs_vie_scolaire.get(communs),
        "socle": [attrs(s) for s in box(_SOCLE, ())],
        "responsables": _responsables(box(_RESPONSABLES)),
    }
    if comp is not None:
        bilan["competences_numeriques"] = {
            "appreciation": _text(comp, _APPRECIATION_NUM),
            "communs": [c.get("texte") for c in idx.refs("competences-numeriques-commun", comp, "comp-num-commun-refs")],
            "competences": [attrs(c) for c in comp.iter(_COMPETENCE_NUM)],
        }
    bilan["cle"] = periodique_key(bilan["periode"])
    if not _PERIODIQUE_CHILDREN.issuperset(children) or not _PERIODIQUE_ATTRIBUTES.issuperset(el.keys()):
        _carry_extra(bilan, el, _PERIODIQUE_ATTRIBUTES, _unknown_children(el, _PERIODIQUE_CHILDREN), budget)
    return bilan


def bilan_cycle(el: etree._Element, idx: Index) -> dict:
    children = _children(el)
    eleve = idx.required_ref("eleve", el, "eleve-ref")
    cycle, millesime = required(el, "cycle"), required(el, "millesime")
    ens, lcr = children.get(_ENSEIGNEMENT_COMPLEMENT), children.get(_LCR)
    bilan = {
        "type": "cycle",
        "cle": cycle_key(cycle, millesime),
        "ligne": el.sourceline,
        "eleve": _eleve(eleve),
        "cycle": integer(el, "cycle", cycle),
        "millesime": millesime,
        "date_creation": required(el, "date-creation"),
        "date_verrou": el.get("date-verrou"),
        "responsable_etab": idx.required_ref("responsable-etab", el, "responsable-etab-ref")["libelle"],
        "profs_principaux": idx.shown_refs("enseignant", el, "prof-princ-refs"),
        "socle": [attrs(s) for s in required_child(el, children, _SOCLE)],
        "synthese": _text_in(children, _SYNTHESE),
        "enseignement_complement": attrs(ens) if ens is not None else None,
        "langue_culture_regionale": attrs(lcr) if lcr is not None else None,
        "responsables": _responsables(children.get(_RESPONSABLES)),
    }
    if not _CYCLE_CHILDREN.issuperset(children) or not _CYCLE_ATTRIBUTES.issuperset(el.keys()):
        _carry_extra(bilan, el, _CYCLE_ATTRIBUTES, _unknown_children(el, _CYCLE_CHILDREN), _Budget())
    return bilan


def split_bilans(root: etree._Element) -> Iterator[dict]:
    """Every bilan of a valid document, in document order, self-contained."""
    donnees = root.find(q("donnees"))
    idx = build_index(donnees)
    for el in donnees.iterchildren(q("bilans-periodiques")):
        for b in el.iterchildren(q("bilan-periodique")):
            yield bilan_periodique(b, idx)
    for el in donnees.iterchildren(q("bilans-cycle")):
        for b in el.iterchildren(q("bilan-cycle")):
            yield bilan_cycle(b, idx)
