"""The streamed file pass gives what the tree-based checks and split give, with less memory: its
message bodies are split_bilans() of the tree-validated document, as standard compact JSON. What
the builders find missing before the schema's verdict is refused as the tree refuses it; a bug of
ours is not."""
import json
import re

import pytest
from lxml import etree

from chalicelib.pipeline.split import bilans as split
from chalicelib.pipeline.split import stream
from lsu_tools.generator import SchoolSpec, generate_lsu_xml
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file


@pytest.fixture(scope="module")
def partial_schema(settings):
    from chalicelib.pipeline.split.file_checks import load_schema
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


NS = "urn:fr:edu:scolarite:lsun:bilans:import"
PERIODIQUE_ORDER = ["liste-acquis", "competences-numeriques", "epis-eleve", "acc-persos-eleve", "liste-parcours",
                    "modalites-accompagnement", "acquis-conseils", "devoirs-faits", "vie-scolaire", "socle",
                    "responsables"]
CYCLE_ORDER = ["socle", "synthese", "enseignement-complement", "responsables", "langue-culture-regionale"]
# Texts JSON must escape (or must not): quotes, backslash, controls, line separators, beyond the BMP.
TRICKY = 'Il a dit « ok » puis "non" \\ fin\ttab\nligne 2\u2028après 🎓 &amp; <fin> \x7f\x85\ufeff'


def _q(name):
    return f"{{{NS}}}{name}"


def _put(bilan, order, name, attrib=None, text=None):
    """A child of `bilan` in the schema's order (replacing one of that name)."""
    old = bilan.find(_q(name))
    el = etree.Element(_q(name), attrib or {})
    el.text = text
    if old is not None:
        bilan.replace(old, el)
        return el
    later = [c for c in bilan if etree.QName(c).localname in order[order.index(name) + 1:]]
    if later:
        later[0].addprevious(el)
    else:
        bilan.append(el)
    return el


def rich_xml(spec) -> bytes:
    """A generated file with every optional part of a bilan the generator leaves out, and texts
    that JSON must escape."""
    root = etree.fromstring(generate_lsu_xml(spec, periodes=[1, 2, 3]))
    periodiques = root.findall(f".//{_q('bilan-periodique')}")
    cycles = root.findall(f".//{_q('bilan-cycle')}")
    b = periodiques[0]
    b.set("date-verrou", "2026-06-30T10:00:00")
    acquis = b.findall(f"{_q('liste-acquis')}/{_q('acquis')}")
    acquis[0].find(_q("appreciation")).text = TRICKY
    del acquis[1].attrib["element-programme-refs"]
    acquis[1].remove(acquis[1].find(_q("appreciation")))
    for k in ("moyenne-eleve", "moyenne-structure", "structure-non-notee"):
        acquis[2].attrib.pop(k, None)
    acquis[2].set("eleve-non-note", "true")
    acquis[2].set("positionnement", "3")
    parcours = _put(b, PERIODIQUE_ORDER, "liste-parcours")
    for code in ("PAR_CIT", "PAR_ART"):
        etree.SubElement(parcours, _q("parcours"), code=code).text = f"Parcours {code} {TRICKY}"
    modalites = _put(b, PERIODIQUE_ORDER, "modalites-accompagnement")
    etree.SubElement(etree.SubElement(modalites, _q("modalite-accompagnement"), code="CTR"),
                     _q("complement-contrat-reussite")).text = "Contrat signé."
    etree.SubElement(modalites, _q("modalite-accompagnement"), code="PAP")
    _put(b, PERIODIQUE_ORDER, "devoirs-faits", text=TRICKY)
    _put(b, PERIODIQUE_ORDER, "vie-scolaire", {"nb-retards": "007", "nb-abs-justifiees": "0",
                                              "nb-abs-injustifiees": "2"})
    b.find(_q("vie-scolaire")).append(etree.Element(_q("commentaire")))
    b.find(f"{_q('vie-scolaire')}/{_q('commentaire')}").text = TRICKY
    socle = _put(b, PERIODIQUE_ORDER, "socle")
    for code, pos in (("CPD_FRA", "3"), ("MET_APP", "0")):
        etree.SubElement(socle, _q("domaine"), code=code, positionnement=pos)
    responsables = _put(b, PERIODIQUE_ORDER, "responsables")
    r = etree.SubElement(responsables, _q("responsable"), civilite="MME", nom="Dupont", prenom="Anne",
                         legal1="true", **{"lien-parente": "MERE"})
    etree.SubElement(r, _q("adresse"), ligne1="1 rue \"des\" Écoles", **{"code-postal": "75005", "commune": "Paris"})
    r2 = etree.SubElement(responsables, _q("responsable"))
    etree.SubElement(r2, _q("adresse"), **{"code-postal": "13001", "commune": "Marseille"})
    etree.SubElement(responsables, _q("responsable"), denomination="Aide sociale à l'enfance")
    # Sconet Notes partial: no appréciation générale, no vie scolaire, no profs principaux.
    partial = periodiques[1]
    for name in ("acquis-conseils", "vie-scolaire"):
        partial.remove(partial.find(_q(name)))
    del partial.attrib["prof-princ-refs"]
    comp = next(p.find(_q("competences-numeriques")) for p in periodiques
                if p.find(_q("competences-numeriques")) is not None)
    comp.attrib.pop("comp-num-commun-refs")
    c = cycles[0]
    c.set("date-verrou", "2026-07-01")
    _put(c, CYCLE_ORDER, "synthese", text=TRICKY)
    _put(c, CYCLE_ORDER, "enseignement-complement", {"code": "LCA"})
    _put(c, CYCLE_ORDER, "langue-culture-regionale", {"code": "BRE", "positionnement": "2"})
    resp = _put(c, CYCLE_ORDER, "responsables")
    etree.SubElement(resp, _q("responsable"), nom="Martin", legal2="true")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")



