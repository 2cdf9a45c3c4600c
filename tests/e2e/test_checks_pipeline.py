"""LSU's checks through the whole pipeline, as a school head sees them in the synthèse."""
from __future__ import annotations

import copy

from lxml import etree

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from chalicelib.pipeline.split.file_checks import NS

SPEC = SchoolSpec(uai="0780001A", divisions_par_niveau=1, eleves_par_division=3)


def _by_division(synthese: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for b in synthese["bilans"]:
        out.setdefault(b["division"], set()).add(b["statut"])
    return out


def _strip(xml: bytes, *names: str) -> bytes:
    root = etree.fromstring(xml)
    for name in names:
        for el in root.iter(f"{{{NS}}}{name}"):
            el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_mixed_school_refusals_and_warnings_in_the_synthese(api_for):
    ref = generate_referentiel(SPEC)
    modes = {"6A": "EDITEUR", "5A": "SAISIE", "4A": "EDITEUR", "3A": "SCONET_NOTES"}
    for d in ref["divisions"]:
        d["mode_import"] = modes[d["code"]]
    gone = next(e for e in ref["eleves"] if e["division"] == "4A")
    ref["eleves"].remove(gone)
    ref["services"] = [s for s in ref["services"] if s["division"] != "6A"]
    api = api_for(SPEC.uai)
    api.put_referentiel(ref)

    s = api.import_bytes(generate_lsu_xml(SPEC))
    assert s["statut"] == "TERMINE"
    bilans = {(b["id_be"], b["type"]): b for b in s["bilans"]}
    assert [m["code"] for m in bilans[(gone["id_be"], "periodique")]["messages"]] == ["STUDENT_UNKNOWN"]
    assert _by_division(s)["5A"] == {"REJETE"}
    assert {m["code"] for b in s["bilans"] if b["division"] == "5A" for m in b["messages"]} == {"DIVISION_MODE_SAISIE"}
    cycle_3a = [b for b in s["bilans"] if b["division"] == "3A" and b["type"] == "cycle"]
    assert cycle_3a and all(b["statut"] == "REJETE" and b["messages"][0]["code"] == "CYCLE_BILAN_SCONET_DIVISION"
                            for b in cycle_3a)
    assert all(b["statut"] == "IMPORTE" for b in s["bilans"] if b["division"] == "3A" and b["type"] == "periodique")
    six_a = [b for b in s["bilans"] if b["division"] == "6A"]
    assert all(b["statut"] == "IMPORTE" for b in six_a), "teachers without services: imported, with warnings"
    # Teachers who only teach 6A now have no service at all; those who also teach elsewhere have
    # services, but none for 6A.
    assert all(b["messages"] and {m["code"] for m in b["messages"]} <= {"TEACHER_WITHOUT_SERVICE", "SERVICE_UNKNOWN"}
               for b in six_a if b["type"] == "periodique")
    assert all(m["niveau"] == "AVERTISSEMENT" for b in six_a for m in b["messages"])
    grouped = [w for w in s["avertissements"] if w["code"] == "TEACHER_WITHOUT_SERVICE"]
    assert len(grouped) == len({w["enseignant"] for w in grouped}) > 0, "once per teacher"
    assert s["codes"]["DIVISION_MODE_SAISIE"] == len([b for b in s["bilans"] if b["division"] == "5A"])
    assert s["totaux"]["rejetes"] == sum(1 for b in s["bilans"] if b["statut"] == "REJETE")
    refused = next(b for b in s["bilans"] if b["statut"] == "REJETE" and b["messages"][0]["code"] == "STUDENT_UNKNOWN")
    assert "SIECLE-BEE" in refused["messages"][0]["conseil"]

    csv = api.call("GET", f"/imports/{s['import_id']}/synthese", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeffdivision;id_be;nom;prenom") and "DIVISION_MODE_SAISIE" in text
    assert "synthese-import-" in csv.headers["Content-Disposition"]

    import io

    from pypdf import PdfReader
    doc = api.call("GET", f"/imports/{s['import_id']}/synthese", params={"format": "pdf"})
    assert doc.status_code == 200 and doc.headers["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(doc.content)).pages).split())
    assert "Synthèse d'import" in text and "DIVISION_MODE_SAISIE" in text and gone["nom"] in text


def test_partial_sconet_file_imports_where_editeur_refuses(api_for):
    spec = SchoolSpec(uai="0780002B", divisions_par_niveau=1, eleves_par_division=2)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = "SCONET_NOTES" if d["code"] in ("6A", "5A") else "EDITEUR"
    api = api_for(spec.uai)
    api.put_referentiel(ref)
    partial = _strip(generate_lsu_xml(spec, periodes=[1]), "acquis-conseils", "vie-scolaire")
    s = api.import_bytes(partial)
    assert s["statut"] == "TERMINE", s["erreurs_fichier"]
    assert _by_division(s) == {"6A": {"IMPORTE"}, "5A": {"IMPORTE"}, "4A": {"REJETE"}, "3A": {"REJETE"}}, s["bilans"]
    refused = [b for b in s["bilans"] if b["statut"] == "REJETE"]
    assert all([m["code"] for m in b["messages"]] == ["BILAN_INCOMPLET"] for b in refused)
    assert "appréciation générale" in refused[0]["messages"][0]["message"]


def test_all_bilans_rejected_is_said_first(api_for):
    spec = SchoolSpec(uai="0780003C", divisions_par_niveau=1, eleves_par_division=1)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = "SAISIE"
    api = api_for(spec.uai)
    api.put_referentiel(ref)
    s = api.import_bytes(generate_lsu_xml(spec))
    assert s["statut"] == "TERMINE" and s["totaux"]["rejetes"] == s["totaux"]["bilans"] > 0
    assert [m["code"] for m in s["messages"]] == ["ALL_BILANS_REJECTED"]


def test_schema_version_2_document_imports(api_for):
    spec = SchoolSpec(uai="0780004D", divisions_par_niveau=1, eleves_par_division=1)
    api = api_for(spec.uai)
    api.put_referentiel(generate_referentiel(spec))
    s = api.import_bytes(generate_lsu_xml(spec, schema_version="2.0"))
    assert s["statut"] == "TERMINE" and s["entete"]["schema_version"] == "2.0"
    assert s["totaux"]["importes"] == s["totaux"]["bilans"] > 0


def test_division_mode_change_by_the_head_only_and_its_effect(api_for):
    spec = SchoolSpec(uai="0780005E", divisions_par_niveau=1, eleves_par_division=1)
    api = api_for(spec.uai)
    r = api.call("POST", "/imports", json={"nom_fichier": "a.xml", "taille": 10})
    assert r.status_code == 409 and r.json()["erreur"]["code"] == "REFERENTIEL_ABSENT"
    api.put_referentiel(generate_referentiel(spec))
    r = api_for(spec.uai, role="PP").call("PUT", "/referentiel/divisions/6A/mode", json={"mode_import": "SAISIE"})
    assert r.status_code == 403
    r = api.call("PUT", "/referentiel/divisions/6A/mode", json={"mode_import": "AUTRE"})
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "BAD_REQUEST"
    r = api.call("PUT", "/referentiel/divisions/9Z/mode", json={"mode_import": "SAISIE"})
    assert r.status_code == 404
    r = api.call("PUT", "/referentiel/divisions/6A/mode", json={"mode_import": "SAISIE"})
    assert r.status_code == 200, r.text
    assert next(d for d in api.call("GET", "/referentiel").json()["divisions"] if d["code"] == "6A")["mode_import"] == "SAISIE"
    s = api.import_bytes(generate_lsu_xml(spec))
    assert _by_division(s)["6A"] == {"REJETE"} and _by_division(s)["5A"] == {"IMPORTE"}


def test_bad_referentiel_changes_nothing(api_for):
    spec = SchoolSpec(uai="0780006F", divisions_par_niveau=1, eleves_par_division=1)
    api = api_for(spec.uai)
    good = generate_referentiel(spec)
    api.put_referentiel(good)
    bad = copy.deepcopy(good)
    bad["eleves"][0]["division"] = "9Z"
    r = api.call("PUT", "/referentiel", json=bad)
    assert r.status_code == 400 and r.json()["erreur"]["code"] == "REFERENTIEL_INVALIDE"
    assert any(e["chemin"] == "eleves[0].division" for e in r.json()["erreurs"])
    assert api.call("GET", "/referentiel").json()["eleves"][0]["division"] == good["eleves"][0]["division"]
    other = copy.deepcopy(good)
    other["etablissement"]["uai"] = "0780007G"
    assert api.call("PUT", "/referentiel", json=other).status_code == 403
