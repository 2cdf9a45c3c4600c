#!/usr/bin/env python3
"""Capacity and cost of lsu-import at national scale (docs/capacite.md prints its output).

    .venv/bin/python infra/capacite.py            # the tables, in French (Markdown)
    .venv/bin/python infra/capacite.py --json     # the same figures as JSON

Inputs, each said where it comes from:
- requests per bilan (DynamoDB, SQS counted and SQS as billed in 64 KiB chunks, S3): **measured**,
  read from docs/performance.md (`make bench`);
- sizes and grouping, **measured** here on the project's generator (a 600-élève collège,
  3e trimestre + bilans de cycle) with the project's own code: the file split by
  chalicelib.pipeline.split.stream (what the splitter sends), grouped into SQS message bodies and
  SendMessageBatch calls by chalicelib.pipeline.split.stage (stand-ins for S3 and SQS record the calls), the
  items built by the worker's and the store's own functions (merge_import → bilan_item,
  result_item) and serialized by the pynamodb models of chalicelib/adapters/dynamodb.py;
- request mix of the worker (per invocation and import: one BatchGetItem and one
  TransactWriteItems per transaction of ≤ worker.TRANSACTION_BILANS bilans, one UpdateItem for the
  report request): chalicelib/worker.py, counted by bench/count_requests.py;
- many schools at once: **measured** by the soak (bench/soak.py: 20 schools importing at the same
  time on the local stack), stored below as data (SOAK, with its date and command): its requests
  per bilan, the shapes of the bilans queue's batches (messages and imports per invocation) and
  the workers' CPU per bilan give a second set of per-bilan costs, and the model's rules applied to
  the measured batch shapes are compared with the requests the soak counted (`concurrence`);
- national volumes, calendar, Lambda durations, DynamoDB latencies and prices: **assumptions**,
  listed in HYPOTHESES and PRIX below (none measured on AWS).
Nothing here calls AWS.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KB = 1024
SQS_CHUNK = 64 * KB                                # SQS bills one request per 64 KiB of payload

# --- assumptions (hypothèses) ------------------------------------------------------------------
HYPOTHESES = {
    "colleges": 7_000,                 # collèges publics et privés sous contrat (ordre de grandeur)
    "collegiens": 3_400_000,           # élèves de la 6e à la 3e
    "periodes_par_an": 3,              # trimestres (borne haute : les semestres en font 2)
    "part_eleves_en_fin_de_cycle": 0.5,  # 6e (cycle 3) et 3e (cycle 4) : 2 niveaux sur 4
    "imports_par_bilan": 2.0,          # chaque bilan importé deux fois en moyenne (reprises, corrections)
    "semaines_fin_d_annee": 3,         # conseils du 3e trimestre : juin
    "part_semaine_de_pointe": 0.5,     # la moitié des imports de juin tombe dans la semaine de pointe
    "jours_ouvres_par_semaine": 5,
    "part_heure_de_pointe": 0.15,      # part de la journée dans l'heure la plus chargée
    "facteur_rafale": 3.0,             # minute la plus chargée / moyenne de l'heure de pointe
    "taille_lot_sqs": 10,              # batch_size de on_bilans (app.py) : messages par invocation,
                                       # lots supposés pleins (la file contient les messages de l'import)
    "duree_invocation_worker_s": 1.0,  # une invocation de ≤ 100 bilans (10 messages) sur Lambda, 512 Mo :
                                       # estimation, NON mesurée sur AWS — ≈ 3 transactions de ≤ 45 bilans
                                       # (BatchGetItem + TransactWriteItems ≈ 0,1 s chacune) et le calcul
                                       # (≈ 1 ms de CPU par bilan mesurée localement, × 3,5 pour le
                                       # ≈ 0,3 vCPU d'une fonction de 512 Mo)
    "memoire_worker_mo": 512,          # .chalice/config.json
    "concurrence_reservee_bilans": 100,  # on_bilans en prod (.chalice/config.json)
    "duree_decoupe_s_par_mo": 0.5,     # découpe + envois SQS, par Mo de XML (hypothèse, 2 Go)
    "memoire_decoupe_mo": 2048,
    "duree_rapport_s": 2.0,            # une synthèse (requête des résultats, JSON vers S3)
    "memoire_rapport_mo": 1024,
    "appels_api_par_import": 80,       # dépôt, suivi de la progression, synthèse, consultations
    "duree_api_s": 0.1,
    "memoire_api_mo": 1024,
    "latence_transaction_s": 0.05,     # une TransactWriteItems de ≤ 91 items (≤ 45 bilans) : hypothèse ;
                                       # celles d'un même import se suivent (toutes mettent à jour
                                       # l'item Import : conflits sinon)
    "latence_update_s": 0.01,          # l'UpdateItem de la demande de rapport, sur le même item
    "requetes_sqs_hors_bilans_par_import": 5,  # notification du dépôt (réception + suppression),
                                               # message du rapport (envoi, réception, suppression)
    "messages_par_resultat": 1,        # messages de contrôle d'un résultat (la plupart en ont 0 ou 1)
    "retention_resultats_jours": 90,   # TTL proposé (expire_le) sur la table des résultats
}

# Public list prices, AWS region us-east-1, as published in 2025 (DynamoDB on demand after the
# 1 November 2024 cut). Paris (eu-west-3) is usually a few per cent dearer: check the AWS pricing
# calculator before any commitment.
PRIX = {
    "date": "tarifs publics AWS us-east-1 relevés en 2025",
    "dynamodb_wru_par_million": 0.625,
    "dynamodb_rru_par_million": 0.125,
    "dynamodb_stockage_go_mois": 0.25,
    "dynamodb_pitr_go_mois": 0.20,
    "sqs_requetes_par_million": 0.40,        # par tranche de 64 Kio
    "s3_put_par_millier": 0.005,
    "s3_get_par_millier": 0.0004,
    "s3_stockage_go_mois": 0.023,
    "lambda_go_s": 0.0000166667,             # x86
    "lambda_requetes_par_million": 0.20,
    "apigw_rest_par_million": 3.50,
}

# DynamoDB quotas that matter here.
PARTITION_WCU, PARTITION_RCU = 1_000, 3_000       # per partition (hence per key before any split)
ONDEMAND_INITIAL_WRU = 4_000                      # a new on-demand table, without warm throughput


@dataclass
class Mesures:
    date: str
    dynamodb: float
    sqs: float
    sqs_pipeline: float
    sqs_esm: float
    s3: float
    sqs_facture: float | None = None      # SQS as billed (64 KiB chunks), when the bench gives it


def mesures_performance(path: Path = ROOT / "docs" / "performance.md") -> Mesures:
    """The requests per bilan of the last `make bench` (docs/performance.md): each service's line
    `requests/bilan <service> … <total>  pipeline <x> + receives/deletes <y>`, and on the SQS line
    `billed (64 KiB chunks) <z>` if present."""
    text = path.read_text(encoding="utf-8")

    def line(service: str) -> str:
        m = re.search(rf"^.*requests/bilan {service}\b.*$", text, re.MULTILINE)
        if not m:
            raise SystemExit(f"{path} : chiffre « requests/bilan {service} » introuvable")
        return m.group(0)

    def figure(service: str) -> tuple[float, float, float]:
        m = re.search(r"\s([0-9.]+)\s+pipeline ([0-9.]+) \+ receives/deletes ([0-9.]+)", line(service))
        if not m:
            raise SystemExit(f"{path} : chiffre « requests/bilan {service} » illisible")
        return tuple(float(x) for x in m.groups())          # type: ignore[return-value]

    date = re.search(r"exécution du\s+(\d{4}-\d{2}-\d{2})", text)
    dyn, sqs, s3 = figure("dynamodb"), figure("sqs"), figure("s3")
    billed = re.search(r"billed \(64 KiB chunks\)\s+([0-9.]+)", line("sqs"))
    return Mesures(date=date.group(1) if date else "?", dynamodb=dyn[0], sqs=sqs[0], sqs_pipeline=sqs[1],
                   sqs_esm=sqs[2], s3=s3[0], sqs_facture=float(billed.group(1)) if billed else None)


# --- sizes measured on the generator -----------------------------------------------------------

def _attribute_size(value: dict) -> int:
    """DynamoDB's size of a serialized attribute value (strings in UTF-8, numbers ≈ digits/2+1)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        return len(v.strip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _attribute_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(_attribute_size(x) + 1 for x in v)
    if kind == "SS":
        return sum(len(x.encode()) for x in v)
    raise ValueError(kind)


