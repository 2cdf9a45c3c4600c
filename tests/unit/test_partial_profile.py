"""The Sconet Notes partial profile (chalicelib/validation.py: `partial_profile`,
`load_schema(path, partial=True)`): derived from the official XSD, it makes `acquis-conseils` and
`vie-scolaire` optional in a bilan périodique and changes nothing else; the official file is never
touched. Then what such a partial file becomes: split bilans without appréciation générale nor
vie scolaire, refused in an Import Éditeurs division, accepted in a Sconet Notes one. And a
`schemaVersion="2.0"` document."""
from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import pytest
from lxml import etree

from chalicelib.domain.catalogue import ERREUR
from chalicelib.domain.checks import EDITEUR, SCONET_NOTES, evaluate_bilan
from lsu_tools.generator import generate_referentiel
from chalicelib.referentiel import index_referentiel, validate_referentiel
from chalicelib.domain.outcome import IMPORTE, REJETE, refused
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import NS, PARTIAL_OPTIONAL, XS, check_file, load_schema, partial_profile, safe_parser

X = {"l": NS}
XSD = {"xs": XS}


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def without(xml: bytes, *names: str) -> bytes:
    """The document with the named children removed from every bilan-periodique."""
    root = etree.fromstring(xml)
    for bilan in root.iter(q("bilan-periodique")):
        for name in names:
            for child in bilan.findall(q(name)):
                bilan.remove(child)
    return serialize(root)


def with_version(xml: bytes, version: str) -> bytes:
    root = etree.fromstring(xml)
    root.set("schemaVersion", version)
    return serialize(root)


@pytest.fixture(scope="module")
def partial_schema(settings):
    return load_schema(settings.xsd_path, partial=True)


@pytest.fixture(scope="module")
def partial_xml(small_xml) -> bytes:
    xml = without(small_xml, *PARTIAL_OPTIONAL)
    root = etree.fromstring(xml)
    assert root.xpath("count(//l:bilan-periodique)", namespaces=X) == 12
    assert not root.xpath("//l:acquis-conseils | //l:vie-scolaire", namespaces=X)
    return xml


def bilans_of(xml: bytes, schema, uai: str) -> list[dict]:
    result = check_file(xml, schema, uai)
    assert result.ok, result.erreurs
    return list(split_bilans(result.root))


def assert_xsd_invalid(xml: bytes, schema, uai: str) -> list[dict]:
    result = check_file(xml, schema, uai)
    assert not result.ok
    assert result.erreurs and {e["code"] for e in result.erreurs} == {"XSD_INVALID"}
    return result.erreurs


# --- deriving the profile ---------------------------------------------------------------------

def test_deriving_the_profile_leaves_the_official_file_and_tree_untouched(settings, schema, partial_xml,
                                                                          small_spec):
    path = settings.xsd_path
    before = sha256(path)
    tree = etree.parse(path, safe_parser())
    serialized = etree.tostring(tree)
    derived = partial_profile(tree)
    assert derived is not tree and derived.getroot() is not tree.getroot()
    assert etree.tostring(tree) == serialized          # worked on a copy
    load_schema.__wrapped__(path, partial=True)         # really read it again (no cache)
    load_schema(path, partial=True)
    assert sha256(path) == before
    # The strict schema, loaded afresh after the profile, still rejects a partial file.
    assert_xsd_invalid(partial_xml, load_schema.__wrapped__(path), small_spec.uai)
    assert_xsd_invalid(partial_xml, schema, small_spec.uai)


def test_the_profile_makes_exactly_two_elements_optional_and_changes_nothing_else(settings):
    official = etree.parse(settings.xsd_path, safe_parser())
    derived = partial_profile(official)
    nodes_o, nodes_d = list(official.getroot().iter()), list(derived.getroot().iter())
    assert len(nodes_o) == len(nodes_d)
    relaxed = []
    for a, b in zip(nodes_o, nodes_d):
        assert (a.tag, a.text, a.tail) == (b.tag, b.text, b.tail)
        if a.attrib != b.attrib:
            assert dict(b.attrib) == {**a.attrib, "minOccurs": "0"}
            assert "minOccurs" not in a.attrib            # required (minOccurs 1) in the official XSD
            owner = a.xpath("ancestor::xs:complexType[@name][1]/@name", namespaces=XSD)
            relaxed.append((owner, a.get("name")))
    assert sorted(relaxed) == [(["BilanPeriodique"], "acquis-conseils"), (["BilanPeriodique"], "vie-scolaire")]
    # Deriving it twice gives the same profile.
    assert etree.tostring(partial_profile(derived)) == etree.tostring(derived)


def test_load_schema_caches_one_schema_per_profile(settings, schema, partial_schema):
    assert load_schema(settings.xsd_path) is schema
    assert load_schema(settings.xsd_path, partial=True) is partial_schema
    assert partial_schema is not schema


def test_an_unexpected_schema_is_refused_with_a_value_error():
    src = (f'<xs:schema xmlns:xs="{XS}"><xs:complexType name="BilanPeriodique"><xs:sequence>'
           f'<xs:element name="acquis-conseils" type="xs:string"/></xs:sequence></xs:complexType></xs:schema>')
    with pytest.raises(ValueError, match="profil partiel Sconet Notes impossible"):
        partial_profile(etree.ElementTree(etree.fromstring(src)))


