"""The synthèse d'import (chalicelib/domain/synthese.py), built from a fake import record and results."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chalicelib.domain.catalogue import message
from chalicelib.domain.synthese import build_synthese, group_warnings, import_messages, sort_bilans, totaux
from chalicelib.domain.outcome import IMPORTE, INCHANGE, MIS_A_JOUR, REJETE
from chalicelib.domain.vocabulary import ImportStatut

EN_COURS, TERMINE = ImportStatut.EN_COURS, ImportStatut.TERMINE

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
ENTETE = {"schema_version": "7.0", "editeur": "LSU-GEN", "application": "lsu-import-generateur",
          "etablissement": "0750001A"}


def record(**overrides) -> SimpleNamespace:
    fields = dict(
        import_id="20261128T101010Z-abcd1234", uai="0750001A", statut=TERMINE, pre_controle=False,
        nom_fichier="bilans-T3.xml", taille=67212, taille_declaree=67000, sha256=SHA,
        cree_le="2026-11-28T10:10:10+00:00", termine_le="2026-11-28T10:11:02+00:00",
        total=5, traites=5, nouveaux=2, mis_a_jour=1, inchanges=1, rejetes=1, avertissements=2,
        entete=ENTETE, erreurs_fichier=None,
    )
    fields.update(overrides)
    return SimpleNamespace(**fields)


def service_unknown(id_sts: str = "145496", code: str = "020700") -> dict:
    return {**message("SERVICE_UNKNOWN"),
            "groupe": {"enseignant": {"id_sts": id_sts, "nom": "Thomas"}, "discipline": code}}


def result(id_be, nom, prenom, division, statut=IMPORTE, messages=None, type_="periodique", indice=3,
           ligne=100) -> dict:
    return {
        "type": type_, "statut": statut,
        "eleve": {"id_be": id_be, "nom": nom, "prenom": prenom, "division": division},
        "periode": {"millesime": "2025", "indice": indice, "nb_periodes": 3} if type_ == "periodique" else None,
        "cycle": 3 if type_ == "cycle" else None,
        "ligne": ligne, "messages": messages or [],
    }


RESULTS = [
    result("3", "Martin", "Léa", "6B", IMPORTE, [service_unknown()]),
    result("1", "Dupont", "Noé", "6A", MIS_A_JOUR),
    result("5", "Bernard", "Zoé", "6B", REJETE, [message("STUDENT_UNKNOWN")]),
    result("2", "Dupont", "Adam", "6A", INCHANGE, [service_unknown()]),
    result("4", "Abadie", "Jules", "5A", IMPORTE),
]


@pytest.fixture
def synthese():
    return build_synthese(record(), RESULTS)


# --- shape ---------------------------------------------------------------------------------------

def test_synthese_keys(synthese):
    assert {"import_id", "statut", "pre_controle", "fichier", "entete", "erreurs_fichier", "totaux",
            "avertissements", "bilans", "messages"} <= set(synthese)
    assert synthese["import_id"] == "20261128T101010Z-abcd1234"
    assert synthese["uai"] == "0750001A"
    assert synthese["statut"] == TERMINE
    assert synthese["pre_controle"] is False
    assert synthese["fichier"] == {"nom": "bilans-T3.xml", "taille": 67212, "sha256": SHA}
    assert synthese["entete"] == ENTETE
    assert synthese["erreurs_fichier"] == []
    for b in synthese["bilans"]:
        assert {"type", "id_be", "nom", "prenom", "division", "periode", "cycle", "statut", "messages"} <= set(b)
    json.dumps(synthese, ensure_ascii=False)


def test_bilan_entries(synthese):
    martin = next(b for b in synthese["bilans"] if b["id_be"] == "3")
    assert martin == {
        "type": "periodique", "id_be": "3", "nom": "Martin", "prenom": "Léa", "division": "6B",
        "periode": {"millesime": "2025", "indice": 3, "nb_periodes": 3}, "cycle": None, "ligne": 100,
        "statut": IMPORTE, "messages": [service_unknown()],
        "a_completer": [], "systeme_evaluation": None,      # (issue 14: results written before it have neither)
    }


def test_totaux(synthese):
    assert synthese["totaux"] == {"bilans": 5, "importes": 4, "nouveaux": 2, "mis_a_jour": 1,
                                  "inchanges": 1, "rejetes": 1, "avertissements": 2}
    assert synthese["progression"] == {"traites": 5, "total": 5}


def test_totaux_with_missing_counters():
    assert totaux(record(total=None, nouveaux=None, mis_a_jour=None, inchanges=None, rejetes=None,
                         avertissements=None)) == {
        "bilans": 0, "importes": 0, "nouveaux": 0, "mis_a_jour": 0, "inchanges": 0, "rejetes": 0,
        "avertissements": 0}


def test_fichier_taille_falls_back_to_the_declared_size():
    s = build_synthese(record(taille=None, sha256=None, statut=EN_COURS), [])
    assert s["fichier"] == {"nom": "bilans-T3.xml", "taille": 67000, "sha256": None}


def test_file_errors_are_reported():
    erreurs = [message("XSD_INVALID", "Ligne 12, élément « eleve » : …", ligne=12, element="eleve")]
    s = build_synthese(record(statut="FICHIER_REJETE", total=0, erreurs_fichier=erreurs, entete=None), [])
    assert s["erreurs_fichier"] == erreurs
    assert s["entete"] == {}
    assert s["messages"] == []         # only a finished import gets import-level messages
    assert s["bilans"] == []


# --- order ---------------------------------------------------------------------------------------

def test_bilans_sorted_by_division_then_nom(synthese):
    assert [(b["division"], b["nom"], b["prenom"]) for b in synthese["bilans"]] == [
        ("5A", "Abadie", "Jules"),
        ("6A", "Dupont", "Adam"),
        ("6A", "Dupont", "Noé"),
        ("6B", "Bernard", "Zoé"),
        ("6B", "Martin", "Léa"),
    ]


def test_bilans_of_one_eleve_sorted_by_period_then_cycle():
    entries = [
        {"type": "periodique", "id_be": "1", "nom": "A", "prenom": "B", "division": "6A",
         "periode": {"indice": i}, "cycle": None} for i in (3, 1, 2)
    ] + [{"type": "cycle", "id_be": "1", "nom": "A", "prenom": "B", "division": "6A", "periode": None,
          "cycle": 3}]
    ordered = sort_bilans(entries)
    assert [(b["type"], (b["periode"] or {}).get("indice")) for b in ordered] == [
        ("cycle", None), ("periodique", 1), ("periodique", 2), ("periodique", 3)]


def test_sort_tolerates_missing_division_and_names():
    entries = [{"type": "cycle", "id_be": "2", "cycle": 4}, {"type": "periodique", "id_be": "1",
                                                             "division": None, "nom": None}]
    assert [b["id_be"] for b in sort_bilans(entries)] == ["1", "2"]


def test_names_sorted_in_french_alphabetical_order():
    noms = ["Zola", "Lopez", "de Gaulle", "Lévêque", "Écuyer", "Martin"]
    entries = [{"type": "periodique", "id_be": str(i), "nom": n, "prenom": "X", "division": "6A",
                "periode": {"indice": 3}} for i, n in enumerate(noms)]
    assert [b["nom"] for b in sort_bilans(entries)] == ["de Gaulle", "Écuyer", "Lévêque", "Lopez", "Martin", "Zola"]


# --- import-level messages -------------------------------------------------------------------------

def test_no_import_message_when_some_bilans_are_imported(synthese):
    assert synthese["messages"] == []


def test_all_bilans_rejected():
    results = [result(str(i), f"Nom{i}", "P", "6A", REJETE, [message("STUDENT_UNKNOWN")]) for i in range(3)]
    rec = record(total=3, traites=3, nouveaux=0, mis_a_jour=0, inchanges=0, rejetes=3, avertissements=0)
    s = build_synthese(rec, results)
    assert [m["code"] for m in s["messages"]] == ["ALL_BILANS_REJECTED"]
    assert s["messages"][0]["niveau"] == "ERREUR"
    assert s["totaux"]["importes"] == 0 and s["totaux"]["rejetes"] == 3
    assert all(b["statut"] == REJETE for b in s["bilans"])
    # not while the import is still running
    assert build_synthese(record(**{**vars(rec), "statut": EN_COURS}), results)["messages"] == []


def test_no_bilan():
    rec = record(total=0, traites=0, nouveaux=0, mis_a_jour=0, inchanges=0, rejetes=0, avertissements=0)
    s = build_synthese(rec, [])
    assert [m["code"] for m in s["messages"]] == ["NO_BILAN"]
    assert s["messages"][0]["niveau"] == "AVERTISSEMENT"
    assert s["bilans"] == [] and s["avertissements"] == []
    assert build_synthese(record(**{**vars(rec), "statut": EN_COURS}), [])["messages"] == []


def test_import_messages():
    assert import_messages({"bilans": 0, "rejetes": 0}) == [message("NO_BILAN")]
    assert import_messages({"bilans": 2, "rejetes": 2}) == [message("ALL_BILANS_REJECTED")]
    assert import_messages({"bilans": 2, "rejetes": 1}) == []


# --- grouped warnings ----------------------------------------------------------------------------

def test_grouped_warnings_count(synthese):
    (group,) = synthese["avertissements"]
    assert group["code"] == "SERVICE_UNKNOWN"
    assert group["nb_bilans"] == 2
    assert group["divisions"] == ["6A", "6B"]
    assert group["enseignant"] == {"id_sts": "145496", "nom": "Thomas"}
    assert group["discipline"] == "020700"
    assert group["message"] == message("SERVICE_UNKNOWN")["message"]


def test_group_warnings_by_code_and_subject():
    bilans = [
        {"division": "6A", "messages": [service_unknown("1"), message("SCONET_PERIOD_INDICE")]},
        {"division": "5A", "messages": [service_unknown("1"), service_unknown("2")]},
        {"division": "6A", "messages": [service_unknown("1"), message("STUDENT_UNKNOWN")]},
        {"division": "6A", "messages": [message("SCONET_PERIOD_INDICE"), message("SUBJECT_HORS_PROGRAMME")]},
        {"division": None, "messages": []},
    ]
    groups = {(g["code"], (g.get("enseignant") or {}).get("id_sts")): g for g in group_warnings(bilans)}
    assert set(groups) == {("SERVICE_UNKNOWN", "1"), ("SERVICE_UNKNOWN", "2"), ("SCONET_PERIOD_INDICE", None)}
    assert groups["SERVICE_UNKNOWN", "1"]["nb_bilans"] == 3
    assert groups["SERVICE_UNKNOWN", "1"]["divisions"] == ["5A", "6A"]
    assert groups["SERVICE_UNKNOWN", "2"]["nb_bilans"] == 1
    assert groups["SCONET_PERIOD_INDICE", None]["nb_bilans"] == 2
    assert groups["SCONET_PERIOD_INDICE", None]["divisions"] == ["6A"]
    json.dumps(group_warnings(bilans))


# --- issue 14: per class, who launched the import --------------------------------------------------

def test_the_synthese_says_who_launched_the_import(synthese):
    assert build_synthese(record(cree_par="CE:ce1"), RESULTS)["cree_par"] == "CE:ce1"


def test_per_class_counts_by_periode_systems_and_what_is_to_complete():
    lacks = ["éléments de programme en Mathématiques", "appréciation générale"]
    results = [
        {**result("1", "Dupont", "Noé", "6A"), "systeme_evaluation": "NOTES", "a_completer": lacks},
        {**result("2", "Dupont", "Adam", "6A", indice=2), "systeme_evaluation": "NOTES",
         "a_completer": ["éléments de programme en Mathématiques"]},
        {**result("3", "Martin", "Léa", "6A", REJETE), "systeme_evaluation": "POSITIONNEMENT",
         "a_completer": ["vie scolaire"]},                                      # rejected: not to complete
        {**result("4", "Abadie", "Jules", "5A", type_="cycle")},
    ]
    divisions = {"6A": {"niveau": "6E", "mode_import": "SCONET_NOTES", "systeme_evaluation": None},
                 "5A": {"niveau": "5E", "mode_import": "EDITEUR"}}
    by = {c["division"]: c for c in build_synthese(record(total=4), results, divisions)["classes"]}
    six = by["6A"]
    assert (six["niveau"], six["mode"], six["bilans"], six["systeme_evaluation_fichier"]) == ("6E", "SCONET_NOTES", 3,
                                                                                             "MIXTE")
    assert six["par_periode"] == [
        {"libelle": "période 2/3 (2025)", "bilans": 1, "importes": 1, "rejetes": 0},
        {"libelle": "période 3/3 (2025)", "bilans": 2, "importes": 1, "rejetes": 1}]
    assert six["a_completer"] == {"bilans": 2, "manques": [
        {"partie": "appréciation générale", "bilans": 1, "qui": ["CE", "DELEGUE_CE", "PP"]},
        {"partie": "éléments de programme", "discipline": "Mathématiques", "bilans": 2,
         "qui": ["CE", "DELEGUE_CE", "PP", "ENSEIGNANT"]}]}
    assert by["5A"]["a_completer"] == {"bilans": 0, "manques": []}
    assert by["5A"]["par_periode"] == [{"libelle": "fin de cycle 3", "bilans": 1, "importes": 1, "rejetes": 0}]
    assert by["5A"]["systeme_evaluation_fichier"] is None
