"""Split a valid LSU document into self-contained bilans: each one carries everything a worker
needs (élève, période or cycle, disciplines, enseignants, éléments de programme, EPI/AP groups,
parcours and vie scolaire communs it references — resolved). Pure: an element tree in, dicts out.

Two forms of the same bilan: `bilan_periodique` / `bilan_cycle` build it as dicts (the reference:
`split_bilans`, the tests, infra/capacite.py); `bilan_periodique_json` / `bilan_cycle_json` write
its JSON directly — what the splitter sends — from fragments of the shared definitions encoded once
per file. They give exactly `encode(bilan_…(el, idx))`, byte for byte, with the same references
checked in the same order (tests/unit/test_stream.py compares them on every generated file)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Iterator

from lxml import etree

from chalicelib.domain import catalogue
from chalicelib.pipeline.split.file_checks import NS

_Q = f"{{{NS}}}"


def q(name: str) -> str:
    return _Q + name


# The JSON encoding of bilans: plain dicts and lists (shared definitions, no cycles).
encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


_NAMES: dict[str, str] = {}


def attrs(el: etree._Element) -> dict:
    """Attributes with Python-friendly names (`nb-periodes` → `nb_periodes`)."""
    names = _NAMES
    return {names.get(k) or names.setdefault(k, k.replace("-", "_")): v for k, v in el.items()}


def text_of(el: etree._Element | None, name: str) -> str | None:
    """The text of a child element (None if absent or empty)."""
    if el is None:
        return None
    return el.findtext(_Q + name) or None


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


class InvalidReference(ValueError):
    """An IDREF the XSD accepts (it does not type them) that points at the wrong kind of element."""

    def __init__(self, el: etree._Element, attribute: str, value: str, kind: str):
        super().__init__(f"{attribute}={value}")
        self.element, self.attribute, self.value, self.kind = etree.QName(el).localname, attribute, value, kind
        self.line = el.sourceline

    def message(self) -> dict:
        return catalogue.message(
            "REFERENCE_INVALIDE",
            f"Ligne {self.line}, élément « {self.element} », attribut « {self.attribute} » : "
            f"« {self.value} » ne désigne pas {KIND_LABELS[self.kind]}.",
            ligne=self.line, element=self.element)


class DuplicateId(ValueError):
    """Two definitions with one id (xs:ID): the schema refuses it, but libxml2's streamed
    validation does not see it (only a validation of the whole tree does)."""

    def __init__(self, el: etree._Element, value: str):
        super().__init__(f"id={value}")
        self.element, self.value, self.line = etree.QName(el).localname, value, el.sourceline

    def message(self) -> dict:
        return catalogue.message(
            "XSD_INVALID",
            f"Ligne {self.line}, élément « {self.element} » : l'identifiant « {self.value} » est déjà celui "
            f"d'un autre élément du fichier (attribut id, de type xs:ID).",
            ligne=self.line, element=self.element)


@dataclass
class Index:
    """The document's shared definitions, by id and kind, resolved once per file."""
    by_id: dict[str, dict] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    communs_vie_scolaire: dict[tuple[str, str], str] = field(default_factory=dict)
    communs_parcours: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    public: dict[str, dict] = field(default_factory=dict)
    # The definitions' JSON fragments, for bilan_…_json (built on first use).
    json_fragments: object = field(default=None, repr=False, compare=False)

    def add(self, kind: str, d: dict, el: etree._Element) -> dict:
        if d["id"] in self.by_id:
            raise DuplicateId(el, d["id"])
        self.by_id[d["id"]] = d
        self.kinds[d["id"]] = kind
        return d

    def shown(self, d: dict | None) -> dict | None:
        """A definition as bilans carry it (without document ids), built once and shared."""
        if d is None:
            return None
        key = d["id"]
        if key not in self.public:
            self.public[key] = {k: v for k, v in d.items() if k not in ("id", "id_lv")}
        return self.public[key]

    def ref(self, kind: str, el: etree._Element, attribute: str) -> dict | None:
        """The definition `el@attribute` points at; it must be of the expected kind."""
        value = el.get(attribute)
        if value is None:
            return None
        if self.kinds.get(value) != kind:
            raise InvalidReference(el, attribute, value, kind)
        return self.by_id[value]

    def refs(self, kind: str, el: etree._Element, attribute: str) -> list[dict]:
        out = []
        for value in (el.get(attribute) or "").split():
            if self.kinds.get(value) != kind:
                raise InvalidReference(el, attribute, value, kind)
            out.append(self.by_id[value])
        return out


