"""infra/capacite.py: reads the measured figures of docs/performance.md, sizes the messages with the
splitter's own code and the items with the project's own models; the model follows the pipeline
(up to 10 bilans per message, 10 messages per invocation, transactions of ≤ 45 bilans) and its
arithmetic holds together."""
from __future__ import annotations

import importlib.util
import math
import re
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
def tailles(capacite):
    return capacite.tailles()


@pytest.fixture(scope="module")
def result(capacite, tailles):
    return capacite.modele(capacite.mesures_performance(), tailles)


def test_reads_the_measured_figures(capacite, tmp_path):
    m = capacite.mesures_performance()
    assert 0 < m.dynamodb < 5 and 0 < m.sqs < 5 and 0 <= m.s3 < 1
    assert math.isclose(m.sqs, m.sqs_pipeline + m.sqs_esm, abs_tol=0.002)
    assert m.sqs_facture is not None and m.sqs_facture >= m.sqs     # a request is at least one chunk
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", m.date)
    (tmp_path / "p.md").write_text(
        "ceux d'une exécution du\n2030-01-02 :\n"
        "requests/bilan dynamodb (pipeline + event source)  1.5  pipeline 1.0 + receives/deletes 0.5; target ≤ 1\n"
        "requests/bilan sqs (pipeline + event source)  0.9  pipeline 0.4 + receives/deletes 0.5; "
        "billed (64 KiB chunks) 2.25; target ≤ 0.3\n"
        "requests/bilan s3 (pipeline + event source)  0.01  pipeline 0.01 + receives/deletes 0.000\n")
    other = capacite.mesures_performance(tmp_path / "p.md")
    assert (other.date, other.dynamodb, other.sqs, other.sqs_esm, other.s3, other.sqs_facture) == \
        ("2030-01-02", 1.5, 0.9, 0.5, 0.01, 2.25)
    # The previous table had no billed figure: the model's own estimate is used then.
    (tmp_path / "ancien.md").write_text("requests/bilan dynamodb 1.5  pipeline 1.0 + receives/deletes 0.5\n"
                                        "requests/bilan sqs 0.9  pipeline 0.4 + receives/deletes 0.5\n"
                                        "requests/bilan s3 0.01  pipeline 0.01 + receives/deletes 0.000\n")
    assert capacite.mesures_performance(tmp_path / "ancien.md").sqs_facture is None
    (tmp_path / "vide.md").write_text("rien\n")
    with pytest.raises(SystemExit):
        capacite.mesures_performance(tmp_path / "vide.md")


def test_batch_size_is_the_apps(capacite):
    """The model's messages per invocation is the bilans queue's batch_size in app.py."""
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    m = re.search(r'on_sqs_message\(queue=DEFAULT_NAMES\["LSU_BILANS_QUEUE"\], batch_size=(\d+)\)', app)
    assert m and int(m.group(1)) == capacite.HYPOTHESES["taille_lot_sqs"]


def test_messages_measured_with_the_splitter(capacite, tailles):
    from chalicelib.pipeline.split import stage as splitter
    from chalicelib.pipeline.merge.stage import TRANSACTION_BILANS

    t = tailles
    assert t.bilans == 900 and t.bilans_cycle == 300            # 600 élèves: T3 + 6e/3e cycles
    assert sum(t.messages_bilans) == t.bilans and t.messages == len(t.messages_octets) == len(t.messages_bilans)
    assert max(t.messages_bilans) == t.bilans_par_message_max == splitter.BILANS_PER_MESSAGE
    assert t.messages == math.ceil(t.bilans / splitter.BILANS_PER_MESSAGE) and t.bilans_s3 == 0
    assert max(t.messages_octets) == t.message_sqs_max <= splitter.INLINE_LIMIT
    # Ten bilans of JSON and one envelope: about ten times a bilan's XML-to-JSON, not one.
    assert 8 * t.xml_par_bilan < t.message_sqs < 30 * t.xml_par_bilan
    assert t.bilans_par_transaction == TRANSACTION_BILANS
    # Sends by ≤ 10 messages: at least messages / 10 batches, each under 256 KiB.
    assert math.ceil(t.messages / 10) <= t.envois < t.messages