def item_size(item) -> int:
    return sum(len(name.encode()) + _attribute_size(v) for name, v in item.serialize().items())


@dataclass
class Tailles:
    eleves: int
    bilans: int
    bilans_cycle: int
    xml_octets: int
    xml_par_bilan: float
    # SQS messages, as chalicelib.pipeline.split.stage builds and sends them for this file
    messages: int
    message_sqs: float                   # mean body size (envelope + ≤ BILANS_PER_MESSAGE bilans)
    message_sqs_max: int
    bilans_par_message_max: int          # splitter.BILANS_PER_MESSAGE
    bilans_s3: int                       # bilans too large for a message (claim check)
    envois: int                          # SendMessageBatch calls
    tranches_envoi: int                  # their 64 KiB chunks (what SQS bills)
    bilans_par_transaction: int          # worker.TRANSACTION_BILANS
    max_bilans_par_fichier: int          # Settings.max_bilans
    item_bilan: float
    item_bilan_max: int
    item_resultat: float
    item_import: int
    messages_octets: list[int]           # each message's body size, in sending order
    messages_bilans: list[int]           # each message's bilans


def _chunks(payload: int) -> int:
    return max(1, math.ceil(payload / SQS_CHUNK))


def tailles() -> Tailles:
    from types import SimpleNamespace

    from chalicelib.pipeline.split import stage as splitter
    from chalicelib.pipeline.split import stream
    from chalicelib.domain.catalogue import AVERTISSEMENT, CATALOGUE, message
    from chalicelib.domain.checks import EDITEUR
    from chalicelib.config import Settings
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml
    from chalicelib.domain.merge import merge_import
    from chalicelib.adapters.dynamodb import bilan_item, bind_models, result_item
    from chalicelib.adapters.ports import BilanWrite
    from chalicelib.adapters.sqs import SqsQueues
    from chalicelib.pipeline.split.file_checks import load_schema
    from chalicelib.pipeline.merge.stage import TRANSACTION_BILANS, Item, result_of

    settings = Settings.from_env({})
    spec = SchoolSpec()
    xml = generate_lsu_xml(spec)
    split = stream.check_and_split(xml, load_schema(settings.xsd_path, partial=True), spec.uai, settings.max_bilans)
    if not split.ok:
        raise SystemExit(f"fichier généré refusé : {split.erreurs}")
    import_id = f"{spec.uai}-20250615T101500Z-0a1b2c3d"
    referentiel = f"referentiels/{spec.uai}/{'0' * 64}.json"
    record = SimpleNamespace(uai=spec.uai, import_id=import_id, pre_controle=False)

    # The splitter's own grouping and sending, against stand-ins that record S3 puts and SQS batches.
    puts: list[dict] = []
    batches: list[list[dict]] = []
    queues = SqsQueues(SimpleNamespace(send_message_batch=lambda QueueUrl, Entries: batches.append(Entries) or {},
                                       get_queue_url=lambda QueueName: {"QueueUrl": QueueName}))
    blobs = SimpleNamespace(put=lambda key, body, content_type=None: puts.append({"Key": key, "Body": body}))
    rt = SimpleNamespace(settings=settings, queues=queues, repos=SimpleNamespace(blobs=blobs))
    splitter.send_bilans(rt, record, split.bilans, referentiel)
    bodies = [e["MessageBody"] for batch in batches for e in batch]
    sizes = [len(b.encode("utf-8")) for b in bodies]
    counts = []
    for body in bodies:
        parsed = json.loads(body)
        counts.append(len(parsed["bilans"]) if "bilans" in parsed else 1)
    assert sum(counts) == len(split.bilans)
    tranches_envoi = sum(_chunks(sum(len(e["MessageBody"].encode("utf-8")) for e in batch)) for batch in batches)

    # The items the worker writes for a new bilan (merge → bilan_item) and its result (result_item).
    models = bind_models(settings)
    warning = next(code for code, e in CATALOGUE.items() if e.niveau == AVERTISSEMENT)   # a typical message
    bilans = [json.loads(b) for b in split.bilans]
    bil, res = [], []
    for b in bilans:
        item = Item("m", spec.uai, import_id, False, referentiel, b)
        merged = merge_import(None, b, EDITEUR, import_id, "2025-06-15T10:15:00+00:00")
        row = bilan_item(models, BilanWrite(item.key, merged.state, None))
        row.version = 1
        bil.append(item_size(row))
        res.append(item_size(result_item(models, result_of(item, merged.statut,
                                                           [message(warning)] * HYPOTHESES["messages_par_resultat"]))))
    imp = models.Import(spec.uai, import_id, statut="EN_COURS", pre_controle=False, nom_fichier="export-lsu.xml",
                        taille_declaree=len(xml), cle_s3=f"imports/{spec.uai}/{import_id}.xml",
                        cree_le="2025-06-15T10:15:00+00:00", cree_par="CE:dev", taille=len(xml), sha256="0" * 64,
                        entete={"editeur": "LSU-GEN", "application": "lsu-import-generateur", "version": "7.0",
                                "uai": spec.uai, "date": "2025-06-15"},
                        total=len(bilans), referentiel_cle=referentiel, traites=len(bilans),
                        nouveaux=len(bilans), mis_a_jour=0, inchanges=0, rejetes=0, avertissements=0,
                        rapport_demande_le=1_750_000_000)
    eleves = spec.divisions_par_niveau * spec.eleves_par_division * 4
    return Tailles(eleves=eleves, bilans=len(bilans), bilans_cycle=sum(b["type"] != "periodique" for b in bilans),
                   xml_octets=len(xml), xml_par_bilan=len(xml) / len(bilans),
                   messages=len(bodies), message_sqs=sum(sizes) / len(sizes), message_sqs_max=max(sizes),
                   bilans_par_message_max=splitter.BILANS_PER_MESSAGE, bilans_s3=len(puts),
                   envois=len(batches), tranches_envoi=tranches_envoi,
                   bilans_par_transaction=TRANSACTION_BILANS, max_bilans_par_fichier=settings.max_bilans,
                   item_bilan=sum(bil) / len(bil), item_bilan_max=max(bil), item_resultat=sum(res) / len(res),
                   item_import=item_size(imp), messages_octets=sizes, messages_bilans=counts)


