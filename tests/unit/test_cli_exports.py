"""`lsu referentiel siecle FICHIER…` and `lsu referentiel sts FICHIER` (chalicelib/cli.py).

Offline (`--nouveau` / `--depuis` with `--sortie` or `--dry-run`), and through the API path with a
fake client standing for the stack: the current référentiel is read with GET /referentiel, merged
here, loaded with PUT /referentiel. Exit codes: 0 merged, 3 exports refused, 1 anything else."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from lsu_tools import cli
from chalicelib.referentiel import validate_referentiel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
UAI = "0999999Z"
ELEVES = str(FIXTURES / "ElevesSansAdresses.latin1.xml")
NOMENCLATURE = str(FIXTURES / "Nomenclature.utf8.xml")
STS = str(FIXTURES / "sts_emp_0999999Z_2025.latin1.xml")
EDT = str(FIXTURES / "emp_sts_edt.xml")


@pytest.fixture(autouse=True)
def _ailleurs(tmp_path, monkeypatch):
    """No `lsu local up` session file of the developer's tree is read."""
    monkeypatch.chdir(tmp_path)


def test_siecle_then_sts_offline(tmp_path, capsys):
    ref = tmp_path / "ref.json"
    assert cli.main(["referentiel", "siecle", ELEVES, NOMENCLATURE, "--nouveau", "--uai", UAI,
                     "--sortie", str(ref)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "ElevesSansAdresses.latin1.xml : export SIECLE « Base élèves » (0999999Z 2025-2026)" in out
    assert "Élèves : 4 ajoutés, 0 modifié, 0 supprimé, 1 ignoré" in out
    assert "! 4100005 CÔTÉ Jérôme : aucune division" in out
    assert "+ 6A (6E, mode SAISIE)" in out and "Enseignants : aucun changement" in out
    assert ("Modes d'import et systèmes d'évaluation des divisions existantes conservés ; nouvelles divisions en "
            "mode SAISIE, sans système d'évaluation (à paramétrer par le chef d'établissement).") in out
    assert f"Référentiel écrit dans {ref}." in out

    assert cli.main(["referentiel", "sts", STS, "--depuis", str(ref), "--sortie", str(ref)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Enseignants : 3 ajoutés, 0 modifié, 0 supprimé" in out
    assert "~ 6A (6E, mode SAISIE) : profs_principaux" in out and "+ 3C (3E, mode SAISIE)" in out
    assert "Établissement : nom, commune mis à jour (COLLEGE ÉMILE ZOLA)." in out
    data = json.loads(ref.read_text(encoding="utf-8"))
    assert validate_referentiel(data) == [] and len(data["services"]) == 6


def test_json_report_and_dry_run(tmp_path, capsys):
    assert cli.main(["referentiel", "siecle", ELEVES, "--nouveau", "--uai", UAI, "--json", "--dry-run"]) == 0
    captured = capsys.readouterr()
    rapport = json.loads(captured.out)                  # stdout carries the JSON only
    assert rapport["resume"]["eleves"]["ajoutes"] == 4 and rapport["cree"] is True
    assert "Pré-contrôle : rien n'a été chargé." in captured.err
    assert not list(tmp_path.iterdir())


def test_the_timetable_file_exits_3_with_the_french_advice(tmp_path, capsys):
    assert cli.main(["referentiel", "sts", EDT, "--nouveau", "--uai", UAI, "--dry-run"]) == cli.EXIT_REJECTED
    out = capsys.readouterr().out
    assert "[EXPORT_FICHIER_EDT] (emp_sts_edt.xml)" in out
    assert "Que faire ? Dans STS Web" in out and "sts_emp_UAI_ANNEE.xml" in out
    assert "Rien n'a été modifié." in out


def test_each_command_takes_its_own_exports(capsys):
    assert cli.main(["referentiel", "sts", ELEVES, "--nouveau", "--uai", UAI, "--dry-run"]) == cli.EXIT_REJECTED
    assert "[EXPORT_TYPE_INATTENDU]" in capsys.readouterr().out
    assert cli.main(["referentiel", "siecle", STS, "--nouveau", "--uai", UAI, "--dry-run", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["erreurs"][0]["code"] == "EXPORT_TYPE_INATTENDU"


def test_wrong_school_and_bad_arguments(tmp_path, capsys):
    assert cli.main(["referentiel", "siecle", ELEVES, "--nouveau", "--uai", "0750001A", "--dry-run"]) == 3
    assert "[EXPORT_UAI_MISMATCH] (ElevesSansAdresses.latin1.xml)" in capsys.readouterr().out
    assert cli.main(["referentiel", "siecle", str(tmp_path / "absent.xml"), "--nouveau", "--uai", UAI]) == 1
    assert "Erreur : Fichier illisible" in capsys.readouterr().err
    assert cli.main(["referentiel", "siecle", ELEVES, "--nouveau", "--dry-run"]) == 1
    assert "Indiquez l'établissement (--uai)" in capsys.readouterr().err
    with pytest.raises(SystemExit):                     # one STS Web file, not two
        cli.main(["referentiel", "sts", STS, STS, "--nouveau", "--uai", UAI])


class FakeApi:
    """The API as `lsu referentiel siecle|sts` uses it: GET then PUT /referentiel."""

    def __init__(self, referentiel: dict | None):
        self.referentiel, self.puts, self.versions = referentiel, [], []
        self.etag = None

    def get_referentiel(self):
        self.etag = f'"v{len(self.puts)}"' if self.referentiel is not None else None
        return self.referentiel

    def put_referentiel(self, data: dict, version: str | None = None, must_not_exist: bool = False) -> dict:
        assert validate_referentiel(data) == []
        self.versions.append("absent" if must_not_exist else version)   # If-None-Match: * / If-Match
        self.puts.append(data)
        self.referentiel = data
        return {"resume": {"divisions": len(data["divisions"]), "eleves": len(data["eleves"])}}


def test_through_the_api_modes_chosen_by_the_school_survive(monkeypatch, capsys):
    api = FakeApi(None)
    monkeypatch.setattr(cli, "local_client", lambda args, uai=None, role="CE": api)
    assert cli.main(["referentiel", "siecle", ELEVES, NOMENCLATURE, "--uai", UAI]) == 0
    assert "Référentiel chargé : 2 divisions, 4 eleves" in capsys.readouterr().out
    for d in api.referentiel["divisions"]:
        d["mode_import"] = "EDITEUR"                     # what PUT /referentiel/divisions/{code}/mode does
    assert cli.main(["referentiel", "sts", STS, "--mode-nouvelles-divisions", "SCONET_NOTES"]) == 0
    out = capsys.readouterr().out
    assert "Référentiel chargé : 3 divisions, 4 eleves" in out
    assert {d["code"]: d["mode_import"] for d in api.referentiel["divisions"]} == {
        "6A": "EDITEUR", "3B": "EDITEUR", "3C": "SCONET_NOTES"}
    assert len(api.puts) == 2
    assert api.versions == ["absent", '"v1"'], "made from nothing, then from the version it was merged into"


def test_through_the_api_a_refusal_loads_nothing(monkeypatch, capsys):
    api = FakeApi(None)
    monkeypatch.setattr(cli, "local_client", lambda args, uai=None, role="CE": api)
    assert cli.main(["referentiel", "sts", EDT, "--uai", UAI]) == cli.EXIT_REJECTED
    assert api.puts == []


def test_get_referentiel_maps_an_absent_referentiel_to_none(monkeypatch):
    client = cli.ApiClient("http://api.invalid", "jeton")

    def call(method, path, **kw):
        raise cli.ApiCallError("[REFERENTIEL_ABSENT] Aucun référentiel…", code="REFERENTIEL_ABSENT")
    monkeypatch.setattr(client, "call", call)
    assert client.get_referentiel() is None

    def other(method, path, **kw):
        raise cli.ApiCallError("[FORBIDDEN] …", code="FORBIDDEN")
    monkeypatch.setattr(client, "call", other)
    with pytest.raises(cli.CliError):
        client.get_referentiel()


# --- lsu referentiel evaluation CODE NOTES|POSITIONNEMENT|aucun -----------------------------------

class FakeEvaluationApi:
    """PUT /referentiel/divisions/{code}/evaluation as the lead's route does it: the division's
    `systeme_evaluation` set (null: unset), the référentiel still valid, its new version returned."""

    def __init__(self, referentiel: dict):
        self.referentiel, self.calls = referentiel, []

    def call(self, method: str, path: str, **kw) -> dict:
        self.calls.append((method, path, kw.get("json")))
        code = unquote(path.split("/")[3])
        divisions = [d for d in self.referentiel["divisions"] if d["code"] == code]
        if not divisions:
            raise cli.ApiCallError(f"[NOT_FOUND] Classe « {code} » absente du référentiel.", code="NOT_FOUND")
        for d in divisions:
            d["systeme_evaluation"] = kw["json"]["systeme_evaluation"]
        assert validate_referentiel(self.referentiel) == []
        return {"version": "0123456789abcdef" * 4}


@pytest.fixture
def api_evaluation(monkeypatch) -> FakeEvaluationApi:
    from lsu_tools.generator import SchoolSpec, generate_referentiel
    api = FakeEvaluationApi(generate_referentiel(SchoolSpec(divisions_par_niveau=1, eleves_par_division=1)))
    monkeypatch.setattr(cli, "local_client", lambda args, uai=None, role="CE": api)
    return api


@pytest.mark.parametrize("argument, valeur, texte", [
    ("NOTES", "NOTES", "Classe 3A : système d'évaluation NOTES (référentiel version 0123456789ab)."),
    ("POSITIONNEMENT", "POSITIONNEMENT", "Classe 3A : système d'évaluation POSITIONNEMENT"),
    ("positionnement", "POSITIONNEMENT", "Classe 3A : système d'évaluation POSITIONNEMENT"),
    ("aucun", None, "Classe 3A : aucun système d'évaluation paramétré (référentiel version 0123456789ab)."),
    ("AUCUN", None, "Classe 3A : aucun système d'évaluation paramétré"),
])
def test_evaluation_sets_the_system_of_a_class_through_the_api(api_evaluation, capsys, argument, valeur, texte):
    assert cli.main(["referentiel", "evaluation", "3A", argument]) == cli.EXIT_OK
    assert api_evaluation.calls == [("PUT", "/referentiel/divisions/3A/evaluation", {"systeme_evaluation": valeur})]
    assert texte in capsys.readouterr().out
    assert {d["code"]: d.get("systeme_evaluation") for d in api_evaluation.referentiel["divisions"]}["3A"] == valeur


def test_evaluation_refuses_another_value_before_calling_the_api(api_evaluation, capsys):
    for mauvais in ("SANS_NOTES", "null", ""):
        with pytest.raises(SystemExit) as exc:
            cli.main(["referentiel", "evaluation", "3A", mauvais])
        assert exc.value.code == 2
    assert api_evaluation.calls == []
    assert "NOTES, POSITIONNEMENT, aucun" in capsys.readouterr().err.replace("'", "")


def test_evaluation_of_an_unknown_class_exits_1_in_french(api_evaluation, capsys):
    assert cli.main(["referentiel", "evaluation", "9Z", "NOTES"]) == cli.EXIT_ERROR
    assert "Erreur : [NOT_FOUND] Classe « 9Z » absente du référentiel." in capsys.readouterr().err


def test_evaluation_quotes_the_class_code_in_the_path(api_evaluation):
    api_evaluation.referentiel["divisions"][0]["code"] = "3 A/B"
    for e in api_evaluation.referentiel["eleves"]:
        if e["division"] == "6A":
            e["division"] = "3 A/B"
    for s in api_evaluation.referentiel["services"]:
        if s["division"] == "6A":
            s["division"] = "3 A/B"
    assert cli.main(["referentiel", "evaluation", "3 A/B", "NOTES"]) == cli.EXIT_OK
    assert api_evaluation.calls[0][1] == "/referentiel/divisions/3%20A%2FB/evaluation"


def test_evaluation_body_is_the_contract_of_the_route():
    assert cli.evaluation_body("NOTES") == {"systeme_evaluation": "NOTES"}
    assert cli.evaluation_body("POSITIONNEMENT") == {"systeme_evaluation": "POSITIONNEMENT"}
    assert cli.evaluation_body(cli.AUCUN_SYSTEME) == {"systeme_evaluation": None}
