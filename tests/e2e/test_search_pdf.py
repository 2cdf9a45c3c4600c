"""Recherche de bilans and PDF through the API: what a school head, a PP and a teacher see."""
from __future__ import annotations

import io

from pypdf import PdfReader

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

SPEC = SchoolSpec(uai="0793001A", divisions_par_niveau=1, eleves_par_division=2)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_search_and_pdf(api_for):
    ref = generate_referentiel(SPEC)
    for d in ref["divisions"]:
        d["mode_import"] = "SCONET_NOTES" if d["code"] == "6A" else "EDITEUR"
    ce = api_for(SPEC.uai)
    ce.put_referentiel(ref)
    ce.import_bytes(generate_lsu_xml(SPEC, periodes=[1, 2, 3]))

    found = ce.call("GET", "/bilans", params={"division": "3A"}).json()["bilans"]
    assert len(found) == 2 * 3 + 2 and {b["division"] for b in found} == {"3A"}
    assert all(b["verrouille"] for b in found), "Éditeur bilans are locked"
    t1 = ce.call("GET", "/bilans", params={"division": "3A", "bilan": "P-2025-3-1"}).json()["bilans"]
    assert len(t1) == 2 and {b["bilan"] for b in t1} == {"P-2025-3-1"}
    assert ce.call("GET", "/bilans", params={"division": "6A", "statut": "VERROUILLE"}).json()["bilans"] == []
    one = found[0]
    by_eleve = ce.call("GET", "/bilans", params={"eleve": one["id_be"]}).json()["bilans"]
    assert {b["id_be"] for b in by_eleve} == {one["id_be"]}

    r = ce.call("GET", f"/bilans/{one['id_be']}/{t1[0]['bilan']}/pdf".replace(one["id_be"], t1[0]["id_be"], 1))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"].startswith('inline; filename="bilan-') and r.content.startswith(b"%PDF")
    text = _pdf_text(r.content)
    assert t1[0]["nom"] in text and "Bilan périodique" in text and "Appréciation générale" in text

    cycle = next(b for b in found if b["type"] == "cycle")
    text = _pdf_text(ce.call("GET", f"/bilans/{cycle['id_be']}/{cycle['bilan']}/pdf").content)
    assert "Bilan de fin de cycle 4" in text and "Maîtrise" in text and cycle["prenom"] in text

    r = ce.call("GET", "/divisions/3A/pdf", params={"bilan": "P-2025-3-1"})
    assert r.status_code == 200 and len(PdfReader(io.BytesIO(r.content)).pages) >= 2
    assert all(b["nom"] in _pdf_text(r.content) for b in t1)


def test_pp_and_teacher_see_only_their_divisions(api_for):
    ref = generate_referentiel(SPEC)
    pp_id = next(d for d in ref["divisions"] if d["code"] == "4A")["profs_principaux"][0]
    pp_divisions = {d["code"] for d in ref["divisions"] if pp_id in d["profs_principaux"]}
    pp = api_for(SPEC.uai, "PP", pp_id)
    assert pp.call("GET", "/bilans", params={"division": "4A"}).status_code == 200
    other = next(d["code"] for d in ref["divisions"] if d["code"] not in pp_divisions)
    r = pp.call("GET", "/bilans", params={"division": other})
    assert r.status_code == 403 and r.json()["erreur"]["code"] == "FORBIDDEN"
    b = api_for(SPEC.uai).call("GET", "/bilans", params={"division": other}).json()["bilans"][0]
    assert pp.call("GET", f"/bilans/{b['id_be']}/{b['bilan']}").status_code == 403
    assert pp.call("GET", f"/bilans/{b['id_be']}/{b['bilan']}/pdf").status_code == 403
    assert api_for("0793002B").call("GET", f"/bilans/{b['id_be']}/{b['bilan']}/pdf").status_code == 403
