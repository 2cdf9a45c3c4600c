"""A TEST schema folder, built at test time from the official XSD (never committed, never official).

`derived_test_schema_dir(tmp_path)` writes into `tmp_path`:

- `import-complet-strict.xsd`: a byte-for-byte copy of the official v7.0 XSD (schemaVersion 2.0–7.0);
- `lsu-test-99.xsd`: a TEST schema derived from it: the official one, plus the version value
  TEST_VERSION ("99.0", accepted by this file only) and one optional element TEST_ELEMENT
  (`moyennes-annuelles-test`, a string, last child of `bilan-periodique`). It stands for "a newer
  schema a school's file may need" in tests; it is not, and must never be shown as, an official one;
- `manifest.json`: official → 2.0 … 7.0, test → 99.0.

The folder is what Settings.schema_dir / LSU_SCHEMA_DIR point at (chalicelib/pipeline/split/schemas.py).
`with_test_version(xml)` turns a generated v7.0 file into a 99.0 one; `with_test_element(xml)` adds
the test element to its first bilan périodique. Stable: reused by the end-to-end tests."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from lxml import etree

OFFICIAL_XSD = Path(os.environ.get("LSU_XSD_PATH") or Path(__file__).resolve().parents[2] / "shared" / "lsun"
                    / "import-complet-strict.xsd")
OFFICIAL_NAME = "import-complet-strict.xsd"
TEST_XSD_NAME = "lsu-test-99.xsd"
TEST_VERSION = "99.0"
TEST_ELEMENT = "moyennes-annuelles-test"
OFFICIAL_VERSIONS = ("2.0", "3.0", "4.0", "5.0", "6.0", "7.0")

XS = "http://www.w3.org/2001/XMLSchema"
NS = "urn:fr:edu:scolarite:lsun:bilans:import"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def derived_test_xsd(official: Path = OFFICIAL_XSD) -> bytes:
    """The TEST schema's bytes: the official XSD + version TEST_VERSION + optional TEST_ELEMENT."""
    tree = etree.parse(str(official), _PARSER)
    schema = tree.getroot()
    schema.insert(0, etree.Comment(" TEST schema built by tests/schema_fixtures.py from the official v7.0 XSD: "
                                   f"schemaVersion {TEST_VERSION} and an optional {TEST_ELEMENT}. NOT OFFICIAL. "))
    version = next(a for a in schema.iter(f"{{{XS}}}attribute") if a.get("name") == "schemaVersion")
    restriction = version.find(f".//{{{XS}}}restriction")
    for enum in restriction.findall(f"{{{XS}}}enumeration"):
        restriction.remove(enum)              # this file validates 99.0 only (the official one, the others)
    etree.SubElement(restriction, f"{{{XS}}}enumeration", value=TEST_VERSION)
    bilan = schema.find(f"{{{XS}}}complexType[@name='BilanPeriodique']")
    etree.SubElement(bilan.find(f"{{{XS}}}sequence"), f"{{{XS}}}element", name=TEST_ELEMENT, type="xs:string",
                     minOccurs="0")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def derived_test_schema_dir(tmp_path: Path) -> Path:
    """Write the official copy, the TEST schema and their manifest into `tmp_path`; return it."""
    tmp_path = Path(tmp_path)
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(OFFICIAL_XSD, tmp_path / OFFICIAL_NAME)
    (tmp_path / TEST_XSD_NAME).write_bytes(derived_test_xsd())
    (tmp_path / "manifest.json").write_text(json.dumps({
        "note": "TEST folder (tests/schema_fixtures.py): lsu-test-99.xsd is a test schema, not an official one.",
        "schemas": [
            {"file": OFFICIAL_NAME, "versions": list(OFFICIAL_VERSIONS), "note": "official v7.0"},
            {"file": TEST_XSD_NAME, "versions": [TEST_VERSION], "note": "TEST schema, not official"},
        ]}, indent=2), encoding="utf-8")
    return tmp_path


def with_test_version(xml: bytes, version: str = TEST_VERSION) -> bytes:
    """A generated file with its root's schemaVersion set to `version`."""
    root = etree.fromstring(xml, _PARSER)
    root.set("schemaVersion", version)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_test_element(xml: bytes, text: str = "12,5") -> bytes:
    """A generated file with TEST_ELEMENT as the last child of its first bilan périodique."""
    root = etree.fromstring(xml, _PARSER)
    bilan = next(root.iter(f"{{{NS}}}bilan-periodique"))
    etree.SubElement(bilan, f"{{{NS}}}{TEST_ELEMENT}").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
