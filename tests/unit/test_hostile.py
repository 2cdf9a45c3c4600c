"""Hostile and malformed files through the splitter's streamed pass: each ends with a code and a
French message, nothing split, and nothing crashes (the network is blocked in this tier). The same
files go through the whole pipeline in tests/e2e/test_hostile_pipeline.py."""
from __future__ import annotations

import re

import pytest

from chalicelib.pipeline.split import stream
from chalicelib.domain.catalogue import CATALOGUE
from lsu_tools.generator import SchoolSpec, generate_lsu_xml
from hostile_cases import hostile_cases, other_school

UAI = "0750001A"
VALID = generate_lsu_xml(SchoolSpec(uai=UAI, divisions_par_niveau=1, eleves_par_division=2))
CASES = hostile_cases(VALID)


def test_there_are_at_least_thirty_cases_of_our_own():
    assert len(CASES) >= 30
    assert len({data for data, _ in CASES.values()}) == len(CASES), "each case is a different file"


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_refused_with_a_code_and_a_french_message(partial_schema, name):
    data, expected = CASES[name]
    result = stream.check_and_split(data, partial_schema, UAI)
    if expected is None:            # harmless: the hint is never followed, the file imports
        assert result.ok and result.bilans
        return
    assert not result.ok and result.bilans == []
    codes = {e["code"] for e in result.erreurs}
    assert codes and codes <= expected, (name, result.erreurs)
    for e in result.erreurs:
        assert e["code"] in CATALOGUE and e["message"] and "Traceback" not in e["message"]


def test_another_schools_file_is_refused(partial_schema):
    result = stream.check_and_split(other_school(VALID, "0999999Z"), partial_schema, UAI)
    assert [e["code"] for e in result.erreurs] == ["UAI_MISMATCH"] and result.bilans == []


def many_bilans(n: int) -> bytes:
    """A valid file of `n` élèves with one short bilan périodique each (≈780 bytes a bilan)."""
    x = generate_lsu_xml(SchoolSpec(uai=UAI, divisions_par_niveau=1, eleves_par_division=1)).decode()
    eleve = re.search(r'<eleve id="(EL(\d+))"[^>]*/>', x)
    bilan = x[x.index("<bilan-periodique "):x.index("</bilan-periodique>") + len("</bilan-periodique>")]
    bilan = re.sub(r"</acquis>.*</liste-acquis>", "</acquis></liste-acquis>", bilan, flags=re.S)
    bilan = re.sub(r"<competences-numeriques.*?</competences-numeriques>|<acc-persos-eleve>.*?</acc-persos-eleve>",
                   "", bilan, flags=re.S)
    bilan = re.sub(r">\s+<", "><", bilan)
    el, ref, id_be = eleve.group(0), eleve.group(1), eleve.group(2)
    eleves = "".join(el.replace(f'"{ref}"', f'"EL{k}"').replace(f'"{id_be}"', f'"{k}"') for k in range(1, n + 1))
    bilans = "".join(bilan.replace(f'eleve-ref="{ref}"', f'eleve-ref="EL{k}"') for k in range(1, n + 1))
    head, rest = x[:x.index("<eleves>") + len("<eleves>")], x[x.index("</eleves>"):]
    middle, tail = rest[:rest.index("<bilans-periodiques>") + len("<bilans-periodiques>")], rest[rest.index("</bilans-periodiques>"):]
    tail = re.sub(r"<bilans-cycle>.*</bilans-cycle>", "", tail, flags=re.S)
    return (head + eleves + middle + bilans + tail).encode()


def test_a_small_file_of_the_same_shape_is_valid(partial_schema):
    result = stream.check_and_split(many_bilans(3), partial_schema, UAI, max_bilans=3)
    assert result.ok and len(result.bilans) == 3


def test_a_100000_bilan_file_is_refused_at_the_cap_without_splitting_it_all(partial_schema):
    data = many_bilans(100_000)
    assert data.count(b"<bilan-periodique ") == 100_000
    result = stream.check_and_split(data, partial_schema, UAI, max_bilans=20_000)
    assert [e["code"] for e in result.erreurs] == ["TOO_MANY_BILANS"] and result.bilans == []
    assert "20000 bilans" in result.erreurs[0]["message"]


@pytest.fixture(scope="module")
def partial_schema(settings):
    """What the splitter passes: the installed schemas (by version), with their Sconet Notes profile."""
    from chalicelib.pipeline.split.schemas import load_schemas
    return load_schemas(settings.schema_dir)
