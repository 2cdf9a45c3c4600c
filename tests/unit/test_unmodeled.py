"""Nothing in a valid file is silently lost (issue 15): what a newer LSU schema gives a bilan or an
acquis and the project does not model (13.0's annual averages, say) is carried with its bilan as
generic data (`autres`), bounded; the view shows it (`autres_informations`) and so does the PDF.
A file without any accompagnement personnalisé (the schema makes it optional; 12.0 removed it)
goes through every step. No newer XSD here: the trees are changed with lxml after validation,
and the builders run on them directly."""
from __future__ import annotations

import copy
import io
import json

import pytest
from lxml import etree
from pypdf import PdfReader

from chalicelib.api.render import pdf
from chalicelib.domain import merge
from chalicelib.pipeline.split import bilans as split
from chalicelib.pipeline.split.bilans import encode_bilan, split_bilans
from chalicelib.pipeline.split.file_checks import NS, check_file

UAI = "0750001A"
OTHER = "urn:exemple:editeur"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def L(name: str) -> str:
    return f"{{{NS}}}{name}"


@pytest.fixture(scope="module")
def root(schema, small_xml):
    result = check_file(small_xml, schema, UAI)
    assert result.ok, result.erreurs
    return result.root


def fresh(root) -> etree._Element:
    return copy.deepcopy(root)


def first(root, tag: str) -> etree._Element:
    return next(root.iter(L(tag)))


def bilan_of(root, el) -> dict:
    """The bilan split from `el` (a bilan-periodique or a bilan-cycle of `root`)."""
    line = el.sourceline
    return next(b for b in split_bilans(root) if b["ligne"] == line and b["type"] in el.tag)


def view_of(bilan: dict, mode: str = "EDITEUR") -> dict:
    return merge.view(merge.merge_import(None, bilan, mode, "imp", "2026-06-10T10:00:00+00:00").state)


def pdf_text(views: list[dict]) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render(views))).pages).split())


