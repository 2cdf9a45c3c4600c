"""LSU's merge rules as sequences on the emulator, through the API: import → edit → re-import →
state, with roles and locking (fiche « Bilans > Import »)."""
from __future__ import annotations

from lsu_files import eleve_of, result, strip
from lsu_files import school as loaded_school

PERIODE = "P-2025-3-1"


def school(api_for, uai: str, modes: dict[str, str]):
    """The school and its files: whole, and stripped of what a Sconet Notes export may leave out."""
    spec, ref, ce, full = loaded_school(api_for, uai, modes)
    files = {
        "full": full,
        "no_ag_no_vs": strip(full, ("acquis-conseils", "vie-scolaire")),
        "no_ag": strip(full, ("acquis-conseils",)),
        "partial": strip(full, ("acquis-conseils", "vie-scolaire"), ("element-programme-refs",)),
    }
    return spec, ref, ce, files


def test_editeur_bilans_are_locked_and_only_a_new_import_changes_them(api_for):
    spec, ref, ce, files = school(api_for, "0790001A", {})
    id_be = eleve_of(ref, "5A")
    url = f"/bilans/{id_be}/{PERIODE}"
    assert result(ce.import_bytes(files["full"]), id_be)["statut"] == "IMPORTE"
    b = ce.call("GET", url).json()
    assert b["verrouille"] and b["mode"] == "EDITEUR" and b["acquis_conseils"]["provenance"] == "IMPORT"
    assert b["statut"] == "COMPLET"
    r = ce.call("PUT", f"{url}/parties/parcours", json={"valeur": [{"code": "PAR_AVN", "texte": "x"}]})
    assert r.status_code == 409 and r.json()["erreur"]["code"] == "BILAN_LOCKED_EDITEUR"
    r = ce.call("DELETE", f"{url}/verrou")
    assert r.status_code == 409 and r.json()["erreur"]["code"] == "BILAN_LOCKED_EDITEUR"
    changed = files["full"].replace(b"<acquis-conseils>", "<acquis-conseils>Corrigé. ".encode())
    assert result(ce.import_bytes(changed), id_be)["statut"] == "MIS_A_JOUR"
    assert ce.call("GET", url).json()["acquis_conseils"]["valeur"].startswith("Corrigé. ")
    assert result(ce.import_bytes(changed), id_be)["statut"] == "INCHANGE"


def test_manual_appreciation_generale_refuses_the_bilan_and_is_kept(api_for):
    spec, ref, ce, files = school(api_for, "0790002B", {"6A": "SCONET_NOTES"})
    id_be = eleve_of(ref, "6A")
    url = f"/bilans/{id_be}/{PERIODE}"
    assert result(ce.import_bytes(files["no_ag_no_vs"]), id_be)["statut"] == "IMPORTE"
    r = ce.call("PUT", f"{url}/parties/acquis_conseils", json={"valeur": "Saisie du CE."})
    assert r.status_code == 200 and r.json()["acquis_conseils"]["provenance"] == "SAISIE"
    refused = result(ce.import_bytes(files["full"]), id_be)
    assert refused["statut"] == "REJETE" and [m["code"] for m in refused["messages"]] == ["MANUAL_AG_PRESENT"]
    b = ce.call("GET", url).json()
    assert (b["acquis_conseils"]["valeur"], b["acquis_conseils"]["provenance"]) == ("Saisie du CE.", "SAISIE")
    assert b["vie_scolaire"]["provenance"] == "ABSENT", "the refused bilan changed nothing"
    assert result(ce.import_bytes(files["no_ag_no_vs"]), id_be)["statut"] == "INCHANGE"
    assert ce.call("GET", url).json()["acquis_conseils"]["valeur"] == "Saisie du CE."


def test_vie_scolaire_kept_without_file_data_replaced_with_it(api_for):
    spec, ref, ce, files = school(api_for, "0790003C", {"6A": "SCONET_NOTES"})
    id_be = eleve_of(ref, "6A")
    url = f"/bilans/{id_be}/{PERIODE}"
    ce.import_bytes(files["no_ag_no_vs"])
    cpe = api_for(spec.uai, role="CPE")
    vs = {"nb_retards": 2, "nb_abs_justifiees": 1, "nb_abs_injustifiees": 0, "commentaire": "Saisie CPE."}
    r = cpe.call("PUT", f"{url}/parties/vie_scolaire", json={"valeur": vs})
    assert r.status_code == 200, r.text
    r = cpe.call("PUT", f"{url}/parties/acquis_conseils", json={"valeur": "non"})
    assert r.status_code == 403, "a CPE cannot write the appréciation générale"
    ce.import_bytes(files["no_ag_no_vs"])
    b = ce.call("GET", url).json()
    assert (b["vie_scolaire"]["provenance"], b["vie_scolaire"]["valeur"]) == ("SAISIE", vs)
    assert result(ce.import_bytes(files["no_ag"]), id_be)["statut"] == "MIS_A_JOUR"
    b = ce.call("GET", url).json()
    assert b["vie_scolaire"]["provenance"] == "IMPORT" and b["vie_scolaire"]["valeur"] != vs


