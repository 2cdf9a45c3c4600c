"""Tenant isolation through the API: for every role of another school, school A's imports,
synthèses, bilans, référentiel and uploads are unreachable (403), and nothing of A changes."""
from __future__ import annotations

import pytest

from chalicelib.api.auth import ROLES
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

A = SchoolSpec(uai="0820001A", divisions_par_niveau=1, eleves_par_division=1)
B = SchoolSpec(uai="0820002B", divisions_par_niveau=1, eleves_par_division=1, seed=7)
PERIODE = "P-2025-3-3"


@pytest.fixture(scope="module")
def schools(api_for):
    a, b = api_for(A.uai), api_for(B.uai)
    ref_a = generate_referentiel(A)
    a.put_referentiel(ref_a)
    b.put_referentiel(generate_referentiel(B))
    s = a.import_bytes(generate_lsu_xml(A))
    assert s["statut"] == "TERMINE" and s["totaux"]["importes"] > 0
    id_be = s["bilans"][0]["id_be"]
    bilan = a.call("GET", f"/bilans/{id_be}/{PERIODE}")
    assert bilan.status_code == 200, bilan.text
    return {"import_id": s["import_id"], "id_be": id_be, "ref_a": ref_a, "bilan_a": bilan.json()}


def requests_on_a(x: dict) -> list[tuple[str, str, dict]]:
    imp, id_be, bilan = x["import_id"], x["id_be"], f"/bilans/{x['id_be']}/{PERIODE}"
    return [
        ("GET", f"/imports/{imp}", {}),
        ("GET", f"/imports/{imp}/synthese", {}),
        ("GET", f"/imports/{imp}/synthese?format=csv", {}),
        ("GET", f"/imports/{imp}/synthese?format=pdf", {}),
        ("GET", f"/imports?uai={A.uai}", {}),
        ("POST", f"/imports?uai={A.uai}", {"json": {"nom_fichier": "a.xml", "taille": 10}}),
        ("GET", bilan, {}),
        ("GET", f"{bilan}/pdf", {}),
        ("PUT", f"{bilan}/parties/acquis_conseils", {"json": {"valeur": "Écrit par une autre école."}}),
        ("PUT", f"{bilan}/verrou", {}),
        ("DELETE", f"{bilan}/verrou", {}),
        ("GET", f"/bilans?eleve={id_be}", {}),
        ("GET", f"/bilans?division=6A&uai={A.uai}", {}),
        ("GET", f"/divisions/6A/pdf?uai={A.uai}", {}),
        ("GET", f"/divisions?uai={A.uai}", {}),
        ("GET", f"/referentiel?uai={A.uai}", {}),
        ("PUT", "/referentiel", {"json": x["ref_a"]}),
        ("PUT", f"/referentiel/divisions/6A/mode?uai={A.uai}", {"json": {"mode_import": "SAISIE"}}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_of_another_school_gets_403_on_everything_of_a(schools, api_for, role):
    other = api_for(B.uai, role, sub="dev" if role not in ("PP", "ENSEIGNANT") else "123456")
    for method, path, kw in requests_on_a(schools):
        r = other.call(method, path, **kw)
        assert r.status_code == 403, (role, method, path, r.status_code, r.text[:200])
        assert r.json()["erreur"]["code"] in ("FORBIDDEN", "UAI_MISMATCH"), (role, path)
        assert r.json()["erreur"]["message"]


def test_a_is_unchanged_and_b_sees_only_its_own(schools, api_for):
    a, b = api_for(A.uai), api_for(B.uai)
    assert a.call("GET", f"/bilans/{schools['id_be']}/{PERIODE}").json() == schools["bilan_a"]
    assert a.call("GET", "/referentiel").json() == schools["ref_a"]
    assert schools["import_id"] not in {i["import_id"] for i in b.call("GET", "/imports").json()["imports"]}
    own = b.call("GET", "/referentiel").json()
    assert own["etablissement"]["uai"] == B.uai
    assert not {e["id_be"] for e in own["eleves"]} & {e["id_be"] for e in schools["ref_a"]["eleves"]}
    created = b.call("POST", "/imports", json={"nom_fichier": "b.xml", "taille": 10}).json()
    assert created["upload"]["fields"]["key"].startswith(f"imports/{B.uai}/{B.uai}-")
    # B's own élève without bilan: an empty answer, not a refusal.
    assert b.call("GET", f"/bilans?eleve={own['eleves'][0]['id_be']}").json() == {"bilans": []}


def test_the_same_student_id_in_two_schools_stays_two_students(schools, api_for):
    """Bilans are keyed by UAI × élève: a school whose référentiel has the same id-be as A's
    élève reaches its own (absent) bilan, never A's."""
    twin = SchoolSpec(uai="0820003C", divisions_par_niveau=1, eleves_par_division=1)   # A's seed: A's ids
    c = api_for(twin.uai)
    c.put_referentiel(generate_referentiel(twin))
    a_bilans = api_for(A.uai).call("GET", "/bilans?division=6A").json()["bilans"]
    assert a_bilans
    r = c.call("GET", f"/bilans/{a_bilans[0]['id_be']}/{a_bilans[0]['bilan']}")
    assert r.status_code == 404 and r.json()["erreur"]["code"] == "NOT_FOUND"
