"""Tests of the deterministic LSU generator: XSD validity, size, determinism, consistency."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel, main

NS = {"l": "urn:fr:edu:scolarite:lsun:bilans:import"}
DEFAULT_XSD = Path(__file__).resolve().parents[2].parent / "shared/lsun/import-complet-strict.xsd"
SMALL = SchoolSpec(divisions_par_niveau=1, eleves_par_division=3)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    path = Path(os.environ.get("LSU_XSD_PATH", DEFAULT_XSD))
    if not path.is_file():
        pytest.skip(f"official XSD not found at {path} (set LSU_XSD_PATH)")
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


@pytest.fixture(scope="module")
def default_xml() -> bytes:
    return generate_lsu_xml(SchoolSpec())


@pytest.fixture(scope="module")
def default_ref() -> dict:
    return generate_referentiel(SchoolSpec())


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))


def assert_valid(schema: etree.XMLSchema, xml: bytes) -> etree._Element:
    root = parse(xml)
    if not schema.validate(root):
        errors = "\n".join(str(e) for e in list(schema.error_log)[:10])
        pytest.fail(f"XSD validation failed:\n{errors}")
    return root


def xp(root: etree._Element, path: str) -> list:
    return root.xpath(path, namespaces=NS)


def niveau_of(ref: dict) -> dict[str, str]:
    """id_be → niveau."""
    niveaux = {d["code"]: d["niveau"] for d in ref["divisions"]}
    return {e["id_be"]: niveaux[e["division"]] for e in ref["eleves"]}


# --- validity and size -----------------------------------------------------------------------

def test_default_spec_is_valid_and_large_enough(schema, default_xml, default_ref):
    root = assert_valid(schema, default_xml)
    assert default_xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert root.get("schemaVersion") == "7.0"
    assert xp(root, "string(l:entete/l:etablissement)") == "0750001A"
    assert len(default_ref["divisions"]) >= 20
    assert len(default_ref["eleves"]) >= 500
    assert len(xp(root, "//l:eleve")) == len(default_ref["eleves"])
    assert len(xp(root, "//l:bilan-periodique")) == len(default_ref["eleves"])


@pytest.mark.parametrize("periodes", [[1], [2], [3], [1, 2, 3]])
def test_small_spec_is_valid(schema, periodes):
    root = assert_valid(schema, generate_lsu_xml(SMALL, periodes=periodes))
    assert len(xp(root, "//l:eleve")) == 12


def test_semestres_are_valid(schema):
    root = assert_valid(schema, generate_lsu_xml(SMALL, periodes=[1, 2], nb_periodes=2))
    assert {p.get("nb-periodes") for p in xp(root, "//l:periode")} == {"2"}
    assert len(xp(root, "//l:bilan-cycle")) == 6   # 6e + 3e, last semestre included


def test_three_periods_give_three_bilans_per_eleve(schema):
    spec = SchoolSpec(divisions_par_niveau=2, eleves_par_division=8)
    root = assert_valid(schema, generate_lsu_xml(spec, periodes=[1, 2, 3]))
    per_eleve = Counter(b.get("eleve-ref") for b in xp(root, "//l:bilan-periodique"))
    assert len(per_eleve) == 64
    assert set(per_eleve.values()) == {3}
    assert {p.get("indice") for p in xp(root, "//l:periode")} == {"1", "2", "3"}


def test_content_features_are_present(default_xml):
    root = parse(default_xml)
    text = default_xml.decode("utf-8")
    assert "œ" in text and "é" in text
    assert xp(root, "//l:acquis[@moyenne-eleve and @moyenne-structure]")
    assert xp(root, "//l:acquis[@positionnement]")
    assert xp(root, "//l:bilan-periodique/l:liste-parcours")
    assert xp(root, "//l:modalite-accompagnement[@code='PAP']")
    assert xp(root, "//l:epi-eleve") and xp(root, "//l:acc-perso-eleve")
    assert xp(root, "//l:vie-scolaire/l:commentaire")
    assert xp(root, "//l:bilan-cycle/l:enseignement-complement")
    for acquis in xp(root, "//l:acquis[@moyenne-eleve]")[:200]:
        assert "," in acquis.get("moyenne-eleve") or acquis.get("moyenne-eleve").isdigit()
    for epi in xp(root, "//l:epi"):
        assert len(epi.get("discipline-refs").split()) >= 2
    for conseil in xp(root, "//l:acquis-conseils"):
        assert conseil.text.strip()


# --- determinism -----------------------------------------------------------------------------

def test_same_spec_gives_identical_output(default_xml, default_ref):
    assert generate_lsu_xml(SchoolSpec()) == default_xml
    assert generate_referentiel(SchoolSpec()) == default_ref
    assert json.dumps(generate_referentiel(SchoolSpec()), ensure_ascii=False) == \
        json.dumps(default_ref, ensure_ascii=False)


def test_other_seed_gives_other_output(default_xml, default_ref):
    other = SchoolSpec(seed=43)
    assert generate_lsu_xml(other) != default_xml
    assert generate_referentiel(other) != default_ref


def test_period_content_does_not_depend_on_other_periods():
    alone = parse(generate_lsu_xml(SMALL, periodes=[3]))
    together = parse(generate_lsu_xml(SMALL, periodes=[1, 2, 3]))
    bilans_alone = [etree.tostring(b) for b in xp(alone, "//l:bilan-periodique")]
    bilans_p3 = [etree.tostring(b) for b in xp(together, "//l:bilan-periodique[@periode-ref='P3']")]
    assert bilans_alone == bilans_p3


# --- bilans de cycle -------------------------------------------------------------------------

def test_bilans_cycle_only_for_6e_and_3e(default_xml, default_ref):
    root = parse(default_xml)
    niveaux = niveau_of(default_ref)
    id_be = {e.get("id"): e.get("id-be") for e in xp(root, "//l:eleve")}
    bilans = xp(root, "//l:bilan-cycle")
    expected = sorted(i for i, n in niveaux.items() if n in ("6E", "3E"))
    assert sorted(id_be[b.get("eleve-ref")] for b in bilans) == expected
    for b in bilans:
        niveau = niveaux[id_be[b.get("eleve-ref")]]
        assert b.get("cycle") == ("3" if niveau == "6E" else "4")
        assert b.get("millesime") == "2025"
        codes = [d.get("code") for d in xp(b, "l:socle/l:domaine")]
        assert sorted(codes) == sorted(["CPD_FRA", "CPD_ETR", "CPD_SCI", "CPD_ART", "MET_APP",
                                        "FRM_CIT", "SYS_NAT", "REP_MND"])
        assert all(d.get("positionnement") in "01234" for d in xp(b, "l:socle/l:domaine"))
        assert xp(b, "string(l:synthese)").strip()
    for b in xp(root, "//l:bilan-cycle[l:enseignement-complement]"):
        assert niveaux[id_be[b.get("eleve-ref")]] == "3E"


@pytest.mark.parametrize("periodes,cycle", [([1], True), ([1, 2], True), ([3], False)])
def test_no_bilan_cycle_without_period_3_or_when_disabled(periodes, cycle):
    root = parse(generate_lsu_xml(SMALL, periodes=periodes, cycle=cycle))
    assert xp(root, "//l:bilan-cycle") == []
    assert xp(root, "//l:bilans-cycle") == []


# --- référentiel / XML consistency -----------------------------------------------------------

def test_referentiel_contract_keys(default_ref):
    assert set(default_ref) == {"etablissement", "millesime", "responsables_etab", "calendrier",
                                "modalites_election", "matieres", "divisions", "eleves",
                                "enseignants", "services", "programmes"}
    assert default_ref["etablissement"] == {"uai": "0750001A", "nom": "Collège Victor Hugo",
                                            "commune": "Paris"}
    trimestres = default_ref["calendrier"]["trimestres"]
    assert trimestres["nb_periodes"] == 3 and [p["indice"] for p in trimestres["periodes"]] == [1, 2, 3]
    for p in trimestres["periodes"]:
        assert "2025-09-01" <= p["debut"] < p["fin"] <= "2026-07-31"
    for m in default_ref["matieres"]:
        assert set(m) == {"code", "libelle", "modalite", "niveaux", "hors_programme"}
        assert len(m["code"]) == 6 and m["hors_programme"] is False
    for d in default_ref["divisions"]:
        assert set(d) == {"code", "niveau", "cycle", "mode_import", "periodes", "nb_periodes",
                          "dates_conseil", "profs_principaux", "president_conseil", "sans_notes"}
        assert d["cycle"] == (3 if d["niveau"] == "6E" else 4)
        assert len(d["dates_conseil"]) == 3
        assert d["president_conseil"] in {r["libelle"] for r in default_ref["responsables_etab"]}
    assert any(d["sans_notes"] for d in default_ref["divisions"])
    for e in default_ref["eleves"]:
        assert set(e) == {"id_be", "nom", "prenom", "sexe", "division", "date_entree",
                          "date_sortie", "options", "dispositifs"} | ({"mef"} if e["division"][0] == "3" else set())
        assert e["id_be"].isdigit() and e["sexe"] in ("M", "F") and e["date_sortie"] is None
    for t in default_ref["enseignants"]:
        assert set(t) == {"id_sts", "type", "civilite", "nom", "prenom"}
        assert t["id_sts"].isdigit() and t["type"] == "epp" and t["civilite"] in ("M", "MME")
    for s in default_ref["services"]:
        assert set(s) == {"enseignant", "matiere", "modalite", "division", "hors_programme"}


def test_xml_is_consistent_with_referentiel(default_xml, default_ref):
    root = parse(default_xml)
    ref = default_ref
    matieres = {m["code"]: m for m in ref["matieres"]}
    eleves = {e["id_be"]: e for e in ref["eleves"]}
    divisions = {d["code"]: d for d in ref["divisions"]}
    services = {(s["enseignant"], s["matiere"], s["division"]) for s in ref["services"]}
    enseignants = {t["id_sts"] for t in ref["enseignants"]}

    xml_eleves = {e.get("id"): e for e in xp(root, "//l:eleve")}
    assert {e.get("id-be") for e in xml_eleves.values()} == set(eleves)
    for e in xml_eleves.values():
        r = eleves[e.get("id-be")]
        assert (e.get("nom"), e.get("prenom"), e.get("code-division")) == \
            (r["nom"], r["prenom"], r["division"])
    disciplines = {d.get("id"): d.get("code") for d in xp(root, "//l:discipline")}
    for d in xp(root, "//l:discipline"):
        assert d.get("code") in matieres
        assert d.get("modalite-election") == matieres[d.get("code")]["modalite"]
    sts = {t.get("id"): t.get("id-sts") for t in xp(root, "//l:enseignant")}
    assert set(sts.values()) == enseignants
    responsables = {r.get("id"): r.get("libelle") for r in xp(root, "//l:responsable-etab")}

    for bilan in xp(root, "//l:bilan-periodique"):
        eleve = eleves[xml_eleves[bilan.get("eleve-ref")].get("id-be")]
        division = divisions[eleve["division"]]
        assert responsables[bilan.get("responsable-etab-ref")] == division["president_conseil"]
        assert [sts[r] for r in bilan.get("prof-princ-refs").split()] == division["profs_principaux"]
        indice = int(bilan.get("periode-ref")[1:])
        assert bilan.get("date-conseil-classe") == division["dates_conseil"][indice - 1]
        codes = []
        for acquis in xp(bilan, "l:liste-acquis/l:acquis"):
            code = disciplines[acquis.get("discipline-ref")]
            codes.append(code)
            assert division["niveau"] in matieres[code]["niveaux"]
            for ref_ens in acquis.get("enseignant-refs").split():
                assert (sts[ref_ens], code, division["code"]) in services
            if division["sans_notes"]:
                assert acquis.get("moyenne-eleve") is None
            else:
                assert acquis.get("positionnement") is None
        options = [c for c in codes if matieres[c]["modalite"] != "S"]
        assert options == eleve["options"]

    for groupe in xp(root, "//l:epi-groupe | //l:acc-perso-groupe"):
        division = groupe.get("id").split("_", 1)[1]
        for ed in xp(groupe, ".//l:enseignant-discipline"):
            key = (sts[ed.get("enseignant-ref")], disciplines[ed.get("discipline-ref")], division)
            assert key in services


def test_services_reference_known_teachers_and_subjects(default_ref):
    enseignants = {t["id_sts"] for t in default_ref["enseignants"]}
    matieres = {m["code"]: m for m in default_ref["matieres"]}
    divisions = {d["code"]: d for d in default_ref["divisions"]}
    seen = set()
    for s in default_ref["services"]:
        assert s["enseignant"] in enseignants
        assert s["modalite"] == matieres[s["matiere"]]["modalite"]
        assert divisions[s["division"]]["niveau"] in matieres[s["matiere"]]["niveaux"]
        assert (s["matiere"], s["division"]) not in seen   # one teacher per subject and division
        seen.add((s["matiere"], s["division"]))
    for d in default_ref["divisions"]:
        teachers = {s["enseignant"] for s in default_ref["services"] if s["division"] == d["code"]}
        assert set(d["profs_principaux"]) <= teachers


# --- API edges and CLI -----------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{"periodes": []}, {"periodes": [4]}, {"periodes": [0]},
                                    {"nb_periodes": 5}])
def test_invalid_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        generate_lsu_xml(SMALL, **kwargs)


def test_invalid_spec_is_refused():
    with pytest.raises(ValueError):
        generate_referentiel(SchoolSpec(uai="123"))
    with pytest.raises(ValueError):
        generate_referentiel(SchoolSpec(divisions_par_niveau=0))


def test_cli_writes_both_files(tmp_path, schema):
    out = tmp_path / "out"
    assert main(["--out", str(out), "--divisions-par-niveau", "1", "--eleves-par-division", "4",
                 "--seed", "7"]) == 0
    ref = json.loads((out / "referentiel.json").read_text(encoding="utf-8"))
    xml = (out / "import.xml").read_bytes()
    assert len(ref["eleves"]) == 16
    assert xml == generate_lsu_xml(SchoolSpec(divisions_par_niveau=1, eleves_par_division=4, seed=7))
    assert_valid(schema, xml)


def test_cli_gives_some_teachers_the_other_xsd_types(tmp_path, schema):
    from chalicelib.referentiel import validate_referentiel
    out = tmp_path / "out"
    assert main(["--out", str(out), "--divisions-par-niveau", "1", "--eleves-par-division", "2",
                 "--types-enseignants", "dir, autre,local"]) == 0
    ref = json.loads((out / "referentiel.json").read_text(encoding="utf-8"))
    xml = (out / "import.xml").read_bytes()
    ids = sorted(ref["enseignants"], key=lambda t: int(t["id_sts"]))
    assert [t["type"] for t in ids[:4]] == ["dir", "autre", "local", "epp"]
    assert Counter(t["type"] for t in ref["enseignants"])["epp"] == len(ids) - 3
    root = assert_valid(schema, xml)
    assert {e.get("id-sts"): e.get("type") for e in xp(root, "//l:enseignant")} == {
        t["id_sts"]: t["type"] for t in ref["enseignants"]}
    assert validate_referentiel(ref) == []
    with pytest.raises(SystemExit):
        main(["--out", str(out), "--types-enseignants", "directeur"])


# --- brevet 2026: MEF, programmes, an obligatory subject left out -------------------------------

def test_3e_pupils_have_a_mef_whose_programme_lists_every_3e_subject(default_ref):
    from lsu_tools.generator import MATIERES, MEF_3E
    niveaux = niveau_of(default_ref)
    for e in default_ref["eleves"]:
        assert e.get("mef") == (MEF_3E if niveaux[e["id_be"]] == "3E" else None)
    assert default_ref["programmes"] == [{"mef": MEF_3E, "matiere": m.code, "modalite_election": m.modalite}
                                         for m in MATIERES if "3E" in m.niveaux]
    assert {p["modalite_election"] for p in default_ref["programmes"]} == {"S", "O", "F"}


def test_some_3e_pupils_may_lack_an_obligatory_subject(schema):
    spec = SchoolSpec(divisions_par_niveau=1, eleves_par_division=3, brevet_sans_matiere=2)
    root = assert_valid(schema, generate_lsu_xml(spec, periodes=(1, 2)))
    ref = generate_referentiel(spec)
    troisiemes = [e["id_be"] for e in ref["eleves"] if e["division"] == "3A"]
    hg = "DI_043000_S"
    for p in ("P1", "P2"):
        with_hg = [xp(root, f"//l:eleve[@id='{b.get('eleve-ref')}']/@id-be")[0]
                   for b in xp(root, f"//l:bilan-periodique[@periode-ref='{p}']")
                   if xp(b, f"l:liste-acquis/l:acquis[@discipline-ref='{hg}']")]
        assert [i for i in troisiemes if i not in with_hg] == troisiemes[:2]
        assert len([i for i in with_hg if i not in troisiemes]) == 9     # 6A, 5A, 4A: untouched
    # Off by default: the same document as before the option existed.
    assert generate_lsu_xml(SMALL) == generate_lsu_xml(SchoolSpec(divisions_par_niveau=1, eleves_par_division=3,
                                                                  brevet_sans_matiere=0))
    assert ref == generate_referentiel(SchoolSpec(divisions_par_niveau=1, eleves_par_division=3))


@pytest.mark.parametrize("kwargs", [{"brevet_sans_matiere": -1}, {"brevet_matiere_omise": "020300"},
                                    {"brevet_matiere_omise": "064000"}, {"brevet_matiere_omise": "999999"}])
def test_invalid_brevet_options_are_refused(kwargs):
    with pytest.raises(ValueError):
        generate_referentiel(SchoolSpec(divisions_par_niveau=1, eleves_par_division=1, **kwargs))
