"""Upload → synthèse through the API and the presigned POST over HTTP, on the local stack."""
from __future__ import annotations

import pytest

from chalicelib.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from chalicelib.store import import_key

WHOLE_SCHOOL = SchoolSpec(uai="0750001A")  # 24 divisions, 600 élèves


def school_counts(spec: SchoolSpec) -> tuple[int, int]:
    ref = generate_referentiel(spec)
    eleves = len(ref["eleves"])
    cycle = sum(1 for e in ref["eleves"]
                if next(d for d in ref["divisions"] if d["code"] == e["division"])["niveau"] in ("6E", "3E"))
    return eleves, cycle


def test_whole_school_import_then_reimport(api_for, rt):
    spec = WHOLE_SCHOOL
    eleves, cycle = school_counts(spec)
    assert eleves >= 500 and len(generate_referentiel(spec)["divisions"]) >= 20
    api = api_for(spec.uai)
    api.put_referentiel(generate_referentiel(spec))
    xml = generate_lsu_xml(spec)

    s = api.import_bytes(xml)
    assert s["statut"] == "TERMINE", s["erreurs_fichier"]
    assert s["totaux"]["bilans"] == eleves + cycle
    assert s["totaux"]["importes"] == s["totaux"]["nouveaux"] == eleves + cycle
    assert s["totaux"]["rejetes"] == 0
    assert s["progression"] == {"traites": eleves + cycle, "total": eleves + cycle}
    assert len(s["bilans"]) == eleves + cycle
    assert {b["statut"] for b in s["bilans"]} == {"IMPORTE"}
    assert s["entete"]["etablissement"] == spec.uai and s["fichier"]["sha256"]
    assert [b["division"] for b in s["bilans"]] == sorted(b["division"] for b in s["bilans"])
    stored = rt.models.Bilan.count(f"{spec.uai}#{s['bilans'][0]['id_be']}")
    assert stored >= 1

    again = api.import_bytes(xml)
    assert again["statut"] == "TERMINE"
    assert again["totaux"]["inchanges"] == eleves + cycle
    assert {b["statut"] for b in again["bilans"]} == {"INCHANGE"}


def test_changed_bilans_are_updated_and_pre_controle_writes_no_bilan(api_for, rt):
    spec = SchoolSpec(uai="0750002B", divisions_par_niveau=1, eleves_par_division=3)
    api = api_for(spec.uai)
    api.put_referentiel(generate_referentiel(spec))
    first = api.import_bytes(generate_lsu_xml(spec, periodes=[1]))
    assert first["totaux"]["nouveaux"] == 12

    dry = api.import_bytes(generate_lsu_xml(spec, periodes=[2]), pre_controle=True)
    assert dry["pre_controle"] is True and dry["statut"] == "TERMINE"
    assert dry["totaux"]["nouveaux"] == 12
    keys = {b.cle for e in generate_referentiel(spec)["eleves"] for b in rt.models.Bilan.query(f"{spec.uai}#{e['id_be']}")}
    assert keys == {"P#2025#3#1"}, "le pré-contrôle n'écrit aucun bilan"

    changed = generate_lsu_xml(spec, periodes=[1]).replace("<acquis-conseils>".encode(), "<acquis-conseils>Revu. ".encode(), 1)
    s = api.import_bytes(changed)
    assert s["totaux"]["mis_a_jour"] == 1 and s["totaux"]["inchanges"] == 11


SMALL = SchoolSpec(uai="0750003C", divisions_par_niveau=1, eleves_par_division=2)
NS = b'xmlns="urn:fr:edu:scolarite:lsun:bilans:import"'


def _valid() -> bytes:
    return generate_lsu_xml(SMALL)


