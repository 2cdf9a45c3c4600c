"""`lsu run` / `lsu import` when the API refuses the file before any upload (issue 14, defect 8):
an empty file (EMPTY_FILE), a file too large (FILE_TOO_LARGE). Like any rejected file: exit 3, a
synthèse FICHIER_REJETE (the keys of a real one) on stdout with --json, the French message on
stderr. The HTTP layer is faked (requests.Session.request): nothing leaves the process."""
from __future__ import annotations

import json

import pytest
import requests

from chalicelib.adapters.ports import ImportRecord
from chalicelib.domain import catalogue
from chalicelib.domain.synthese import build_synthese
from lsu_tools import cli


class FakeResponse:
    def __init__(self, status: int, body: dict):
        self.status_code, self._body = status, body
        self.headers = {"Content-Type": "application/json; charset=utf-8"}
        self.text = json.dumps(body, ensure_ascii=False)

    def json(self) -> dict:
        return self._body


class FakeHttp:
    """POST /imports as chalicelib/api/imports.py answers it; records every request."""

    def __init__(self, status: int, erreur: dict):
        self.status, self.erreur, self.requests = status, erreur, []

    def __call__(self, method, url, **kw):          # set on the class: not bound to the session
        self.requests.append((method, url, kw.get("json")))
        return FakeResponse(self.status, {"erreur": self.erreur})