# --- the bodies are split_bilans() of the tree-validated document, as standard JSON -------------

def _bodies_are_the_tree_split(xml: bytes, schema, uai: str) -> list[dict]:
    streamed = stream.check_and_split(xml, schema, uai)
    assert streamed.ok, streamed.erreurs
    tree = check_file(xml, schema, uai)
    assert tree.ok, tree.erreurs
    reference = list(split_bilans(tree.root))
    assert [json.loads(b) for b in streamed.bilans] == reference
    # Byte for byte the standard library's compact JSON, keys in the builders' order.
    assert streamed.bilans == [json.dumps(b, ensure_ascii=False, separators=(",", ":")) for b in reference]
    return reference


@pytest.mark.parametrize("spec, periodes", [
    (SchoolSpec(divisions_par_niveau=1, eleves_par_division=3), [3]),
    (SchoolSpec(divisions_par_niveau=2, eleves_par_division=5, seed=11), [1, 2, 3]),
    (SchoolSpec(divisions_par_niveau=3, eleves_par_division=9, seed=5), [1, 2]),
])
def test_the_bodies_are_the_tree_split_as_json(partial_schema, spec, periodes):
    bilans = _bodies_are_the_tree_split(generate_lsu_xml(spec, periodes=periodes), partial_schema, spec.uai)
    assert len(bilans) >= 4 * spec.divisions_par_niveau * spec.eleves_par_division * len(periodes)


def test_every_optional_part_and_escaped_text_give_the_tree_split(partial_schema, small_spec):
    bilans = _bodies_are_the_tree_split(rich_xml(small_spec), partial_schema, small_spec.uai)
    first = bilans[0]
    assert first["date_verrou"] == "2026-06-30T10:00:00" and first["acquis"][0]["appreciation"] == TRICKY
    assert first["acquis"][1]["elements_programme"] == [] and first["acquis"][1]["appreciation"] is None
    assert first["vie_scolaire"] == {"nb_retards": 7, "nb_abs_justifiees": 0, "nb_abs_injustifiees": 2,
                                     "commentaire": TRICKY}
    assert [m["code"] for m in first["modalites_accompagnement"]] == ["CTR", "PAP"]
    assert first["responsables"][1] == {"adresse": {"code_postal": "13001", "commune": "Marseille"}}
    assert first["socle"] == [{"code": "CPD_FRA", "positionnement": "3"}, {"code": "MET_APP", "positionnement": "0"}]
    assert bilans[1]["vie_scolaire"] is None and bilans[1]["acquis_conseils"] is None
    assert bilans[1]["profs_principaux"] == []
    cycle = next(b for b in bilans if b["type"] == "cycle")
    assert cycle["enseignement_complement"] == {"code": "LCA"} and cycle["synthese"] == TRICKY
    assert cycle["langue_culture_regionale"] == {"code": "BRE", "positionnement": "2"}


