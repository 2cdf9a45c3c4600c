"""No formula in a spreadsheet (OWASP « CSV injection »): the synthèse CSV of a file whose élèves
and classes carry formulas (valid for the XSD's NomPrenom) writes them as text."""
from __future__ import annotations

import csv
import io

import pytest
from lxml import etree

from chalicelib.api.render.csv import neutralise, synthese_csv
from chalicelib.domain.synthese import build_synthese
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import NS, check_file
from lsu_tools.generator import SchoolSpec, generate_lsu_xml

HOSTILE = ['=HYPERLINK("http://x.invalid","clic")', "+SUM(1;2)", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_starting_like_a_formula_becomes_text(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Dupont", "Léa", "", "3A", "12,5", "O'Neil", "a=b"])
def test_other_cells_are_left_as_they_are(value):
    assert neutralise(value) == value


def test_the_synthese_csv_of_a_file_with_formula_names_has_no_live_formula(schema):
    spec = SchoolSpec(uai="0750001A", divisions_par_niveau=1, eleves_par_division=2)
    root = etree.fromstring(generate_lsu_xml(spec))
    eleves = list(root.iter(f"{{{NS}}}eleve"))
    for el, (nom, prenom) in zip(eleves, [(HOSTILE[0], HOSTILE[1]), (HOSTILE[3], HOSTILE[2])]):
        el.set("nom", nom)
        el.set("prenom", prenom)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    checked = check_file(data, schema, spec.uai)
    assert checked.ok, checked.erreurs                       # the XSD accepts such names
    results = [{"type": b["type"], "statut": "IMPORTE", "eleve": b["eleve"], "periode": b.get("periode"),
                "cycle": b.get("cycle"), "ligne": b.get("ligne"), "messages": []}
               for b in split_bilans(checked.root)]
    record = type("R", (), dict(import_id="I", uai=spec.uai, statut="TERMINE", pre_controle=False,
                                nom_fichier="f.xml", taille=1, taille_declaree=1, sha256="0", cree_le="t",
                                termine_le="t", total=len(results), traites=len(results), nouveaux=len(results),
                                mis_a_jour=0, inchanges=0, rejetes=0, avertissements=0, entete={},
                                erreurs_fichier=None, cree_par="CE:dev"))()
    text = synthese_csv(build_synthese(record, results))
    cells = [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";") for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], "a live formula in the CSV"
    for value in (HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3]):
        assert "'" + value in cells