BAD_INPUTS = {
    "vide": (b"", "EMPTY_FILE"),
    "blanc": (b"  \n\t\r\n   ", "BLANK_FILE"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "NOT_XML"),
    "csv": ("nom;prénom;classe\nDupont;Léa;3A\n".encode(), "NOT_XML"),
    "tronque": (None, "NOT_WELL_FORMED"),
    "entite_interne": (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "DOCTYPE_FORBIDDEN"),
    "billion_laughs": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                       b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>', "DOCTYPE_FORBIDDEN"),
    "xxe_fichier": (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "DOCTYPE_FORBIDDEN"),
    "xxe_url": (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>', "DOCTYPE_FORBIDDEN"),
    "dtd_externe": (b'<?xml version="1.0"?><!DOCTYPE lsun-bilans SYSTEM "http://127.0.0.1:9/lsun.dtd"><lsun-bilans/>', "DOCTYPE_FORBIDDEN"),
    "mauvais_namespace": (None, "WRONG_NAMESPACE"),
    "sans_namespace": (None, "WRONG_NAMESPACE"),
    "xsd_invalide": (None, "XSD_INVALID"),
    "autre_uai": (None, "UAI_MISMATCH"),
}


def _make(name: str) -> bytes:
    data, _ = BAD_INPUTS[name]
    if data is not None:
        return data
    valid = _valid()
    if name == "tronque":
        return valid[: len(valid) // 2]
    if name == "mauvais_namespace":
        return valid.replace(b"urn:fr:edu:scolarite:lsun:bilans:import", b"urn:exemple:autre")
    if name == "sans_namespace":
        return valid.replace(NS, b"")
    if name == "xsd_invalide":
        return valid.replace(b'schemaVersion="7.0"', b'schemaVersion="8.0"')
    if name == "autre_uai":
        return valid.replace(b"<etablissement>0750003C</etablissement>", b"<etablissement>0999999Z</etablissement>")
    raise AssertionError(name)


@pytest.fixture(scope="module")
def small_school(api_for):
    api = api_for(SMALL.uai)
    api.put_referentiel(generate_referentiel(SMALL))
    return api


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_rejects_the_file_and_writes_nothing(name, small_school, rt):
    data = _make(name)
    expected = BAD_INPUTS[name][1]
    s = small_school.import_bytes(data, declared=max(len(data), 1))
    assert s["statut"] == "FICHIER_REJETE"
    codes = [e["code"] for e in s["erreurs_fichier"]]
    assert codes and set(codes) == {expected}, s["erreurs_fichier"]
    for e in s["erreurs_fichier"]:
        assert e["message"] and "Traceback" not in e["message"]
    if expected in ("NOT_WELL_FORMED", "XSD_INVALID"):
        assert all(e.get("ligne") for e in s["erreurs_fichier"])
    assert s["totaux"]["bilans"] == 0 and s["bilans"] == []
    assert rt.models.Resultat.count(import_key(SMALL.uai, s["import_id"])) == 0
    for eleve in generate_referentiel(SMALL)["eleves"]:
        assert rt.models.Bilan.count(f"{SMALL.uai}#{eleve['id_be']}") == 0


def test_after_bad_inputs_the_next_import_works(small_school):
    s = small_school.import_bytes(_valid())
    assert s["statut"] == "TERMINE" and s["totaux"]["rejetes"] == 0
    assert s["totaux"]["bilans"] == sum(school_counts(SMALL)) == 12


def test_api_refuses_without_identity_or_role(stack, api_for):
    import requests
    assert requests.get(stack.api_url + "/imports", timeout=10).status_code == 401
    r = api_for("0750003C", role="PP").call("POST", "/imports", json={"nom_fichier": "a.xml", "taille": 10})
    assert r.status_code == 403 and r.json()["erreur"]["code"] == "FORBIDDEN"
    r = api_for("0750003C").call("POST", "/imports", json={"nom_fichier": "a.xml", "taille": 10**10})
    assert r.status_code == 413 and r.json()["erreur"]["code"] == "FILE_TOO_LARGE"
    r = api_for("0750003C").call("GET", "/imports/0750003C-inconnu")
    assert r.status_code == 404 and r.json()["erreur"]["code"] == "NOT_FOUND"


def test_another_schools_import_is_forbidden(api_for, small_school):
    s = small_school.import_bytes(_valid())
    other = api_for("0750099Z")
    for path in (f"/imports/{s['import_id']}", f"/imports/{s['import_id']}/synthese"):
        r = other.call("GET", path)
        assert r.status_code == 403 and r.json()["erreur"]["code"] == "FORBIDDEN"
    assert s["import_id"] not in {i["import_id"] for i in other.call("GET", "/imports").json()["imports"]}


def test_web_page_is_served_in_french(stack):
    import requests
    r = requests.get(stack.api_url + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert '<html lang="fr">' in r.text and "Bilans &gt; Import" in r.text
    js = requests.get(stack.api_url + "/app.js", timeout=10)
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("application/javascript")