# --- the model ---------------------------------------------------------------------------------

def kb_units(size: float, unit: int = KB) -> int:
    return max(1, math.ceil(size / unit))


def acheminement(t: Tailles, h: dict = HYPOTHESES) -> dict:
    """The measured file's messages as the worker meets them: `taille_lot_sqs` consecutive
    messages per invocation (full batches), one transaction per ≤ TRANSACTION_BILANS bilans of an
    invocation (one import per invocation here), and the SQS requests — counted and billed —
    that this implies, receives returning a batch's bodies."""
    lot = h["taille_lot_sqs"]
    lots = [range(i, min(i + lot, t.messages)) for i in range(0, t.messages, lot)]
    bilans_lot = [sum(t.messages_bilans[j] for j in r) for r in lots]
    transactions = sum(math.ceil(n / t.bilans_par_transaction) for n in bilans_lot)
    tranches_reception = sum(_chunks(sum(t.messages_octets[j] for j in r)) for r in lots)
    autres = h["requetes_sqs_hors_bilans_par_import"]
    n = t.bilans
    sqs = {   # per bilan: (counted, billed)
        "SendMessageBatch des bilans (découpe)": (t.envois / n, t.tranches_envoi / n),
        f"ReceiveMessage du mappage (lots de {lot} messages)": (len(lots) / n, tranches_reception / n),
        "DeleteMessageBatch du mappage": (len(lots) / n, len(lots) / n),
        "files des dépôts et du rapport (par import)": (autres / n, autres / n),
    }
    return {
        "invocations": len(lots), "bilans_par_invocation": n / len(lots), "bilans_par_invocation_max": max(bilans_lot),
        "transactions": transactions, "tranches_reception": tranches_reception,
        "messages_par_bilan": t.messages / n, "invocations_par_bilan": len(lots) / n,
        "transactions_par_bilan": transactions / n,
        "requetes_dynamodb_worker_par_bilan": (2 * transactions + len(lots)) / n,
        "sqs_par_bilan": sqs,
        "sqs_compte_modele": sum(c for c, _ in sqs.values()),
        "sqs_facture_modele": sum(b for _, b in sqs.values()),
    }


