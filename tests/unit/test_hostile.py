"""Hostile and malformed files through the splitter's streamed pass: each ends with a code and a
French message, nothing split, and nothing crashes (the network is blocked in this tier)."""
from __future__ import annotations

import pytest

from chalicelib import stream
from chalicelib.catalogue import CATALOGUE
from chalicelib.generator import SchoolSpec, generate_lsu_xml

UAI = "0750001A"
VALID = generate_lsu_xml(SchoolSpec(divisions_par_niveau=1, eleves_par_division=2))
ROOT_OPEN = b'<lsun-bilans xmlns="urn:fr:edu:scolarite:lsun:bilans:import" schemaVersion="7.0">'


def nested(depth: int) -> bytes:
    return b'<?xml version="1.0"?>' + ROOT_OPEN + b"<a>" * depth + b"</a>" * depth + b"</lsun-bilans>"


CASES = {
    "profondeur 300": (nested(300), {"NOT_WELL_FORMED", "XSD_INVALID"}),
    "profondeur 100 000": (nested(100_000), {"NOT_WELL_FORMED", "XSD_INVALID"}),
    "attribut de 5 Mo": (VALID.replace(b'schemaVersion="7.0"', b'schemaVersion="7.0" x="' + b"A" * 5_000_000 + b'"', 1),
                         {"XSD_INVALID"}),
    "texte de 12 Mo": (VALID.replace(b"<acquis-conseils>", b"<acquis-conseils>" + b"B" * 12_000_000, 1),
                       {"XSD_INVALID", "NOT_WELL_FORMED"}),
    "caractère de contrôle": (VALID.replace(b"<acquis-conseils>", b"<acquis-conseils>\x01", 1), {"NOT_WELL_FORMED"}),
    "UTF-8 invalide": (VALID.replace(b"<acquis-conseils>", b"<acquis-conseils>\xc3\x28", 1), {"NOT_WELL_FORMED"}),
    "déclaré ISO-8859-1, écrit en UTF-8": (VALID.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'"),
                                           {"ENCODING_MISMATCH"}),
    "déclaré UTF-8, écrit en ISO-8859-1": (VALID.decode("utf-8").encode("latin-1", "replace"), {"NOT_WELL_FORMED"}),
    "déclaré UTF-16, écrit en UTF-8": (VALID.replace(b"encoding='UTF-8'", b"encoding='UTF-16'"), {"NOT_WELL_FORMED"}),
    # libxml2 follows the byte-order mark: this one decodes right, so it imports.
    "déclaré ISO-8859-1, écrit en UTF-16 avec BOM": (
        VALID.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'").decode("utf-8").encode("utf-16"), None),
    "vrai ISO-8859-1": (VALID.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'").decode("utf-8").encode("latin-1", "replace"),
                        None),
    "retour chariot &#13;": (VALID.replace(b"<acquis-conseils>", b"<acquis-conseils>&#13;", 1), {"XSD_INVALID"}),
    "IDREF vers un élément absent": (VALID.replace(b'eleve-ref="EL', b'eleve-ref="ABSENT" data-x="EL', 1),
                                     {"XSD_INVALID", "REFERENCE_INVALIDE"}),
    "enseignant-refs vers un élève": (VALID.replace(b'enseignant-refs="', b'enseignant-refs="EL1 ', 1),
                                      {"REFERENCE_INVALIDE", "XSD_INVALID"}),
    "entité externe non déclarée": (VALID.replace(b"<acquis-conseils>", b"<acquis-conseils>&xxe;", 1), {"NOT_WELL_FORMED"}),
    "instruction de traitement seule": (b'<?xml version="1.0"?><?php echo 1; ?>', {"NOT_WELL_FORMED"}),
    "deux racines": (VALID + b"<autre/>", {"NOT_WELL_FORMED"}),
    "JSON": (b'{"eleves": []}', {"NOT_XML"}),
    "ZIP": (b"PK\x03\x04\x14\x00\x00\x00", {"NOT_XML"}),
    "octets nuls": (b"\x00" * 1000, {"BLANK_FILE", "NOT_XML"}),
    "XInclude vers /etc/passwd": (VALID.replace(b"<acquis-conseils>", b'<acquis-conseils><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>', 1),
                                  {"XSD_INVALID"}),
    "schemaLocation vers le réseau": (VALID.replace(ROOT_OPEN, ROOT_OPEN[:-1] + b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x http://127.0.0.1:9/x.xsd">', 1),
                                      None),
    "CDATA cachant un DOCTYPE": (VALID.replace(b"<acquis-conseils>", b"<acquis-conseils><![CDATA[<!DOCTYPE x>]]>", 1),
                                 {"DOCTYPE_FORBIDDEN"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_refused_with_a_code_and_a_french_message(partial_schema, name):
    data, expected = CASES[name]
    result = stream.check_and_split(data, partial_schema, UAI)
    if expected is None:            # harmless: the hint is never followed, the file imports
        assert result.ok and result.bilans
        return
    assert not result.ok and result.bilans == []
    codes = {e["code"] for e in result.erreurs}
    assert codes and codes <= expected, (name, result.erreurs)
    for e in result.erreurs:
        assert e["code"] in CATALOGUE and e["message"] and "Traceback" not in e["message"]


@pytest.fixture(scope="module")
def partial_schema(settings):
    from chalicelib.validation import load_schema
    return load_schema(settings.xsd_path, partial=True)
