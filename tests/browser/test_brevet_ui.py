"""« Brevet 2026 » in the web front: a 3e class's table after an import where some élèves have no
mark in an obligatory enseignement of their formation (issue 15). `LSU_SCREENSHOT=1` (make
screenshot) also writes docs/brevet-2026.png."""
from __future__ import annotations

import os
from pathlib import Path

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

SPEC = SchoolSpec(uai="0794015P", divisions_par_niveau=1, eleves_par_division=8, brevet_sans_matiere=2)
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "brevet-2026.png"


def test_a_ce_reads_the_brevet_table_of_a_3e_class_and_downloads_it(login, page, api_for):
    ce = api_for(SPEC.uai)
    ce.put_referentiel(generate_referentiel(SPEC))
    synthese = ce.import_bytes(generate_lsu_xml(SPEC))
    warned = [a for a in synthese["avertissements"] if a["code"] == "BREVET_ENSEIGNEMENT_SANS_MOYENNE"]
    assert warned and warned[0]["nb_bilans"] >= 2 and warned[0]["divisions"] == ["3A"]

    login(SPEC.uai, "CE")
    page.click("#menu button[data-page=page-brevet]")
    page.wait_for_selector("#brevet-division option", state="attached")
    assert page.locator("#brevet-division option").all_inner_texts() == ["3A"], "only 3e classes"
    page.click("#brevet-afficher")
    page.wait_for_selector("#brevet-lignes tr")
    rows = page.locator("#brevet-lignes tr")
    assert rows.count() == 8
    assert "Cyclades" in page.inner_text("#brevet-indicatif")
    missing = [t for t in rows.locator("td.erreur").all_inner_texts() if t.strip()]
    assert len(missing) == 2, "the two élèves without the obligatory enseignement"
    assert "estimée" in page.inner_text("#brevet-lignes")
    if os.environ.get("LSU_SCREENSHOT"):
        page.locator("#page-brevet").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT), full_page=False)
    with page.expect_download() as dl:
        page.click("#brevet-csv")
    csv = Path(dl.value.path()).read_bytes().decode("utf-8")
    assert csv.startswith("\ufeff") and "Cyclades" in csv and csv.count("\r\n") == 2 + 8


def test_a_teacher_without_a_3e_class_has_no_brevet_table(login, page, api_for):
    ref = generate_referentiel(SPEC)
    in_3a = {s["enseignant"] for s in ref["services"] if s["division"] == "3A"}
    teacher = next(s["enseignant"] for s in ref["services"] if s["enseignant"] not in in_3a)
    api_for(SPEC.uai).put_referentiel(ref)
    login(SPEC.uai, "ENSEIGNANT", teacher)
    page.click("#menu button[data-page=page-brevet]")
    page.wait_for_function("() => document.getElementById('brevet-erreur').textContent.includes('Aucune classe de 3e')")
    assert page.locator("#brevet-division option").count() == 0
