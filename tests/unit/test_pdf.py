"""PDF of bilans: French typography (œ, €, accents), every part, one file per division."""
import io

from pypdf import PdfReader

from chalicelib.domain import merge
from chalicelib.api.render import pdf
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file


def _views(schema, small_spec, small_xml):
    bilans = list(split_bilans(check_file(small_xml, schema, small_spec.uai).root))
    return [merge.view(merge.merge_import(None, b, "EDITEUR", "imp", "2026-06-10T10:00:00+00:00").state)
            for b in bilans]


def _text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_french_typography_comes_out_right(schema, small_spec, small_xml):
    v = _views(schema, small_spec, small_xml)[0]
    v["acquis_conseils"]["valeur"] = "Son cœur à l'ouvrage : « œuvre » réussie, sortie à 12 € — élève sérieuse."
    text = _text(pdf.render([v], "Collège Victor Hugo"))
    assert "cœur" in text and "œuvre" in text and "12 €" in text and "élève sérieuse" in text
    assert v["eleve"]["nom"] in text and "Collège Victor Hugo" in text and "Vie scolaire" in text


def test_periodic_and_cycle_bilans_and_a_division_in_one_file(schema, small_spec, small_xml):
    views = _views(schema, small_spec, small_xml)
    periodique = next(v for v in views if v["type"] == "periodique")
    cycle = next(v for v in views if v["type"] == "cycle")
    text = _text(pdf.render([periodique]))
    assert "Bilan périodique — période 3 sur 3 (2025-2026)" in text and "Appréciation générale" in text
    flat = "".join(text.split())                      # table cells wrap long names
    for a in periodique["acquis"].values():
        assert "".join(a["discipline"].split()) in flat
    text = _text(pdf.render([cycle]))
    assert f"Bilan de fin de cycle {cycle['cycle']}" in text and "Maîtrise" in text and "Synthèse des acquis" in text
    data = pdf.render(views)
    assert len(PdfReader(io.BytesIO(data)).pages) >= len(views)


def test_file_names_are_french_and_safe():
    assert pdf.file_name("bilan", "Éloïse", "Lefèvre", "P-2025-3-1") == "bilan-Eloise-Lefevre-P-2025-3-1.pdf"
    assert pdf.file_name("bilans", "3 A/B") == "bilans-3-A-B.pdf"


def test_modalites_epi_ap_parcours_are_printed(schema, small_spec, small_xml):
    v = next(x for x in _views(schema, small_spec, small_xml) if x["type"] == "periodique")
    v["modalites_accompagnement"] = [{"code": "PAP", "complement_ppre": None, "complement_contrat_reussite": None}]
    v["parcours"] = {"valeur": [{"code": "PAR_CIT", "texte": "Délégué de classe."}], "provenance": "SAISIE"}
    v["epis"] = {"valeur": [{"intitule": "Découvrir le patrimoine", "commentaire_eleve": "Investi."}], "provenance": "IMPORT"}
    text = " ".join(_text(pdf.render([v])).split())
    assert "Plan d'accompagnement personnalisé" in text and "Parcours citoyen : Délégué de classe." in text
    assert "Découvrir le patrimoine — Investi." in text