def build_index(donnees: etree._Element) -> Index:
    idx = Index()
    for kind in ("responsable-etab", "periode", "discipline", "enseignant", "element-programme",
                 "competences-numeriques-commun", "eleve"):
        for el in donnees.iter(q(kind)):
            d = attrs(el)
            if kind == "competences-numeriques-commun":
                d["texte"] = el.text
            idx.add(kind, d, el)
    thematiques = {el.get("code"): attrs(el) for el in donnees.iter(q("epi-thematique"))}
    for kind in ("epi", "acc-perso"):
        for el in donnees.iter(q(kind)):
            d = attrs(el)
            del d["discipline_refs"]
            if kind == "epi":
                d["thematique"] = thematiques.get(d["thematique"], {"code": d["thematique"]})
            d["disciplines"] = [idx.shown(x) for x in idx.refs("discipline", el, "discipline-refs")]
            d["description"] = text_of(el, "description")
            idx.add(kind, d, el)
    for kind, ref in (("epi-groupe", "epi-ref"), ("acc-perso-groupe", "acc-perso-ref")):
        for el in donnees.iter(q(kind)):
            d = attrs(el)
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


def _responsables(el: etree._Element) -> list[dict]:
    out = []
    container = el.find(q("responsables"))
    for r in (container if container is not None else []):
        d = attrs(r)
        adresse = r.find(q("adresse"))
        if adresse is not None:
            d["adresse"] = attrs(adresse)
        out.append(d)
    return out


def _acquis(el: etree._Element, idx: Index) -> dict:
    d = {k: v for k, v in attrs(el).items() if not k.endswith(("_ref", "_refs"))}
    return {
        "discipline": idx.shown(idx.ref("discipline", el, "discipline-ref")),
        "enseignants": [idx.shown(e) for e in idx.refs("enseignant", el, "enseignant-refs")],
        "elements_programme": [e["libelle"] for e in idx.refs("element-programme", el, "element-programme-refs")],
        "appreciation": text_of(el, "appreciation"),
        **d,
    }


def _groups(el: etree._Element, container: str, kind: str, idx: Index) -> list[dict]:
    out = []
    box = el.find(q(container))
    for item in (box if box is not None else []):
        groupe = dict(idx.ref(kind, item, f"{kind}-ref"))
        groupe.pop("id", None)
        groupe["commentaire_eleve"] = text_of(item, "commentaire")
        out.append(groupe)
    return out