# --- what the schema requires, missing before its verdict; bugs ---------------------------------

def _first(root, name):
    return root.find(f".//{_q(name)}")


def _drop_child(name, parent):
    def mutate(root):
        owner = _first(root, parent)
        owner.remove(owner.find(_q(name)))
    return mutate


def _set(name, attribute, value):
    def mutate(root):
        el = _first(root, name)
        if value is None:
            del el.attrib[attribute]
        else:
            el.set(attribute, value)
    return mutate


# Each breaks the schema where the builders read (the schema's verdict may come after the "end"
# event of the bilan): the file is refused as the tree-based checks refuse it.
MISSING = {
    "bilan without date-conseil-classe": _set("bilan-periodique", "date-conseil-classe", None),
    "bilan without eleve-ref": _set("bilan-periodique", "eleve-ref", None),
    "bilan without periode-ref": _set("bilan-periodique", "periode-ref", None),
    "bilan without responsable-etab-ref": _set("bilan-periodique", "responsable-etab-ref", None),
    "bilan without liste-acquis": _drop_child("liste-acquis", "bilan-periodique"),
    "vie scolaire not a number": _set("vie-scolaire", "nb-retards", "x"),
    "AP of an élève without its group": _set("acc-perso-eleve", "acc-perso-groupe-ref", None),
    "bilan de cycle without date-creation": _set("bilan-cycle", "date-creation", None),
    "cycle not a number": _set("bilan-cycle", "cycle", "trois"),
    "bilan de cycle without socle": _drop_child("socle", "bilan-cycle"),
    "élève without id-be": _set("eleve", "id-be", None),
    "responsable without libelle": _set("responsable-etab", "libelle", None),
    "période indice not a number": _set("periode", "indice", "x"),
    "période indice beyond xs:int": _set("periode", "indice", "99999999999999999999"),
    "EPI without discipline-refs": _set("acc-perso", "discipline-refs", None),
}


def _mutated(spec, mutate) -> bytes:
    root = etree.fromstring(generate_lsu_xml(spec))
    mutate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _spy_on_the_builders(monkeypatch) -> list:
    """The SchemaViolations the builders raise during check_and_split (raised on, unchanged)."""
    met = []

    def spy(fn):
        def wrapped(*args):
            try:
                return fn(*args)
            except split.SchemaViolation as exc:
                met.append(exc)
                raise
        return wrapped
    for name in ("bilan_periodique", "bilan_cycle", "build_index"):
        monkeypatch.setattr(stream, name, spy(getattr(stream, name)))
    return met


@pytest.mark.parametrize("name", sorted(MISSING))
def test_what_the_schema_requires_missing_is_refused_as_the_tree_refuses_it(partial_schema, small_spec,
                                                                            monkeypatch, name):
    xml = _mutated(small_spec, MISSING[name])
    tree = check_file(xml, partial_schema, small_spec.uai)
    assert tree.erreurs and {e["code"] for e in tree.erreurs} == {"XSD_INVALID"}
    met = _spy_on_the_builders(monkeypatch)
    result = stream.check_and_split(xml, partial_schema, small_spec.uai)
    assert result.erreurs == tree.erreurs and result.bilans == []
    assert met, "the builders met it before the schema's verdict (else this case tests nothing here)"


