"""The fictitious collège 0999999Z of tests/fixtures/exports/: its SIECLE and STS Web exports, and
an XSD-valid LSU file of the same school, for the unit round trip (tests/unit/test_exports.py) and
the end-to-end one (tests/e2e/test_referentiel_exports.py)."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from lsu_tools.generator import SchoolSpec, generate_lsu_xml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "exports"
UAI = "0999999Z"
ELEVES, NOMENCLATURE, STS = "ElevesSansAdresses", "Nomenclature", "sts_emp_0999999Z_2025"
EDT = "emp_sts_edt"


def fixture(nom: str, encodage: str = "latin1") -> bytes:
    return (FIXTURES / (f"{nom}.xml" if nom == EDT else f"{nom}.{encodage}.xml")).read_bytes()


def lsu_file_of_the_fixture_school() -> bytes:
    """A generated LSU file of school 0999999Z whose 6A élève is Léa DUPRÉ (4100001), taught
    Français by 51001 and Mathématiques by 51002 (STS Web ids), whose 5A élève is unknown to
    SIECLE and whose 3A élève is Anaïs MÜLLER (4100004, left in January)."""
    spec = SchoolSpec(uai=UAI, divisions_par_niveau=1, eleves_par_division=1)
    ns = {"l": "urn:fr:edu:scolarite:lsun:bilans:import"}
    root = etree.fromstring(generate_lsu_xml(spec))
    ids_be = {"6A": "4100001", "5A": "9999999", "3A": "4100004"}
    eleves = {}
    for el in root.iterfind(".//l:eleves/l:eleve", ns):
        if el.get("code-division") in ids_be:
            el.set("id-be", ids_be[el.get("code-division")])
            eleves[el.get("id")] = el.get("code-division")
    bilan = next(b for b in root.iterfind(".//l:bilan-periodique", ns) if eleves.get(b.get("eleve-ref")) == "6A")
    enseignants = {e.get("id"): e for e in root.iterfind(".//l:enseignants/l:enseignant", ns)}
    for acquis in bilan.iterfind(".//l:acquis", ns):
        id_sts = {"DI_020700_S": "51001", "DI_061300_S": "51002"}.get(acquis.get("discipline-ref"))
        if id_sts:
            enseignants[acquis.get("enseignant-refs")].set("id-sts", id_sts)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