def modele(m: Mesures, t: Tailles, h: dict = HYPOTHESES, p: dict = PRIX, lots: dict | None = None) -> dict:
    """`lots`: invocations_par_bilan, transactions_par_bilan and demandes_rapport_par_bilan (one per
    invocation and import) measured or projected (the soak's, `projection_lots`) instead of the full
    batches of one import of `acheminement`."""
    a = acheminement(t, h)
    if lots:
        a = {**a, **{k: lots[k] for k in ("invocations_par_bilan", "transactions_par_bilan") if k in lots}}
    rapports_b = (lots or {}).get("demandes_rapport_par_bilan", a["invocations_par_bilan"])
    tx_b, inv_b = a["transactions_par_bilan"], a["invocations_par_bilan"]
    wb, wr, wi = kb_units(t.item_bilan), kb_units(t.item_resultat), kb_units(t.item_import)
    # Worker, per bilan: in the transactions (2× per KB) the bilan and its result, the import's
    # counters once per transaction of ≤ 45 bilans; the GSI par-division (ALL projection) writes the
    # bilan again (1× per KB); the report request is one conditional UpdateItem of the import per
    # invocation and import (a failed condition is billed too).
    wru = {
        "transaction : bilan (2 × Ko)": 2 * wb,
        "transaction : résultat (2 × Ko)": 2 * wr,
        "transaction : compteurs de l'import (2 × Ko par transaction)": 2 * wi * tx_b,
        "index par-division (projection ALL)": wb,
        "demande de rapport (UpdateItem par invocation)": wi * rapports_b,
    }
    rru = {
        "BatchGetItem cohérent des bilans (4 Ko)": kb_units(t.item_bilan, 4 * KB),
        "synthèse : Query cohérente des résultats": t.item_resultat / (4 * KB),
    }
    wru_bilan, rru_bilan = sum(wru.values()), sum(rru.values())

    # SQS: the bench's billed figure when it gives one, else the model's.
    sqs_facture = m.sqs_facture if m.sqs_facture is not None else a["sqs_facture_modele"]

    # Volumes.
    periodiques = h["collegiens"] * h["periodes_par_an"]
    cycle = h["collegiens"] * h["part_eleves_en_fin_de_cycle"]
    uniques = periodiques + cycle
    traites_an = uniques * h["imports_par_bilan"]
    juin = (h["collegiens"] + cycle) * h["imports_par_bilan"]          # 3e trimestre + bilans de cycle
    semaine = juin * h["part_semaine_de_pointe"]
    jour = semaine / h["jours_ouvres_par_semaine"]
    heure = jour * h["part_heure_de_pointe"]
    par_s = heure / 3600
    rafale = par_s * h["facteur_rafale"]
    bilans_par_import = t.bilans / t.eleves * (h["collegiens"] / h["colleges"])
    imports_semaine = semaine / bilans_par_import
    imports_heure = heure / bilans_par_import

    # Lambda.
    duree_worker = h["duree_invocation_worker_s"]
    conc_worker = rafale * inv_b * duree_worker
    capacite_mappage = h["concurrence_reservee_bilans"] / (inv_b * duree_worker)     # bilans/s
    mo_par_import = bilans_par_import * t.xml_par_bilan / (KB * KB)
    duree_decoupe = mo_par_import * h["duree_decoupe_s_par_mo"]
    conc_decoupe = imports_heure / 3600 * duree_decoupe * h["facteur_rafale"]
    gbs_bilan = (duree_worker * inv_b * h["memoire_worker_mo"]
                 + h["duree_decoupe_s_par_mo"] * t.xml_par_bilan / (KB * KB) * h["memoire_decoupe_mo"]
                 + (h["duree_rapport_s"] * h["memoire_rapport_mo"]
                    + h["appels_api_par_import"] * h["duree_api_s"] * h["memoire_api_mo"]) / bilans_par_import) / KB
    invocations_bilan = inv_b + (3 + h["appels_api_par_import"]) / bilans_par_import

    # Cost per million bilans processed.
    million = 1_000_000
    cout = {
        "DynamoDB écritures": wru_bilan * p["dynamodb_wru_par_million"],
        "DynamoDB lectures": rru_bilan * p["dynamodb_rru_par_million"],
        "SQS (requêtes facturées, 64 Kio)": sqs_facture * p["sqs_requetes_par_million"],
        "S3 requêtes": m.s3 * million * (p["s3_put_par_millier"] + p["s3_get_par_millier"]) / 2 / 1000,
        "Lambda durée": gbs_bilan * million * p["lambda_go_s"],
        "Lambda invocations": invocations_bilan * p["lambda_requetes_par_million"],
        "API Gateway": h["appels_api_par_import"] / bilans_par_import * p["apigw_rest_par_million"],
    }
    cout_million = sum(cout.values())

    # Storage (one school year of bilans, kept; results kept `retention` days).
    stockage_bilans_go = uniques * t.item_bilan * 2 / KB**3          # table + index ALL
    stockage_resultats_go = traites_an * t.item_resultat / KB**3 * h["retention_resultats_jours"] / 365
    stockage_mois = ((stockage_bilans_go + stockage_resultats_go)
                     * (p["dynamodb_stockage_go_mois"] + p["dynamodb_pitr_go_mois"]))

    # One import's ceiling. Every transaction of an import (≤ 45 bilans) updates its Import item,
    # and so does the report request (one UpdateItem per invocation): they serialize on that item
    # (a concurrent one is cancelled, TransactionConflict, and retried). The item is thus held
    # tx_b × latence_transaction + inv_b × latence_update seconds per bilan. The import's results
    # share one partition key (import_key): 2 WRU per result in a transaction, 1,000 WCU/s per
    # partition until DynamoDB splits it for heat (distinct sort keys, bilan_id).
    occupation = tx_b * h["latence_transaction_s"] + inv_b * h["latence_update_s"]
    plafond_item_import = 1 / occupation
    plafond_resultats = PARTITION_WCU / (2 * wr)
    debit_import = min(plafond_item_import, plafond_resultats)
    chaud = {   # WCU/s on the busiest key of each table, one import at the Import item's ceiling
        "imports (uai, import_id) : l'item d'un import":
            plafond_item_import * (tx_b * 2 * wi + inv_b * wi),
        "resultats (import_key) : un import": plafond_item_import * 2 * wr,
        "bilans (eleve_key) : un élève": 2 * wb * 4,                   # ≤ 4 bilans par élève et par an
        "index par-division (uai#division) : une classe d'un import":
            wb * min(30 * 1.5, t.bilans_par_transaction),             # ≈ 45 bilans, une transaction
        "etablissements (uai) : un collège": 2,                       # bail de l'import, par import
    }
    return {
        "mesures": asdict(m), "tailles": {k: v for k, v in asdict(t).items() if not isinstance(v, list)},
        "hypotheses": h, "prix": p,
        "acheminement": a,
        "unites": {"wru_par_bilan": wru, "rru_par_bilan": rru, "wru": wru_bilan, "rru": rru_bilan},
        "sqs_facture_retenu": sqs_facture,
        "sqs_facture_source": "mesure" if m.sqs_facture is not None else "modele",
        "volumes": {"bilans_uniques_an": uniques, "bilans_traites_an": traites_an, "juin": juin,
                    "semaine_de_pointe": semaine, "jour_de_pointe": jour, "heure_de_pointe": heure,
                    "par_seconde_heure_de_pointe": par_s, "par_seconde_rafale": rafale,
                    "bilans_par_import": bilans_par_import, "imports_semaine": imports_semaine,
                    "imports_heure": imports_heure, "mo_par_import": mo_par_import},
        "pointe": {
            "wru_s": rafale * wru_bilan, "rru_s": rafale * rru_bilan,
            "sqs_req_s": rafale * m.sqs, "sqs_facturees_s": rafale * sqs_facture, "s3_req_s": rafale * m.s3,
            "dynamodb_req_s": rafale * m.dynamodb,
            "invocations_worker_s": rafale * inv_b,
            "concurrence_worker": conc_worker, "concurrence_decoupe": conc_decoupe,
            "duree_decoupe_s": duree_decoupe,
            "capacite_mappage_bilans_s": capacite_mappage,
            "capacite_table_neuve_bilans_s": ONDEMAND_INITIAL_WRU / wru_bilan,
            "semaine_wru": semaine * wru_bilan, "semaine_rru": semaine * rru_bilan,
            "semaine_sqs": semaine * sqs_facture, "semaine_s3": semaine * m.s3,
            "semaine_invocations_worker": semaine * inv_b,
            "semaine_xml_go": semaine * t.xml_par_bilan / KB**3,
            "semaine_cout": semaine / million * cout_million,
        },
        "cout_par_million": cout, "cout_million": cout_million,
        "cout_annuel_traitement": traites_an / million * cout_million,
        "stockage": {"bilans_go": stockage_bilans_go, "resultats_go": stockage_resultats_go, "mois": stockage_mois},
        "cles_chaudes_wcu_s": chaud,
        "un_import": {"plafond_item_import": plafond_item_import, "plafond_resultats": plafond_resultats,
                      "debit_max": debit_import,
                      "duree_import_max_s": t.max_bilans_par_fichier / debit_import},
    }


