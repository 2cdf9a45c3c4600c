"""bench/soak.py's code path on two tiny schools, one of them importing its file twice at once, on
the tests' local stack: every check of the soak passes (synthèses correct and isolated, the
imports, results and bilans tables audited: nothing lost, nothing counted twice). Not timed: the
soak's figures are printed by the bench, never asserted here."""
from __future__ import annotations

from pathlib import Path

import pytest

import file_modules

ROOT = Path(__file__).resolve().parents[2]


def _soak():
    return file_modules.load("soak", ROOT / "bench" / "soak.py")


@pytest.fixture(scope="module")
def soaked(stack, tmp_path_factory):
    soak = _soak()
    specs = soak.school_specs(2, eleves=4, first_uai=900)        # UAIs 0760900…, used by no other test
    workdir = tmp_path_factory.mktemp("soak")
    return soak, specs, workdir, soak.run_soak(stack, specs, doubles=1, workdir=workdir, timeout=60)


def test_two_tiny_schools_at_once_are_correct_and_isolated(stack, soaked):
    soak, specs, tmp_path, figures = soaked
    assert len({s.uai for s in specs}) == 2 and len({s.seed for s in specs}) == 2
    assert figures.echecs == []
    expected = [len(soak.Expected.of((tmp_path / f"import-{s.uai}.xml").read_bytes()).bilans) for s in specs]
    assert figures.imports == 3 and figures.bilans == 2 * expected[0] + expected[1] > 0
    assert figures.lots["invocations"] >= 3 and figures.wall_s > 0
    assert figures.requetes_par_bilan.keys() == {"dynamodb", "sqs", "s3"}
    # The probe on the bilans queue's handler is taken off again: the stack is as it was.
    binding = next(b for b in stack.dispatcher.bindings if b.name == "bilans")
    assert not isinstance(binding.handler, soak.BatchProbe)
    assert "| 2 (+ 1 en double) |" in soak.markdown_row(figures)


def test_a_wrong_synthese_or_a_foreign_bilan_is_reported(stack, soaked):
    """The audit is not vacuous: a synthèse that lost a bilan, and a school whose file is another's,
    are both reported."""
    soak, specs, tmp_path, _ = soaked
    b, a = specs                                  # A: the school imported once
    files = {s.uai: soak.Expected.of((tmp_path / f"import-{s.uai}.xml").read_bytes()) for s in specs}
    run = soak.ImportRun(a.uai, 0, synthese=None)
    # The synthèse of A, read again, with one bilan removed.
    from chalicelib.api.auth import issue_token
    from lsu_tools.cli import ApiClient
    api = ApiClient(stack.api_url, issue_token(stack.settings.token_secret, a.uai, "CE"))
    last = api.call("GET", "/imports")["imports"][0]
    run.import_id, run.synthese = last["import_id"], api.synthese(last["import_id"])
    assert soak.audit(stack.runtime, [a], [run], files) == []
    run.synthese["bilans"] = run.synthese["bilans"][1:]
    failures = soak.audit(stack.runtime, [a], [run], files)
    assert any("synthèse bilans differ" in f and "1 missing" in f for f in failures), failures
    # A's data audited against B's file: foreign bilans everywhere.
    run.synthese = api.synthese(last["import_id"])
    failures = soak.audit(stack.runtime, [a], [run], {a.uai: files[b.uai]})
    assert any("bilans table holds" in f and "foreign" in f for f in failures), failures
