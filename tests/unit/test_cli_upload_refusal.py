"""S3's refusal of the presigned POST, as the CLI (lsu_tools/cli.py) and the web front
(chalicelib/api/static/app.js, `refusDepot`) tell it: a French message of the catalogue with its
stable code. The error documents are S3's (AWS and LocalStack answer the same). The front's
texts and mapping are checked against the catalogue and the CLI's by running its code in Node."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from chalicelib.domain import catalogue
from lsu_tools import cli

APP_JS = Path(__file__).resolve().parents[2] / "chalicelib" / "api" / "static" / "app.js"


def s3_error(code: str, message: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f'<RequestId>4442587FB7D0A2F9</RequestId></Error>')


REFUSALS = {   # S3's answer → the catalogue's code
    (400, s3_error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")): "DEPOT_TROP_VOLUMINEUX",
    (400, s3_error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")): "DEPOT_VIDE",
    (403, s3_error("AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", '
                                   '"imports/0750001A/x.xml"]')): "DEPOT_REFUSE",
    (403, s3_error("AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", '
                                   '"$content-type", "application/xml"]')): "DEPOT_REFUSE",
    (403, s3_error("AccessDenied", "Invalid according to Policy: Policy expired.")): "DEPOT_EXPIRE",
    (403, s3_error("SignatureDoesNotMatch", "The request signature we calculated does not match")): "DEPOT_REFUSE",
    (503, s3_error("SlowDown", "Please reduce your request rate.")): "DEPOT_REFUSE",
    (502, "<html>Bad gateway</html>"): "DEPOT_REFUSE",
    (500, ""): "DEPOT_REFUSE",
}
DEPOT_CODES = ("DEPOT_TROP_VOLUMINEUX", "DEPOT_VIDE", "DEPOT_REFUSE", "DEPOT_EXPIRE")


@pytest.mark.parametrize("status,body", list(REFUSALS))
def test_each_s3_refusal_has_its_catalogue_code(status, body):
    assert cli.upload_refusal_code(status, body) == REFUSALS[(status, body)]


def test_the_refusal_reads_in_french_with_its_code_and_s3s():
    m = cli.upload_refusal(400, s3_error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"))
    assert m["code"] == "DEPOT_TROP_VOLUMINEUX" and m["niveau"] == "ERREUR"
    assert m["message"] == catalogue.message("DEPOT_TROP_VOLUMINEUX")["message"] + " (HTTP 400, S3 : EntityTooLarge)"
    assert m["conseil"] == catalogue.message("DEPOT_TROP_VOLUMINEUX")["conseil"]
    assert cli.upload_refusal(500, "")["message"].endswith("(HTTP 500)")


class _Answer:
    def __init__(self, status, text):
        self.status_code, self.text = status, text


def test_the_cli_upload_raises_the_french_refusal(monkeypatch):
    body = s3_error("AccessDenied", "Invalid according to Policy: Policy expired.")
    monkeypatch.setattr(requests, "post", lambda *a, **kw: _Answer(403, body))
    client = cli.ApiClient("http://127.0.0.1:1", "jeton")
    with pytest.raises(cli.UploadRefused) as exc:
        client.upload({"url": "http://127.0.0.1:1/b", "fields": {"key": "k", "Content-Type": "application/xml"}},
                      "export.xml", b"<x/>")
    assert exc.value.code == "DEPOT_EXPIRE"
    text = str(exc.value)
    assert text.startswith("[DEPOT_EXPIRE] Le stockage a refusé le dépôt : le formulaire de dépôt a expiré.")
    assert "Que faire ? Relancer l'import" in text and "HTTP" not in text.split("\n")[1]


def test_expire_is_a_final_state_labelled_in_french():
    assert "EXPIRE" in cli.TERMINAL and cli.STATUT_LABELS["EXPIRE"] == "Expiré"
    text = cli.expired_text("0750001A-x")
    assert text.startswith("Import 0750001A-x expiré : [IMPORT_EXPIRE] " + catalogue.message("IMPORT_EXPIRE")["message"])


def test_the_page_waits_for_the_same_final_states():
    """app.js keeps its own list (FINAUX): the vocabulary's, in the same order."""
    from chalicelib.domain.vocabulary import FINAL_IMPORT_STATUTS
    m = re.search(r"^const FINAUX = (\[[^\]]*\]);", APP_JS.read_text(encoding="utf-8"), re.M)
    assert m, "app.js : const FINAUX introuvable"
    assert json.loads(m.group(1)) == [str(s) for s in FINAL_IMPORT_STATUTS]


def test_the_wait_ends_on_expire(monkeypatch):
    client = cli.ApiClient("http://127.0.0.1:1", "jeton")
    answers = iter([{"statut": "EN_ATTENTE_FICHIER", "progression": {"traites": 0, "total": None}},
                    {"statut": "EXPIRE", "progression": {"traites": 0, "total": None}}])
    monkeypatch.setattr(cli.ApiClient, "get_import", lambda self, i: next(answers))
    monkeypatch.setattr(cli.time, "sleep", lambda s: None)
    assert client.wait("x", progress=False)["statut"] == "EXPIRE"


# --- the web front: same texts, same mapping --------------------------------------------------------

def _front_block() -> str:
    """app.js between « // <refus-depot> » and « // </refus-depot> »: the texts and refusDepot."""
    m = re.search(r"// <refus-depot>\n(.*?)// </refus-depot>", APP_JS.read_text(encoding="utf-8"), re.S)
    assert m, "app.js : bloc // <refus-depot> … // </refus-depot> introuvable"
    return m.group(1)


def test_the_front_holds_the_catalogues_texts():
    m = re.search(r"const DEPOT_MESSAGES = (\{.*?\});\n", _front_block(), re.S)
    assert m, "DEPOT_MESSAGES (JSON) introuvable dans app.js"
    texts = json.loads(m.group(1))
    assert set(texts) == {*DEPOT_CODES, "IMPORT_EXPIRE"}
    for code, t in texts.items():
        c = catalogue.message(code)
        assert (t["message"], t.get("conseil")) == (c["message"], c.get("conseil")), code


def test_the_front_maps_each_refusal_like_the_cli():
    node = shutil.which("node")
    assert node, "Node.js (prérequis du projet : make front) est introuvable"
    cases = [[status, body] for status, body in REFUSALS]
    script = _front_block() + f"""
const cas = {json.dumps(cases)};
process.stdout.write(JSON.stringify(cas.map(([s, b]) => refusDepot(s, b))));
"""
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    for (status, body), front in zip(REFUSALS, json.loads(out.stdout)):
        expected = cli.upload_refusal(status, body)
        assert front["code"] == expected["code"], (status, body)
        assert front["texte"] == f"[{expected['code']}] {expected['message']} Que faire ? {expected['conseil']}"