# --- many schools at once: the soak (bench/soak.py), measured ------------------------------------
# One run of the soak, as it printed it (`--json FILE` gives every figure; docs/performance.md shows
# the same run). Local stack: the requests, the batches and the CPU per bilan are the pipeline's
# own; the times are the emulator's (moto server), on a shared 2-core machine.
SOAK = {
    'date': '2026-12-06',
    'commande': '.venv/bin/python bench/soak.py --schools 20 --eleves 300 --doubles 1 --pollers 4',
    'machine': 'Linux 6.18.44-fc-v1300 x86_64, 2 cœurs partagés',
    'ecoles': 20,
    'ecoles_en_double': 1,
    'eleves': 6000,
    'imports': 21,
    'bilans': 9450,
    'duree_s': 59.6,
    'bilans_s': 158.5,
    'import_median_s': 32.3,
    'requetes_par_bilan': {'dynamodb': 0.0978, 'sqs': 0.0671, 's3': 0.0126},
    'sqs_pipeline': 0.0244,
    'sqs_esm': 0.0426,
    'sqs_facture': 0.1923,
    'transactions_par_bilan': 0.0307,
    'lectures_groupees_par_bilan': 0.0307,
    'mises_a_jour_par_bilan': 0.0256,
    'invocations_par_bilan': 0.0167,
    'messages_par_invocation': 5.99,
    'imports_par_invocation': 1.0,
    'histogramme': {   '1x1': 8,
                       '2x1': 11,
                       '3x1': 29,
                       '4x1': 28,
                       '5x1': 4,
                       '6x1': 9,
                       '7x1': 8,
                       '8x1': 11,
                       '9x1': 1,
                       '10x1': 49},
    'part_cpu_emulateur': 0.614,
    'cpu_workers_ms_par_bilan': 1.63,
    'cpu_autres_s': 35.9,
    'charge': [1.77, 2.83],
    'echecs': 0,
}


def soak_depuis(f: dict) -> dict:
    """A SOAK entry from the figures `bench/soak.py --json FILE` wrote (what to paste above after a
    new run: `.venv/bin/python infra/capacite.py --soak-json FILE`)."""
    ops = f["operations_par_bilan"]
    return {
        "date": f["date"], "commande": f["commande"], "machine": f"{f['machine']}, {f['coeurs']} cœurs partagés",
        "ecoles": f["schools"], "ecoles_en_double": f["doubles"], "eleves": f["eleves"], "imports": f["imports"],
        "bilans": f["bilans"], "duree_s": round(f["wall_s"], 1), "bilans_s": round(f["bilans_s"], 1),
        "import_median_s": round(f["import_s"]["median"], 1),
        "requetes_par_bilan": {k: round(v, 4) for k, v in f["requetes_par_bilan"].items()},
        "sqs_pipeline": round(f["requetes_pipeline_par_bilan"]["sqs"], 4),
        "sqs_esm": round(f["requetes_esm_par_bilan"]["sqs"], 4),
        "sqs_facture": round(f["sqs_facture_par_bilan"], 4),
        "transactions_par_bilan": round(ops.get("dynamodb TransactWriteItems", 0.0), 4),
        "lectures_groupees_par_bilan": round(ops.get("dynamodb BatchGetItem", 0.0), 4),
        "mises_a_jour_par_bilan": round(ops.get("dynamodb UpdateItem", 0.0), 4),
        "invocations_par_bilan": round(f["lots"]["invocations_par_bilan"], 4),
        "messages_par_invocation": round(f["lots"]["messages_par_invocation"], 2),
        "imports_par_invocation": round(f["lots"]["imports_par_invocation"], 2),
        "histogramme": f["lots"]["histogramme"],
        "part_cpu_emulateur": round(f["part_cpu_emulateur"], 3),
        "cpu_workers_ms_par_bilan": round(f["cpu_workers_ms_par_bilan"], 2),
        "cpu_autres_s": round(f["cpu_s"]["autres"], 1),
        "charge": [f["charge_debut"][0], f["charge_fin"][0]],
        "echecs": len(f["echecs"]),
    }


def mesures_soak(s: dict = SOAK) -> Mesures:
    """The soak's requests per bilan as the model's measured inputs."""
    r = s["requetes_par_bilan"]
    return Mesures(date=s["date"], dynamodb=r["dynamodb"], sqs=r["sqs"], sqs_pipeline=s["sqs_pipeline"],
                   sqs_esm=s["sqs_esm"], s3=r["s3"], sqs_facture=s["sqs_facture"])


ESM_SQS_PAR_IMPORT = 4      # the uploads and report queues' receive + delete, once per import


def projection_lots(t: Tailles, histogramme: dict[str, int], bilans_par_import: float | None = None) -> dict:
    """The model's rules applied to invocations of given shapes (`"<messages>x<imports>": count`):
    each message carries the measured file's mean bilans per message, an invocation's bilans are
    spread evenly over its imports; per import of an invocation one BatchGetItem and one
    TransactWriteItems per ≤ TRANSACTION_BILANS bilans and one UpdateItem (the report request);
    per invocation one ReceiveMessage (billed by its bodies' 64 KiB chunks) and one
    DeleteMessageBatch, and ESM_SQS_PAR_IMPORT requests of the uploads and report queues per import
    of `bilans_par_import` bilans (the measured file's by default). {"10x1": 1} is `acheminement`'s
    full batches."""
    bilans_par_import = bilans_par_import or t.bilans
    par_message = t.bilans / t.messages
    inv = bilans = tx = updates = chunks = 0.0
    for shape, n in histogramme.items():
        messages, imports = (int(x) for x in shape.split("x"))
        b = messages * par_message
        inv += n
        bilans += n * b
        tx += n * imports * math.ceil(b / imports / t.bilans_par_transaction)
        updates += n * imports
        chunks += n * _chunks(messages * t.message_sqs)
    return {"invocations_par_bilan": inv / bilans, "bilans_par_invocation": bilans / inv,
            "transactions_par_bilan": tx / bilans, "demandes_rapport_par_bilan": updates / bilans,
            "requetes_dynamodb_worker_par_bilan": (2 * tx + updates) / bilans,
            "sqs_mappage_par_bilan": 2 * inv / bilans + ESM_SQS_PAR_IMPORT / bilans_par_import,
            "sqs_mappage_facture_par_bilan": (chunks + inv) / bilans + ESM_SQS_PAR_IMPORT / bilans_par_import}