def test_entries_made_in_lsu_are_kept_then_completion_lock_and_unlock(api_for):
    spec, ref, ce, files = school(api_for, "0790004D", {"6A": "SCONET_NOTES"})
    id_be = eleve_of(ref, "6A")
    url = f"/bilans/{id_be}/{PERIODE}"
    ce.import_bytes(files["partial"])
    b = ce.call("GET", url).json()
    assert b["statut"] == "A_COMPLETER" and {"appréciation générale", "vie scolaire"} <= set(b["manquants"])
    graded = [code for code, a in b["acquis"].items() if a["note"]]
    assert graded and all(f"éléments de programme en {b['acquis'][c]['discipline']}" in b["manquants"] for c in graded)

    division = next(d for d in ref["divisions"] if d["code"] == "6A")
    other_pp = next(e["id_sts"] for e in ref["enseignants"] if e["id_sts"] not in division["profs_principaux"])
    assert api_for(spec.uai, "PP", other_pp).call("PUT", f"{url}/parties/acquis_conseils",
                                                 json={"valeur": "x"}).status_code == 403
    pp = api_for(spec.uai, "PP", division["profs_principaux"][0])
    assert pp.call("PUT", f"{url}/parties/acquis_conseils", json={"valeur": "Bon trimestre."}).status_code == 200
    teacher, subject = next((s["enseignant"], s["matiere"]) for s in ref["services"]
                            if s["division"] == "6A" and s["matiere"] in graded)
    prof = api_for(spec.uai, "ENSEIGNANT", teacher)
    r = prof.call("PUT", f"{url}/parties/elements_programme", json={"valeur": ["Lire et comprendre"], "discipline": subject})
    assert r.status_code == 200, r.text
    for code in graded:
        if code != subject:
            ce.call("PUT", f"{url}/parties/elements_programme", json={"valeur": ["Repère"], "discipline": code})
    ce.call("PUT", f"{url}/parties/parcours", json={"valeur": [{"code": "PAR_CIT", "texte": "Saisi dans LSU."}]})
    assert ce.call("PUT", f"{url}/verrou").json()["erreur"]["code"] == "BILAN_A_COMPLETER"
    api_for(spec.uai, "CPE").call("PUT", f"{url}/parties/vie_scolaire", json={
        "valeur": {"nb_retards": 0, "nb_abs_justifiees": 0, "nb_abs_injustifiees": 0}})

    # Re-import: every entry made in LSU is kept.
    assert result(ce.import_bytes(files["partial"]), id_be)["statut"] == "INCHANGE"
    b = ce.call("GET", url).json()
    assert b["acquis_conseils"]["valeur"] == "Bon trimestre." and b["parcours"]["provenance"] == "SAISIE"
    assert b["acquis"][subject]["elements_programme"] == {**b["acquis"][subject]["elements_programme"],
                                                        "valeur": ["Lire et comprendre"], "provenance": "SAISIE"}
    assert b["statut"] == "COMPLET", b["manquants"]

    assert api_for(spec.uai, "PP", other_pp).call("PUT", f"{url}/verrou").status_code == 403
    assert api_for(spec.uai, "CPE").call("PUT", f"{url}/verrou").status_code == 403
    locked = pp.call("PUT", f"{url}/verrou")          # the division's PP locks what was completed
    assert locked.status_code == 200 and locked.json()["verrouille"] is True
    r = pp.call("PUT", f"{url}/parties/acquis_conseils", json={"valeur": "Trop tard."})
    assert r.status_code == 409 and r.json()["erreur"]["code"] == "BILAN_VERROUILLE"
    refused = result(ce.import_bytes(files["partial"]), id_be)
    assert refused["statut"] == "REJETE" and refused["messages"][0]["code"] == "BILAN_VERROUILLE"
    assert api_for(spec.uai, "DELEGUE_CE").call("DELETE", f"{url}/verrou").status_code == 403
    assert ce.call("DELETE", f"{url}/verrou").json()["verrouille"] is False
    assert pp.call("PUT", f"{url}/parties/acquis_conseils", json={"valeur": "Revu."}).status_code == 200
