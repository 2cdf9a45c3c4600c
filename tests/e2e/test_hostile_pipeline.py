"""Every hostile file of tests/hostile_cases.py uploaded through the API and the presigned POST,
as a school head would: the import ends FICHIER_REJETE with its code and a French message, and
nothing is written (no result, no bilan changed). The harmless ones import. Then a good file of
the same school imports normally: the application kept working."""
from __future__ import annotations

import pytest

from chalicelib.domain.catalogue import CATALOGUE
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from chalicelib.adapters.ports import import_key
from hostile_cases import hostile_cases, other_school

SPEC = SchoolSpec(uai="0810001A", divisions_par_niveau=1, eleves_par_division=2)
VALID = generate_lsu_xml(SPEC)
CASES = {**hostile_cases(VALID), "autre établissement": (other_school(VALID, "0999999Z"), {"UAI_MISMATCH"})}
WITH_LINE = {"tronqué", "version de schéma 8.0", "le même élève deux fois"}


@pytest.fixture(scope="module")
def school(api_for):
    api = api_for(SPEC.uai)
    api.put_referentiel(generate_referentiel(SPEC))
    return api


def bilans_of_school(rt) -> set[tuple]:
    Bilan = rt.models.Bilan
    return {(b.eleve_key, b.cle, b.version) for b in Bilan.scan(Bilan.eleve_key.startswith(f"{SPEC.uai}#"))}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_upload_is_refused_cleanly_and_writes_nothing(name, school, rt, s3_enforces_post_policy):
    data, expected = CASES[name]
    before = bilans_of_school(rt)
    if not data and s3_enforces_post_policy:
        # AWS (and LocalStack) refuse an empty POST (content-length-range starts at 1 byte): the
        # file never reaches the pipeline, the import waits for a file, nothing is written.
        created = school.start_import("export.xml", 1)
        r = school.post_form(created["upload"], data)
        assert r.status_code == 400 and "<Code>EntityTooSmall</Code>" in r.text, r.text
        assert school.call("GET", f"/imports/{created['import_id']}").json()["statut"] == "EN_ATTENTE_FICHIER"
        assert rt.s3.list_objects_v2(Bucket=rt.settings.bucket, Prefix=created["upload"]["fields"]["key"])["KeyCount"] == 0
        assert rt.models.Resultat.count(import_key(SPEC.uai, created["import_id"])) == 0
        assert bilans_of_school(rt) == before
        return
    # moto does not enforce the POST policy: an empty file reaches the splitter, which rejects it.
    s = school.import_bytes(data, declared=max(len(data), 1))
    if expected is None:
        assert s["statut"] == "TERMINE" and s["totaux"]["rejetes"] == 0 and s["totaux"]["bilans"] > 0
        return
    assert s["statut"] == "FICHIER_REJETE", s
    codes = {e["code"] for e in s["erreurs_fichier"]}
    assert codes and codes <= expected, s["erreurs_fichier"]
    for e in s["erreurs_fichier"]:
        assert e["message"].startswith(CATALOGUE[e["code"]].message) and "Traceback" not in e["message"]
    if name in WITH_LINE:
        assert all(e.get("ligne") for e in s["erreurs_fichier"])
    assert s["totaux"]["bilans"] == 0 and s["bilans"] == []
    assert rt.models.Resultat.count(import_key(SPEC.uai, s["import_id"])) == 0
    assert bilans_of_school(rt) == before


def test_an_empty_file_is_refused_before_the_upload(school):
    r = school.call("POST", "/imports", json={"nom_fichier": "vide.xml", "taille": 0})
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "EMPTY_FILE"


def test_after_hostile_uploads_the_next_import_works(school):
    s = school.import_bytes(VALID.replace(b"<acquis-conseils>", b"<acquis-conseils>Revu. ", 1))
    assert s["statut"] == "TERMINE" and s["totaux"]["rejetes"] == 0
    assert s["totaux"]["bilans"] == 12 and s["totaux"]["mis_a_jour"] >= 1