def bilan_periodique(el: etree._Element, idx: Index) -> dict:
    d = attrs(el)
    eleve = idx.ref("eleve", el, "eleve-ref")
    periode = idx.ref("periode", el, "periode-ref")
    division = eleve.get("code_division")
    vs = el.find(q("vie-scolaire"))
    vie_scolaire = None   # absent from a Sconet Notes partial bilan: completed in LSU
    if vs is not None:
        vie_scolaire = {k: int(v) for k, v in attrs(vs).items()}
        vie_scolaire["commentaire"] = text_of(vs, "commentaire")
    comp = el.find(q("competences-numeriques"))
    bilan = {
        "type": "periodique",
        "ligne": el.sourceline,
        "eleve": _eleve(eleve),
        "periode": _periode(periode),
        "date_conseil_classe": d["date_conseil_classe"],
        "date_scolarite": d["date_scolarite"],
        "date_verrou": d.get("date_verrou"),
        "responsable_etab": idx.ref("responsable-etab", el, "responsable-etab-ref")["libelle"],
        "profs_principaux": [idx.shown(e) for e in idx.refs("enseignant", el, "prof-princ-refs")],
        "acquis": [_acquis(a, idx) for a in el.find(q("liste-acquis"))],
        "epis": _groups(el, "epis-eleve", "epi-groupe", idx),
        "acc_persos": _groups(el, "acc-persos-eleve", "acc-perso-groupe", idx),
        "parcours": [{"code": p.get("code"), "texte": p.text}
                     for box in el.iterchildren(q("liste-parcours")) for p in box],
        "parcours_communs": idx.communs_parcours.get((d["periode_ref"], division), []),
        "modalites_accompagnement": [
            {"code": m.get("code"), "complement_ppre": text_of(m, "complement-ppre"),
             "complement_contrat_reussite": text_of(m, "complement-contrat-reussite")}
            for box in el.iterchildren(q("modalites-accompagnement")) for m in box
        ],
        "acquis_conseils": text_of(el, "acquis-conseils"),
        "devoirs_faits": text_of(el, "devoirs-faits"),
        "vie_scolaire": vie_scolaire,
        "vie_scolaire_commun": idx.communs_vie_scolaire.get((d["periode_ref"], division)),
        "socle": [attrs(s) for box in el.iterchildren(q("socle")) for s in box],
        "responsables": _responsables(el),
    }
    if comp is not None:
        bilan["competences_numeriques"] = {
            "appreciation": text_of(comp, "appreciation-num"),
            "communs": [c.get("texte") for c in idx.refs("competences-numeriques-commun", comp, "comp-num-commun-refs")],
            "competences": [attrs(c) for c in comp.iter(q("competence-num"))],
        }
    bilan["cle"] = periodique_key(bilan["periode"])
    return bilan


def bilan_cycle(el: etree._Element, idx: Index) -> dict:
    d = attrs(el)
    eleve = idx.ref("eleve", el, "eleve-ref")
    ens = el.find(q("enseignement-complement"))
    lcr = el.find(q("langue-culture-regionale"))
    return {
        "type": "cycle",
        "cle": cycle_key(d["cycle"], d["millesime"]),
        "ligne": el.sourceline,
        "eleve": _eleve(eleve),
        "cycle": int(d["cycle"]),
        "millesime": d["millesime"],
        "date_creation": d["date_creation"],
        "date_verrou": d.get("date_verrou"),
        "responsable_etab": idx.ref("responsable-etab", el, "responsable-etab-ref")["libelle"],
        "profs_principaux": [idx.shown(e) for e in idx.refs("enseignant", el, "prof-princ-refs")],
        "socle": [attrs(s) for s in el.find(q("socle"))],
        "synthese": text_of(el, "synthese"),
        "enseignement_complement": attrs(ens) if ens is not None else None,
        "langue_culture_regionale": attrs(lcr) if lcr is not None else None,
        "responsables": _responsables(el),
    }


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


# --- the same bilans, written as JSON directly ---------------------------------------------------
# Each function mirrors its dict twin above: same keys in the same order, same values, the same
# references resolved in the same order (hence the same InvalidReference for a wrong one).

