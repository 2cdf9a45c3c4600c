"""LSU's merge rules as sequences on the emulator, through the API: import → edit → re-import →
state, with roles and locking (fiche « Bilans > Import »)."""
from __future__ import annotations

from lxml import etree

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from chalicelib.pipeline.split.file_checks import NS

PERIODE = "P-2025-3-1"


def strip(xml: bytes, elements=(), attributes=()) -> bytes:
    """The generated file without some elements / attributes: a Sconet Notes partial export."""
    root = etree.fromstring(xml)
    for name in elements:
        for el in list(root.iter(f"{{{NS}}}{name}")):
            el.getparent().remove(el)
    for name in attributes:
        for el in root.iter():
            el.attrib.pop(name, None)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def school(api_for, uai: str, modes: dict[str, str]):
    spec = SchoolSpec(uai=uai, divisions_par_niveau=1, eleves_par_division=1)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = modes.get(d["code"], "EDITEUR")
    ce = api_for(uai)
    ce.put_referentiel(ref)
    full = generate_lsu_xml(spec, periodes=[1])
    files = {
        "full": full,
        "no_ag_no_vs": strip(full, ("acquis-conseils", "vie-scolaire")),
        "no_ag": strip(full, ("acquis-conseils",)),
        "partial": strip(full, ("acquis-conseils", "vie-scolaire"), ("element-programme-refs",)),
    }
    return spec, ref, ce, files


def eleve_of(ref: dict, division: str) -> str:
    return next(e["id_be"] for e in ref["eleves"] if e["division"] == division)


def result(synthese: dict, id_be: str) -> dict:
    return next(b for b in synthese["bilans"] if b["id_be"] == id_be and b["type"] == "periodique")


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
