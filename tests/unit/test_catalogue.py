"""The catalogue holds every code the contract names, each with a French message."""
import re

import pytest

from chalicelib.domain import catalogue

CONTRACT_CODES = """EMPTY_FILE BLANK_FILE NOT_XML DOCTYPE_FORBIDDEN NOT_WELL_FORMED WRONG_NAMESPACE XSD_INVALID
UAI_MISMATCH FILE_TOO_LARGE STUDENT_UNKNOWN DIVISION_MODE_SAISIE CYCLE_BILAN_SCONET_DIVISION SUBJECT_UNKNOWN
SUBJECT_HORS_PROGRAMME SERVICE_UNKNOWN TEACHER_WITHOUT_SERVICE SCONET_PERIOD_MILLESIME SCONET_PERIOD_INDICE
SCONET_PERIOD_NB_PERIODES BILAN_INCOMPLET MANUAL_AG_PRESENT BILAN_LOCKED_EDITEUR ERREUR_TECHNIQUE
ALL_BILANS_REJECTED""".split()


@pytest.mark.parametrize("code", CONTRACT_CODES)
def test_contract_code_is_in_the_catalogue(code):
    e = catalogue.entry(code)
    assert e.niveau in (catalogue.ERREUR, catalogue.AVERTISSEMENT, catalogue.INFO)
    assert re.search(r"[éèàêçôîù]|\b(le|la|les|du|de|est|n'est)\b", e.message), e.message


def test_every_message_is_well_formed():
    for code, e in catalogue.CATALOGUE.items():
        assert code == e.code and re.fullmatch(r"[A-Z_]+", code)
        assert e.message.endswith((".", "»", ")")), code
        m = catalogue.message(code, "Détail.", ligne=3)
        assert m["code"] == code and m["message"].endswith("Détail.") and m["ligne"] == 3


def test_documentation_lists_every_code():
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "contrats.md").read_text(encoding="utf-8")
    missing = [c for c in catalogue.CATALOGUE if f"`{c}`" not in doc]
    assert not missing, f"docs/contrats.md ne documente pas : {missing}"
