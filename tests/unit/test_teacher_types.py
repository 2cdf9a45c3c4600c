"""Every teacher type the official XSD allows (`Enseignant/@type`: epp, local, dir, autre) in the
référentiel (issue 14, defect 7): its schema and validation, the STS Web reader (a director, another
staff member), the exports' merge, and the import of an LSU file naming such teachers: file checks
(XSD), split into bilans, per-bilan checks against the référentiel that keeps them."""
from __future__ import annotations

import copy

import pytest
from lxml import etree

from chalicelib.domain.catalogue import ERREUR
from chalicelib.domain.checks import evaluate_bilan
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file
from chalicelib.referentiel import (
    TYPES_ENSEIGNANT, index_referentiel, schema_referentiel, validate_referentiel,
)
from chalicelib.referentiel.exports import import_exports, lire_export
from chalicelib.referentiel.sts import IndividuSts
from exports_school import ELEVES, FIXTURES, NOMENCLATURE, STS, UAI, fixture, lsu_file_of_the_fixture_school
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

NS = {"l": "urn:fr:edu:scolarite:lsun:bilans:import"}
XSD_TYPES = ("epp", "local", "dir", "autre")
SPEC = SchoolSpec(divisions_par_niveau=1, eleves_par_division=3, types_enseignants=("dir", "autre"))


def xsd_teacher_types(settings) -> tuple[str, ...]:
    """The enumeration of the XSD's simple type TypeEnseignant, read from the official file."""
    tree = etree.parse(settings.xsd_path, etree.XMLParser(no_network=True, resolve_entities=False))
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    return tuple(tree.xpath("//xs:simpleType[@name='TypeEnseignant']//xs:enumeration/@value", namespaces=xs))


def teachers_of_type(ref: dict, genre: str) -> list[str]:
    return [e["id_sts"] for e in ref["enseignants"] if e["type"] == genre]


# --- the référentiel accepts what the XSD allows ----------------------------------------------------

def test_the_referentiel_accepts_exactly_the_types_of_the_xsd(settings):
    assert xsd_teacher_types(settings) == XSD_TYPES
    assert TYPES_ENSEIGNANT == XSD_TYPES
    schema = schema_referentiel()["properties"]["enseignants"]["items"]["properties"]["type"]
    assert schema["enum"] == list(XSD_TYPES) and schema["default"] == "epp"


@pytest.mark.parametrize("genre", XSD_TYPES)
def test_each_xsd_type_is_valid_and_kept_by_the_index(genre):
    ref = generate_referentiel(SchoolSpec(divisions_par_niveau=1, eleves_par_division=1))
    ref["enseignants"][0]["type"] = genre
    assert validate_referentiel(ref) == []
    assert index_referentiel(ref).enseignants_by_id_sts[ref["enseignants"][0]["id_sts"]]["type"] == genre


@pytest.mark.parametrize("genre", ["EPP", "Dir", "directeur", "", None, 1])
def test_other_types_are_refused_in_french(genre):
    ref = generate_referentiel(SchoolSpec(divisions_par_niveau=1, eleves_par_division=1))
    ref["enseignants"][1]["type"] = genre
    (erreur,) = validate_referentiel(ref)
    assert erreur["code"] == "REFERENTIEL_INVALIDE" and erreur["chemin"] == "enseignants[1].type"
    if isinstance(genre, str):
        assert erreur["message"] == ("Le champ « type » doit valoir l'une des valeurs : « epp », « local », "
                                     f"« dir », « autre » ; valeur reçue : « {genre} ».")
    else:
        assert erreur["message"] == "Le champ « type » doit être un texte."


def test_a_teacher_without_type_is_epp():
    ref = generate_referentiel(SchoolSpec(divisions_par_niveau=1, eleves_par_division=1))
    del ref["enseignants"][0]["type"]
    assert validate_referentiel(ref) == []
    assert index_referentiel(ref).enseignants_by_id_sts[ref["enseignants"][0]["id_sts"]]["type"] == "epp"


# --- a generated school with a director and another staff member who teach -----------------------------

@pytest.fixture(scope="module")
def school() -> tuple[dict, bytes]:
    return generate_referentiel(SPEC), generate_lsu_xml(SPEC)