def test_a_schema_without_bilan_periodique_is_refused_with_a_value_error():
    with pytest.raises(ValueError, match="profil partiel Sconet Notes impossible"):
        partial_profile(etree.ElementTree(etree.fromstring(f'<xs:schema xmlns:xs="{XS}"/>')))


def test_a_schema_lacking_vie_scolaire_is_refused_even_if_acquis_conseils_appears_twice():
    src = (f'<xs:schema xmlns:xs="{XS}"><xs:complexType name="BilanPeriodique"><xs:choice>'
           f'<xs:element name="acquis-conseils" type="xs:string"/>'
           f'<xs:sequence><xs:element name="devoirs-faits" type="xs:string"/>'
           f'<xs:element name="acquis-conseils" type="xs:string"/></xs:sequence>'
           f'</xs:choice></xs:complexType></xs:schema>')
    with pytest.raises(ValueError):
        partial_profile(etree.ElementTree(etree.fromstring(src)))


# --- what the profile accepts and refuses ---------------------------------------------------------

@pytest.mark.parametrize("names", [PARTIAL_OPTIONAL, ("acquis-conseils",), ("vie-scolaire",)])
def test_a_file_without_appreciation_generale_or_vie_scolaire_is_valid_for_the_partial_profile_only(
        schema, partial_schema, small_xml, small_spec, names):
    xml = without(small_xml, *names)
    erreurs = assert_xsd_invalid(xml, schema, small_spec.uai)
    assert any(name in e["message"] for e in erreurs for name in names)
    assert all(e.get("ligne") for e in erreurs)
    result = check_file(xml, partial_schema, small_spec.uai)
    assert result.ok, result.erreurs
    # The complete file is valid for both.
    assert check_file(small_xml, schema, small_spec.uai).ok
    assert check_file(small_xml, partial_schema, small_spec.uai).ok


def _first(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=X)
    assert found, xpath
    return found[0]


def _remove(xpath: str):
    def mutate(root):
        el = _first(root, xpath)
        el.getparent().remove(el)
    return mutate


def _drop_attribute(xpath: str, attribute: str):
    def mutate(root):
        el = _first(root, xpath)
        assert attribute in el.attrib
        del el.attrib[attribute]
    return mutate


def _set_text(xpath: str, text: str):
    def mutate(root):
        _first(root, xpath).text = text
    return mutate


def _duplicate(xpath: str):
    def mutate(root):
        el = _first(root, xpath)
        el.addnext(copy.deepcopy(el))
    return mutate


def _move_after_vie_scolaire(root):
    """acquis-conseils placed after vie-scolaire: optional, but still in the official order."""
    bilan = _first(root, "//l:bilan-periodique[l:acquis-conseils and l:vie-scolaire]")
    ac = bilan.find(q("acquis-conseils"))
    bilan.remove(ac)
    bilan.find(q("vie-scolaire")).addnext(ac)


STILL_STRICT = {
    "no liste-acquis": _remove("//l:bilan-periodique/l:liste-acquis"),
    "empty liste-acquis": lambda root: [a.getparent().remove(a) for a in
                                        _first(root, "//l:bilan-periodique/l:liste-acquis").findall(q("acquis"))],
    "no date-conseil-classe": _drop_attribute("//l:bilan-periodique", "date-conseil-classe"),
    "no eleve-ref": _drop_attribute("//l:bilan-periodique", "eleve-ref"),
    "no periode-ref": _drop_attribute("//l:bilan-periodique", "periode-ref"),
    "no discipline-ref on an acquis": _drop_attribute("//l:acquis", "discipline-ref"),
    "no nb-retards in a vie-scolaire": _drop_attribute("//l:bilan-periodique/l:vie-scolaire", "nb-retards"),
    "blank acquis-conseils": _set_text("//l:bilan-periodique/l:acquis-conseils", "   "),
    "two acquis-conseils": _duplicate("//l:bilan-periodique/l:acquis-conseils"),
    "two vie-scolaire": _duplicate("//l:bilan-periodique/l:vie-scolaire"),
    "acquis-conseils after vie-scolaire": _move_after_vie_scolaire,
    "no synthese in a bilan-cycle": _remove("//l:bilan-cycle/l:synthese"),
    "no eleve-ref on a bilan-cycle": _drop_attribute("//l:bilan-cycle", "eleve-ref"),
}


# Mutations that need the appréciation générale or the vie scolaire (absent from a partial file).
_NEED_BOTH = {"blank acquis-conseils", "two acquis-conseils", "two vie-scolaire",
              "acquis-conseils after vie-scolaire", "no nb-retards in a vie-scolaire"}
CASES = [("complete", m) for m in STILL_STRICT] + [("partial", m) for m in STILL_STRICT if m not in _NEED_BOTH]