def test_billed_sqs_follows_the_message_size(capacite, tailles, result):
    t, a, m = tailles, result["acheminement"], result["mesures"]
    chunk = 64 * 1024
    sends_counted, sends_billed = a["sqs_par_bilan"]["SendMessageBatch des bilans (découpe)"]
    # Billed chunks of the sends: the bytes sent in 64 KiB chunks, plus at most one per batch (rounding).
    payload = sum(t.messages_octets)
    assert payload / chunk <= t.tranches_envoi <= payload / chunk + t.envois
    assert math.isclose(sends_billed, t.tranches_envoi / t.bilans)
    assert sends_billed > 3 * sends_counted                 # ≈ 46 KB messages, ≈ 4 per batch
    # Receives return a batch's bodies: 10 messages ≈ 460 KB ≈ 8 chunks.
    lot = capacite.HYPOTHESES["taille_lot_sqs"]
    assert a["tranches_reception"] >= payload / chunk
    assert a["tranches_reception"] <= payload / chunk + math.ceil(t.messages / lot)
    # The model agrees with the bench's billed figure, and the cost uses the measured one.
    assert 0.8 < a["sqs_facture_modele"] / m["sqs_facture"] < 1.25
    assert a["sqs_compte_modele"] <= m["sqs"] * 1.1         # the bench also counts idle long polls
    assert result["sqs_facture_retenu"] == m["sqs_facture"]
    assert math.isclose(result["cout_par_million"]["SQS (requêtes facturées, 64 Kio)"],
                        m["sqs_facture"] * capacite.PRIX["sqs_requetes_par_million"])


def test_invocations_and_transactions(capacite, tailles, result):
    t, a, h = tailles, result["acheminement"], capacite.HYPOTHESES
    assert a["invocations_par_bilan"] <= 1 / 10                     # 10 bilans per message at least
    assert 1 / 100 <= a["invocations_par_bilan"]                    # ≤ 10 messages of ≤ 10 bilans
    assert a["bilans_par_invocation_max"] <= h["taille_lot_sqs"] * t.bilans_par_message_max
    # ≤ 45 bilans per transaction: 3 for a full invocation of 100 bilans.
    assert a["transactions"] >= math.ceil(t.bilans / t.bilans_par_transaction)
    assert a["transactions"] == a["invocations"] * math.ceil(a["bilans_par_invocation_max"] / t.bilans_par_transaction)
    # The worker's DynamoDB requests are part of the measured import's.
    assert 0.7 * result["mesures"]["dynamodb"] < a["requetes_dynamodb_worker_par_bilan"] <= result["mesures"]["dynamodb"]
    pt = result["pointe"]
    assert math.isclose(pt["concurrence_worker"],
                        result["volumes"]["par_seconde_rafale"] * a["invocations_par_bilan"] * h["duree_invocation_worker_s"])


def test_dynamodb_units(capacite, tailles, result):
    t, u, a = tailles, result["unites"], result["acheminement"]
    assert t.item_resultat < t.item_bilan <= t.item_bilan_max < 400 * 1024
    kb, ki = math.ceil(t.item_bilan / 1024), math.ceil(t.item_import / 1024)
    w = u["wru_par_bilan"]
    assert w["transaction : bilan (2 × Ko)"] == 2 * kb                # transactions cost double
    # The import's counters once per transaction of ≤ 45 bilans, the report request once per invocation.
    assert math.isclose(w["transaction : compteurs de l'import (2 × Ko par transaction)"],
                        2 * ki * a["transactions"] / t.bilans)
    assert w["transaction : compteurs de l'import (2 × Ko par transaction)"] < 2 * ki / 10
    assert math.isclose(w["demande de rapport (UpdateItem par invocation)"], ki * a["invocations"] / t.bilans)
    assert 3 * kb < u["wru"] < 3 * kb + 2 * math.ceil(t.item_resultat / 1024) + 0.2


def test_one_imports_ceiling(capacite, result):
    h, a, un = capacite.HYPOTHESES, result["acheminement"], result["un_import"]
    held = a["transactions_par_bilan"] * h["latence_transaction_s"] + a["invocations_par_bilan"] * h["latence_update_s"]
    assert math.isclose(un["plafond_item_import"], 1 / held)
    assert un["debit_max"] == min(un["plafond_item_import"], un["plafond_resultats"])
    chaud = result["cles_chaudes_wcu_s"]
    assert math.isclose(chaud["resultats (import_key) : un import"] / un["plafond_item_import"],
                        2 * math.ceil(result["tailles"]["item_resultat"] / 1024))
    assert chaud["imports (uai, import_id) : l'item d'un import"] < capacite.PARTITION_WCU


def test_volumes_and_costs_hold_together(capacite, result):
    h, v = capacite.HYPOTHESES, result["volumes"]
    assert v["bilans_uniques_an"] == h["collegiens"] * (h["periodes_par_an"] + h["part_eleves_en_fin_de_cycle"])
    assert v["semaine_de_pointe"] < v["juin"] < v["bilans_traites_an"]
    assert math.isclose(result["pointe"]["semaine_cout"],
                        v["semaine_de_pointe"] / 1e6 * result["cout_million"])
    assert math.isclose(result["cout_million"], sum(result["cout_par_million"].values()))
    text = capacite.markdown(result)
    assert "semaine de pointe" in text and "retenu pour le coût" in text