def concurrence(r: dict, t: Tailles, s: dict = SOAK, h: dict = HYPOTHESES, p: dict = PRIX) -> dict:
    """N schools at once: the model's projections (full batches; the soak's measured batch shapes)
    against what the soak measured, the per-bilan costs with the soak's figures, and what the
    model projects on AWS for the soak's imports at once."""
    pleins = projection_lots(t, {f"{h['taille_lot_sqs']}x1": 1})
    mesures_lots = projection_lots(t, s["histogramme"], s["bilans"] / s["imports"])
    # Measured, the worker's BatchGetItem and TransactWriteItems, and every UpdateItem (the report
    # requests, and the splitter's and the report's own: an upper bound).
    mesure = {"invocations_par_bilan": s["invocations_par_bilan"],
              "bilans_par_invocation": 1 / s["invocations_par_bilan"],
              "transactions_par_bilan": s["transactions_par_bilan"],
              "requetes_dynamodb_worker_par_bilan": (s["lectures_groupees_par_bilan"] + s["transactions_par_bilan"]
                                                     + s["mises_a_jour_par_bilan"]),
              "sqs_mappage_par_bilan": s["sqs_esm"], "sqs_mappage_facture_par_bilan": None}
    avec_soak = modele(mesures_soak(s), t, h, p, lots=s)
    u, pt = r["un_import"], r["pointe"]
    limites = {"plafond des imports (un import ≈ {} bilans/s)".format(round(u["debit_max"])): s["imports"] * u["debit_max"],
               f"{h['concurrence_reservee_bilans']} exécutions de on_bilans": pt["capacite_mappage_bilans_s"],
               f"table à la demande neuve ({ONDEMAND_INITIAL_WRU} WRU/s)": pt["capacite_table_neuve_bilans_s"]}
    limite = min(limites, key=limites.get)
    # The worker's CPU per bilan (the soak's bilans pollers: receive, checks, merge, AWS client),
    # × 3.5 for the ≈ 0.3 vCPU of a 512 MB function, plus 3 transactions of ≈ 0.1 s: one
    # invocation of 100 bilans, against the duration assumed.
    duree_estimee = 3 * 0.1 + 100 * s["cpu_workers_ms_par_bilan"] / 1000 * 3.5
    return {"soak": s, "projection_lots_pleins": pleins, "projection_lots_mesures": mesures_lots, "mesure": mesure,
            "cout_par_million_soak": avec_soak["cout_par_million"], "cout_million_soak": avec_soak["cout_million"],
            "wru_soak": avec_soak["unites"]["wru"],
            "aws": {"limites_bilans_s": limites, "limite": limite, "debit_bilans_s": limites[limite],
                    "duree_s": s["bilans"] / limites[limite]},
            "duree_invocation_estimee_s": duree_estimee}


# --- output ------------------------------------------------------------------------------------

def fr(x: float, decimals: int = 0) -> str:
    s = f"{x:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return s