@pytest.mark.parametrize("name", sorted(MISSING))
def test_the_builders_raise_a_schema_violation_where_the_schema_requires(small_spec, name):
    """On the tree alone (no schema): the builders raise SchemaViolation, not a built-in error."""
    root = etree.fromstring(_mutated(small_spec, MISSING[name]))
    with pytest.raises(split.SchemaViolation) as caught:
        list(split_bilans(root))
    assert isinstance(caught.value, split.InvalidFile) and caught.value.line and caught.value.element


def test_a_bilan_outside_donnees_is_refused_as_the_tree_refuses_it(partial_schema, small_spec):
    """No <donnees> to index when the bilan's "end" event comes: refused, not an AttributeError."""
    valid = generate_lsu_xml(small_spec)
    bilan = valid[valid.index(b"<bilan-periodique "):valid.index(b"</bilan-periodique>") + len(b"</bilan-periodique>")]
    xml = valid[:valid.index(b"<donnees>")] + bilan + b"</lsun-bilans>"
    tree = check_file(xml, partial_schema, small_spec.uai)
    assert {e["code"] for e in tree.erreurs} == {"XSD_INVALID"}
    assert stream.check_and_split(xml, partial_schema, small_spec.uai).erreurs == tree.erreurs


@pytest.mark.parametrize("builder", ["bilan_periodique", "bilan_cycle", "build_index", "encode_bilan"])
def test_a_bug_in_the_split_propagates_instead_of_refusing_the_file(partial_schema, small_spec, monkeypatch,
                                                                    builder):
    def bug(*args):
        raise TypeError("a bug of ours")
    monkeypatch.setattr(stream, builder, bug)
    valid = generate_lsu_xml(small_spec)
    with pytest.raises(TypeError, match="a bug of ours"):
        stream.check_and_split(valid, partial_schema, small_spec.uai)
    # Not even a file the schema refuses later on: the bug is not taken for its refusal.
    last = valid.rindex(b'date-creation="')
    invalid = valid[:last] + re.sub(rb'date-creation="[^"]*"', b'date-creation="hier"', valid[last:], count=1)
    assert check_file(invalid, partial_schema, small_spec.uai).erreurs
    with pytest.raises(TypeError, match="a bug of ours"):
        stream.check_and_split(invalid, partial_schema, small_spec.uai)


def test_a_schema_violation_the_schema_accepts_is_a_bug_and_propagates(partial_schema, small_spec, monkeypatch):
    """Raised on a file the schema accepts, SchemaViolation says our builders require too much."""
    def too_strict(el, idx):
        raise split.SchemaViolation(el, "attribut imaginaire absent")
    monkeypatch.setattr(stream, "bilan_cycle", too_strict)
    with pytest.raises(split.SchemaViolation, match="imaginaire"):
        stream.check_and_split(generate_lsu_xml(small_spec), partial_schema, small_spec.uai)


def test_no_json_writer_twin_is_left(partial_schema):
    """One split path: the builders' dicts, through one encoder."""
    assert not [n for n in vars(split) if n.endswith("_json")]
    assert stream.encode_bilan is split.encode_bilan


@pytest.mark.parametrize("attribute, value", [
    ("eleve-ref", "RESP_ADJOINT"), ("periode-ref", "EL1"), ("responsable-etab-ref", "P3"),
    ("prof-princ-refs", "ENS1 P3"),
])
def test_a_wrong_reference_gives_the_same_error_as_the_tree_split(partial_schema, small_spec, attribute, value):
    root = etree.fromstring(generate_lsu_xml(small_spec))
    bilan = root.find(f".//{_q('bilan-periodique')}")
    first = bilan.get(attribute).split()[0]
    bilan.set(attribute, value.replace("ENS1", first))
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    [error] = stream.check_and_split(xml, partial_schema, small_spec.uai).erreurs
    with pytest.raises(split.InvalidReference) as caught:
        list(split_bilans(check_file(xml, partial_schema, small_spec.uai).root))
    assert error == caught.value.message() and error["code"] == "REFERENCE_INVALIDE"


