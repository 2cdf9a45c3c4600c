"""Splitting a valid document into self-contained bilans (chalicelib/pipeline/split/bilans.py), cross-checked
against the XML itself (references resolved by hand with XPath)."""
from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from lsu_tools.generator import SchoolSpec, generate_lsu_xml
from chalicelib.pipeline.split.bilans import InvalidReference, split_bilans
from chalicelib.pipeline.split.file_checks import NS, check_file

UAI = "0750001A"
X = {"l": NS}
DOMAINES = {"CPD_FRA", "CPD_ETR", "CPD_SCI", "CPD_ART", "MET_APP", "FRM_CIT", "SYS_NAT", "REP_MND"}


def checked_root(xml: bytes, schema) -> etree._Element:
    result = check_file(xml, schema, UAI)
    assert result.ok, result.erreurs
    return result.root


@pytest.fixture(scope="module")
def root(schema, small_xml):
    return checked_root(small_xml, schema)


@pytest.fixture(scope="module")
def bilans(root):
    return list(split_bilans(root))


@pytest.fixture(scope="module")
def by_id(root):
    return {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def periodiques(bilans):
    return [b for b in bilans if b["type"] == "periodique"]


def cycles(bilans):
    return [b for b in bilans if b["type"] == "cycle"]


def xml_eleves(root) -> list[etree._Element]:
    return root.xpath("//l:eleves/l:eleve", namespaces=X)


def walk(obj, path="$"):
    """Every (path, key, value) of a JSON-like structure."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}[{i}]")


# --- counts and keys ---------------------------------------------------------------------------

def test_one_periodic_bilan_per_eleve_plus_cycle_bilans(root, bilans, small_spec):
    eleves = xml_eleves(root)
    assert len(eleves) == 4 * small_spec.divisions_par_niveau * small_spec.eleves_par_division
    fin_de_cycle = [e for e in eleves if e.get("code-division")[0] in "63"]
    assert len(periodiques(bilans)) == len(eleves)
    assert len(cycles(bilans)) == len(fin_de_cycle)
    assert len(bilans) == len(eleves) + len(fin_de_cycle)
    assert sorted(b["eleve"]["id_be"] for b in periodiques(bilans)) == sorted(e.get("id-be") for e in eleves)
    assert sorted(b["eleve"]["id_be"] for b in cycles(bilans)) == sorted(e.get("id-be") for e in fin_de_cycle)


def test_every_bilan_has_its_key_and_eleve(root, bilans):
    divisions = {e.get("id-be"): e.get("code-division") for e in xml_eleves(root)}
    for b in bilans:
        if b["type"] == "periodique":
            assert re.fullmatch(r"P#\d{4}#[23]#[1-3]", b["cle"])
            assert b["cle"] == "P#2025#3#3"
            assert b["periode"] == {"millesime": "2025", "indice": 3, "nb_periodes": 3}
        else:
            assert re.fullmatch(r"C#[34]#\d{4}", b["cle"])
            assert b["cle"] == ("C#3#2025" if b["eleve"]["division"].startswith("6") else "C#4#2025")
            assert b["cycle"] == (3 if b["eleve"]["division"].startswith("6") else 4)
        assert b["eleve"]["id_be"] and b["eleve"]["division"] == divisions[b["eleve"]["id_be"]]
        assert b["eleve"]["nom"] and b["eleve"]["prenom"]


def test_ligne_is_the_bilan_element_line(root, bilans):
    lines = [el.sourceline for el in root.xpath("//l:bilan-periodique | //l:bilan-cycle", namespaces=X)]
    assert [b["ligne"] for b in bilans] == lines


# --- references resolved ------------------------------------------------------------------------

def test_acquis_are_resolved(root, bilans, by_id):
    elements = root.xpath("//l:bilan-periodique", namespaces=X)
    assert len(elements) == len(periodiques(bilans))
    n = 0
    for el, b in zip(elements, periodiques(bilans)):
        assert b["eleve"]["id_be"] == by_id[el.get("eleve-ref")].get("id-be")
        acquis_el = el.xpath("l:liste-acquis/l:acquis", namespaces=X)
        assert len(b["acquis"]) == len(acquis_el) > 0
        for a_el, a in zip(acquis_el, b["acquis"]):
            disc = by_id[a_el.get("discipline-ref")]
            assert a["discipline"]["code"] == disc.get("code")
            assert a["discipline"]["libelle"] == disc.get("libelle")
            assert a["discipline"]["modalite_election"] == disc.get("modalite-election")
            ens = [by_id[r] for r in a_el.get("enseignant-refs").split()]
            assert [(e["id_sts"], e["nom"]) for e in a["enseignants"]] == [(e.get("id-sts"), e.get("nom")) for e in ens]
            eps = [by_id[r].get("libelle") for r in (a_el.get("element-programme-refs") or "").split()]
            assert a["elements_programme"] == eps
            assert all(isinstance(x, str) and x and not x.startswith("EP_") for x in a["elements_programme"])
            assert a["appreciation"] == a_el.findtext(f"{{{NS}}}appreciation")
            n += 1
    assert n > 50


def test_profs_principaux_and_responsable_are_resolved(bilans):
    for b in bilans:
        assert b["profs_principaux"] and all(p["id_sts"] and p["nom"] for p in b["profs_principaux"])
        assert b["responsable_etab"] in ("Mme Principale", "M. Principal adjoint")


def test_epis_are_resolved(bilans):
    b4 = next(b for b in periodiques(bilans) if b["eleve"]["division"] == "4A")
    assert len(b4["epis"]) == 1
    epi = b4["epis"][0]
    assert epi["intitule"] == "Le collège, un patrimoine de notre quartier (4A)"
    definition = epi["definition"]
    assert definition["intitule"] == "Le collège, un patrimoine de notre quartier"
    assert definition["thematique"] == {"code": "PATRIMOINE_LOCAL", "libelle": "Patrimoine et histoire du quartier"}
    assert [d["code"] for d in definition["disciplines"]] == ["043000", "080100", "020700"]
    assert all(d["libelle"] for d in definition["disciplines"])
    assert definition["description"]
    pairs = epi["enseignants_disciplines"]
    assert [p["discipline"]["code"] for p in pairs] == ["043000", "080100", "020700"]
    assert all(p["enseignant"]["id_sts"] and p["enseignant"]["nom"] for p in pairs)
    assert "commentaire_eleve" in epi
    # A thématique of the national list is not defined in the file: its code only.
    b5 = next(b for b in periodiques(bilans) if b["eleve"]["division"] == "5A")
    assert b5["epis"][0]["definition"]["thematique"] == {"code": "EPI_SAN"}


def test_epi_teacher_is_the_division_teacher_of_that_discipline(bilans):
    for b in periodiques(bilans):
        by_code = {a["discipline"]["code"]: a["enseignants"] for a in b["acquis"]}
        for groupe in b["epis"] + b["acc_persos"]:
            for p in groupe["enseignants_disciplines"]:
                assert p["enseignant"] in by_code[p["discipline"]["code"]]


def test_acc_persos_are_resolved(bilans):
    sixiemes = [b for b in periodiques(bilans) if b["eleve"]["division"] == "6A"]
    assert sixiemes
    for b in sixiemes:
        assert len(b["acc_persos"]) == 1
        ap = b["acc_persos"][0]
        assert ap["intitule"].startswith("AP 6A")
        assert ap["definition"]["intitule"] == "Méthodologie et maîtrise de la langue"
        assert [d["code"] for d in ap["definition"]["disciplines"]] == ["020700", "061300"]
        assert [p["discipline"]["code"] for p in ap["enseignants_disciplines"]] == ["020700", "061300"]
        assert b["competences_numeriques"]["communs"] and all(b["competences_numeriques"]["communs"])
    others = [b for b in periodiques(bilans) if b["eleve"]["division"] != "6A"]
    assert all(b["acc_persos"] == [] for b in others)


def test_communs_are_resolved(bilans):
    for b in periodiques(bilans):
        assert b["vie_scolaire_commun"]
        assert b["parcours_communs"] and all(p["code"].startswith("PAR_") and p["texte"] for p in b["parcours_communs"])


def test_vie_scolaire_values_are_ints(root, bilans):
    elements = root.xpath("//l:bilan-periodique/l:vie-scolaire", namespaces=X)
    for el, b in zip(elements, periodiques(bilans)):
        vs = b["vie_scolaire"]
        counters = {k: v for k, v in vs.items() if k != "commentaire"}
        assert set(counters) == {"nb_retards", "nb_abs_justifiees", "nb_abs_injustifiees", "nb_heures_manquees"}
        assert all(type(v) is int for v in counters.values())
        assert counters == {k.replace("-", "_"): int(v) for k, v in el.attrib.items()}
        assert vs["commentaire"] is None or isinstance(vs["commentaire"], str)


def test_cycle_bilans_have_8_domains_and_a_synthese(bilans):
    assert cycles(bilans)
    for b in cycles(bilans):
        assert len(b["socle"]) == 8
        assert {d["code"] for d in b["socle"]} == DOMAINES
        assert all(d["positionnement"] in "01234" for d in b["socle"])
        assert isinstance(b["synthese"], str) and b["synthese"].strip()
        assert b["eleve"]["prenom"] in b["synthese"]


# --- self-contained ----------------------------------------------------------------------------

def test_bilans_are_json_serializable(bilans):
    for b in bilans:
        assert json.loads(json.dumps(b, ensure_ascii=False)) == b


def test_bilans_are_self_contained(bilans, by_id):
    document_ids = set(by_id)
    for b in bilans:
        for path, key, value in walk(b):
            assert not key.endswith(("_ref", "_refs")), f"{path}.{key}"
            assert key != "id", f"{path}.{key}: a document-internal id"
            if isinstance(value, str):
                assert not (set(value.split()) & document_ids), f"{path}.{key} = {value!r}"


def test_a_bilan_does_not_depend_on_the_others(bilans):
    """Serialized alone, each bilan keeps everything (no shared mutable object matters)."""
    copies = [json.loads(json.dumps(b)) for b in bilans]
    copies[0]["acquis"][0]["discipline"]["libelle"] = "modifié"
    assert all(c == b for c, b in zip(copies[1:], bilans[1:]))


# --- several periods -----------------------------------------------------------------------------

def test_three_periods_give_three_periodic_bilans_per_eleve(schema, small_spec):
    root = checked_root(generate_lsu_xml(small_spec, periodes=[1, 2, 3]), schema)
    bilans = list(split_bilans(root))
    eleves = xml_eleves(root)
    per_eleve: dict[str, list[str]] = {}
    for b in periodiques(bilans):
        per_eleve.setdefault(b["eleve"]["id_be"], []).append(b["cle"])
    assert len(per_eleve) == len(eleves)
    for keys in per_eleve.values():
        assert sorted(keys) == ["P#2025#3#1", "P#2025#3#2", "P#2025#3#3"]
    pairs = [(b["eleve"]["id_be"], b["cle"]) for b in bilans]
    assert len(pairs) == len(set(pairs))
    # the 3e EPI is in period 2 only
    troisiemes = [b for b in periodiques(bilans) if b["eleve"]["division"] == "3A"]
    assert {b["periode"]["indice"] for b in troisiemes if b["epis"]} == {2}


def test_larger_school(schema):
    spec = SchoolSpec(divisions_par_niveau=2, eleves_par_division=4, seed=7)
    bilans = list(split_bilans(checked_root(generate_lsu_xml(spec), schema)))
    assert len(periodiques(bilans)) == 4 * 2 * 4
    assert len(cycles(bilans)) == 2 * 2 * 4
    assert sum(1 for b in bilans if b.get("epis")) == 2 * 2 * 4      # 5e and 4e in period 3
    pairs = [(b["eleve"]["id_be"], b["cle"]) for b in bilans]
    assert len(pairs) == len(set(pairs))


# --- XSD-valid documents the splitter does not handle --------------------------------------------

def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# Comments (and processing instructions) are allowed anywhere in an XSD-valid document, and the
# parser keeps them (remove_comments=False); split.py iterates some containers with `for x in box`,
# which yields comments too.
COMMENT_CASES = {
    # container: (bilan key, where in chalicelib/split.py, what happens)
    "liste-acquis": ("acquis", "bilan_periodique l.180", "KeyError 'discipline_ref'"),
    "liste-parcours": ("parcours", "bilan_periodique l.184", "an extra parcours {'code': None, 'texte': ' c '}"),
    "modalites-accompagnement": ("modalites_accompagnement", "bilan_periodique l.189",
                                 "an extra modalité {'code': None, ...}"),
    "epis-eleve": ("epis", "_groups l.153", "an extra EPI {'commentaire_eleve': None}"),
    "acc-persos-eleve": ("acc_persos", "_groups l.153", "an extra AP {'commentaire_eleve': None}"),
    "socle": ("socle", "bilan_cycle l.224", "a 9th domain {}"),
}


@pytest.mark.parametrize("container", sorted(COMMENT_CASES))
def test_comment_inside_a_container_is_ignored(schema, small_xml, container):
    key = COMMENT_CASES[container][0]
    tag = f"<{container}>".encode()
    assert tag in small_xml
    data = small_xml.replace(tag, tag + b"<!-- c -->")
    reference = list(split_bilans(checked_root(small_xml, schema)))
    bilans = list(split_bilans(checked_root(data, schema)))
    assert [b.get(key) for b in bilans] == [b.get(key) for b in reference]


def test_eleve_ref_to_a_non_eleve_is_reported_not_raised(schema, small_xml):
    data = re.sub(rb'eleve-ref="EL\d+" periode-ref="P3"', b'eleve-ref="RESP_ADJOINT" periode-ref="P3"',
                  small_xml, count=1)
    result = check_file(data, schema, UAI)
    assert result.ok, "the XSD does not type IDREFs: the split must catch it"
    with pytest.raises(InvalidReference) as caught:
        list(split_bilans(result.root))
    msg = caught.value.message()
    assert msg["code"] == "REFERENCE_INVALIDE" and msg["ligne"] and msg["element"] == "bilan-periodique"
    assert "ne désigne pas un élève" in msg["message"]
