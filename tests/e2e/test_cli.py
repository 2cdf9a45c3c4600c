"""`lsu run` as a new user tries it from the README: a file and a référentiel, nothing else."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel


def lsu(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    extra = []
    if args[0] == "run":            # the tests' endpoints (tests/conftest.py), per service where given
        for option, var in (("--endpoint", "LSU_TEST_ENDPOINT"), ("--endpoint-s3", "LSU_TEST_ENDPOINT_S3"),
                            ("--endpoint-sqs", "LSU_TEST_ENDPOINT_SQS"),
                            ("--endpoint-dynamodb", "LSU_TEST_ENDPOINT_DYNAMODB")):
            if os.environ.get(var):
                extra += [option, os.environ[var]]
    return subprocess.run([sys.executable, "-m", "lsu_tools.cli", *args, *extra],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env} if env else None)


def test_lsu_run_imports_and_prints_the_synthese(tmp_path):
    spec = SchoolSpec(uai="0770001A", divisions_par_niveau=1, eleves_par_division=3)
    (tmp_path / "ref.json").write_text(json.dumps(generate_referentiel(spec)), encoding="utf-8")
    (tmp_path / "export.xml").write_bytes(generate_lsu_xml(spec))

    out = lsu("run", str(tmp_path / "export.xml"), "--referentiel", str(tmp_path / "ref.json"), "--json")
    assert out.returncode == 0, out.stderr
    synthese = json.loads(out.stdout)          # stdout carries the JSON only
    assert synthese["statut"] == "TERMINE" and synthese["totaux"]["importes"] == 18

    human = lsu("run", str(tmp_path / "export.xml"), "--referentiel", str(tmp_path / "ref.json"))
    assert human.returncode == 0, human.stderr
    assert "Synthèse d'import" in human.stdout and "Classe 3A" in human.stdout


def test_lsu_run_rejected_file_exits_3_with_a_french_message(tmp_path):
    spec = SchoolSpec(uai="0770002B", divisions_par_niveau=1, eleves_par_division=1)
    (tmp_path / "ref.json").write_text(json.dumps(generate_referentiel(spec)), encoding="utf-8")
    (tmp_path / "bulletin.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n")
    out = lsu("run", str(tmp_path / "bulletin.pdf"), "--referentiel", str(tmp_path / "ref.json"))
    assert out.returncode == 3, out.stderr
    assert "[NOT_XML]" in out.stdout and "n'est pas au format XML" in out.stdout


def test_lsu_run_reports_bad_arguments_in_french(tmp_path):
    out = lsu("run", str(tmp_path / "absent.xml"), "--referentiel", str(tmp_path / "absent.json"))
    assert out.returncode == 1 and "Erreur : Fichier illisible" in out.stderr
    (tmp_path / "ref.json").write_text('{"etablissement": {}}', encoding="utf-8")
    (tmp_path / "export.xml").write_bytes(b"<a/>")
    out = lsu("run", str(tmp_path / "export.xml"), "--referentiel", str(tmp_path / "ref.json"))
    assert out.returncode == 1 and "[REFERENTIEL_INVALIDE]" in out.stderr


def test_lsu_run_empty_file_exits_3_with_a_rejected_synthese(tmp_path):
    """The API refuses an empty file before any upload (EMPTY_FILE): still a rejected file."""
    spec = SchoolSpec(uai="0770003C", divisions_par_niveau=1, eleves_par_division=1)
    (tmp_path / "ref.json").write_text(json.dumps(generate_referentiel(spec)), encoding="utf-8")
    (tmp_path / "vide.xml").write_bytes(b"")
    out = lsu("run", str(tmp_path / "vide.xml"), "--referentiel", str(tmp_path / "ref.json"), "--json")
    assert out.returncode == 3, out.stderr
    synthese = json.loads(out.stdout)          # stdout carries the JSON only
    assert synthese["statut"] == "FICHIER_REJETE" and synthese["uai"] == "0770003C"
    assert [(e["code"], e["message"]) for e in synthese["erreurs_fichier"]] == [
        ("EMPTY_FILE", "Le fichier est vide (0 octet).")]
    assert synthese["fichier"]["nom"] == "vide.xml" and synthese["fichier"]["taille"] == 0
    assert synthese["totaux"]["bilans"] == 0 and synthese["bilans"] == []
    assert "[EMPTY_FILE] Le fichier est vide (0 octet)." in out.stderr

    human = lsu("run", str(tmp_path / "vide.xml"), "--referentiel", str(tmp_path / "ref.json"))
    assert human.returncode == 3, human.stderr
    assert "[EMPTY_FILE] Le fichier est vide (0 octet)." in human.stdout


def test_lsu_run_too_large_file_exits_3_with_a_rejected_synthese(tmp_path):
    spec = SchoolSpec(uai="0770004D", divisions_par_niveau=1, eleves_par_division=1)
    (tmp_path / "ref.json").write_text(json.dumps(generate_referentiel(spec)), encoding="utf-8")
    (tmp_path / "export.xml").write_bytes(generate_lsu_xml(spec))
    out = lsu("run", str(tmp_path / "export.xml"), "--referentiel", str(tmp_path / "ref.json"), "--json",
              env={"LSU_MAX_FILE_BYTES": "1000"})
    assert out.returncode == 3, out.stderr
    synthese = json.loads(out.stdout)
    assert synthese["statut"] == "FICHIER_REJETE"
    assert [e["code"] for e in synthese["erreurs_fichier"]] == ["FILE_TOO_LARGE"]
    assert "Maximum : 1000 octets." in synthese["erreurs_fichier"][0]["message"]
    assert "[FILE_TOO_LARGE] Le fichier dépasse la taille maximale autorisée." in out.stderr
