"""The bilan documents follow the national models (issue 16): what a generated file carries is in
the PDF a family receives, without internal status; each kind renders to a picture (pdftoppm)."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from chalicelib.api import bilans as api_bilans
from chalicelib.api.render import pdf
from chalicelib.domain import merge
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file
from lsu_tools.generator import SchoolSpec, generate_lsu_xml

ROOT = Path(__file__).resolve().parents[2]
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"
SPEC = SchoolSpec(divisions_par_niveau=1, eleves_par_division=6)
T = "2026-06-10T08:00:00+00:00"


@pytest.fixture(scope="module")
def split(schema):
    return list(split_bilans(check_file(generate_lsu_xml(SPEC), schema, SPEC.uai).root))


def _view(b: dict) -> dict:
    """The bilan as the API shows it (merge.view carries `document`: the keys of
    merge.DOCUMENT_KEYS that the split bilan holds)."""
    v = merge.view(merge.merge_import(None, b, "EDITEUR", "imp1", T).state)
    assert set(v["document"]) <= set(merge.DOCUMENT_KEYS)
    return v


def _text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _flat(data: bytes) -> str:
    return " ".join(_text(data).split())


def _periodique(split, pred=lambda b: True) -> dict:
    return next(b for b in split if b["type"] == "periodique" and pred(b))


def _cycle(split) -> dict:
    return next(b for b in split if b["type"] == "cycle")


def test_the_view_carries_what_the_document_prints(split):
    b = _periodique(split)
    v = merge.view(merge.merge_import(None, b, "EDITEUR", "imp1", T).state)
    assert v["document"]["date_conseil_classe"] == b["date_conseil_classe"]
    assert v["document"]["profs_principaux"] == b["profs_principaux"]


def test_a_periodic_bilan_shows_what_the_file_carried(split):
    b = _periodique(split, lambda b: b.get("competences_numeriques") and b["vie_scolaire"]
                    and b["vie_scolaire_commun"] and b["parcours_communs"] and b["acc_persos"])
    v = _view(b)
    text = _flat(pdf.render([v], SPEC.nom, SPEC.uai))
    flat = "".join(text.split())                          # table cells wrap long texts
    e = b["eleve"]
    assert f"{e['prenom']} {e['nom']}" in text and "Classe : 6A" in text
    assert SPEC.nom in text and f"UAI : {SPEC.uai}" in text
    assert "Année scolaire 2025-2026" in text and "Période : 3e trimestre" in text
    assert "Conseil de classe du 8 juin 2026" in text
    for a in b["acquis"]:
        assert "".join(a["discipline"]["libelle"].split()) in flat
        assert "".join(a["elements_programme"][0].split()) in flat
        assert "".join(a["appreciation"].split()) in flat
    assert "objectifs d'apprentissage" in text
    for level in ("Non atteints", "Partiellement atteints", "Atteints", "Dépassés"):
        assert level in text
    vs = b["vie_scolaire"]
    assert (f"Retards {vs['nb_retards']} Demi-journées d'absence justifiées {vs['nb_abs_justifiees']} "
            f"Heures de cours manquées {vs['nb_heures_manquees']} Demi-journées d'absence injustifiées "
            f"{vs['nb_abs_injustifiees']}") in text
    assert "Vie scolaire de la classe : " + b["vie_scolaire_commun"] in text
    pp = b["profs_principaux"][0]
    assert (f"Le professeur principal Mme {pp['prenom']} {pp['nom']} Le chef d'établissement {b['responsable_etab']} "
            "Les responsables légaux") in text
    df = _periodique(split, lambda b: b["devoirs_faits"])
    assert "Devoirs faits " + df["devoirs_faits"] in _flat(pdf.render([_view(df)]))
    cn = b["competences_numeriques"]
    assert "Compétences numériques" in text
    for c in cn["competences"]:
        assert f"{pdf.COMPETENCES_NUMERIQUES[c['code']]} {c['niveau']}" in text
    assert "Appréciation : " + cn["appreciation"] in text and "Travail de la classe : " + cn["communs"][0] in text
    for p in b["parcours_communs"]:
        assert "".join((pdf.PARCOURS[p["code"]] + "(projet de la classe) : " + p["texte"]).split()) in flat
    ap = b["acc_persos"][0]
    assert ap["definition"]["description"] in text and "Disciplines : Français, Mathématiques" in text
    assert "page 1 / 1" in text or "page 1 / 2" in text


def test_no_internal_status_on_the_family_document(split):
    v = _view(_periodique(split))
    v.update(verrouille=True, statut="A_COMPLETER", manquants=["vie scolaire"])
    text = _flat(pdf.render([v], SPEC.nom, SPEC.uai))
    for word in ("Verrouillé", "verrouillé", "À compléter", "à compléter", "IMPORT", "SAISIE", "ABSENT", "provenance"):
        assert word not in text


def test_epi_thematique_disciplines_description_and_modalites(split):
    b = _periodique(split, lambda b: b["epis"] and b["modalites_accompagnement"])
    text = _flat(pdf.render([_view(b)], SPEC.nom, SPEC.uai))
    epi = b["epis"][0]["definition"]
    assert "Enseignements pratiques interdisciplinaires (EPI)" in text and epi["intitule"] in text
    assert "Thématique : Corps, santé, bien-être et sécurité" in text
    assert "Disciplines : " + ", ".join(d["libelle"] for d in epi["disciplines"]) in text
    assert epi["description"] in text
    assert "Modalités spécifiques d'accompagnement" in text
    assert "Programme personnalisé de réussite éducative — " + b["modalites_accompagnement"][0]["complement_ppre"] in text


def test_the_socle_of_a_periodic_bilan_is_printed(split):
    b = {**_periodique(split), "socle": [{"code": "CPD_FRA", "positionnement": "3"}]}
    text = _flat(pdf.render([_view(b)]))
    assert "Maîtrise des composantes du socle commun" in text and "Comprendre, s'exprimer" in text


def _ticks(data: bytes) -> dict[str, tuple[str, float]]:
    """For each line of the first page: the text starting it, and x of the « X » drawn on it."""
    items: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, *_):
        if text.strip():
            items.append((text.strip(), tm[4] * cm[0] + cm[4], round(tm[5] * cm[3] + cm[5])))
    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return items


def test_a_cycle_bilan_ticks_one_level_per_composante_and_shows_dispense(split):
    b = _cycle(split)
    socle = [{**d, "positionnement": p} for d, p in zip(b["socle"], ["1", "2", "3", "4", "0", "2", "3", "4"])]
    b = {**b, "socle": socle, "enseignement_complement": {"code": "LCA", "positionnement": "2"},
         "langue_culture_regionale": {"code": "BRE", "positionnement": "2"}}
    data = pdf.render([_view(b)], SPEC.nom, SPEC.uai)
    text = _flat(data)
    assert f"Bilan de fin de cycle {b['cycle']}" in text and "Année scolaire 2025-2026" in text
    assert "Fin du cycle 3" in text and f"UAI : {SPEC.uai}" in text
    for label in ("Maîtrise insuffisante", "Maîtrise fragile", "Maîtrise satisfaisante", "Très bonne maîtrise"):
        assert label in text
    assert "La formation de la personne et du citoyen" in text and "Les méthodes et outils pour apprendre Dispensé" in text
    assert "Langues et cultures de l'Antiquité — objectifs dépassés" in text
    assert "Langue et culture régionale Breton — niveau atteint" in text
    assert b["synthese"] in text and b["responsable_etab"] in text
    # Which column each composante's X is in: the header's level labels (first line) give the columns.
    items = _ticks(data)
    top = next(y for t, _x, y in items if t == "Composante du socle")
    cols = [x for t, x, y in items if y == top and t != "Composante du socle"]
    assert len(cols) == 4
    xs = [x for t, x, _y in items if t == "X"]
    assert len(xs) == 7, "one X per composante, none for the dispensée"
    ticked = [min(range(4), key=lambda i: abs(cols[i] - x)) + 1 for x in xs]
    assert [str(i) for i in ticked] == ["1", "2", "3", "4", "2", "3", "4"]


def test_hostile_names_are_printed_literally(split):
    b = _periodique(split)
    hostile = "<b>&amp; <font size=40>x</font>"
    b = {**b, "eleve": {**b["eleve"], "nom": hostile, "prenom": "<i>Zoé"},
         "responsable_etab": "M. <u>Chef</u> & co", "devoirs_faits": "<para>Mardi</para>",
         "profs_principaux": [{**b["profs_principaux"][0], "nom": "<br/>Gérard"}]}
    text = _flat(pdf.render([_view(b)], "Collège <b>Hugo</b> &amp;", SPEC.uai))
    assert hostile.replace("<font size=40>", "<font size=40>") in text and "<i>Zoé" in text
    assert "M. <u>Chef</u> & co" in text and "<para>Mardi</para>" in text and "<br/>Gérard" in text
    assert "Collège <b>Hugo</b> &amp;" in text


def test_french_typography_non_breaking_spaces(split):
    assert pdf._fr("« Bravo ! » ; à 12:30 http://x") == "«\u00a0Bravo\u00a0!\u00a0»\u00a0; à 12:30 http://x"
    assert pdf._fr("«Déjà»") == "«\u00a0Déjà\u00a0»"
    # In a Paragraph the « : » never starts a line: it stays with the word before it.
    from reportlab.pdfbase.pdfmetrics import stringWidth
    para = pdf._p("Classe classe classe : 6A", pdf._P)
    para.wrap(stringWidth("Classe classe classe", pdf._P.fontName, pdf._P.fontSize) + 2, 1000)
    lines = [" ".join(words) for _extra, words in para.blPara.lines]
    assert lines[0] == "Classe classe" and lines[1].startswith("classe\u00a0:"), lines


def test_a_class_is_one_pdf_with_a_page_group_per_bilan(split):
    views = [_view(b) for b in split if b["type"] == "periodique" and b["eleve"]["division"] == "6A"]
    data = pdf.render(views, SPEC.nom, SPEC.uai)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    starts = [i for i, t in enumerate(pages) if "page 1 / " in t]
    assert len(starts) == len(views) == 6
    for n, (i, v) in enumerate(zip(starts, views)):
        total = int(re.search(r"page 1 / (\d+)", pages[i]).group(1))
        end = starts[n + 1] if n + 1 < len(starts) else len(pages)
        assert end - i == total, "each bilan numbered on its own pages"
        assert all(v["eleve"]["prenom"] in pages[k] for k in range(i, end))


def test_the_pdf_routes_pass_the_school_name_and_uai(split, monkeypatch):
    v = _view(_periodique(split))
    rt = SimpleNamespace(repos=SimpleNamespace(schools={SPEC.uai: SimpleNamespace(nom=SPEC.nom)}))
    who = SimpleNamespace(uai=SPEC.uai)
    monkeypatch.setattr(api_bilans, "visible_bilan", lambda *_a: v)
    monkeypatch.setattr(api_bilans, "search_views", lambda *_a: [v])
    req = SimpleNamespace(query_params={})
    for r in (api_bilans.bilan_pdf.__wrapped__(req, rt, who, "1", "P-2025-3-3"),
              api_bilans.division_pdf.__wrapped__(req, rt, who, "6A")):
        text = _flat(r.body)
        assert SPEC.nom in text and f"UAI : {SPEC.uai}" in text


def _png(data: bytes, tmp_path: Path, name: str) -> Path:
    if not Path(PDFTOPPM).exists():
        pytest.fail(f"pdftoppm absent ({PDFTOPPM}) : `make test` l'installe (apt-get install poppler-utils).")
    (tmp_path / f"{name}.pdf").write_bytes(data)
    subprocess.run([PDFTOPPM, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / f"{name}.pdf"),
                    str(tmp_path / name)], check=True, timeout=60)
    out = tmp_path / f"{name}.png"
    assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 10_000
    if os.environ.get("LSU_SCREENSHOT") == "1":
        shutil.copyfile(out, ROOT / "docs" / f"{name}.png")
    return out


def test_each_document_kind_renders_to_a_picture(split, tmp_path):
    periodique = _periodique(split, lambda b: b["epis"] and b["modalites_accompagnement"])
    _png(pdf.render([_view(periodique)], SPEC.nom, SPEC.uai), tmp_path, "bilan-periodique")
    _png(pdf.render([_view(_cycle(split))], SPEC.nom, SPEC.uai), tmp_path, "bilan-cycle")
