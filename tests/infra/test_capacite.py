"""infra/capacite.py: reads the measured figures of docs/performance.md and sizes the items with
the project's own models; the model's arithmetic holds together."""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def capacite():
    spec = importlib.util.spec_from_file_location("capacite", ROOT / "infra" / "capacite.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["capacite"] = module            # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result(capacite):
    return capacite.modele(capacite.mesures_performance(), capacite.tailles())


def test_reads_the_measured_figures(capacite, tmp_path):
    m = capacite.mesures_performance()
    assert 0 < m.dynamodb < 5 and 0 < m.sqs < 5 and 0 <= m.s3 < 1
    assert math.isclose(m.sqs, m.sqs_pipeline + m.sqs_esm, abs_tol=0.002)
    (tmp_path / "p.md").write_text("requests/bilan dynamodb 1.5  pipeline 1.0 + receives/deletes 0.5\n"
                                   "requests/bilan sqs 0.9  pipeline 0.4 + receives/deletes 0.5\n"
                                   "requests/bilan s3 0.01  pipeline 0.01 + receives/deletes 0.000\n")
    other = capacite.mesures_performance(tmp_path / "p.md")
    assert (other.dynamodb, other.sqs_esm, other.s3) == (1.5, 0.5, 0.01)
    (tmp_path / "vide.md").write_text("rien\n")
    with pytest.raises(SystemExit):
        capacite.mesures_performance(tmp_path / "vide.md")


def test_sizes_and_units(result):
    t, u = result["tailles"], result["unites"]
    assert t["bilans"] == 900 and t["bilans_cycle"] == 300            # 600 élèves: T3 + 6e/3e cycles
    assert 1000 < t["xml_par_bilan"] < 10_000
    assert t["item_resultat"] < t["item_bilan"] <= t["item_bilan_max"] < 400 * 1024
    kb = math.ceil(t["item_bilan"] / 1024)
    assert u["wru_par_bilan"]["transaction : bilan (2 × Ko)"] == 2 * kb   # transactions cost double
    assert u["wru"] > 3 * kb


def test_volumes_and_costs_hold_together(capacite, result):
    h, v = capacite.HYPOTHESES, result["volumes"]
    assert v["bilans_uniques_an"] == h["collegiens"] * (h["periodes_par_an"] + h["part_eleves_en_fin_de_cycle"])
    assert v["semaine_de_pointe"] < v["juin"] < v["bilans_traites_an"]
    assert math.isclose(result["pointe"]["semaine_cout"],
                        v["semaine_de_pointe"] / 1e6 * result["cout_million"])
    assert math.isclose(result["cout_million"], sum(result["cout_par_million"].values()))
    assert "semaine de pointe" in capacite.markdown(result)