def test_the_generator_gives_the_types_to_the_first_teachers(school):
    ref, xml = school
    ids = sorted(int(e["id_sts"]) for e in ref["enseignants"])
    assert teachers_of_type(ref, "dir") == [str(ids[0])] and teachers_of_type(ref, "autre") == [str(ids[1])]
    assert all(e["type"] == "epp" for e in ref["enseignants"] if int(e["id_sts"]) not in ids[:2])
    in_file = {e.get("id-sts"): e.get("type") for e in etree.fromstring(xml).iterfind(".//l:enseignant", NS)}
    assert in_file == {e["id_sts"]: e["type"] for e in ref["enseignants"]}
    with pytest.raises(ValueError):
        generate_referentiel(SchoolSpec(types_enseignants=("directeur",)))


def test_a_file_naming_dir_and_autre_teachers_is_imported_without_any_message(school, schema):
    ref, xml = school
    assert validate_referentiel(ref) == []
    checked = check_file(xml, schema, SPEC.uai)
    assert checked.ok, checked.erreurs                                   # the XSD accepts them
    bilans = list(split_bilans(checked.root))
    index = index_referentiel(ref)
    special = set(teachers_of_type(ref, "dir") + teachers_of_type(ref, "autre"))
    named = [b for b in bilans if special & {e["id_sts"] for a in b.get("acquis", []) for e in a["enseignants"]}]
    assert named                                                         # they do teach in the file
    for bilan in bilans:
        assert evaluate_bilan(bilan, index) == [], bilan["eleve"]


def test_warnings_only_where_a_dir_or_autre_teacher_has_no_service(school, schema):
    """The « autre » staff member loses their services in the référentiel: the bilans naming them
    carry TEACHER_WITHOUT_SERVICE (a warning: imported all the same), the others nothing."""
    ref, xml = school
    ref = copy.deepcopy(ref)
    (autre,) = teachers_of_type(ref, "autre")
    ref["services"] = [s for s in ref["services"] if s["enseignant"] != autre]
    assert validate_referentiel(ref) == []
    index = index_referentiel(ref)
    checked = check_file(xml, schema, SPEC.uai)
    assert checked.ok, checked.erreurs
    warned = 0
    for bilan in split_bilans(checked.root):
        names = {e["id_sts"] for a in bilan.get("acquis", []) for e in a["enseignants"]}
        names |= {e["id_sts"] for e in bilan.get("profs_principaux", [])}
        messages = evaluate_bilan(bilan, index)
        assert not [m for m in messages if m["niveau"] == ERREUR], messages
        if autre in names:
            warned += 1
            assert [m["code"] for m in messages] == ["TEACHER_WITHOUT_SERVICE"], messages
            assert f"(STS {autre})" in messages[0]["message"]
        else:
            assert messages == [], bilan["eleve"]
    assert warned


# --- STS Web: a director, another staff member ------------------------------------------------------

@pytest.mark.parametrize("sts_type, fonction, lsu_type", [
    ("epp", "ENS", "epp"), ("local", "ENS", "local"), ("epp", None, "epp"), ("local", None, "local"),
    ("epp", "DIR", "dir"), ("local", "DIR", "dir"),
    ("epp", "EDU", "autre"), ("epp", "DOC", "autre"), ("local", "SUR", "autre"),
])
def test_the_lsu_type_of_an_sts_individual(sts_type, fonction, lsu_type):
    individu = IndividuSts("51009", sts_type, "MARTIN", fonction=fonction)
    assert individu.type_lsu == lsu_type and individu.type == sts_type


