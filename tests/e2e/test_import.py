"""Upload → synthèse through the API and the presigned POST over HTTP, on the local stack."""
from __future__ import annotations

import pytest

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from chalicelib.adapters.ports import import_key

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


def test_api_refuses_without_identity_or_role(stack, api_for):
    import requests
    assert requests.get(stack.api_url + "/imports", timeout=10).status_code == 401
    r = api_for("0750003C", role="PP").call("POST", "/imports", json={"nom_fichier": "a.xml", "taille": 10})
    assert r.status_code == 403 and r.json()["erreur"]["code"] == "FORBIDDEN"
    r = api_for("0750003C").call("POST", "/imports", json={"nom_fichier": "a.xml", "taille": 10**10})
    assert r.status_code == 413 and r.json()["erreur"]["code"] == "FILE_TOO_LARGE"
    r = api_for("0750003C").call("GET", "/imports/0750003C-inconnu")
    assert r.status_code == 404 and r.json()["erreur"]["code"] == "NOT_FOUND"


def test_web_page_is_served_in_french(stack):
    import requests
    r = requests.get(stack.api_url + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert '<html lang="fr">' in r.text and "Bilans &gt; Import" in r.text
    js = requests.get(stack.api_url + "/app.js", timeout=10)
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("application/javascript")
