"""Issue 14 through the API on the emulator, as a school head meets it: an Éditeur bilan stays
locked when its class switches to Sconet Notes, a partial re-import keeps what an earlier import
brought, one class per bilan (SIECLE's), the class's evaluation system, and the synthèse per class
(what is still « à compléter », who must complete it, who launched the import)."""
from __future__ import annotations

from lsu_files import eleve_of, result, school, strip

PERIODE = "P-2025-3-1"


def test_an_editeur_bilan_is_not_unlocked_by_a_sconet_import(api_for):
    spec, ref, ce, full = school(api_for, "0791401A", {})
    id_be = eleve_of(ref, "5A")
    assert result(ce.import_bytes(full), id_be)["statut"] == "IMPORTE"
    assert ce.call("PUT", "/referentiel/divisions/5A/mode", json={"mode_import": "SCONET_NOTES"}).status_code == 200
    refused = result(ce.import_bytes(strip(full, ("acquis-conseils",))), id_be)
    assert refused["statut"] == "REJETE"
    assert [m["code"] for m in refused["messages"]] == ["BILAN_EDITEUR_IMPORT_SCONET"]
    assert refused["messages"][0]["conseil"]
    b = ce.call("GET", f"/bilans/{id_be}/{PERIODE}").json()
    assert (b["mode"], b["verrouille"], b["statut"]) == ("EDITEUR", True, "COMPLET")
    r = ce.call("PUT", f"/bilans/{id_be}/{PERIODE}/parties/parcours",
                json={"valeur": [{"code": "PAR_AVN", "texte": "x"}]})
    assert r.status_code == 409 and r.json()["erreur"]["code"] == "BILAN_LOCKED_EDITEUR"


def test_a_partial_sconet_reimport_keeps_what_an_earlier_import_brought(api_for):
    spec, ref, ce, full = school(api_for, "0791402B", {"5A": "SCONET_NOTES"})
    id_be = eleve_of(ref, "5A")
    url = f"/bilans/{id_be}/{PERIODE}"
    assert result(ce.import_bytes(full), id_be)["statut"] == "IMPORTE"
    before = ce.call("GET", url).json()
    assert before["acquis_conseils"]["provenance"] == "IMPORT" and before["vie_scolaire"]["provenance"] == "IMPORT"
    again = result(ce.import_bytes(strip(full, ("acquis-conseils", "vie-scolaire"))), id_be)
    assert again["statut"] == "MIS_A_JOUR"
    [kept] = [m for m in again["messages"] if m["code"] == "PARTIES_CONSERVEES"]
    assert "appréciation générale" in kept["message"] and "vie scolaire" in kept["message"]
    after = ce.call("GET", url).json()
    assert after["acquis_conseils"]["valeur"] == before["acquis_conseils"]["valeur"]
    assert after["vie_scolaire"]["valeur"] == before["vie_scolaire"]["valeur"]
    assert after["statut"] == "COMPLET", after["manquants"]


def test_one_class_per_bilan_siecles_and_the_synthese_per_class(api_for):
    spec, ref, ce, full = school(api_for, "0791403C", {"4A": "SCONET_NOTES"})
    id_be = eleve_of(ref, "4A")
    stale = full.replace(b'code-division="4A"', b'code-division="4Z"')     # the file names another class
    partial = strip(stale, ("acquis-conseils", "vie-scolaire"), ("element-programme-refs",))
    s = ce.import_bytes(partial)
    entry = result(s, id_be)
    assert entry["division"] == "4A" and entry["statut"] == "IMPORTE"
    assert "DIVISION_FICHIER_DIFFERENTE" in [m["code"] for m in entry["messages"]]
    assert s["cree_par"] == "CE:dev"
    by = {c["division"]: c for c in s["classes"]}
    quatre = by["4A"]
    assert quatre["mode"] == "SCONET_NOTES" and quatre["bilans"] == 1
    assert quatre["par_periode"] == [{"libelle": "période 1/3 (2025)", "bilans": 1, "importes": 1, "rejetes": 0}]
    assert quatre["a_completer"]["bilans"] == 1
    parties = {m["partie"]: m for m in quatre["a_completer"]["manques"]}
    assert parties["appréciation générale"]["qui"] == ["CE", "DELEGUE_CE", "PP"]
    assert parties["vie scolaire"]["qui"] == ["CE", "DELEGUE_CE", "CPE"]
    assert quatre["systeme_evaluation_fichier"] in ("NOTES", "POSITIONNEMENT")
    assert by["3A"]["a_completer"] == {"bilans": 0, "manques": []}, "Éditeur bilans are never « à compléter »"
    # The bilan is the SIECLE class's: the PP of 4A sees it, its search by division finds it.
    division = next(d for d in ref["divisions"] if d["code"] == "4A")
    pp = api_for(spec.uai, "PP", division["profs_principaux"][0])
    assert pp.call("GET", f"/bilans/{id_be}/{PERIODE}").status_code == 200
    found = ce.call("GET", "/bilans", params={"division": "4A"}).json()["bilans"]
    assert id_be in {b["id_be"] for b in found}


def test_the_class_evaluation_system_refuses_the_other(api_for):
    spec, ref, ce, full = school(api_for, "0791404D", {})
    s = ce.import_bytes(full)
    by = {c["division"]: c for c in s["classes"]}
    used = by["5A"]["systeme_evaluation_fichier"]
    assert used in ("NOTES", "POSITIONNEMENT")
    other = "POSITIONNEMENT" if used == "NOTES" else "NOTES"
    r = ce.call("PUT", "/referentiel/divisions/5A/evaluation", json={"systeme_evaluation": other})
    assert r.status_code == 200, r.text
    assert {d["code"]: d for d in ce.call("GET", "/divisions").json()["divisions"]}["5A"].get(
        "systeme_evaluation", other) == other
    refused = result(ce.import_bytes(full), eleve_of(ref, "5A"))
    assert refused["statut"] == "REJETE"
    assert [m["code"] for m in refused["messages"]] == ["SYSTEME_EVALUATION_NON_RESPECTE"]
    r = ce.call("PUT", "/referentiel/divisions/5A/evaluation", json={"systeme_evaluation": "DEUX"})
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "BAD_REQUEST"
    assert api_for(spec.uai, "CPE").call("PUT", "/referentiel/divisions/5A/evaluation",
                                         json={"systeme_evaluation": None}).status_code == 403
