"""« Paramétrage des classes » through the API, on the in-memory repositories: a class's import
mode and evaluation system (issue 14), set by the chef d'établissement, each a new version of the
référentiel replacing only the one read."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chalicelib.api import referentiel as routes
from chalicelib.api.auth import issue_token
from chalicelib.api.referentiel import store_referentiel
from chalicelib.runtime import memory_runtime
from lsu_tools.generator import SchoolSpec, generate_referentiel

SPEC = SchoolSpec(uai="0750456K", divisions_par_niveau=1, eleves_par_division=1)


@pytest.fixture
def rt(settings):
    rt = memory_runtime(settings)
    store_referentiel(rt, generate_referentiel(SPEC), None)
    return rt


def _request(rt, role: str, body) -> SimpleNamespace:
    token = issue_token(rt.settings.token_secret, SPEC.uai, role, sub="s1")
    return SimpleNamespace(headers={"authorization": f"Bearer {token}"}, query_params=None, context=None,
                           json_body=body)


def _division(rt, code: str) -> dict:
    school = rt.repos.schools.get(SPEC.uai)
    return next(d for d in json.loads(rt.repos.blobs.get(school.referentiel_cle))["divisions"] if d["code"] == code)


def test_the_ce_sets_and_unsets_a_class_evaluation_system(rt):
    assert _division(rt, "3A").get("systeme_evaluation") is None
    before = rt.repos.schools.get(SPEC.uai).referentiel_sha256
    r = routes.set_division_evaluation(_request(rt, "CE", {"systeme_evaluation": "POSITIONNEMENT"}), rt, "3A")
    assert r.status_code == 200, r.body
    assert _division(rt, "3A")["systeme_evaluation"] == "POSITIONNEMENT"
    assert rt.repos.schools.get(SPEC.uai).referentiel_sha256 != before
    assert rt.referentiel(rt.repos.schools.get(SPEC.uai).referentiel_cle).divisions_by_code["3A"][
        "systeme_evaluation"] == "POSITIONNEMENT"
    r = routes.set_division_evaluation(_request(rt, "CE", {"systeme_evaluation": None}), rt, "3A")
    assert r.status_code == 200 and _division(rt, "3A")["systeme_evaluation"] is None


@pytest.mark.parametrize("body", [{"systeme_evaluation": "notes"}, {"systeme_evaluation": 4}, {}, ["NOTES"]])
def test_a_wrong_evaluation_system_is_a_french_400_and_changes_nothing(rt, body):
    before = rt.repos.schools.get(SPEC.uai).referentiel_sha256
    r = routes.set_division_evaluation(_request(rt, "CE", body), rt, "3A")
    assert r.status_code == 400
    erreur = json.loads(r.body)["erreur"]
    assert erreur["code"] == "BAD_REQUEST" and ("systeme_evaluation" in erreur["message"] or "objet JSON" in erreur["message"])
    assert rt.repos.schools.get(SPEC.uai).referentiel_sha256 == before


def test_only_the_ce_sets_a_class_parameter_and_the_class_must_exist(rt):
    for role in ("DELEGUE_CE", "PP", "CPE", "ENSEIGNANT"):
        r = routes.set_division_evaluation(_request(rt, role, {"systeme_evaluation": "NOTES"}), rt, "3A")
        assert r.status_code == 403 and json.loads(r.body)["erreur"]["code"] == "FORBIDDEN"
    r = routes.set_division_evaluation(_request(rt, "CE", {"systeme_evaluation": "NOTES"}), rt, "9Z")
    assert r.status_code == 404 and "9Z" in json.loads(r.body)["erreur"]["message"]
    r = routes.set_division_mode(_request(rt, "CE", {"mode_import": "SCONET_NOTES"}), rt, "3A")
    assert r.status_code == 200 and _division(rt, "3A")["mode_import"] == "SCONET_NOTES"
    assert _division(rt, "3A").get("systeme_evaluation") is None
