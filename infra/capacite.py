#!/usr/bin/env python3
"""Capacity and cost of lsu-import at national scale (docs/capacite.md prints its output).

    .venv/bin/python infra/capacite.py            # the tables, in French (Markdown)
    .venv/bin/python infra/capacite.py --json     # the same figures as JSON

Inputs, each said where it comes from:
- requests per bilan (DynamoDB, SQS, S3): **measured**, read from docs/performance.md (`make bench`);
- sizes (XML per bilan, SQS message, DynamoDB items): **measured** here on the project's
  generator (a 600-élève collège, 3e trimestre + bilans de cycle), items serialized by the very
  pynamodb models of chalicelib/store.py;
- request mix of the worker (one BatchGetItem, one TransactWriteItems, one UpdateItem per batch):
  chalicelib/worker.py, counted by bench/count_requests.py;
- national volumes, calendar and prices: **assumptions**, listed in HYPOTHESES and PRIX below.
Nothing here calls AWS.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KB = 1024

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
    "taille_lot_sqs": 10,              # batch_size des bilans (app.py)
    "duree_lot_worker_s": 0.25,        # un lot de 10 bilans sur Lambda (hypothèse : 3 allers-retours DynamoDB + calcul)
    "memoire_worker_mo": 512,          # .chalice/config.json
    "duree_decoupe_s_par_mo": 0.5,     # découpage + envois SQS, par Mo de XML (hypothèse, 2 Go)
    "memoire_decoupe_mo": 2048,
    "duree_rapport_s": 2.0,            # une synthèse (requête des résultats, JSON vers S3)
    "memoire_rapport_mo": 1024,
    "appels_api_par_import": 80,       # dépôt, suivi de la progression, synthèse, consultations
    "duree_api_s": 0.1,
    "memoire_api_mo": 1024,
    "latence_transaction_s": 0.02,     # une TransactWriteItems ; celles d'un même import se suivent
                                       # (toutes mettent à jour l'item Import : conflits sinon)
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
    "sqs_requetes_par_million": 0.40,        # par tranche de 64 Ko
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


def mesures_performance(path: Path = ROOT / "docs" / "performance.md") -> Mesures:
    """The requests per bilan of the last `make bench` (docs/performance.md)."""
    text = path.read_text(encoding="utf-8")

    def figure(service: str) -> tuple[float, float, float]:
        m = re.search(rf"requests/bilan {service}\b.*?\s([0-9.]+)\s+pipeline ([0-9.]+) \+ receives/deletes ([0-9.]+)", text)
        if not m:
            raise SystemExit(f"{path} : chiffre « requests/bilan {service} » introuvable")
        return tuple(float(x) for x in m.groups())          # type: ignore[return-value]

    date = re.search(r"exécution du\s+(\d{4}-\d{2}-\d{2})", text)
    dyn, sqs, s3 = figure("dynamodb"), figure("sqs"), figure("s3")
    return Mesures(date=date.group(1) if date else "?", dynamodb=dyn[0], sqs=sqs[0], sqs_pipeline=sqs[1],
                   sqs_esm=sqs[2], s3=s3[0])


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
    message_sqs: float
    item_bilan: float
    item_bilan_max: int
    item_resultat: float
    item_import: int


def tailles() -> Tailles:
    from lxml import etree

    from chalicelib.catalogue import AVERTISSEMENT, CATALOGUE, message
    from chalicelib.config import Settings
    from chalicelib.generator import SchoolSpec, generate_lsu_xml
    from chalicelib.split import split_bilans
    from chalicelib.store import eleve_key, import_key, make_models

    spec = SchoolSpec()
    xml = generate_lsu_xml(spec)
    bilans = list(split_bilans(etree.fromstring(xml)))
    models = make_models(Settings.from_env({}))
    import_id = f"{spec.uai}-20250615T101500Z-0a1b2c3d"
    envelope = {"uai": spec.uai, "import_id": import_id, "pre_controle": False,
                "referentiel": f"referentiels/{spec.uai}/{'0' * 64}.json"}
    warning = next(code for code, e in CATALOGUE.items() if e.niveau == AVERTISSEMENT)   # a typical message
    msg, bil, res = [], [], []
    for b in bilans:
        body = json.dumps({**envelope, "bilan": b}, ensure_ascii=False)
        msg.append(len(body.encode("utf-8")))
        division = (b.get("eleve") or {}).get("division")
        row = models.Bilan(eleve_key(spec.uai, b["eleve"]["id_be"]), b["cle"], type=b["type"], division=division,
                           division_key=f"{spec.uai}#{division}", contenu=b,
                           empreinte=hashlib.sha256(body.encode()).hexdigest(), import_id=import_id,
                           importe_le="2025-06-15T10:15:00+00:00", mode="EDITEUR", saisies={}, verrouille=False)
        row.version = 1
        bil.append(item_size(row))
        messages = [message(warning)] * HYPOTHESES["messages_par_resultat"]
        r = models.Resultat(import_key(spec.uai, import_id), f"{b['eleve']['id_be']}#{b['cle']}", type=b["type"],
                            statut="IMPORTE", eleve=b["eleve"], periode=b.get("periode"), cycle=b.get("cycle"),
                            ligne=1234, messages=messages)
        res.append(item_size(r))
    imp = models.Import(spec.uai, import_id, statut="EN_COURS", pre_controle=False, nom_fichier="export-lsu.xml",
                        taille_declaree=len(xml), cle_s3=f"imports/{spec.uai}/{import_id}.xml",
                        cree_le="2025-06-15T10:15:00+00:00", cree_par="CE:dev", taille=len(xml), sha256="0" * 64,
                        entete={"editeur": "LSU-GEN", "application": "lsu-import-generateur", "version": "7.0",
                                "uai": spec.uai, "date": "2025-06-15"},
                        total=len(bilans), referentiel_cle=envelope["referentiel"], traites=len(bilans),
                        nouveaux=len(bilans), mis_a_jour=0, inchanges=0, rejetes=0, avertissements=0,
                        rapport_demande_le=1_750_000_000)
    eleves = spec.divisions_par_niveau * spec.eleves_par_division * 4
    return Tailles(eleves=eleves, bilans=len(bilans), bilans_cycle=sum(b["type"] != "periodique" for b in bilans),
                   xml_octets=len(xml), xml_par_bilan=len(xml) / len(bilans), message_sqs=sum(msg) / len(msg),
                   item_bilan=sum(bil) / len(bil), item_bilan_max=max(bil), item_resultat=sum(res) / len(res),
                   item_import=item_size(imp))


# --- the model ---------------------------------------------------------------------------------

def kb_units(size: float, unit: int = KB) -> int:
    return max(1, math.ceil(size / unit))


def modele(m: Mesures, t: Tailles, h: dict = HYPOTHESES, p: dict = PRIX) -> dict:
    lot = h["taille_lot_sqs"]
    wb, wr, wi = kb_units(t.item_bilan), kb_units(t.item_resultat), kb_units(t.item_import)
    # Worker, per bilan: in the transaction (2× per KB) the bilan and its result, the import's
    # counters once per batch; the GSI par-division (ALL projection) writes the bilan again
    # (1× per KB); the report request is one plain UpdateItem of the import per batch.
    wru = {
        "transaction : bilan (2 × Ko)": 2 * wb,
        "transaction : résultat (2 × Ko)": 2 * wr,
        "transaction : compteurs de l'import (2 × Ko / lot)": 2 * wi / lot,
        "index par-division (projection ALL)": wb,
        "demande de rapport (UpdateItem / lot)": wi / lot,
    }
    rru = {
        "BatchGetItem cohérent des bilans (4 Ko)": kb_units(t.item_bilan, 4 * KB),
        "synthèse : Query cohérente des résultats": t.item_resultat / (4 * KB),
    }
    wru_bilan, rru_bilan = sum(wru.values()), sum(rru.values())

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
    conc_worker = rafale / lot * h["duree_lot_worker_s"]
    mo_par_import = bilans_par_import * t.xml_par_bilan / (KB * KB)
    duree_decoupe = mo_par_import * h["duree_decoupe_s_par_mo"]
    conc_decoupe = imports_heure / 3600 * duree_decoupe * h["facteur_rafale"]
    gbs_bilan = (h["duree_lot_worker_s"] / lot * h["memoire_worker_mo"]
                 + h["duree_decoupe_s_par_mo"] * t.xml_par_bilan / (KB * KB) * h["memoire_decoupe_mo"]
                 + (h["duree_rapport_s"] * h["memoire_rapport_mo"]
                    + h["appels_api_par_import"] * h["duree_api_s"] * h["memoire_api_mo"]) / bilans_par_import) / KB
    invocations_bilan = 1 / lot + (3 + h["appels_api_par_import"]) / bilans_par_import

    # Cost per million bilans processed.
    million = 1_000_000
    cout = {
        "DynamoDB écritures": wru_bilan * p["dynamodb_wru_par_million"],
        "DynamoDB lectures": rru_bilan * p["dynamodb_rru_par_million"],
        "SQS": m.sqs * math.ceil(t.message_sqs / (64 * KB)) * p["sqs_requetes_par_million"],
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

    # Hot keys: the busiest key of each table while one import runs at its ceiling. Every
    # transaction of an import updates its Import item, so they serialize on it (conflicts
    # otherwise): one import goes at most one transaction (one batch) per transaction latency.
    tx_import = 1 / h["latence_transaction_s"]
    debit_import = tx_import * lot
    chaud = {
        "imports (uai, import_id) : l'item d'un import": tx_import * (2 * wi + wi),
        "resultats (import_key) : un import": debit_import * 2 * wr,
        "bilans (eleve_key) : un élève": 2 * wb * 4,                   # ≤ 4 bilans par élève et par an
        "index par-division (uai#division) : une classe d'un import": wb * 30 * 1.5,   # 45 bilans dans la même seconde
        "etablissements (uai) : un collège": 2,                       # bail de l'import, par import
    }
    return {
        "mesures": asdict(m), "tailles": asdict(t), "hypotheses": h, "prix": p,
        "unites": {"wru_par_bilan": wru, "rru_par_bilan": rru, "wru": wru_bilan, "rru": rru_bilan},
        "volumes": {"bilans_uniques_an": uniques, "bilans_traites_an": traites_an, "juin": juin,
                    "semaine_de_pointe": semaine, "jour_de_pointe": jour, "heure_de_pointe": heure,
                    "par_seconde_heure_de_pointe": par_s, "par_seconde_rafale": rafale,
                    "bilans_par_import": bilans_par_import, "imports_semaine": imports_semaine,
                    "imports_heure": imports_heure, "mo_par_import": mo_par_import},
        "pointe": {
            "wru_s": rafale * wru_bilan, "rru_s": rafale * rru_bilan,
            "sqs_req_s": rafale * m.sqs, "s3_req_s": rafale * m.s3,
            "dynamodb_req_s": rafale * m.dynamodb,
            "concurrence_worker": conc_worker, "concurrence_decoupe": conc_decoupe,
            "duree_decoupe_s": duree_decoupe,
            "semaine_wru": semaine * wru_bilan, "semaine_rru": semaine * rru_bilan,
            "semaine_sqs": semaine * m.sqs, "semaine_s3": semaine * m.s3,
            "semaine_xml_go": semaine * t.xml_par_bilan / KB**3,
            "semaine_cout": semaine / million * cout_million,
        },
        "cout_par_million": cout, "cout_million": cout_million,
        "cout_annuel_traitement": traites_an / million * cout_million,
        "stockage": {"bilans_go": stockage_bilans_go, "resultats_go": stockage_resultats_go, "mois": stockage_mois},
        "cles_chaudes_wcu_s": chaud, "debit_max_un_import": debit_import,
    }


# --- output ------------------------------------------------------------------------------------

def fr(x: float, decimals: int = 0) -> str:
    s = f"{x:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return s


def markdown(r: dict) -> str:
    m, t, v, pt, h = r["mesures"], r["tailles"], r["volumes"], r["pointe"], r["hypotheses"]
    out = []
    out.append(f"Mesures (docs/performance.md, exécution du {m['date']}) : DynamoDB {fr(m['dynamodb'], 3)} "
               f"requête/bilan, SQS {fr(m['sqs'], 3)} (pipeline {fr(m['sqs_pipeline'], 3)} + mappage "
               f"{fr(m['sqs_esm'], 3)}), S3 {fr(m['s3'], 3)}.")
    out.append("")
    out.append("| Taille mesurée (générateur, collège de "
               f"{t['eleves']} élèves, {t['bilans']} bilans dont {t['bilans_cycle']} de cycle) | valeur |")
    out.append("|---|---:|")
    out.append(f"| XML par bilan | {fr(t['xml_par_bilan'])} o |")
    out.append(f"| message SQS par bilan (enveloppe + JSON) | {fr(t['message_sqs'])} o |")
    out.append(f"| item `Bilan` (moyenne / max) | {fr(t['item_bilan'])} o / {fr(t['item_bilan_max'])} o |")
    out.append(f"| item `Resultat` (1 message) | {fr(t['item_resultat'])} o |")
    out.append(f"| item `Import` | {fr(t['item_import'])} o |")
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
    out.append(f"| SQS requêtes/s | {fr(pt['sqs_req_s'])} |")
    out.append(f"| S3 requêtes/s | {fr(pt['s3_req_s'], 1)} |")
    out.append(f"| Lambda des bilans : exécutions simultanées | {fr(pt['concurrence_worker'], 1)} |")
    out.append(f"| Lambda de découpe : exécutions simultanées (fichier de {fr(v['mo_par_import'], 1)} Mo, "
               f"≈ {fr(pt['duree_decoupe_s'], 1)} s) | {fr(pt['concurrence_decoupe'], 2)} |")
    out.append(f"| WRU / RRU sur la semaine | {fr(pt['semaine_wru'])} / {fr(pt['semaine_rru'])} |")
    out.append(f"| requêtes SQS / S3 sur la semaine | {fr(pt['semaine_sqs'])} / {fr(pt['semaine_s3'])} |")
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
    out.append(f"Un import seul plafonne à ≈ {fr(r['debit_max_un_import'])} bilans/s (une transaction par "
               f"{fr(h['latence_transaction_s'] * 1000)} ms sur l'item de l'import) :")
    out.append("")
    out.append("| Clé la plus chargée (WCU/s) | débit | limite d'une partition |")
    out.append("|---|---:|---:|")
    for k, x in r["cles_chaudes_wcu_s"].items():
        out.append(f"| {k} | {fr(x)} | {fr(PARTITION_WCU)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="les chiffres en JSON")
    args = ap.parse_args(argv)
    result = modele(mesures_performance(), tailles())
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