def has_key(obj, key: str) -> bool:
    if isinstance(obj, dict):
        return key in obj or any(has_key(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(has_key(v, key) for v in obj)
    return False


# --- today's files: nothing changes ---------------------------------------------------------------------

def test_a_generated_file_gives_bilans_without_autres(root):
    bilans = list(split_bilans(root))
    assert bilans
    for key in ("autres", "autres_tronques", "moyenne_annuelle"):
        assert not any(has_key(b, key) for b in bilans), key
    for b in bilans:
        assert "autres_informations" not in view_of(b)


# --- the builders carry what they do not read -----------------------------------------------------------

def test_unknown_attributes_and_children_of_a_bilan_periodique_are_carried_in_document_order(root):
    r = fresh(root)
    bp = first(r, "bilan-periodique")
    bp.set("moyenne-generale-annuelle", "12.123456789")
    bp.set(f"{{{OTHER}}}origine", "Pronote")
    bp.set(f"{{{XSI}}}type", "BilanPeriodique")                     # a schema instruction, no data
    avant = etree.Element(L("moyennes-annuelles-test"), {"statut": "provisoire"})
    bp.find(L("liste-acquis")).addnext(avant)                       # between two known children
    moyenne = etree.SubElement(avant, L("moyenne-annuelle"), {"discipline-ref": "DI_030201"})
    moyenne.text = "13.5"
    etree.SubElement(avant, L("vide"))
    fin = etree.SubElement(bp, f"{{{OTHER}}}note-editeur")
    fin.text = "Texte libre"
    b = bilan_of(r, bp)
    assert b["autres"] == [
        {"nom": "moyenne-generale-annuelle", "attribut": True, "valeur": "12.123456789"},
        {"nom": "origine", "espace": OTHER, "attribut": True, "valeur": "Pronote"},
        {"nom": "moyennes-annuelles-test", "attributs": {"statut": "provisoire"},
         "enfants": [{"nom": "moyenne-annuelle", "attributs": {"discipline-ref": "DI_030201"}, "texte": "13.5"},
                     {"nom": "vide"}]},
        {"nom": "note-editeur", "espace": OTHER, "texte": "Texte libre"},
    ]
    assert "autres_tronques" not in b
    reference = bilan_of(root, first(root, "bilan-periodique"))
    assert {k: v for k, v in b.items() if k != "autres"} == reference, "the modelled parts are unchanged"


def test_unknown_attributes_and_children_of_a_bilan_cycle_are_carried(root):
    r = fresh(root)
    bc = first(r, "bilan-cycle")
    bc.set("niveau-maitrise-global", "3")
    extra = etree.SubElement(bc, L("moyennes-annuelles"))
    extra.text = "  \n  "                                           # indentation is no data
    etree.SubElement(extra, L("moyenne"), {"code": "FRA"}).text = "14,5"
    b = bilan_of(r, bc)
    assert b["autres"] == [
        {"nom": "niveau-maitrise-global", "attribut": True, "valeur": "3"},
        {"nom": "moyennes-annuelles", "enfants": [{"nom": "moyenne", "attributs": {"code": "FRA"}, "texte": "14,5"}]},
    ]


def test_an_acquis_carries_its_unknown_parts_and_its_annual_average(root):
    r = fresh(root)
    bp = first(r, "bilan-periodique")
    acquis = bp.find(L("liste-acquis"))[0]
    acquis.set("moyenne-annuelle", "14.123456789")                  # recognised: an annual average
    acquis.set("rang", "3")
    acquis.set("discipline", "pas une discipline")                  # must not replace the resolved one
    acquis.set(f"{{{OTHER}}}couleur", "vert")
    etree.SubElement(acquis, L("appreciation")).text = "Une seconde appréciation."
    etree.SubElement(acquis, L("moyennes-annuelles")).text = "12.5"
    b = bilan_of(r, bp)
    reference = bilan_of(root, first(root, "bilan-periodique"))["acquis"][0]
    a = b["acquis"][0]
    assert a["discipline"] == reference["discipline"] and a["appreciation"] == reference["appreciation"]
    assert a["moyenne_annuelle"] == "14.123456789", "kept as written: up to 9 decimals"
    assert a["autres"] == [
        {"nom": "rang", "attribut": True, "valeur": "3"},
        {"nom": "discipline", "attribut": True, "valeur": "pas une discipline"},
        {"nom": "couleur", "espace": OTHER, "attribut": True, "valeur": "vert"},
        {"nom": "appreciation", "texte": "Une seconde appréciation."},
        {"nom": "moyennes-annuelles", "texte": "12.5"},
    ]
    assert {k: v for k, v in a.items() if k not in ("autres", "moyenne_annuelle")} == reference
    assert "autres" not in b and all("autres" not in x for x in b["acquis"][1:])


def test_the_json_of_a_bilan_with_autres_is_the_standard_one(root):
    r = fresh(root)
    bp = first(r, "bilan-periodique")
    etree.SubElement(bp, L("divers"), {"a": "« œ » \"q\" \\"}).text = "ligne 1\nligne 2 \u2028 🎓"
    b = bilan_of(r, bp)
    assert b["autres"][0]["texte"] == "ligne 1\nligne 2 \u2028 🎓"
    assert encode_bilan(b) == json.dumps(b, ensure_ascii=False, separators=(",", ":"))


# --- bounds (the file is hostile) -----------------------------------------------------------------------

def test_texts_names_and_namespaces_are_bounded(root):
    r = fresh(root)
    bp = first(r, "bilan-periodique")
    long_name = "n" + "x" * 300
    el = etree.SubElement(bp, f"{{{'urn:' + 'e' * 400}}}{long_name}", {"v": "y" * 5000})
    el.text = "t" * 5000
    bp.set("a" * 300, "z" * 5000)
    [attribute, element] = bilan_of(r, bp)["autres"]
    assert attribute["tronque"] is True and len(attribute["nom"]) == split.AUTRES_MAX_NAME
    assert len(attribute["valeur"]) == split.AUTRES_MAX_TEXT and attribute["valeur"].endswith("…")
    assert element["tronque"] is True
    assert len(element["nom"]) == split.AUTRES_MAX_NAME and len(element["espace"]) == split.AUTRES_MAX_NAMESPACE
    assert len(element["texte"]) == split.AUTRES_MAX_TEXT and len(element["attributs"]["v"]) == split.AUTRES_MAX_TEXT


def test_depth_is_bounded(root):
    r = fresh(root)
    bp = first(r, "bilan-periodique")
    el = bp
    for n in range(50):
        el = etree.SubElement(el, L(f"niveau-{n}"))
    node, depth = bilan_of(r, bp)["autres"][0], 0
    while "enfants" in node:
        [node] = node["enfants"]
        depth += 1
    assert depth == split.AUTRES_MAX_DEPTH and node["tronque"] is True and node["nom"] == f"niveau-{depth}"


def test_count_is_bounded_per_bilan_acquis_included(root):
    r = fresh(root)
    bp = first(r, "bilan-periodique")
    for acquis in bp.find(L("liste-acquis")):
        for n in range(30):
            acquis.set(f"extra-{n}", str(n))
    big = etree.SubElement(bp, L("beaucoup"))
    for n in range(1000):
        etree.SubElement(big, L("item"), {"n": str(n)}).text = "x"
    b = bilan_of(r, bp)

    def nodes(items):
        return sum(1 + len(i.get("attributs", {})) + nodes(i.get("enfants", [])) for i in items)

    total = nodes(b.get("autres", [])) + sum(nodes(a.get("autres", [])) for a in b["acquis"])
    assert total == split.AUTRES_MAX_NODES
    assert b["autres_tronques"] is True and any(a.get("autres_tronques") for a in b["acquis"])
    assert len(encode_bilan(b)) < 64 * 1024, "a bilan stays far below SQS's 256 KiB"


# --- view and PDF ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def carried(root):
    r = fresh(root)
    bp = first(r, "bilan-periodique")
    bp.set("origine", "<b>gras</b> & co")
    extra = etree.SubElement(bp, L("moyennes-annuelles"), {"periode": "annee"})
    etree.SubElement(extra, L("moyenne"), {"code": "FRA"}).text = "13,25"
    acquis = bp.find(L("liste-acquis"))[0]
    acquis.set("moyenne-annuelle", "15.5")
    acquis.set("rang", "2")
    return bilan_of(r, bp)


def test_the_view_shows_the_carried_data_as_lines(carried):
    v = view_of(carried)
    key, libelle = next((k, a["discipline"]) for k, a in v["acquis"].items())
    assert v["autres_informations"] == [
        {"nom": "origine", "valeur": "<b>gras</b> & co"},
        {"nom": "moyennes-annuelles › periode", "valeur": "annee"},
        {"nom": "moyennes-annuelles › moyenne", "valeur": "13,25"},
        {"nom": "moyennes-annuelles › moyenne › code", "valeur": "FRA"},
        {"nom": f"{libelle} › rang", "valeur": "2", "acquis": key},
    ]
    assert v["acquis"][key]["moyenne_annuelle"] == "15.5"
    assert all("moyenne_annuelle" not in a for k, a in v["acquis"].items() if k != key)
    assert merge.completeness(v) == merge.completeness(view_of({k: x for k, x in carried.items() if k != "autres"}))


def test_the_view_is_total_over_any_stored_autres(carried):
    deep: dict = {"nom": "d"}
    node = deep
    for _ in range(100):
        node["enfants"] = [{"nom": "d"}]
        node = node["enfants"][0]
    for garbage in ("x", 3, None, [1, None, {"nom": 3}, {"valeur": "?"}], [deep],
                    [{"nom": "a", "attributs": "x", "enfants": {"nom": "b"}, "texte": 4, "tronque": True}],
                    [{"nom": "n", "attribut": True, "valeur": {"x": 1}}] * 1000):
        v = view_of({**carried, "autres": garbage, "autres_tronques": "oui"})
        lines = v.get("autres_informations", [])
        assert len(lines) <= merge.AUTRES_MAX_LINES
        assert all(isinstance(x["nom"], str) and isinstance(x["valeur"], str) for x in lines)
    assert view_of({**carried, "autres": [{"nom": "a", "texte": 4, "tronque": True}]})["autres_informations"][:2] == [
        {"nom": "a", "valeur": "4"}, {"nom": "a", "valeur": merge.TRONQUE}]
    assert view_of({**carried, "autres_tronques": True})["autres_informations"][-1] == {
        "nom": "…", "valeur": merge.AUTRES_TRONQUES}


def test_the_pdf_prints_the_carried_data_escaped(carried, root):
    v = view_of(carried)
    text = pdf_text([v])
    assert "Autres informations du fichier" in text
    assert "origine <b>gras</b> & co" in text, "the file's markup is printed as text"
    assert "moyennes-annuelles › moyenne › code FRA" in text and "moyennes-annuelles › moyenne 13,25" in text
    assert "Moyenneannuelle:15.5" in "".join(text.split()), "in its acquis' cell (which wraps)"
    plain = view_of(bilan_of(root, first(root, "bilan-periodique")))
    assert "Autres informations du fichier" not in pdf_text([plain]) and "Moyenne annuelle" not in pdf_text([plain])


def test_the_pdf_of_a_cycle_bilan_prints_its_carried_data(root):
    r = fresh(root)
    bc = first(r, "bilan-cycle")
    etree.SubElement(bc, L("bonus"), {"code": "B1"}).text = "Mention <i>spéciale</i>"
    text = pdf_text([view_of(bilan_of(r, bc))])
    assert "Autres informations du fichier" in text and "bonus Mention <i>spéciale</i>" in text
    assert "bonus › code B1" in text


# --- a file without any accompagnement personnalisé (optional; removed by 12.0) ---------------------------

def test_a_file_without_any_acc_perso_goes_through(schema, small_xml, root):
    tree = etree.fromstring(small_xml)
    removed = 0
    for tag in ("acc-persos", "acc-persos-groupes", "acc-persos-eleve"):
        for el in list(tree.iter(L(tag))):
            el.getparent().remove(el)
            removed += 1
    assert removed >= 3, "the generated file had AP to remove"
    data = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    result = check_file(data, schema, UAI)
    assert result.ok, result.erreurs
    bilans = list(split_bilans(result.root))
    reference = list(split_bilans(root))
    assert len(bilans) == len(reference)
    assert all(b["acc_persos"] == [] for b in bilans if b["type"] == "periodique")
    assert any(b.get("acc_persos") for b in reference), "the reference had AP"
    for b, ref in zip(bilans, reference):
        other = ("acc_persos", "ligne")
        assert {k: v for k, v in b.items() if k not in other} == {k: v for k, v in ref.items() if k not in other}
        if b["type"] != "periodique":
            continue
        for mode in ("EDITEUR", "SCONET_NOTES"):
            merged = merge.merge_import(None, b, mode, "imp", "2026-06-10T10:00:00+00:00")
            assert not [m for m in merged.messages if m["niveau"] in ("ERREUR", "AVERTISSEMENT")]
            v = merge.view(merged.state)
            assert v["acc_persos"] == {"valeur": None, "provenance": "ABSENT"}
            assert (v["statut"], v["manquants"]) == (view_of(ref, mode)["statut"], view_of(ref, mode)["manquants"])
            assert not any("accompagnement" in m.lower() for m in v["manquants"])
    text = pdf_text([view_of(b) for b in bilans])
    assert "Bilan périodique" in text and "Accompagnement personnalisé" not in text