def test_a_wrong_reference_inside_an_acquis_or_a_group_is_reported_at_its_line(partial_schema, small_spec):
    for path, attribute, value in ((f"{_q('liste-acquis')}/{_q('acquis')}", "enseignant-refs", "P3"),
                                   (f"{_q('liste-acquis')}/{_q('acquis')}", "discipline-ref", "P3"),
                                   (f"{_q('acc-persos-eleve')}/{_q('acc-perso-eleve')}", "acc-perso-groupe-ref", "P3")):
        root = etree.fromstring(generate_lsu_xml(small_spec))
        bilans = [b for b in root.iter(_q("bilan-periodique")) if b.find(path) is not None]
        target = bilans[-1].findall(path)[-1]
        target.set(attribute, value)
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        [error] = stream.check_and_split(xml, partial_schema, small_spec.uai).erreurs
        with pytest.raises(split.InvalidReference) as caught:
            list(split_bilans(check_file(xml, partial_schema, small_spec.uai).root))
        assert error == caught.value.message()


def _duplicate_id(small_spec) -> bytes:
    """Two éléments de programme with one id (each referenced as before): valid for libxml2's
    streamed validation, refused by the schema (xs:ID) on the whole tree."""
    root = etree.fromstring(generate_lsu_xml(small_spec))
    first, second = list(root.iter(_q("element-programme")))[:2]
    old, new = second.get("id"), first.get("id")
    for el in root.iter():
        for attribute, value in el.items():
            if old in value.split():
                el.set(attribute, " ".join(new if v == old else v for v in value.split()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_duplicate_id_is_refused_as_the_schema_refuses_it(partial_schema, small_spec):
    xml = _duplicate_id(small_spec)
    tree = check_file(xml, partial_schema, small_spec.uai)
    assert [e["code"] for e in tree.erreurs] == ["XSD_INVALID"] and "xs:ID" in tree.erreurs[0]["message"]
    result = stream.check_and_split(xml, partial_schema, small_spec.uai)
    assert result.erreurs == tree.erreurs and result.bilans == []


def test_a_duplicate_id_in_a_large_file_is_reported_without_the_tree(partial_schema, small_spec, monkeypatch):
    monkeypatch.setattr(stream, "EXPLAIN_MAX_BYTES", 10)
    monkeypatch.setattr(stream.validation, "check_file", None)      # never built for a large file
    [err] = stream.check_and_split(_duplicate_id(small_spec), partial_schema, small_spec.uai).erreurs
    assert err["code"] == "XSD_INVALID" and err["element"] == "element-programme" and err["ligne"]
    assert "EP_020700_1" in err["message"] and "xs:ID" in err["message"]


def test_a_wrong_reference_and_a_schema_error_give_the_schema_error_as_the_tree_does(partial_schema):
    """The streamed pass meets the wrong reference (bilan 1) before the schema's verdict on a
    later bilan: it reads on, and reports what validation.check_file reports."""
    valid = generate_lsu_xml(SchoolSpec(uai="0750001A", divisions_par_niveau=1, eleves_par_division=2))
    periode = re.search(rb'<periode id="([^"]+)"', valid).group(1)
    data = re.sub(rb'eleve-ref="EL\d+"', b'eleve-ref="' + periode + b'"', valid, count=1)
    last = data.rindex(b'date-conseil-classe="')
    data = data[:last] + re.sub(rb'date-conseil-classe="[^"]*"', b'date-conseil-classe="hier"', data[last:], count=1)
    streamed = stream.check_and_split(data, partial_schema, "0750001A")
    assert [e["code"] for e in streamed.erreurs] == [e["code"] for e in check_file(data, partial_schema, "0750001A").erreurs]
    assert {e["code"] for e in streamed.erreurs} == {"XSD_INVALID"}
    only_reference = re.sub(rb'eleve-ref="EL\d+"', b'eleve-ref="' + periode + b'"', valid, count=1)
    assert [e["code"] for e in stream.check_and_split(only_reference, partial_schema, "0750001A").erreurs] == \
           ["REFERENCE_INVALIDE"]