def _s(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _int(value: int | None) -> str:
    return "null" if value is None else repr(value)


_KEYS: dict[str, str] = {}          # attribute name → '"python_name":'


def _key(name: str) -> str:
    key = _KEYS.get(name)
    if key is None:
        if len(_KEYS) > 4096:          # bounded in a warm process, whatever the files
            _KEYS.clear()
        key = _KEYS[name] = encode_basestring(name.replace("-", "_")) + ":"
    return key


def _is_ref(name: str) -> bool:
    """Left out of an acquis, as in _acquis (`…_ref`, `…_refs`)."""
    return name.replace("-", "_").endswith(("_ref", "_refs"))


def _attrs_json(el: etree._Element) -> str:
    """encode(attrs(el))."""
    keys = _KEYS
    return "{" + ",".join([(keys.get(k) or _key(k)) + encode_basestring(v) for k, v in el.items()]) + "}"


def _text(el: etree._Element | None) -> str:
    """The JSON of text_of(parent, name), given the child `find` gives (or None)."""
    return "null" if el is None else _s(el.text or None)


def _first_text(el: etree._Element, tag: str) -> str:
    """The JSON of text_of(el, name) (tag = q(name)). A loop over the children costs less than
    `findtext` or `iterchildren(tag)` for the few children an element has here."""
    for c in el:
        if c.tag == tag:
            text = c.text
            return encode_basestring(text) if text else "null"
    return "null"


def _attrs_json_shared(el: etree._Element, cache: dict) -> str:
    """_attrs_json for elements whose attributes repeat across bilans (domaines, compétences)."""
    items = tuple(el.items())
    f = cache.get(items)
    if f is None:
        f = cache[items] = _attrs_json(el)
    return f


class _Fragments:
    """JSON fragments of one Index's definitions, each encoded on first use (where its dict twin
    reads the definition), then shared by every bilan of the file."""

    def __init__(self, idx: Index):
        self.idx = idx
        self.shown: dict[str, str] = {}                    # discipline, enseignant: encode(idx.shown(d))
        self.eleve: dict[str, tuple[str, str | None]] = {}  # encode(_eleve(d)), its division
        self.periode: dict[str, tuple[str, str]] = {}      # encode(_periode(d)), periodique_key
        self.libelle: dict[str, str] = {}                  # responsable-etab, element-programme
        self.texte: dict[str, str] = {}                    # competences-numeriques-commun
        self.groupe: dict[str, str] = {}                   # epi/acc-perso groupe without its last "}"
        self.communs: dict[tuple, tuple[str, str]] = {}    # (période, division): parcours, vie scolaire
        self.acquis: dict[tuple, _AcquisShape] = {}        # by attribute names
        self.attrs: dict[tuple, str] = {}                  # encode(attrs(el)) by el.items()
        self.vie_scolaire: dict[tuple, str] = {}           # its counters, by el.items()

    def shown_of(self, d: dict) -> str:
        return encode(self.idx.shown(d))


def fragments(idx: Index) -> _Fragments:
    frag = idx.json_fragments
    if frag is None:
        frag = idx.json_fragments = _Fragments(idx)
    return frag


def _ref_id(idx: Index, kind: str, el: etree._Element, attribute: str, missing: str) -> str:
    """The id `el@attribute` names, checked as Index.ref does. Absent, its dict twin fails on
    None (TypeError) — so does this."""
    value = el.get(attribute)
    if value is None:
        raise TypeError(f"{attribute} absent ({missing})")
    if idx.kinds.get(value) != kind:
        raise InvalidReference(el, attribute, value, kind)
    return value


def _refs_json(frag: _Fragments, kind: str, el: etree._Element, attribute: str, value: str | None,
               cache: dict, make) -> str:
    """The JSON list of make(definition) for every id of `value` (= el@attribute), checked as
    Index.refs does."""
    if not value:
        return "[]"
    kinds = frag.idx.kinds
    out = []
    for v in value.split():
        if kinds.get(v) != kind:
            raise InvalidReference(el, attribute, v, kind)
        f = cache.get(v)
        if f is None:
            f = cache[v] = make(frag.idx.by_id[v])
        out.append(f)
    return "[" + ",".join(out) + "]"


def _libelle_json(d: dict) -> str:
    return _s(d["libelle"])


def _texte_json(d: dict) -> str:
    return _s(d.get("texte"))


def _responsable_etab_json(frag: _Fragments, el: etree._Element) -> str:
    value = _ref_id(frag.idx, "responsable-etab", el, "responsable-etab-ref", "None['libelle']")
    f = frag.libelle.get(value)
    if f is None:
        f = frag.libelle[value] = _s(frag.idx.by_id[value]["libelle"])
    return f


def _eleve_json(frag: _Fragments, el: etree._Element) -> tuple[str, str | None]:
    """(encode(_eleve(d)), the division) of the élève `el` names (most are seen once or twice)."""
    value = _ref_id(frag.idx, "eleve", el, "eleve-ref", "_eleve(None)")
    f = frag.eleve.get(value)
    if f is None:
        d = frag.idx.by_id[value]
        division = d["code_division"]
        f = frag.eleve[value] = (f'{{"id_be":{_s(d["id_be"])},"nom":{_s(d.get("nom"))},'
                                 f'"prenom":{_s(d.get("prenom"))},"division":{_s(division)}}}', division)
    return f


def _picker(positions: list[int]):
    """A function giving the tuple of the values at `positions` of a list."""
    if not positions:
        return lambda values: ()
    if len(positions) == 1:
        i = positions[0]
        return lambda values: (values[i],)
    return itemgetter(*positions)


class _AcquisShape:
    """How to write the acquis whose attributes have these names, in this order: which are the
    references (and the prefix they resolve to, cached by their values) and how to write the rest
    (`**d` in _acquis: the other attributes, in document order)."""

    __slots__ = ("names", "refs", "rest", "rest_format", "prefixes")

    def __init__(self, names: tuple[str, ...]):
        refs = [_is_ref(n) for n in names]
        self.names = [n for n, ref in zip(names, refs) if ref]
        self.refs = _picker([i for i, ref in enumerate(refs) if ref])
        self.rest = _picker([i for i, ref in enumerate(refs) if not ref])
        self.rest_format = "".join("," + _key(n).replace("%", "%%") + "%s" for n, ref in zip(names, refs) if not ref)
        self.prefixes: dict[tuple, str] = {}

    def prefix(self, a: etree._Element, values: tuple, frag: _Fragments) -> str:
        """'{"discipline":…,"enseignants":[…],"elements_programme":[…],"appreciation":' — the
        references checked (in _acquis's order) the first time these values are seen."""
        refs = dict(zip(self.names, values))
        discipline = "null"
        value = refs.get("discipline-ref")
        if value is not None:
            if frag.idx.kinds.get(value) != "discipline":
                raise InvalidReference(a, "discipline-ref", value, "discipline")
            discipline = frag.shown.get(value)
            if discipline is None:
                discipline = frag.shown[value] = frag.shown_of(frag.idx.by_id[value])
        enseignants = _refs_json(frag, "enseignant", a, "enseignant-refs", refs.get("enseignant-refs"),
                                 frag.shown, frag.shown_of)
        elements = _refs_json(frag, "element-programme", a, "element-programme-refs",
                              refs.get("element-programme-refs"), frag.libelle, _libelle_json)
        prefix = self.prefixes[values] = (f'{{"discipline":{discipline},"enseignants":{enseignants},'
                                          f'"elements_programme":{elements},"appreciation":')
        return prefix


def _groups_json(box: etree._Element | None, kind: str, frag: _Fragments) -> str:
    if box is None:
        return "[]"
    idx, cache, attribute = frag.idx, frag.groupe, f"{kind}-ref"
    out = []
    for item in box:
        value = _ref_id(idx, kind, item, attribute, "dict(None)")
        prefix = cache.get(value)
        if prefix is None:
            groupe = dict(idx.by_id[value])
            groupe.pop("id", None)
            prefix = cache[value] = encode(groupe)[:-1] + ("," if groupe else "")
        out.append(f'{prefix}"commentaire_eleve":{_first_text(item, _COMMENTAIRE)}}}')
    return "[" + ",".join(out) + "]"


def _responsables_json(container: etree._Element | None) -> str:
    if container is None:
        return "[]"
    out = []
    for r in container:
        body = _attrs_json(r)
        for c in r:
            if c.tag == _ADRESSE:
                body = body[:-1] + ("," if len(body) > 2 else "") + '"adresse":' + _attrs_json(c) + "}"
                break
        out.append(body)
    return "[" + ",".join(out) + "]"


_COMMENTAIRE, _ADRESSE = q("commentaire"), q("adresse")
_PPRE, _CONTRAT = q("complement-ppre"), q("complement-contrat-reussite")
_COMPETENCE_NUM, _APPRECIATION_NUM = q("competence-num"), q("appreciation-num")
(_LISTE_ACQUIS, _EPIS, _ACC_PERSOS, _ACQUIS_CONSEILS, _DEVOIRS_FAITS, _VIE_SCOLAIRE, _COMPETENCES_NUMERIQUES,
 _RESPONSABLES, _LISTE_PARCOURS, _MODALITES, _SOCLE) = (
    q(n) for n in ("liste-acquis", "epis-eleve", "acc-persos-eleve", "acquis-conseils", "devoirs-faits",
                   "vie-scolaire", "competences-numeriques", "responsables", "liste-parcours",
                   "modalites-accompagnement", "socle"))


def _children(el: etree._Element) -> dict:
    """The first child of each tag (what `find` and `text_of` read). A tag twice among a bilan's
    children happens only in a file the schema refuses; it is handled the same all the same."""
    kids = {c.tag: c for c in el}
    if len(kids) != len(el):
        kids = {c.tag: c for c in reversed(el)}
        kids[None] = True                       # marks duplicates, for _every
    return kids


def _every(el: etree._Element, kids: dict, tag: str) -> list:
    """All the children of a tag (what `iterchildren(tag)` gives)."""
    if None in kids:
        return [c for c in el if c.tag == tag]
    c = kids.get(tag)
    return [] if c is None else [c]
_SYNTHESE, _ENSEIGNEMENT_COMPLEMENT, _LCR = q("synthese"), q("enseignement-complement"), q("langue-culture-regionale")


def bilan_periodique_json(el: etree._Element, idx: Index) -> str:
    """encode(bilan_periodique(el, idx)), written directly."""
    frag = fragments(idx)
    kids = _children(el)
    get = el.get
    eleve, division = _eleve_json(frag, el)
    periode_ref = _ref_id(idx, "periode", el, "periode-ref", "_periode(None)")
    periode = frag.periode.get(periode_ref)
    if periode is None:
        p = _periode(idx.by_id[periode_ref])
        periode = frag.periode[periode_ref] = (encode(p), _s(periodique_key(p)))
    vie_scolaire = "null"
    vs = kids.get(_VIE_SCOLAIRE)
    if vs is not None:
        items = tuple(vs.items())
        counters = frag.vie_scolaire.get(items)
        if counters is None:
            counters = frag.vie_scolaire[items] = "{" + "".join([_key(k) + repr(int(v)) + "," for k, v in items])
        vie_scolaire = counters + '"commentaire":' + _first_text(vs, _COMMENTAIRE) + "}"
    date_conseil, date_scolarite = get("date-conseil-classe"), get("date-scolarite")
    if date_conseil is None or date_scolarite is None:
        raise KeyError("date_conseil_classe" if date_conseil is None else "date_scolarite")
    responsable = _responsable_etab_json(frag, el)
    profs = _refs_json(frag, "enseignant", el, "prof-princ-refs", get("prof-princ-refs"), frag.shown,
                       frag.shown_of)
    liste = kids.get(_LISTE_ACQUIS)
    if liste is None:
        raise TypeError("liste-acquis absent (iterating None)")
    shapes = frag.acquis
    acquis = []
    for a in liste:                              # as _acquis writes them (≈ 10 per bilan)
        names = tuple(a.keys())
        shape = shapes.get(names)
        if shape is None:
            shape = shapes[names] = _AcquisShape(names)
        values = a.values()
        refs = shape.refs(values)
        prefix = shape.prefixes.get(refs) or shape.prefix(a, refs, frag)
        text = a[0].text if len(a) else None      # the schema allows an acquis no other child
        acquis.append(prefix + (encode_basestring(text) if text else "null")
                      + shape.rest_format % tuple(map(encode_basestring, shape.rest(values))) + "}")
    acquis = ",".join(acquis)
    epis = _groups_json(kids.get(_EPIS), "epi-groupe", frag)
    acc_persos = _groups_json(kids.get(_ACC_PERSOS), "acc-perso-groupe", frag)
    parcours = modalites = socle = ""             # most bilans have none of these three
    if _LISTE_PARCOURS in kids or None in kids:
        parcours = ",".join([f'{{"code":{_s(p.get("code"))},"texte":{_s(p.text)}}}'
                             for box in _every(el, kids, _LISTE_PARCOURS) for p in box])
    communs = frag.communs.get((periode_ref, division))
    if communs is None:
        key = (periode_ref, division)
        communs = frag.communs[key] = (encode(idx.communs_parcours.get(key, [])),
                                       _s(idx.communs_vie_scolaire.get(key)))
    if _MODALITES in kids or None in kids:
        modalites = ",".join([f'{{"code":{_s(m.get("code"))},"complement_ppre":{_first_text(m, _PPRE)},'
                              f'"complement_contrat_reussite":{_first_text(m, _CONTRAT)}}}'
                              for box in _every(el, kids, _MODALITES) for m in box])
    shared = frag.attrs
    if _SOCLE in kids or None in kids:
        socle = ",".join([_attrs_json_shared(s, shared) for box in _every(el, kids, _SOCLE) for s in box])
    out = (f'{{"type":"periodique","ligne":{_int(el.sourceline)},"eleve":{eleve},"periode":{periode[0]},'
           f'"date_conseil_classe":{_s(date_conseil)},"date_scolarite":{_s(date_scolarite)},'
           f'"date_verrou":{_s(get("date-verrou"))},"responsable_etab":{responsable},'
           f'"profs_principaux":{profs},"acquis":[{acquis}],"epis":{epis},"acc_persos":{acc_persos},'
           f'"parcours":[{parcours}],"parcours_communs":{communs[0]},"modalites_accompagnement":[{modalites}],'
           f'"acquis_conseils":{_text(kids.get(_ACQUIS_CONSEILS))},'
           f'"devoirs_faits":{_text(kids.get(_DEVOIRS_FAITS))},"vie_scolaire":{vie_scolaire},'
           f'"vie_scolaire_commun":{communs[1]},"socle":[{socle}],'
           f'"responsables":{_responsables_json(kids.get(_RESPONSABLES))}')
    comp = kids.get(_COMPETENCES_NUMERIQUES)
    if comp is not None:
        communs_num = _refs_json(frag, "competences-numeriques-commun", comp, "comp-num-commun-refs",
                                 comp.get("comp-num-commun-refs"), frag.texte, _texte_json)
        competences = ",".join([_attrs_json_shared(c, shared) for c in comp.iter(_COMPETENCE_NUM)])
        out += (f',"competences_numeriques":{{"appreciation":{_first_text(comp, _APPRECIATION_NUM)},'
                f'"communs":{communs_num},"competences":[{competences}]}}')
    return f'{out},"cle":{periode[1]}}}'


def bilan_cycle_json(el: etree._Element, idx: Index) -> str:
    """encode(bilan_cycle(el, idx)), written directly."""
    frag = fragments(idx)
    kids = _children(el)
    get = el.get
    eleve, _division = _eleve_json(frag, el)
    cycle, millesime, date_creation = get("cycle"), get("millesime"), get("date-creation")
    if cycle is None or millesime is None or date_creation is None:
        raise KeyError("cycle, millesime or date_creation")
    cycle_number = int(cycle)
    responsable = _responsable_etab_json(frag, el)
    profs = _refs_json(frag, "enseignant", el, "prof-princ-refs", get("prof-princ-refs"), frag.shown,
                       frag.shown_of)
    socle = kids.get(_SOCLE)
    if socle is None:
        raise TypeError("socle absent (iterating None)")
    ens, lcr = kids.get(_ENSEIGNEMENT_COMPLEMENT), kids.get(_LCR)
    return (f'{{"type":"cycle","cle":{_s(cycle_key(cycle, millesime))},"ligne":{_int(el.sourceline)},'
            f'"eleve":{eleve},"cycle":{cycle_number!r},"millesime":{_s(millesime)},'
            f'"date_creation":{_s(date_creation)},"date_verrou":{_s(get("date-verrou"))},'
            f'"responsable_etab":{responsable},"profs_principaux":{profs},'
            f'"socle":[{",".join([_attrs_json_shared(s, frag.attrs) for s in socle])}],'
            f'"synthese":{_text(kids.get(_SYNTHESE))},'
            f'"enseignement_complement":{"null" if ens is None else _attrs_json(ens)},'
            f'"langue_culture_regionale":{"null" if lcr is None else _attrs_json(lcr)},'
            f'"responsables":{_responsables_json(kids.get(_RESPONSABLES))}}}')
