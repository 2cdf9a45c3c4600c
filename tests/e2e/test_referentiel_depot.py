"""SIECLE and STS Web exports through a deposit (exports larger than a request may carry): announced
(POST /referentiel/exports/depots), deposited straight to S3 by presigned forms each bounded by its
announced size, then taken into account by reference (POST /referentiel/exports {depot}). At the
bound: exactly the bound accepted, one byte more refused — the deposit's total (413) and each form
(S3 refuses a file larger than announced)."""
from __future__ import annotations

import base64
import json

import requests

from chalicelib.api import referentiel as routes
from exports_school import ELEVES, NOMENCLATURE, STS, UAI, fixture

NOMS = (ELEVES, NOMENCLATURE, STS)


def _announce(api, files: dict[str, bytes], extra: int = 0):
    body = {"fichiers": [{"nom": f"{nom}.xml", "taille": len(data) + (extra if i == 0 else 0)}
                         for i, (nom, data) in enumerate(files.items())]}
    return api.call("POST", "/referentiel/exports/depots", json=body)


def _deposit(form: dict, data: bytes) -> requests.Response:
    up = form["upload"]
    return requests.post(up["url"], data=up["fields"], files={"file": (form["nom"], data, "application/xml")},
                         timeout=60)


def _files(encodage: str = "latin1") -> dict[str, bytes]:
    return {n: fixture(n, encodage) for n in NOMS}


def test_exports_by_deposit_at_the_bound(api_for, monkeypatch):
    ce = api_for(UAI)
    files = _files()
    total = sum(map(len, files.values()))
    monkeypatch.setattr(routes, "EXPORTS_DEPOT_MAX_BYTES", total)

    # One byte over the deposit's bound: refused before any form is given.
    r = _announce(ce, files, extra=1)
    assert r.status_code == 413 and r.json()["erreur"]["code"] == "FILE_TOO_LARGE", r.text
    assert str(total) in r.json()["erreur"]["message"]

    # Exactly the bound: the forms, one per file, under the school's prefix.
    r = _announce(ce, files)
    assert r.status_code == 201, r.text
    depot = r.json()
    assert depot["taille_max"] == total and [f["n"] for f in depot["fichiers"]] == [1, 2, 3]
    for f in depot["fichiers"]:
        assert f["upload"]["fields"]["key"] == f"depots-referentiel/{UAI}/{depot['depot']}/{f['n']}"

    # Announced, not yet deposited: 409 EXPORT_NON_DEPOSE naming the file, nothing stored.
    r = ce.call("POST", "/referentiel/exports", json={"depot": depot["depot"]})
    assert r.status_code == 409 and r.json()["erreur"]["code"] == "EXPORT_NON_DEPOSE", r.text
    assert r.json()["erreur"]["fichier"] == f"{ELEVES}.xml"

    # Each form takes exactly its announced size, not one byte more: its policy says so (S3
    # enforces it; the emulator does not), and the API reads back only the announced size.
    first = depot["fichiers"][0]
    policy = json.loads(base64.b64decode(first["upload"]["fields"]["policy"]))
    assert ["content-length-range", 1, len(files[ELEVES])] in policy["conditions"]
    for f, data in zip(depot["fichiers"], files.values()):
        assert _deposit(f, data).status_code in (200, 201, 204)
    too_big = _deposit(first, files[ELEVES] + b" ")
    if too_big.status_code in (200, 201, 204):    # the emulator took it: the API does not
        r = ce.call("POST", "/referentiel/exports", json={"depot": depot["depot"]})
        assert r.status_code == 409 and r.json()["erreur"]["code"] == "EXPORT_NON_DEPOSE", r.text
        assert f"{len(files[ELEVES]) + 1} octets déposés pour {len(files[ELEVES])} annoncés" in r.json()["erreur"]["message"]
        assert _deposit(first, files[ELEVES]).status_code in (200, 201, 204)
    else:
        assert too_big.status_code == 400 and "EntityTooLarge" in too_big.text, too_big.text

    # Another school cannot name this deposit (its keys are the school's, from the identity).
    r = api_for("0999998Y").call("POST", "/referentiel/exports", json={"depot": depot["depot"]})
    assert r.status_code == 404 and r.json()["erreur"]["code"] == "NOT_FOUND"
    r = api_for(UAI, "PP", "51001").call("POST", "/referentiel/exports", json={"depot": depot["depot"]})
    assert r.status_code == 403

    # Deposited at exactly the bound: read back and merged (a pré-contrôle: the fixture school's
    # référentiel is test_referentiel_exports.py's to create).
    before = ce.call("GET", "/referentiel")
    dry = ce.call("POST", "/referentiel/exports", json={"depot": depot["depot"], "pre_controle": True})
    assert dry.status_code == 200, dry.text
    rapport = dry.json()["rapport"]
    assert dry.json()["pre_controle"] is True and {"eleves", "divisions", "services"} <= set(rapport["resume"])
    assert [f["nom"] for f in rapport["fichiers"]] == [f"{n}.xml" for n in NOMS], rapport["fichiers"]
    after = ce.call("GET", "/referentiel")
    assert (after.status_code, after.headers.get("ETag")) == (before.status_code, before.headers.get("ETag"))


def test_a_deposit_smaller_than_announced_or_inline_and_deposit_together_are_refused(api_for):
    ce = api_for(UAI)
    files = {ELEVES: fixture(ELEVES)}
    depot = _announce(ce, files).json()
    assert _deposit(depot["fichiers"][0], files[ELEVES][:-1]).status_code in (200, 201, 204)
    r = ce.call("POST", "/referentiel/exports", json={"depot": depot["depot"]})
    assert r.status_code == 409 and r.json()["erreur"]["code"] == "EXPORT_NON_DEPOSE"
    assert "annoncés" in r.json()["erreur"]["message"]

    both = ce.call("POST", "/referentiel/exports", json={"depot": depot["depot"], "fichiers": [{"contenu": ""}]})
    assert both.status_code == 400 and both.json()["erreur"]["code"] == "REQUETE_NON_CONFORME", both.text
    unknown = ce.call("POST", "/referentiel/exports", json={"depot": "20260101T000000Z-00000000"})
    assert unknown.status_code == 404 and unknown.json()["erreur"]["code"] == "NOT_FOUND"
    r = ce.call("POST", "/referentiel/exports/depots", json={"fichiers": [
        {"nom": "a.xml", "taille": routes.EXPORT_FILE_MAX_BYTES + 1}]})
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "REQUETE_NON_CONFORME"
    assert "/fichiers/0/taille" in r.json()["erreur"]["message"] and r.json()["erreur"]["champ"] == "/fichiers/0/taille"
    r = ce.call("POST", "/referentiel/exports/depots", json={"fichiers": [{"nom": "a.xml", "taille": 1}] * 6})
    assert r.status_code == 400 and r.json()["erreur"]["champ"] == "/fichiers"
