"""infra/capacite.py: reads the measured figures of docs/performance.md, sizes the messages with the
splitter's own code and the items with the project's own models; the model follows the pipeline
(up to 10 bilans per message, 10 messages per invocation, transactions of ≤ 45 bilans) and its
arithmetic holds together."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import file_modules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def capacite():
    return file_modules.load("capacite", ROOT / "infra" / "capacite.py")


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


# --- many schools at once: the soak's figures (bench/soak.py) --------------------------------------

@pytest.fixture(scope="module")
def concurrence(capacite, tailles, result):
    return capacite.concurrence(result, tailles)


def test_the_soaks_figures_are_stored_with_their_date_and_command(capacite):
    s = capacite.SOAK
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s["date"])
    assert s["commande"].startswith(".venv/bin/python bench/soak.py --schools ")
    assert s["echecs"] == 0                                   # a run whose checks all passed
    assert s["imports"] == s["ecoles"] + s["ecoles_en_double"]
    assert math.isclose(s["bilans_s"], s["bilans"] / s["duree_s"], rel_tol=0.01)
    assert math.isclose(s["requetes_par_bilan"]["sqs"], s["sqs_pipeline"] + s["sqs_esm"], abs_tol=0.002)
    assert s["sqs_facture"] >= s["requetes_par_bilan"]["sqs"]
    assert 0 < s["part_cpu_emulateur"] < 1 and len(s["charge"]) == 2
    # The batch shapes account for every invocation, and for the mean messages per invocation.
    invocations = sum(s["histogramme"].values())
    assert math.isclose(invocations / s["bilans"], s["invocations_par_bilan"], rel_tol=0.01)
    messages = sum(int(k.split("x")[0]) * n for k, n in s["histogramme"].items())
    assert math.isclose(messages / invocations, s["messages_par_invocation"], rel_tol=0.01)
    # The same run is the one docs/performance.md shows.
    perf = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert s["commande"] in perf and s["date"] in perf
    assert f"| {capacite.fr(s['bilans'])} | {capacite.fr(s['duree_s'], 1)} s |" in perf


def test_a_soak_entry_is_read_from_the_benchs_json(capacite):
    """soak_depuis turns `bench/soak.py --json` figures into a SOAK entry with the same fields."""
    f = {"date": "2030-01-02", "commande": ".venv/bin/python bench/soak.py --schools 3 --eleves 8",
         "machine": "Linux", "coeurs": 2, "schools": 3, "doubles": 1, "eleves": 24, "imports": 4, "bilans": 48,
         "wall_s": 12.0, "bilans_s": 4.0, "import_s": {"min": 1, "median": 2, "max": 3},
         "requetes_par_bilan": {"dynamodb": 0.5, "sqs": 0.4, "s3": 0.1},
         "requetes_pipeline_par_bilan": {"dynamodb": 0.5, "sqs": 0.1, "s3": 0.1},
         "requetes_esm_par_bilan": {"dynamodb": 0.0, "sqs": 0.3, "s3": 0.0}, "sqs_facture_par_bilan": 0.45,
         "operations_par_bilan": {"dynamodb TransactWriteItems": 0.1, "dynamodb BatchGetItem": 0.1,
                                  "dynamodb UpdateItem": 0.2},
         "lots": {"invocations_par_bilan": 0.125, "messages_par_invocation": 1.0, "imports_par_invocation": 1.0,
                  "histogramme": {"1x1": 6}},
         "part_cpu_emulateur": 0.5, "cpu_workers_ms_par_bilan": 2.0, "cpu_s": {"autres": 1.0},
         "charge_debut": [0.5, 0.4, 0.3], "charge_fin": [0.7, 0.5, 0.3], "echecs": []}
    entry = capacite.soak_depuis(f)
    assert entry.keys() == capacite.SOAK.keys()
    assert (entry["transactions_par_bilan"], entry["sqs_esm"], entry["charge"], entry["echecs"]) == (0.1, 0.3, [0.5, 0.7], 0)
    assert capacite.mesures_soak(entry).sqs_facture == 0.45


def test_projection_with_full_batches_is_the_models_own(capacite, tailles, result):
    a, t = result["acheminement"], tailles
    full = capacite.projection_lots(t, {f"{capacite.HYPOTHESES['taille_lot_sqs']}x1": 1})
    for k in ("invocations_par_bilan", "transactions_par_bilan", "requetes_dynamodb_worker_par_bilan"):
        assert math.isclose(full[k], a[k], rel_tol=0.02), k
    # Ten imports in one batch: one transaction and one report request per message of ten bilans.
    mixed = capacite.projection_lots(t, {"10x10": 1})
    assert math.isclose(mixed["transactions_par_bilan"], 1 / (t.bilans / t.messages))
    assert mixed["requetes_dynamodb_worker_par_bilan"] > 4 * full["requetes_dynamodb_worker_par_bilan"]
    # Costed: the counters and the report requests once per ten bilans (≈ 0.3 WRU instead of 0.07).
    worst = capacite.modele(capacite.mesures_performance(), t, lots=mixed)
    assert math.isclose(worst["unites"]["wru"] - result["unites"]["wru"],
                        (2 + 1) * math.ceil(t.item_import / 1024) / 10 - (
                            2 * math.ceil(t.item_import / 1024) * a["transactions_par_bilan"]
                            + math.ceil(t.item_import / 1024) * a["invocations_par_bilan"]))
    # Batches of one message: ten times the invocations of full ones.
    assert math.isclose(capacite.projection_lots(t, {"1x1": 1})["invocations_par_bilan"],
                        10 * full["invocations_par_bilan"])


def test_the_model_projects_what_the_soak_counted(capacite, concurrence):
    """The model's rules, applied to the batch shapes the soak saw, give the transactions, the
    invocations and the event source's SQS requests the soak counted."""
    projected, measured = concurrence["projection_lots_mesures"], concurrence["mesure"]
    assert math.isclose(projected["transactions_par_bilan"], measured["transactions_par_bilan"], rel_tol=0.1)
    assert math.isclose(projected["invocations_par_bilan"], measured["invocations_par_bilan"], rel_tol=0.05)
    assert math.isclose(projected["sqs_mappage_par_bilan"], measured["sqs_mappage_par_bilan"], rel_tol=0.25)
    # Measured, every UpdateItem is counted (the splitter's and the report's too): an upper bound.
    assert projected["requetes_dynamodb_worker_par_bilan"] <= measured["requetes_dynamodb_worker_par_bilan"]
    # The soak's batches are less full than the model's nominal ones.
    assert measured["invocations_par_bilan"] >= concurrence["projection_lots_pleins"]["invocations_par_bilan"]


def test_costs_and_aws_projection_with_the_soaks_figures(capacite, result, concurrence):
    s, c, p = capacite.SOAK, concurrence, capacite.PRIX
    cost = c["cout_par_million_soak"]
    assert math.isclose(cost["SQS (requêtes facturées, 64 Kio)"], s["sqs_facture"] * p["sqs_requetes_par_million"])
    assert math.isclose(c["cout_million_soak"], sum(cost.values()))
    assert 0.9 < c["cout_million_soak"] / result["cout_million"] < 1.2     # DynamoDB's writes dominate both
    assert c["wru_soak"] >= result["unites"]["wru"]                          # less full batches: more counters
    aws = c["aws"]
    assert aws["debit_bilans_s"] == min(aws["limites_bilans_s"].values())
    assert math.isclose(aws["duree_s"], s["bilans"] / aws["debit_bilans_s"])
    # The assumed Lambda duration of an invocation covers the workers' CPU the soak measured.
    assert c["duree_invocation_estimee_s"] <= capacite.HYPOTHESES["duree_invocation_worker_s"]
    text = capacite.markdown_concurrence(c, result)
    assert s["date"] in text and s["commande"] in text and "modèle, lots du banc" in text