@pytest.mark.parametrize("source, mutation", CASES, ids=[f"{s}: {m}" for s, m in CASES])
def test_everything_else_stays_strict_under_the_partial_profile(schema, partial_schema, small_xml, small_spec,
                                                                source, mutation):
    xml = small_xml if source == "complete" else without(small_xml, *PARTIAL_OPTIONAL)
    root = etree.fromstring(xml)
    STILL_STRICT[mutation](root)
    mutated = serialize(root)
    assert_xsd_invalid(mutated, schema, small_spec.uai)
    assert_xsd_invalid(mutated, partial_schema, small_spec.uai)


# --- the split of a partial file ---------------------------------------------------------------

def _comparable(bilan: dict) -> dict:
    return {k: v for k, v in bilan.items() if k not in ("ligne", "acquis_conseils", "vie_scolaire")}


def test_a_partial_file_splits_into_bilans_without_appreciation_generale_nor_vie_scolaire(
        schema, partial_schema, small_xml, partial_xml, small_spec):
    complete = bilans_of(small_xml, schema, small_spec.uai)
    partial = bilans_of(partial_xml, partial_schema, small_spec.uai)
    assert len(partial) == len(complete) == 18
    for p, c in zip(partial, complete):
        assert p["type"] == c["type"] and p["eleve"] == c["eleve"]
        if p["type"] == "periodique":
            assert p["acquis_conseils"] is None and p["vie_scolaire"] is None
            assert c["acquis_conseils"] and c["vie_scolaire"] is not None
            # Everything else is there: acquis, devoirs faits, vie scolaire commune…
            assert _comparable(p) == _comparable(c)
            assert p["acquis"] and p["vie_scolaire_commun"]
        else:
            assert _comparable(p) == _comparable(c)


@pytest.fixture(scope="module")
def partial_bilans(partial_schema, partial_xml, small_spec) -> list[dict]:
    return bilans_of(partial_xml, partial_schema, small_spec.uai)


def _referentiel(small_spec, mode: str) -> dict:
    data = copy.deepcopy(generate_referentiel(small_spec))
    for d in data["divisions"]:
        d["mode_import"] = mode
    assert validate_referentiel(data) == []
    return data


def test_partial_bilans_are_refused_in_an_editeur_division(partial_bilans, small_spec):
    ref = index_referentiel(_referentiel(small_spec, EDITEUR))
    for bilan in partial_bilans:
        messages = evaluate_bilan(bilan, ref)
        if bilan["type"] == "cycle":
            assert messages == []
            continue
        assert [m["code"] for m in messages] == ["BILAN_INCOMPLET"]
        assert messages[0]["niveau"] == ERREUR
        assert f"Il manque : appréciation générale, vie scolaire (classe {bilan['eleve']['division']})" \
            in messages[0]["message"]
        assert (REJETE if refused(messages) else IMPORTE) == REJETE


def test_partial_bilans_pass_in_a_sconet_notes_division(partial_bilans, small_spec):
    ref = index_referentiel(_referentiel(small_spec, SCONET_NOTES))
    periodiques = [b for b in partial_bilans if b["type"] == "periodique"]
    assert len(periodiques) == 12
    for bilan in periodiques:
        messages = evaluate_bilan(bilan, ref)
        assert not [m for m in messages if m["niveau"] == ERREUR], messages
        assert "BILAN_INCOMPLET" not in [m["code"] for m in messages]
        assert (REJETE if refused(messages) else IMPORTE) == IMPORTE
    # A Sconet Notes import cannot carry bilans de cycle.
    for bilan in (b for b in partial_bilans if b["type"] == "cycle"):
        assert [m["code"] for m in evaluate_bilan(bilan, ref)] == ["CYCLE_BILAN_SCONET_DIVISION"]


# --- schemaVersion 2.0 --------------------------------------------------------------------------

def test_a_schema_version_2_document_validates_under_both_profiles_and_splits_the_same(
        schema, partial_schema, small_xml, partial_xml, small_spec):
    v2 = with_version(small_xml, "2.0")
    assert b'schemaVersion="2.0"' in v2
    reference = bilans_of(small_xml, schema, small_spec.uai)
    for s in (schema, partial_schema):
        result = check_file(v2, s, small_spec.uai)
        assert result.ok, result.erreurs
        assert result.entete["schema_version"] == "2.0"
        assert list(split_bilans(result.root)) == reference
    # A partial 2.0 file: valid for the partial profile only, and split as the partial 7.0 one.
    partial_v2 = with_version(partial_xml, "2.0")
    assert_xsd_invalid(partial_v2, schema, small_spec.uai)
    assert bilans_of(partial_v2, partial_schema, small_spec.uai) == bilans_of(partial_xml, partial_schema,
                                                                               small_spec.uai)


@pytest.mark.parametrize("version", ["1.0", "8.0", "7", ""])
def test_an_unknown_schema_version_is_refused_under_both_profiles(schema, partial_schema, small_xml, small_spec,
                                                                  version):
    xml = with_version(small_xml, version)
    for s in (schema, partial_schema):
        erreurs = assert_xsd_invalid(xml, s, small_spec.uai)
        assert any("schemaVersion" in e["message"] for e in erreurs)
