"""LSU files for the end-to-end tests: a generated school loaded through the API with the import
modes of its classes, and its export, whole or stripped as a Sconet Notes partial export is."""
from __future__ import annotations

from lxml import etree

from chalicelib.pipeline.split.file_checks import NS
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel


def strip(xml: bytes, elements=(), attributes=()) -> bytes:
    """The file without some elements / attributes (a Sconet Notes partial export)."""
    root = etree.fromstring(xml)
    for name in elements:
        for el in list(root.iter(f"{{{NS}}}{name}")):
            el.getparent().remove(el)
    for name in attributes:
        for el in root.iter():
            el.attrib.pop(name, None)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def school(api_for, uai: str, modes: dict[str, str]):
    """A one-élève-per-class school whose référentiel is loaded by its CE; the file of période 1."""
    spec = SchoolSpec(uai=uai, divisions_par_niveau=1, eleves_par_division=1)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = modes.get(d["code"], "EDITEUR")
    ce = api_for(uai)
    ce.put_referentiel(ref)
    return spec, ref, ce, generate_lsu_xml(spec, periodes=[1])


def eleve_of(ref: dict, division: str) -> str:
    return next(e["id_be"] for e in ref["eleves"] if e["division"] == division)


def result(synthese: dict, id_be: str) -> dict:
    """The synthèse's line of the élève's bilan périodique."""
    return next(b for b in synthese["bilans"] if b["id_be"] == id_be and b["type"] == "periodique")
