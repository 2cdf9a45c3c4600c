"""The streamed file pass gives what the tree-based checks and split give, with less memory."""
import json

import pytest

from chalicelib import stream
from chalicelib.generator import SchoolSpec, generate_lsu_xml
from chalicelib.split import split_bilans
from chalicelib.validation import check_file


@pytest.fixture(scope="module")
def partial_schema(settings):
    from chalicelib.validation import load_schema
    return load_schema(settings.xsd_path, partial=True)


def test_valid_file_splits_like_the_tree(partial_schema, small_spec):
    xml = generate_lsu_xml(small_spec, periodes=[1, 2, 3])
    streamed = stream.check_and_split(xml, partial_schema, small_spec.uai)
    tree = check_file(xml, partial_schema, small_spec.uai)
    assert streamed.ok and streamed.entete == tree.entete
    assert [json.loads(b) for b in streamed.bilans] == list(split_bilans(tree.root))


@pytest.mark.parametrize("name, mutate, code", [
    ("tronque", lambda x: x[: len(x) // 2], "NOT_WELL_FORMED"),
    ("xsd", lambda x: x.replace(b'nb-retards="', b'nb-retards="x', 1), "XSD_INVALID"),
    ("namespace", lambda x: x.replace(b"urn:fr:edu:scolarite:lsun:bilans:import", b"urn:autre"), "WRONG_NAMESPACE"),
    ("uai", lambda x: x.replace(b"<etablissement>0750001A</etablissement>", b"<etablissement>0999999Z</etablissement>"), "UAI_MISMATCH"),
    ("vide", lambda x: b"", "EMPTY_FILE"),
    ("pdf", lambda x: b"%PDF-1.7\n", "NOT_XML"),
    ("reference", lambda x: x.replace(b'eleve-ref="EL', b'eleve-ref="RESP_ADJOINT" data-x="EL', 1), None),
])
def test_refusals_are_explained_like_the_tree_checks(partial_schema, name, mutate, code):
    xml = mutate(generate_lsu_xml(SchoolSpec(divisions_par_niveau=1, eleves_par_division=2)))
    result = stream.check_and_split(xml, partial_schema, "0750001A")
    assert not result.ok and result.bilans == [] or result.erreurs
    codes = {e["code"] for e in result.erreurs}
    if code:
        assert codes == {code}
        if code in ("NOT_WELL_FORMED", "XSD_INVALID"):
            assert all(e.get("ligne") for e in result.erreurs), "small files are explained with lines"
    else:
        assert codes <= {"REFERENCE_INVALIDE", "XSD_INVALID"} and codes


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be", "utf-7"])
def test_doctype_is_refused_in_any_encoding(partial_schema, encoding):
    body = ('<?xml version="1.0" encoding="%s"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>' % encoding.upper())
    result = stream.check_and_split(body.encode(encoding), partial_schema, "0750001A")
    assert [e["code"] for e in result.erreurs] == ["DOCTYPE_FORBIDDEN"]


def test_large_refused_file_reports_the_first_error_without_line(partial_schema, monkeypatch):
    monkeypatch.setattr(stream, "EXPLAIN_MAX_BYTES", 10)
    xml = generate_lsu_xml(SchoolSpec(divisions_par_niveau=1, eleves_par_division=2))
    result = stream.check_and_split(xml.replace(b'nb-retards="', b'nb-retards="x', 1), partial_schema, "0750001A")
    [err] = result.erreurs
    assert err["code"] == "XSD_INVALID" and "nb-retards" in err["message"] and "ligne non disponible" in err["message"]
    result = stream.check_and_split(xml[: len(xml) // 2], partial_schema, "0750001A")
    assert [e["code"] for e in result.erreurs] == ["NOT_WELL_FORMED"]
