"""Round trip through the API, as a school head would: the SIECLE and STS Web exports (Latin-1)
→ POST /referentiel/exports (pré-contrôle, then for real) → the CE opens a division to imports →
an LSU import whose checks use what the exports brought → the exports again: modes kept."""
from __future__ import annotations

import base64

from exports_school import EDT, ELEVES, NOMENCLATURE, STS, UAI, fixture, lsu_file_of_the_fixture_school


def envoi(*noms: str, pre_controle: bool = False, encodage: str = "latin1") -> dict:
    return {"pre_controle": pre_controle, "fichiers": [
        {"nom": f"{n}.xml", "contenu": base64.b64encode(fixture(n, encodage)).decode()} for n in noms]}


def test_exports_to_referentiel_to_lsu_import(api_for):
    ce = api_for(UAI)
    r = ce.call("POST", "/referentiel/exports", json=envoi(EDT))
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "EXPORT_FICHIER_EDT"
    assert "sts_emp" in r.json()["erreur"]["message"] + r.json()["erreur"].get("conseil", "")
    assert ce.call("GET", "/referentiel").json()["erreur"]["code"] == "REFERENTIEL_ABSENT", "nothing stored"

    dry = ce.call("POST", "/referentiel/exports", json=envoi(ELEVES, NOMENCLATURE, STS, pre_controle=True))
    assert dry.status_code == 200, dry.text
    assert dry.json()["pre_controle"] is True and dry.json()["rapport"]["resume"]["eleves"]["ajoutes"] == 4
    assert ce.call("GET", "/referentiel").status_code == 409, "a pré-contrôle stores nothing"

    done = ce.call("POST", "/referentiel/exports", json=envoi(ELEVES, NOMENCLATURE, STS))
    assert done.status_code == 200, done.text
    rapport = done.json()["rapport"]
    assert rapport["eleves"]["ajoutes"] == ["4100001", "4100002", "4100003", "4100004"]
    assert {d for d in rapport["divisions"]["ajoutes"]} >= {"6A"}
    ref = ce.call("GET", "/referentiel").json()
    assert next(e for e in ref["eleves"] if e["id_be"] == "4100001")["nom"] == "DUPRÉ"

    # New divisions come in mode SAISIE; the chef d'établissement opens 6A to imports.
    assert ce.call("PUT", "/referentiel/divisions/6A/mode", json={"mode_import": "EDITEUR"}).status_code == 200
    s = ce.import_bytes(lsu_file_of_the_fixture_school())
    assert s["statut"] == "TERMINE", s
    by_id = {b["id_be"]: b for b in s["bilans"] if b["type"] == "periodique"}
    assert by_id["4100001"]["statut"] == "IMPORTE"
    assert not [m for m in by_id["4100001"]["messages"] if "STS 51001" in m["message"]]
    assert [m["code"] for m in by_id["9999999"]["messages"]] == ["STUDENT_UNKNOWN"]

    # The exports again (UTF-8 this time): nothing changes, and 6A stays in mode EDITEUR.
    again = ce.call("POST", "/referentiel/exports", json=envoi(ELEVES, NOMENCLATURE, STS, encodage="utf8"))
    assert again.status_code == 200, again.text
    resume = again.json()["rapport"]["resume"]
    assert all(v.get("ajoutes", 0) == v.get("modifies", 0) == v.get("supprimes", 0) == 0
               for v in resume.values() if isinstance(v, dict)), resume
    modes = {d["code"]: d["mode_import"] for d in ce.call("GET", "/divisions").json()["divisions"]}
    assert modes["6A"] == "EDITEUR"


def test_exports_are_the_head_s_and_of_their_own_school(api_for):
    r = api_for(UAI, "PP", "51001").call("POST", "/referentiel/exports", json=envoi(ELEVES))
    assert r.status_code == 403
    r = api_for("0999998Y").call("POST", "/referentiel/exports", json=envoi(ELEVES))
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "EXPORT_UAI_MISMATCH"
    r = api_for(UAI).call("POST", "/referentiel/exports", json={"fichiers": [{"nom": "x", "contenu": "%%%"}]})
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "BAD_REQUEST"


def test_a_referentiel_made_from_an_old_version_cannot_overwrite_a_newer_one(api_for):
    """What the CLI does (GET, merge locally, PUT): the PUT names the version it was made from
    (If-Match: the ETag of GET); a mode changed in between is not overwritten (409)."""
    from lsu_tools.generator import SchoolSpec, generate_referentiel
    spec = SchoolSpec(uai="0820009K", divisions_par_niveau=1, eleves_par_division=1)
    ce = api_for(spec.uai)
    ce.put_referentiel(generate_referentiel(spec))
    read = ce.call("GET", "/referentiel")
    version, data = read.headers["ETag"], read.json()
    assert ce.call("PUT", "/referentiel/divisions/5A/mode", json={"mode_import": "SAISIE"}).status_code == 200
    stale = ce.call("PUT", "/referentiel", json=data, headers={"If-Match": version})
    assert stale.status_code == 409 and stale.json()["erreur"]["code"] == "CONFLIT"
    modes = {d["code"]: d["mode_import"] for d in ce.call("GET", "/divisions").json()["divisions"]}
    assert modes["5A"] == "SAISIE"
    fresh = ce.call("GET", "/referentiel")
    assert fresh.headers["ETag"] != version
    weak = "W/" + fresh.headers["ETag"]
    assert ce.call("PUT", "/referentiel", json=fresh.json(), headers={"If-Match": weak}).status_code == 200
    assert ce.call("PUT", "/referentiel", json=fresh.json(), headers={"If-Match": "*"}).status_code == 200
    exists = ce.call("PUT", "/referentiel", json=fresh.json(), headers={"If-None-Match": "*"})
    assert exists.status_code == 409 and exists.json()["erreur"]["code"] == "CONFLIT"
    other = SchoolSpec(uai="0820010L", divisions_par_niveau=1, eleves_par_division=1)
    none_yet = api_for(other.uai).call("PUT", "/referentiel", json=generate_referentiel(other), headers={"If-Match": "*"})
    assert none_yet.status_code == 409
    created = api_for(other.uai).call("PUT", "/referentiel", json=generate_referentiel(other),
                                      headers={"If-None-Match": "*"})
    assert created.status_code == 200