@pytest.fixture(autouse=True)
def _ailleurs(tmp_path, monkeypatch):
    """No `lsu local up` session file of the developer's tree is read."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def no_upload(monkeypatch):
    def upload(*a, **kw):
        raise AssertionError("nothing is uploaded for a file refused before upload")
    monkeypatch.setattr(cli.ApiClient, "upload", upload)
    monkeypatch.setattr(cli.ApiClient, "wait", upload)


def http(monkeypatch, status: int, erreur: dict) -> FakeHttp:
    fake = FakeHttp(status, erreur)
    monkeypatch.setattr(requests.Session, "request", fake)
    return fake


EMPTY = catalogue.message("EMPTY_FILE")
TOO_LARGE = catalogue.message("FILE_TOO_LARGE", "Maximum : 1000 octets.")


def rejected_by_the_pipeline() -> dict:
    """The synthèse of a file the pipeline rejected (what the adapters' `reject` records)."""
    record = ImportRecord(uai="0750001A", import_id="20260101T000000Z-1a2b3c4d", statut="FICHIER_REJETE",
                          nom_fichier="bulletin.pdf", taille_declaree=17, cle_s3="uploads/x", cree_le="2026-01-01",
                          taille=17, sha256="ab" * 32, entete={}, total=0,
                          erreurs_fichier=[catalogue.message("NOT_XML")])
    return build_synthese(record, [])


def shape(value):
    """The keys of a synthèse, nested (dicts only)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return None


# --- the pure part -------------------------------------------------------------------------------

def test_the_refusal_before_upload_has_the_shape_of_a_rejected_synthese():
    s = cli.refused_before_upload("export.xml", b"", False, EMPTY, "0750001A")
    assert shape(s) == shape(rejected_by_the_pipeline())
    assert s["statut"] == "FICHIER_REJETE" and s["erreurs_fichier"] == [EMPTY]
    assert (s["import_id"], s["cree_le"], s["termine_le"]) == (None, None, None)
    assert s["uai"] == "0750001A" and s["pre_controle"] is False and s["entete"] == {}
    assert s["fichier"] == {"nom": "export.xml", "taille": 0,
                            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    assert s["progression"] == {"traites": 0, "total": 0}
    assert set(s["totaux"].values()) == {0}
    assert (s["messages"], s["avertissements"], s["codes"], s["bilans"]) == ([], [], {}, [])
    assert cli.exit_code(s) == cli.EXIT_REJECTED


def test_the_refusal_reads_in_french():
    text = cli.format_synthese(cli.refused_before_upload("export.xml", b"", True, EMPTY, None))
    assert text.splitlines()[0] == "Synthèse d'import (fichier refusé avant dépôt) — FICHIER_REJETE (pré-contrôle)"
    assert "[EMPTY_FILE] Le fichier est vide (0 octet)." in text
    assert "Que faire ? Exporter à nouveau le fichier depuis le logiciel de suivi des acquis." in text


def test_emit_json_keeps_stdout_for_the_json_and_says_why_on_stderr(capsys):
    s = cli.refused_before_upload("export.xml", b"", False, EMPTY, "0750001A")
    assert cli.emit(s, as_json=True) == cli.EXIT_REJECTED
    out, errors = capsys.readouterr()
    assert json.loads(out) == s
    assert "[EMPTY_FILE] Le fichier est vide (0 octet)." in errors and "Que faire ?" in errors

    assert cli.emit(rejected_by_the_pipeline(), as_json=True) == cli.EXIT_REJECTED   # any rejected file
    out, errors = capsys.readouterr()
    assert json.loads(out)["statut"] == "FICHIER_REJETE" and "[NOT_XML]" in errors


def test_emit_json_of_a_finished_import_writes_nothing_on_stderr(capsys):
    s = {**rejected_by_the_pipeline(), "statut": "TERMINE", "erreurs_fichier": []}
    assert cli.emit(s, as_json=True) == cli.EXIT_OK
    assert capsys.readouterr().err == ""


# --- through the client, with the API's answers ------------------------------------------------------

@pytest.mark.parametrize("status, erreur, contenu", [(400, EMPTY, b""), (413, TOO_LARGE, b"<a/>" * 500)])
def test_import_file_turns_a_refusal_before_upload_into_a_synthese(monkeypatch, tmp_path, no_upload,
                                                                   status, erreur, contenu):
    fake = http(monkeypatch, status, erreur)
    path = tmp_path / "export.xml"
    path.write_bytes(contenu)
    s = cli.ApiClient("http://api.invalid", "jeton").import_file(path, pre_controle=True, uai="0750001A")
    assert fake.requests == [("POST", "http://api.invalid/imports",
                              {"nom_fichier": "export.xml", "taille": len(contenu), "pre_controle": True})]
    assert s["statut"] == "FICHIER_REJETE" and s["erreurs_fichier"] == [erreur]
    assert s["pre_controle"] is True and s["fichier"]["taille"] == len(contenu)


def test_other_api_refusals_are_still_errors_of_the_command(monkeypatch, tmp_path, no_upload):
    http(monkeypatch, 409, catalogue.message("REFERENTIEL_ABSENT"))
    path = tmp_path / "export.xml"
    path.write_bytes(b"<a/>")
    with pytest.raises(cli.ApiCallError) as exc:
        cli.ApiClient("http://api.invalid", "jeton").import_file(path)
    assert exc.value.code == "REFERENTIEL_ABSENT" and exc.value.erreur["code"] == "REFERENTIEL_ABSENT"


@pytest.mark.parametrize("status, erreur, contenu", [(400, EMPTY, b""), (413, TOO_LARGE, b"<a/>" * 500)])
def test_lsu_import_json_exits_3_with_the_synthese(monkeypatch, tmp_path, capsys, no_upload, status, erreur, contenu):
    http(monkeypatch, status, erreur)
    path = tmp_path / "export.xml"
    path.write_bytes(contenu)
    assert cli.main(["import", str(path), "--json", "--api", "http://api.invalid", "--token", "t"]) == 3
    out, errors = capsys.readouterr()
    s = json.loads(out)
    assert s["statut"] == "FICHIER_REJETE" and [e["code"] for e in s["erreurs_fichier"]] == [erreur["code"]]
    assert f"[{erreur['code']}] {erreur['message']}" in errors


def test_lsu_import_human_exits_3_with_the_message_on_stdout(monkeypatch, tmp_path, capsys, no_upload):
    http(monkeypatch, 400, EMPTY)
    path = tmp_path / "export.xml"
    path.write_bytes(b"")
    assert cli.main(["import", str(path), "--api", "http://api.invalid", "--token", "t"]) == 3
    assert "[EMPTY_FILE] Le fichier est vide (0 octet)." in capsys.readouterr().out


def test_lsu_import_other_refusal_exits_1(monkeypatch, tmp_path, capsys, no_upload):
    http(monkeypatch, 409, catalogue.message("REFERENTIEL_ABSENT"))
    path = tmp_path / "export.xml"
    path.write_bytes(b"<a/>")
    assert cli.main(["import", str(path), "--json", "--api", "http://api.invalid", "--token", "t"]) == 1
    out, errors = capsys.readouterr()
    assert out == "" and "Erreur : [REFERENTIEL_ABSENT]" in errors
