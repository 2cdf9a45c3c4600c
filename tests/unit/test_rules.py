"""Bilan outcomes (chalicelib/domain/outcome.py): fingerprint, warnings."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from chalicelib.domain.catalogue import message
from chalicelib.domain.outcome import bilan_content, empreinte, has_warning

BILAN = {
    "type": "periodique",
    "cle": "P#2025#3#3",
    "ligne": 199,
    "eleve": {"id_be": "5248318", "nom": "Da Silva", "prenom": "Anaïs", "division": "6A"},
    "periode": {"millesime": "2025", "indice": 3, "nb_periodes": 3},
    "acquis": [{"discipline": {"code": "020700", "libelle": "Français"}, "moyenne_eleve": "12,4",
                "elements_programme": ["Lire et comprendre des textes littéraires variés"]}],
    "vie_scolaire": {"nb_retards": 0, "nb_abs_justifiees": 2, "commentaire": None},
}


def reordered(obj):
    """The same content with every dict's keys in reverse order."""
    if isinstance(obj, dict):
        return {k: reordered(obj[k]) for k in reversed(list(obj))}
    if isinstance(obj, list):
        return [reordered(v) for v in obj]
    return obj


# --- empreinte -----------------------------------------------------------------------------------

def test_empreinte_is_a_sha256_hex():
    fp = empreinte(BILAN)
    assert len(fp) == 64 and int(fp, 16) >= 0


def test_empreinte_is_stable_across_key_order():
    other = reordered(BILAN)
    assert list(other) != list(BILAN)
    assert list(other["eleve"]) != list(BILAN["eleve"])
    assert empreinte(other) == empreinte(BILAN)


def test_empreinte_ignores_ligne():
    moved = {**BILAN, "ligne": 4242}
    without = {k: v for k, v in BILAN.items() if k != "ligne"}
    assert empreinte(moved) == empreinte(BILAN) == empreinte(without)
    assert "ligne" not in bilan_content(BILAN)
    assert bilan_content(BILAN) == without


def test_empreinte_does_not_mutate_the_bilan():
    before = copy.deepcopy(BILAN)
    empreinte(BILAN)
    bilan_content(BILAN)
    assert BILAN == before


@pytest.mark.parametrize("change", [
    lambda b: b["eleve"].__setitem__("division", "6B"),
    lambda b: b["acquis"][0].__setitem__("moyenne_eleve", "12,5"),
    lambda b: b["acquis"][0]["elements_programme"].append("Écrire des textes de genres différents"),
    lambda b: b["acquis"].reverse() or b["acquis"].append({"discipline": {"code": "061300"}}),
    lambda b: b["vie_scolaire"].__setitem__("commentaire", "Élève ponctuel."),
    lambda b: b["vie_scolaire"].__setitem__("nb_retards", 1),
    lambda b: b.__setitem__("cle", "P#2025#3#2"),
    lambda b: b["periode"].pop("nb_periodes"),
], ids=["division", "moyenne", "programme", "acquis", "commentaire", "retards", "cle", "missing-key"])
def test_empreinte_changes_when_content_changes(change):
    other = copy.deepcopy(BILAN)
    change(other)
    assert empreinte(other) != empreinte(BILAN)


def test_empreinte_of_a_list_order_change_differs():
    a = {"acquis": [{"code": "1"}, {"code": "2"}]}
    b = {"acquis": [{"code": "2"}, {"code": "1"}]}
    assert empreinte(a) != empreinte(b)


# JSON-like values where Python equality is exact (no bool/int or int/float aliasing).
_scalars = st.none() | st.integers(min_value=-2, max_value=2) | st.text(alphabet="aé ", max_size=2)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "b", "ligne", "é"]), inner, max_size=3),
    max_leaves=8,
)
_bilans = st.dictionaries(st.sampled_from(["type", "cle", "ligne", "eleve", "acquis"]), _values, max_size=4)


@hsettings(max_examples=500, deadline=None)
@given(a=_bilans, b=_bilans)
def test_empreinte_equal_iff_content_equal(a, b):
    assert (empreinte(a) == empreinte(b)) == (bilan_content(a) == bilan_content(b))


@hsettings(max_examples=200, deadline=None)
@given(a=_bilans, ligne=st.integers(min_value=1))
def test_empreinte_of_a_reordered_copy_with_another_line_is_equal(a, ligne):
    b = {**reordered(a), "ligne": ligne}
    assert empreinte(a) == empreinte(b)


# --- statut ------------------------------------------------------------------------------------

def test_has_warning():
    assert has_warning([message("SERVICE_UNKNOWN")])
    assert not has_warning([message("SUBJECT_HORS_PROGRAMME")])
    assert not has_warning([message("STUDENT_UNKNOWN")])
    assert not has_warning([])