def markdown(r: dict) -> str:
    m, t, v, pt, h, a = r["mesures"], r["tailles"], r["volumes"], r["pointe"], r["hypotheses"], r["acheminement"]
    lot = h["taille_lot_sqs"]
    out = []
    facture = (f" ; facturé par tranches de 64 Kio {fr(m['sqs_facture'], 3)}" if m["sqs_facture"] is not None
               else " ; facturé : non donné, modèle ci-dessous")
    out.append(f"Mesures (docs/performance.md, exécution du {m['date']}) : DynamoDB {fr(m['dynamodb'], 3)} "
               f"requête/bilan, SQS {fr(m['sqs'], 3)} (pipeline {fr(m['sqs_pipeline'], 3)} + mappage "
               f"{fr(m['sqs_esm'], 3)}{facture}), S3 {fr(m['s3'], 3)}.")
    out.append("")
    out.append("| Taille mesurée (générateur, collège de "
               f"{t['eleves']} élèves, {t['bilans']} bilans dont {t['bilans_cycle']} de cycle) | valeur |")
    out.append("|---|---:|")
    out.append(f"| XML par bilan | {fr(t['xml_par_bilan'])} o |")
    out.append(f"| item `Bilan` (moyenne / max) | {fr(t['item_bilan'])} o / {fr(t['item_bilan_max'])} o |")
    out.append(f"| item `Resultat` (1 message) | {fr(t['item_resultat'])} o |")
    out.append(f"| item `Import` | {fr(t['item_import'])} o |")
    out.append("")
    out.append("| Acheminement (code du découpeur et du travailleur, même collège) | valeur |")
    out.append("|---|---:|")
    out.append(f"| messages SQS (≤ {t['bilans_par_message_max']} bilans d'un import, ≤ 200 Ko) | "
               f"{fr(t['messages'])} ({fr(a['messages_par_bilan'], 3)} par bilan ; {fr(t['bilans_s3'])} bilan(s) "
               f"par S3) |")
    out.append(f"| message SQS (enveloppe + bilans), moyenne / max | {fr(t['message_sqs'])} o / "
               f"{fr(t['message_sqs_max'])} o |")
    out.append(f"| `SendMessageBatch` (≤ 10 messages, ≤ 256 Kio) | {fr(t['envois'])} "
               f"({fr(t['messages'] / t['envois'], 1)} messages par envoi) |")
    out.append(f"| invocations de `on_bilans` (lots de {lot} messages, supposés pleins) | {fr(a['invocations'])} "
               f"({fr(a['bilans_par_invocation'], 0)} bilans par invocation, {fr(a['invocations_par_bilan'], 3)} "
               f"par bilan) |")
    out.append(f"| transactions (≤ {t['bilans_par_transaction']} bilans) | {fr(a['transactions'])} "
               f"({fr(a['transactions'] / a['invocations'], 1)} par invocation) |")
    out.append(f"| requêtes DynamoDB du travailleur par bilan (2 par transaction + 1 par invocation) | "
               f"{fr(a['requetes_dynamodb_worker_par_bilan'], 3)} (mesuré, tout l'import : {fr(m['dynamodb'], 3)}) |")
    out.append("")
    out.append("| Requêtes SQS par bilan | comptées | facturées (64 Kio) |")
    out.append("|---|---:|---:|")
    for k, (c, b) in a["sqs_par_bilan"].items():
        out.append(f"| {k} | {fr(c, 3)} | {fr(b, 3)} |")
    out.append(f"| modèle | {fr(a['sqs_compte_modele'], 3)} | {fr(a['sqs_facture_modele'], 3)} |")
    mesure_facture = fr(m["sqs_facture"], 3) if m["sqs_facture"] is not None else "—"
    out.append(f"| mesuré (`make bench`, {m['date']}) | {fr(m['sqs'], 3)} | {mesure_facture} |")
    source = "mesuré" if r["sqs_facture_source"] == "mesure" else "modèle"
    out.append(f"| **retenu pour le coût** | | **{fr(r['sqs_facture_retenu'], 3)}** ({source}) |")
    out.append("")
    out.append("| Unités DynamoDB par bilan | WRU | RRU |")
    out.append("|---|---:|---:|")
    for k, x in r["unites"]["wru_par_bilan"].items():
        out.append(f"| {k} | {fr(x, 2)} | |")
    for k, x in r["unites"]["rru_par_bilan"].items():
        out.append(f"| {k} | | {fr(x, 2)} |")
    out.append(f"| **total** | **{fr(r['unites']['wru'], 2)}** | **{fr(r['unites']['rru'], 2)}** |")
    out.append("")
    out.append("| Volumes | bilans |")
    out.append("|---|---:|")
    out.append(f"| bilans uniques par an | {fr(v['bilans_uniques_an'])} |")
    out.append(f"| bilans traités par an (× {fr(h['imports_par_bilan'], 1)} imports) | {fr(v['bilans_traites_an'])} |")
    out.append(f"| juin (3e trimestre + cycles) | {fr(v['juin'])} |")
    out.append(f"| **semaine de pointe** | **{fr(v['semaine_de_pointe'])}** |")
    out.append(f"| jour de pointe | {fr(v['jour_de_pointe'])} |")
    out.append(f"| heure de pointe | {fr(v['heure_de_pointe'])} |")
    out.append(f"| par seconde, heure de pointe / rafale (× {fr(h['facteur_rafale'], 0)}) | "
               f"{fr(v['par_seconde_heure_de_pointe'], 1)} / {fr(v['par_seconde_rafale'], 1)} |")
    out.append(f"| bilans par import (collège moyen, juin) | {fr(v['bilans_par_import'])} |")
    out.append(f"| imports dans la semaine / dans l'heure de pointe | {fr(v['imports_semaine'])} / {fr(v['imports_heure'])} |")
    out.append("")
    out.append("| Semaine de pointe : débits en rafale | valeur |")
    out.append("|---|---:|")
    out.append(f"| DynamoDB écritures (WRU/s) | {fr(pt['wru_s'])} |")
    out.append(f"| DynamoDB lectures (RRU/s) | {fr(pt['rru_s'])} |")
    out.append(f"| DynamoDB requêtes/s (mesure × débit) | {fr(pt['dynamodb_req_s'])} |")
    out.append(f"| SQS requêtes/s, comptées / facturées | {fr(pt['sqs_req_s'])} / {fr(pt['sqs_facturees_s'])} |")
    out.append(f"| S3 requêtes/s | {fr(pt['s3_req_s'], 1)} |")
    out.append(f"| Lambda des bilans : invocations/s | {fr(pt['invocations_worker_s'], 1)} |")
    out.append(f"| Lambda des bilans : exécutions simultanées (≈ {fr(h['duree_invocation_worker_s'], 1)} s par "
               f"invocation, non mesuré sur AWS) | {fr(pt['concurrence_worker'], 1)} |")
    out.append(f"| Lambda de découpe : exécutions simultanées (fichier de {fr(v['mo_par_import'], 1)} Mo, "
               f"≈ {fr(pt['duree_decoupe_s'], 1)} s) | {fr(pt['concurrence_decoupe'], 2)} |")
    out.append(f"| ce que tiennent {h['concurrence_reservee_bilans']} exécutions de `on_bilans` (bilans/s) | "
               f"{fr(pt['capacite_mappage_bilans_s'])} |")
    out.append(f"| ce que tient une table à la demande neuve ({fr(ONDEMAND_INITIAL_WRU)} WRU/s, bilans/s) | "
               f"{fr(pt['capacite_table_neuve_bilans_s'])} |")
    out.append(f"| WRU / RRU sur la semaine | {fr(pt['semaine_wru'])} / {fr(pt['semaine_rru'])} |")
    out.append(f"| requêtes SQS facturées / S3 sur la semaine | {fr(pt['semaine_sqs'])} / {fr(pt['semaine_s3'])} |")
    out.append(f"| invocations de `on_bilans` sur la semaine | {fr(pt['semaine_invocations_worker'])} |")
    out.append(f"| XML déposé sur la semaine | {fr(pt['semaine_xml_go'], 1)} Go |")
    out.append(f"| **coût de traitement de la semaine** | **{fr(pt['semaine_cout'], 0)} $** |")
    out.append("")
    out.append(f"| Coût par million de bilans traités ({r['prix']['date']}) | $ |")
    out.append("|---|---:|")
    for k, x in r["cout_par_million"].items():
        out.append(f"| {k} | {fr(x, 2)} |")
    out.append(f"| **total** | **{fr(r['cout_million'], 2)}** |")
    out.append(f"| traitement d'une année ({fr(v['bilans_traites_an'] / 1e6, 1)} M bilans) | "
               f"{fr(r['cout_annuel_traitement'], 0)} |")
    s = r["stockage"]
    out.append(f"| stockage DynamoDB + PITR, par mois (bilans {fr(s['bilans_go'], 1)} Go avec l'index, "
               f"résultats {fr(s['resultats_go'], 1)} Go) | {fr(s['mois'], 0)} |")
    out.append("")
    u = r["un_import"]
    out.append(f"Un import seul : l'item de l'import, que mettent à jour ses transactions (≤ "
               f"{t['bilans_par_transaction']} bilans, ≈ {fr(h['latence_transaction_s'] * 1000)} ms) et ses "
               f"demandes de rapport (une par invocation, ≈ {fr(h['latence_update_s'] * 1000)} ms) l'une après "
               f"l'autre, le limite à ≈ {fr(u['plafond_item_import'])} bilans/s ; la partition de ses résultats "
               f"(2 WRU par résultat) à ≈ {fr(u['plafond_resultats'])} bilans/s tant que DynamoDB ne l'a pas "
               f"scindée. Plafond : ≈ {fr(u['debit_max'])} bilans/s, ≈ {fr(u['duree_import_max_s'])} s pour "
               f"un fichier de {fr(t['max_bilans_par_fichier'])} bilans (le maximum accepté).")
    out.append("")
    out.append(f"| Clé la plus chargée (WCU/s), un import à {fr(u['plafond_item_import'])} bilans/s | débit | "
               f"limite d'une partition |")
    out.append("|---|---:|---:|")
    for k, x in r["cles_chaudes_wcu_s"].items():
        out.append(f"| {k} | {fr(x)} | {fr(PARTITION_WCU)} |")
    return "\n".join(out)