def sts_with_staff() -> bytes:
    """The fixture's STS export where the principal (51004, FONCTION DIR) teaches Latin in 3C and
    a CPE (51006, FONCTION EDU, created locally) is professeur principal of 3C."""
    xml = (FIXTURES / f"{STS}.utf8.xml").read_text(encoding="utf-8")
    end_of_3c = '<MEF_APPARTENANCE CODE="10310019110"/>\n          </MEFS_APPARTENANCE>\n        </DIVISION>\n      </DIVISIONS>'
    assert xml.count(end_of_3c) == 1
    xml = xml.replace(end_of_3c, end_of_3c.replace(
        "</MEFS_APPARTENANCE>", '</MEFS_APPARTENANCE><SERVICES><SERVICE CODE_MATIERE="020300" CODE_MOD_COURS="CG">'
        '<ENSEIGNANTS><ENSEIGNANT ID="51004" TYPE="epp"/></ENSEIGNANTS></SERVICE></SERVICES>'))
    cpe = ('<INDIVIDU ID="51006" TYPE="local"><SEXE>2</SEXE><NOM_USAGE>FAURE</NOM_USAGE><PRENOM>Chloé</PRENOM>'
           '<FONCTION>EDU</FONCTION><PROFS_PRINC><PROF_PRINC><CODE_STRUCTURE>3C</CODE_STRUCTURE></PROF_PRINC>'
           '</PROFS_PRINC></INDIVIDU></INDIVIDUS>')
    return xml.replace("</INDIVIDUS>", cpe, 1).encode("utf-8")


def test_sts_directors_and_other_staff_keep_their_lsu_types_through_the_merge():
    sts = sts_with_staff()
    assert {i.id: i.type_lsu for i in lire_export(sts, UAI).contenu.individus}["51004"] == "dir"
    ref, rapport = import_exports(None, [fixture(ELEVES), fixture(NOMENCLATURE), sts], UAI)
    assert validate_referentiel(ref) == []
    types = {e["id_sts"]: e["type"] for e in ref["enseignants"]}
    assert types == {"51001": "epp", "51002": "epp", "51003": "local", "51004": "dir", "51006": "autre"}
    assert ("51004", "020300", "3C") in index_referentiel(ref).services
    assert next(d for d in ref["divisions"] if d["code"] == "3C")["profs_principaux"] == ["51006"]
    assert rapport["enseignants"]["ajoutes"] == ["51001", "51002", "51003", "51004", "51006"]

    # The same exports again: nothing changes, the types stay.
    again, rapport = import_exports(ref, [fixture(ELEVES), sts], UAI)
    assert again["enseignants"] == ref["enseignants"] and rapport["enseignants"]["modifies"] == []

    # A référentiel written before (every teacher « epp »): the next STS import corrects the types.
    old = copy.deepcopy(ref)
    for e in old["enseignants"]:
        e.pop("type")
    fixed, rapport = import_exports(old, [sts], UAI)
    assert {e["id_sts"]: e["type"] for e in fixed["enseignants"]} == types
    assert rapport["enseignants"]["modifies"] == [{"id_sts": "51003", "champs": ["type"]},
                                                  {"id_sts": "51004", "champs": ["type"]},
                                                  {"id_sts": "51006", "champs": ["type"]}]


def test_round_trip_a_file_naming_the_teaching_director_against_the_referentiel_of_the_exports(schema):
    """exports → référentiel (51002 is a deputy head who teaches maths: « dir ») → an LSU file that
    names him with type="dir" → XSD, split, checks: nothing about him, nothing refused."""
    sts = (FIXTURES / f"{STS}.utf8.xml").read_text(encoding="utf-8")
    before = "<PRENOM>Loïc</PRENOM>\n        <FONCTION>ENS</FONCTION>"
    assert before in sts
    sts = sts.replace(before, "<PRENOM>Loïc</PRENOM>\n        <FONCTION>DIR</FONCTION>", 1)
    ref, _ = import_exports(None, [fixture(ELEVES), fixture(NOMENCLATURE), sts.encode("utf-8")], UAI)
    next(d for d in ref["divisions"] if d["code"] == "6A")["mode_import"] = "EDITEUR"
    assert validate_referentiel(ref) == [] and {e["id_sts"]: e["type"] for e in ref["enseignants"]}["51002"] == "dir"

    root = etree.fromstring(lsu_file_of_the_fixture_school())
    (teacher,) = [e for e in root.iterfind(".//l:enseignant", NS) if e.get("id-sts") == "51002"]
    teacher.set("type", "dir")
    checked = check_file(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), schema, UAI)
    assert checked.ok, checked.erreurs
    lea = next(b for b in split_bilans(checked.root) if b["type"] == "periodique" and b["eleve"]["id_be"] == "4100001")
    messages = evaluate_bilan(lea, index_referentiel(ref))
    assert not [m for m in messages if m["niveau"] == ERREUR], messages
    assert not [m for m in messages if "STS 51002" in m["message"]], messages
