"""Split a valid LSU document into self-contained bilans: each one carries everything a worker
needs (élève, période or cycle, disciplines, enseignants, éléments de programme, EPI/AP groups,
parcours and vie scolaire communs it references — resolved). Pure: an element tree in, dicts out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from lxml import etree

from chalicelib import catalogue
from chalicelib.validation import NS

_Q = f"{{{NS}}}"


def q(name: str) -> str:
    return _Q + name


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


@dataclass
class Index:
    """The document's shared definitions, by id and kind, resolved once per file."""
    by_id: dict[str, dict] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    communs_vie_scolaire: dict[tuple[str, str], str] = field(default_factory=dict)
    communs_parcours: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    public: dict[str, dict] = field(default_factory=dict)

    def add(self, kind: str, d: dict) -> dict:
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
            idx.add(kind, d)
    thematiques = {el.get("code"): attrs(el) for el in donnees.iter(q("epi-thematique"))}
    for kind in ("epi", "acc-perso"):
        for el in donnees.iter(q(kind)):
            d = attrs(el)
            del d["discipline_refs"]
            if kind == "epi":
                d["thematique"] = thematiques.get(d["thematique"], {"code": d["thematique"]})
            d["disciplines"] = [idx.shown(x) for x in idx.refs("discipline", el, "discipline-refs")]
            d["description"] = text_of(el, "description")
            idx.add(kind, d)
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
            idx.add(kind, d)
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