def markdown_concurrence(c: dict, r: dict) -> str:
    s, pl, ms, me = c["soak"], c["projection_lots_pleins"], c["projection_lots_mesures"], c["mesure"]
    out = [f"Banc de charge du {s['date']} (`{s['commande']}`) : {s['ecoles']} collèges de ≈ "
           f"{fr(s['eleves'] / s['ecoles'])} élèves importent en même temps ({s['ecoles_en_double']} deux fois à la "
           f"fois), {s['imports']} imports, {fr(s['bilans'])} bilans, sur la pile locale (serveur moto) ; "
           f"{fr(s['duree_s'], 1)} s, {fr(s['bilans_s'])} bilans/s, l'émulateur ayant pris "
           f"{fr(100 * s['part_cpu_emulateur'])} % du CPU (machine de 2 cœurs partagée, charge "
           f"{fr(s['charge'][0], 2)} → {fr(s['charge'][1], 2)}).", ""]
    out.append("| Par bilan, plusieurs collèges à la fois | modèle, lots pleins | modèle, lots du banc | mesuré (banc) |")
    out.append("|---|---:|---:|---:|")

    def v(x, d=3):
        return "—" if x is None else fr(x, d)
    rows = [("bilans par invocation de `on_bilans`", "bilans_par_invocation", 1),
            ("invocations de `on_bilans`", "invocations_par_bilan", 4),
            ("transactions (`TransactWriteItems`)", "transactions_par_bilan", 4),
            ("requêtes DynamoDB du travailleur (2 par transaction + 1 par invocation et import ; mesuré : "
             "`BatchGetItem` + `TransactWriteItems` + toutes les `UpdateItem`, borne haute)",
             "requetes_dynamodb_worker_par_bilan", 3),
            ("réceptions + suppressions du mappage SQS, comptées (bilans, dépôts, rapport)", "sqs_mappage_par_bilan", 3)]
    for label, k, d in rows:
        out.append(f"| {label} | {v(pl[k], d)} | {v(ms[k], d)} | {v(me[k], d)} |")
    rq = s["requetes_par_bilan"]
    m = r["mesures"]
    out.append(f"| requêtes DynamoDB, tout l'import (un import seul : {fr(m['dynamodb'], 3)}) | | | "
               f"{fr(rq['dynamodb'], 3)} |")
    out.append(f"| requêtes SQS comptées / facturées (un import seul : {fr(m['sqs'], 3)} / "
               f"{v(m['sqs_facture'])}) | | | {fr(rq['sqs'], 3)} / {fr(s['sqs_facture'], 3)} |")
    out.append(f"| requêtes S3 (un import seul : {fr(m['s3'], 3)}) | | | {fr(rq['s3'], 3)} |")
    out.append("")
    out.append("| Coût par million de bilans traités | un import seul (`make bench`) | plusieurs collèges (banc) |")
    out.append("|---|---:|---:|")
    for k, x in r["cout_par_million"].items():
        out.append(f"| {k} | {fr(x, 2)} | {fr(c['cout_par_million_soak'][k], 2)} |")
    out.append(f"| **total** | **{fr(r['cout_million'], 2)}** | **{fr(c['cout_million_soak'], 2)}** |")
    out.append(f"| WRU par bilan | {fr(r['unites']['wru'], 2)} | {fr(c['wru_soak'], 2)} |")
    out.append("")
    aws = c["aws"]
    out.append(f"| Les {s['imports']} imports du banc à la fois sur AWS (projection) | bilans/s |")
    out.append("|---|---:|")
    for k, x in aws["limites_bilans_s"].items():
        out.append(f"| {k} | {fr(x)} |")
    out.append(f"| **projeté : {aws['limite']}** | **{fr(aws['debit_bilans_s'])}** "
               f"(≈ {fr(aws['duree_s'])} s pour les {fr(s['bilans'])} bilans) |")
    out.append(f"| mesuré sur la pile locale (émulateur) | {fr(s['bilans_s'])} ({fr(s['duree_s'], 1)} s) |")
    out.append("")
    out.append(f"CPU du travailleur mesuré par le banc : {fr(s['cpu_workers_ms_par_bilan'], 2)} ms par bilan (fils "
               f"des lecteurs de la file des bilans : réception, contrôles, fusion, client AWS) ; une invocation de "
               f"100 bilans ≈ 3 × 0,1 s + 100 × {fr(s['cpu_workers_ms_par_bilan'], 2)} ms × 3,5 ≈ "
               f"{fr(c['duree_invocation_estimee_s'], 2)} s, sous l'hypothèse de "
               f"{fr(r['hypotheses']['duree_invocation_worker_s'], 1)} s.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="les chiffres en JSON")
    ap.add_argument("--soak-json", type=Path, help="le SOAK à recopier ici, d'après `bench/soak.py --json FICHIER`")
    args = ap.parse_args(argv)
    if args.soak_json:
        import pprint
        pprint.pprint(soak_depuis(json.loads(args.soak_json.read_text(encoding="utf-8"))), sort_dicts=False, width=110)
        return 0
    t = tailles()
    result = modele(mesures_performance(), t)
    result["concurrence"] = concurrence(result, t)
    text = markdown(result) + "\n\n## Plusieurs collèges à la fois\n\n" + markdown_concurrence(result["concurrence"], result)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
