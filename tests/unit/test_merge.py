"""LSU merge rules (chalicelib/domain/merge.py, merge_rules.py), as sequences of pure calls:
import → edit → re-import → state. Each test asserts the final `BilanState` and what `view`
shows (value and provenance of each part: IMPORT, SAISIE or ABSENT). Reference: fiche « Bilans >
Import » (rules 1–7), Sconet Notes completion, locking and roles. The rules one by one:
test_merge_rules.py.

Bilans are real ones: a generated file, checked and split; a Sconet Notes partial bilan is one
without appréciation générale, vie scolaire nor éléments de programme."""
from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from chalicelib.domain import outcome as rules
from chalicelib.domain.catalogue import ERREUR, message
from chalicelib.domain.checks import EDITEUR, SCONET_NOTES
from chalicelib.domain.merge import (
    A_COMPLETER, COMPLET, EDITABLE, BilanState, EditRefused, Editor, acquis_key, acquis_keys, apply_edit,
    completeness, discipline_code, graded, lock, may_edit, merge_import, unlock, view,
)
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file
from merge_data import (AG_MANUELLE, AP_MANUEL, CE, CPE, ENS, EPIS_MANUELS, FRANCAIS, MATHS, PARCOURS_MANUEL, PP,
                        T1, T2, T3, T4, split_file)


DCE = Editor("DELEGUE_CE", "adj1")
PP_AUTRE = Editor("PP", "pp2", pp_of_division=False)
ALL_EDITORS = (CE, DCE, PP, PP_AUTRE, CPE, ENS)

VS_MANUELLE = {"nb_retards": 1, "nb_abs_justifiees": 2, "nb_abs_injustifiees": 0,
               "nb_heures_manquees": 6, "commentaire": "Saisie CPE."}


# --- fixtures and helpers -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bilans(schema, small_spec, small_xml) -> list[dict]:
    return split_file(schema, small_spec.uai, small_xml)


@pytest.fixture(scope="module")
def complet(bilans) -> dict:
    """A complete bilan périodique (4e, marks): what an Éditeur exports."""
    b = next(b for b in bilans if b["type"] == "periodique" and b["eleve"]["division"] == "4A")
    assert b["acquis_conseils"] and b["vie_scolaire"] is not None
    assert all(a["elements_programme"] and graded(a) for a in b["acquis"])
    codes = [discipline_code(a) for a in b["acquis"]]
    assert MATHS in codes and FRANCAIS in codes
    return b


@pytest.fixture(scope="module")
def cycle_bilan(bilans) -> dict:
    b = next(b for b in bilans if b["type"] == "cycle")
    assert b["socle"]
    return b


def clone(b: dict, **changes) -> dict:
    out = copy.deepcopy(b)
    out.update(copy.deepcopy(changes))
    return out


def sconet(b: dict, *, ag: str | None = None, vs: dict | None = None, ep_of: tuple = (),
           groupes: bool = False) -> dict:
    """The Sconet Notes partial version of `b`: no appréciation générale, no vie scolaire, no
    éléments de programme (unless given: `ag`, `vs`, disciplines `ep_of` keep theirs). Without
    `groupes`, parcours, EPI and AP are left out too (so LSU can complete them)."""
    out = clone(b, acquis_conseils=ag, vie_scolaire=vs)
    for a in out["acquis"]:
        if discipline_code(a) not in ep_of:
            a["elements_programme"] = []
    if not groupes:
        out.update(parcours=[], epis=[], acc_persos=[])
    return out


def moved(b: dict, ligne: int = 9999) -> dict:
    """The same content at another place of another file."""
    return clone(b, ligne=ligne)


def changed(b: dict, texte: str = "Appréciation corrigée dans Sconet Notes.") -> dict:
    """Different content: one discipline's appréciation changed."""
    out = clone(b)
    out["acquis"][0]["appreciation"] = texte
    return out


def imported(b: dict, mode: str, import_id: str = "imp1", now: str = T1) -> BilanState:
    r = merge_import(None, b, mode, import_id, now)
    assert r.statut == rules.IMPORTE and r.messages == [] and r.state is not None
    return r.state


def refused(expected: str, fn, *args, **kw) -> EditRefused:
    with pytest.raises(EditRefused) as exc:
        fn(*args, **kw)
    assert exc.value.code == expected
    assert exc.value.message["code"] == expected and exc.value.message["niveau"] == ERREUR
    return exc.value


def imp_entry(valeur, import_id: str, le: str) -> dict:
    return {"valeur": valeur, "provenance": "IMPORT", "import_id": import_id, "le": le}


def saisie_entry(valeur, editor: Editor, le: str) -> dict:
    return {"valeur": valeur, "provenance": "SAISIE", "par": f"{editor.role}:{editor.sub}", "le": le}


ABSENT = {"valeur": None, "provenance": "ABSENT"}
EP_ABSENT = {"valeur": [], "provenance": "ABSENT"}


def libelle(a: dict) -> str:
    return a["discipline"]["libelle"]


def all_ep_missing(b: dict) -> list[str]:
    return [f"éléments de programme en {libelle(a)}" for a in b["acquis"] if graded(a)]


def complete_all(state: BilanState, b: dict, now: str = T2) -> BilanState:
    """Enter everything a Sconet Notes bilan needs (PP: AG and EP, CPE: vie scolaire)."""
    if view(state)["acquis_conseils"]["provenance"] == "ABSENT":
        state = apply_edit(state, PP, "acquis_conseils", AG_MANUELLE, now)
    if view(state)["vie_scolaire"]["provenance"] == "ABSENT":
        state = apply_edit(state, CPE, "vie_scolaire", VS_MANUELLE, now)
    for a in b["acquis"]:
        code = discipline_code(a)
        if graded(a) and not view(state)["acquis"][code]["elements_programme"]["valeur"]:
            state = apply_edit(state, PP, "elements_programme", [f"EP saisi en {libelle(a)}"], now, code=code)
    return state


# --- rule 1: Éditeur imports are complete and locked -----------------------------------------------

def test_editeur_import_is_stored_complete_and_locked(complet):
    r = merge_import(None, complet, EDITEUR, "imp1", T1)
    assert r.statut == rules.IMPORTE and r.messages == []
    s = r.state
    assert s.importe == rules.bilan_content(complet) and "ligne" not in s.importe
    assert s.empreinte == rules.empreinte(complet)
    assert (s.import_id, s.importe_le, s.mode) == ("imp1", T1, EDITEUR)
    assert s.saisies == {}
    assert s.verrouille is True and s.verrouille_par == "import éditeur"

    v = view(s)
    assert v["statut"] == COMPLET and v["manquants"] == []
    assert v["verrouille"] is True and v["mode"] == EDITEUR
    assert v["acquis_conseils"] == imp_entry(complet["acquis_conseils"], "imp1", T1)
    assert v["vie_scolaire"] == imp_entry(complet["vie_scolaire"], "imp1", T1)
    assert list(v["acquis"]) == [discipline_code(a) for a in complet["acquis"]]
    for a in complet["acquis"]:
        va = v["acquis"][discipline_code(a)]
        assert va["elements_programme"] == imp_entry(a["elements_programme"], "imp1", T1)
        assert va["discipline"] == libelle(a) and va["moyenne_eleve"] == a["moyenne_eleve"]
        assert va["note"] is True
    assert completeness(v) == (COMPLET, [])


@pytest.mark.parametrize("editor", ALL_EDITORS, ids=lambda e: f"{e.role}:{e.sub}")
@pytest.mark.parametrize("part", EDITABLE)
@pytest.mark.parametrize("valeur", ["texte", None], ids=["saisie", "effacement"])
def test_editeur_bilan_refuses_every_edit(complet, editor, part, valeur):
    s = imported(complet, EDITEUR)
    code = MATHS if part == "elements_programme" else None
    refused("BILAN_LOCKED_EDITEUR", apply_edit, s, editor, part, valeur, T2, code=code)


def test_editeur_bilan_cannot_be_unlocked_even_by_ce(complet):
    s = imported(complet, EDITEUR)
    refused("BILAN_LOCKED_EDITEUR", unlock, s, CE)
    for editor in (DCE, PP, CPE, ENS):
        refused("FORBIDDEN", unlock, s, editor)
    # Locking it again changes nothing.
    assert lock(s, CE) == s
    assert s.verrouille and s.verrouille_par == "import éditeur"


def test_editeur_reimport_overwrites_different_content_and_ignores_same_content(complet):
    s1 = imported(complet, EDITEUR)
    corrige = clone(complet, acquis_conseils="Appréciation générale corrigée par l'éditeur.")
    corrige["acquis"][0]["elements_programme"] = ["Élément de programme corrigé"]

    r2 = merge_import(s1, corrige, EDITEUR, "imp2", T2)
    assert r2.statut == rules.MIS_A_JOUR and r2.messages == []
    s2 = r2.state
    assert s2.importe == rules.bilan_content(corrige) and s2.empreinte == rules.empreinte(corrige)
    assert (s2.import_id, s2.importe_le, s2.mode) == ("imp2", T2, EDITEUR)
    assert s2.verrouille and s2.verrouille_par == "import éditeur" and s2.saisies == {}
    v = view(s2)
    assert v["acquis_conseils"] == imp_entry("Appréciation générale corrigée par l'éditeur.", "imp2", T2)
    code0 = discipline_code(complet["acquis"][0])
    assert v["acquis"][code0]["elements_programme"] == imp_entry(["Élément de programme corrigé"], "imp2", T2)
    assert v["statut"] == COMPLET

    r3 = merge_import(s2, moved(corrige), EDITEUR, "imp3", T3)
    assert (r3.statut, r3.messages, r3.state) == (rules.INCHANGE, [], None)


def test_editeur_import_replaces_a_sconet_bilan_and_its_entries(complet):
    """The class moved from Sconet Notes to Éditeur: the Éditeur data is complete, nothing
    entered in LSU remains and the bilan is locked."""
    s = imported(sconet(complet), SCONET_NOTES)
    s = apply_edit(s, CPE, "vie_scolaire", VS_MANUELLE, T2)
    s = apply_edit(s, ENS, "elements_programme", ["EP maths"], T2, code=MATHS)
    s = apply_edit(s, CE, "parcours", PARCOURS_MANUEL, T2)
    r = merge_import(s, complet, EDITEUR, "imp2", T3)
    assert r.statut == rules.MIS_A_JOUR
    assert r.state.saisies == {} and r.state.verrouille and r.state.mode == EDITEUR
    v = view(r.state)
    assert v["vie_scolaire"] == imp_entry(complet["vie_scolaire"], "imp2", T3)
    assert v["parcours"] == (imp_entry(complet["parcours"], "imp2", T3) if complet["parcours"] else ABSENT)
    assert v["statut"] == COMPLET


# --- rule 2: imported data is read-only, a re-import overwrites it ----------------------------------

def test_imported_parts_are_read_only(bilans, complet):
    avec_parcours = next(b for b in bilans if b["type"] == "periodique" and b["parcours"] and b["epis"])
    b = sconet(avec_parcours, ag="Bon trimestre.", vs=avec_parcours["vie_scolaire"],
               ep_of=(MATHS,), groupes=True)
    s = imported(b, SCONET_NOTES)
    for editor in (CE, DCE, PP):
        for valeur in (AG_MANUELLE, None):
            refused("PART_IMPORTEE", apply_edit, s, editor, "acquis_conseils", valeur, T2)
            refused("PART_IMPORTEE", apply_edit, s, editor, "elements_programme", ["x"] if valeur else None,
                    T2, code=MATHS)
    refused("PART_IMPORTEE", apply_edit, s, ENS, "elements_programme", ["x"], T2, code=MATHS)
    refused("PART_IMPORTEE", apply_edit, s, CPE, "vie_scolaire", VS_MANUELLE, T2)
    refused("PART_IMPORTEE", apply_edit, s, CE, "parcours", PARCOURS_MANUEL, T2)
    refused("PART_IMPORTEE", apply_edit, s, CE, "epis", EPIS_MANUELS, T2)
    # A discipline without imported éléments de programme can be completed.
    s2 = apply_edit(s, PP, "elements_programme", ["EP français"], T2, code=FRANCAIS)
    assert s2.saisies == {f"elements_programme/{FRANCAIS}": {"valeur": ["EP français"], "par": "PP:pp1", "le": T2}}
    v = view(s2)
    assert v["acquis_conseils"] == imp_entry("Bon trimestre.", "imp1", T1)
    assert v["acquis"][MATHS]["elements_programme"]["provenance"] == "IMPORT"
    assert v["acquis"][FRANCAIS]["elements_programme"] == saisie_entry(["EP français"], PP, T2)


def test_reimport_overwrites_imported_parts(complet):
    b1 = sconet(complet, ag="Première appréciation.", ep_of=(MATHS,))
    s1 = imported(b1, SCONET_NOTES)
    b2 = sconet(complet, ag="Appréciation corrigée.", ep_of=(MATHS,))
    maths = next(a for a in b2["acquis"] if discipline_code(a) == MATHS)
    maths["elements_programme"] = ["Géométrie corrigée"]
    maths["moyenne_eleve"] = "19,5"
    r = merge_import(s1, b2, SCONET_NOTES, "imp2", T2)
    assert r.statut == rules.MIS_A_JOUR and r.messages == []
    assert r.state.importe == rules.bilan_content(b2) and r.state.import_id == "imp2"
    v = view(r.state)
    assert v["acquis_conseils"] == imp_entry("Appréciation corrigée.", "imp2", T2)
    assert v["acquis"][MATHS]["elements_programme"] == imp_entry(["Géométrie corrigée"], "imp2", T2)
    assert v["acquis"][MATHS]["moyenne_eleve"] == "19,5"


# --- rule 3: appréciation générale --------------------------------------------------------------------

def test_file_ag_fills_an_absent_ag(complet):
    s1 = imported(sconet(complet), SCONET_NOTES)
    assert view(s1)["acquis_conseils"] == ABSENT
    r = merge_import(s1, sconet(complet, ag="AG de Sconet Notes."), SCONET_NOTES, "imp2", T2)
    assert r.statut == rules.MIS_A_JOUR and r.messages == []
    assert "acquis_conseils" not in r.state.saisies
    assert view(r.state)["acquis_conseils"] == imp_entry("AG de Sconet Notes.", "imp2", T2)


def test_file_ag_replaces_an_imported_ag(complet):
    s1 = imported(sconet(complet, ag="Ancienne AG."), SCONET_NOTES)
    r = merge_import(s1, sconet(complet, ag="Nouvelle AG."), SCONET_NOTES, "imp2", T2)
    assert r.statut == rules.MIS_A_JOUR
    assert view(r.state)["acquis_conseils"] == imp_entry("Nouvelle AG.", "imp2", T2)


@pytest.mark.parametrize("editor", [CE, DCE, PP], ids=lambda e: e.role)
def test_file_ag_refused_when_ag_entered_manually(complet, editor):
    s1 = imported(sconet(complet), SCONET_NOTES)
    s2 = apply_edit(s1, editor, "acquis_conseils", AG_MANUELLE, T2)
    s2 = apply_edit(s2, ENS, "elements_programme", ["EP maths"], T2, code=MATHS)
    r = merge_import(s2, sconet(complet, ag="AG de Sconet Notes.", vs=complet["vie_scolaire"]),
                     SCONET_NOTES, "imp2", T3)
    assert r.statut == rules.REJETE and r.state is None
    assert r.messages == [message("MANUAL_AG_PRESENT")]
    assert r.messages[0]["niveau"] == ERREUR
    # Nothing is written: the stored state keeps the manual text (and everything else).
    v = view(s2)
    assert v["acquis_conseils"] == saisie_entry(AG_MANUELLE, editor, T2)
    assert v["vie_scolaire"] == ABSENT and s2.import_id == "imp1"


def test_file_without_ag_keeps_the_manual_ag(complet):
    s1 = imported(sconet(complet), SCONET_NOTES)
    s2 = apply_edit(s1, PP, "acquis_conseils", AG_MANUELLE, T2)
    r = merge_import(s2, changed(sconet(complet)), SCONET_NOTES, "imp2", T3)
    assert r.statut == rules.MIS_A_JOUR and r.messages == []
    assert r.state.saisies == s2.saisies
    assert view(r.state)["acquis_conseils"] == saisie_entry(AG_MANUELLE, PP, T2)


# --- rule 4: vie scolaire --------------------------------------------------------------------------

def test_file_without_vie_scolaire_keeps_the_manual_one(complet):
    s1 = imported(sconet(complet), SCONET_NOTES)
    s2 = apply_edit(s1, CPE, "vie_scolaire", VS_MANUELLE, T2)
    r = merge_import(s2, changed(sconet(complet)), SCONET_NOTES, "imp2", T3)
    assert r.statut == rules.MIS_A_JOUR
    assert r.state.saisies == {"vie_scolaire": {"valeur": VS_MANUELLE, "par": "CPE:cpe1", "le": T2}}
    assert view(r.state)["vie_scolaire"] == saisie_entry(VS_MANUELLE, CPE, T2)


def test_file_with_vie_scolaire_replaces_and_deletes_the_manual_one(complet):
    s1 = imported(sconet(complet), SCONET_NOTES)
    s2 = apply_edit(s1, CPE, "vie_scolaire", VS_MANUELLE, T2)
    s2 = apply_edit(s2, PP, "acquis_conseils", AG_MANUELLE, T2)
    s2 = apply_edit(s2, ENS, "elements_programme", ["EP maths"], T2, code=MATHS)
    r = merge_import(s2, sconet(complet, vs=complet["vie_scolaire"]), SCONET_NOTES, "imp2", T3)
    assert r.statut == rules.MIS_A_JOUR and r.messages == []
    assert "vie_scolaire" not in r.state.saisies
    assert set(r.state.saisies) == {"acquis_conseils", f"elements_programme/{MATHS}"}
    v = view(r.state)
    assert v["vie_scolaire"] == imp_entry(complet["vie_scolaire"], "imp2", T3)
    assert v["acquis_conseils"] == saisie_entry(AG_MANUELLE, PP, T2)
    # A later import without vie scolaire does not bring the deleted entry back; the vie scolaire
    # imp2 brought stays (issue 14, rule 2: a partial file replaces only the parts it carries).
    r2 = merge_import(r.state, sconet(complet), SCONET_NOTES, "imp3", T4)
    assert r2.statut == rules.MIS_A_JOUR and "vie_scolaire" not in r2.state.saisies
    assert view(r2.state)["vie_scolaire"] == imp_entry(complet["vie_scolaire"], "imp2", T3)


# --- rule 5: entries made in LSU are kept on re-import ---------------------------------------------

def test_lsu_entries_are_kept_on_sconet_reimport(complet):
    b = sconet(complet)
    s = imported(b, SCONET_NOTES)
    s = apply_edit(s, CE, "parcours", PARCOURS_MANUEL, T2)
    s = apply_edit(s, DCE, "epis", EPIS_MANUELS, T2)
    s = apply_edit(s, CE, "acc_persos", AP_MANUEL, T2)
    s = apply_edit(s, ENS, "elements_programme", ["EP maths"], T2, code=MATHS)
    s = apply_edit(s, PP, "elements_programme", ["EP français"], T2, code=FRANCAIS)
    before = dict(s.saisies)
    assert len(before) == 5

    r = merge_import(s, changed(b), SCONET_NOTES, "imp2", T3)
    assert r.statut == rules.MIS_A_JOUR
    assert r.state.saisies == before
    v = view(r.state)
    assert v["parcours"] == saisie_entry(PARCOURS_MANUEL, CE, T2)
    assert v["epis"] == saisie_entry(EPIS_MANUELS, DCE, T2)
    assert v["acc_persos"] == saisie_entry(AP_MANUEL, CE, T2)
    assert v["acquis"][MATHS]["elements_programme"] == saisie_entry(["EP maths"], ENS, T2)
    assert v["acquis"][FRANCAIS]["elements_programme"] == saisie_entry(["EP français"], PP, T2)
    assert v["acquis"][discipline_code(complet["acquis"][0])]["appreciation"] == "Appréciation corrigée dans Sconet Notes."

    # Same file again: INCHANGE, nothing written, the entries stay where they are.
    r2 = merge_import(r.state, moved(changed(b)), SCONET_NOTES, "imp3", T4)
    assert (r2.statut, r2.state) == (rules.INCHANGE, None)


def test_imported_part_shadows_an_entry_without_deleting_it(complet):
    """A re-import that now carries éléments de programme or parcours shows them (imported data
    wins); the entries stay stored."""
    s = imported(sconet(complet), SCONET_NOTES)
    s = apply_edit(s, ENS, "elements_programme", ["EP maths"], T2, code=MATHS)
    s = apply_edit(s, CE, "parcours", PARCOURS_MANUEL, T2)
    parcours = [{"code": "PAR_AVN", "texte": "Stage d'observation réussi."}]
    r = merge_import(s, sconet(complet, ep_of=(MATHS,)) | {"parcours": parcours}, SCONET_NOTES, "imp2", T3)
    assert r.statut == rules.MIS_A_JOUR
    assert r.state.saisies == s.saisies
    maths = next(a for a in complet["acquis"] if discipline_code(a) == MATHS)
    v = view(r.state)
    assert v["acquis"][MATHS]["elements_programme"] == imp_entry(maths["elements_programme"], "imp2", T3)
    assert v["parcours"] == imp_entry(parcours, "imp2", T3)
    # Once the import no longer carries them, the entries show again.
    r2 = merge_import(r.state, sconet(complet), SCONET_NOTES, "imp3", T4)
    v2 = view(r2.state)
    assert v2["parcours"] == saisie_entry(PARCOURS_MANUEL, CE, T2)
    assert v2["acquis"][MATHS]["elements_programme"] == saisie_entry(["EP maths"], ENS, T2)


# --- rule 6: socle -----------------------------------------------------------------------------------

def test_cycle_bilan_socle_is_in_the_view(cycle_bilan):
    s = imported(cycle_bilan, EDITEUR)
    v = view(s)
    assert v["type"] == "cycle" and v["cycle"] == cycle_bilan["cycle"]
    assert v["socle"] == imp_entry(cycle_bilan["socle"], "imp1", T1)
    assert all({"code", "positionnement"} <= set(d) for d in v["socle"]["valeur"])
    assert v["synthese"] == imp_entry(cycle_bilan["synthese"], "imp1", T1)
    assert v["enseignement_complement"] == cycle_bilan["enseignement_complement"]
    assert (v["statut"], v["manquants"]) == (COMPLET, [])
    assert v["verrouille"] is True


def test_periodic_bilan_socle_is_in_the_view(complet):
    socle = [{"code": "CPD_FRA", "positionnement": "3"}, {"code": "MET_APP", "positionnement": "2"}]
    assert complet["socle"] == []
    s = imported(sconet(complet, ag="AG."), SCONET_NOTES)
    assert view(s)["socle"] == EP_ABSENT
    r = merge_import(s, sconet(complet, ag="AG.") | {"socle": socle}, SCONET_NOTES, "imp2", T2)
    assert r.statut == rules.MIS_A_JOUR
    assert view(r.state)["socle"] == imp_entry(socle, "imp2", T2)


# --- rule 7: statuses --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [EDITEUR, SCONET_NOTES])
def test_statuses_sequence(complet, mode):
    b = complet if mode == EDITEUR else sconet(complet)
    r1 = merge_import(None, b, mode, "imp1", T1)
    assert r1.statut == rules.IMPORTE and r1.state is not None
    r2 = merge_import(r1.state, moved(b), mode, "imp2", T2)
    assert (r2.statut, r2.messages, r2.state) == (rules.INCHANGE, [], None)
    r3 = merge_import(r1.state, changed(b), mode, "imp3", T3)
    assert r3.statut == rules.MIS_A_JOUR and r3.state.import_id == "imp3"
    r4 = merge_import(r3.state, changed(b), mode, "imp4", T4)
    assert (r4.statut, r4.state) == (rules.INCHANGE, None)
    # Back to the first content: a change again.
    assert merge_import(r3.state, b, mode, "imp5", T4).statut == rules.MIS_A_JOUR


def test_a_mode_change_with_the_same_content_is_never_inchange(complet):
    """Same content, other mode: the stored mode must follow (or the import be refused)."""
    s = imported(complet, SCONET_NOTES)
    r = merge_import(s, moved(complet), EDITEUR, "imp2", T2)
    assert r.statut == rules.MIS_A_JOUR and r.state.mode == EDITEUR and r.state.verrouille
    r2 = merge_import(r.state, moved(complet), SCONET_NOTES, "imp3", T3)
    assert r2.statut in (rules.MIS_A_JOUR, rules.REJETE)
    if r2.statut == rules.MIS_A_JOUR:
        assert r2.state.mode == SCONET_NOTES


def test_first_import_over_a_state_without_import_is_importe(complet):
    r = merge_import(BilanState(), sconet(complet), SCONET_NOTES, "imp1", T1)
    assert r.statut == rules.IMPORTE and r.state.importe == rules.bilan_content(sconet(complet))


def test_edits_between_imports_do_not_make_the_same_file_a_change(complet):
    b = sconet(complet)
    s = apply_edit(imported(b, SCONET_NOTES), CPE, "vie_scolaire", VS_MANUELLE, T2)
    r = merge_import(s, moved(b), SCONET_NOTES, "imp2", T3)
    assert (r.statut, r.state) == (rules.INCHANGE, None)
    assert view(s)["vie_scolaire"] == saisie_entry(VS_MANUELLE, CPE, T2)


def test_change_that_only_drops_a_manual_vie_scolaire_is_mis_a_jour(complet):
    """Same imported content; the only change is the deletion of a manual vie scolaire (a state
    stored with both, e.g. by an earlier version): MIS_A_JOUR, never INCHANGE."""
    b = sconet(complet, vs=complet["vie_scolaire"])
    s = imported(b, SCONET_NOTES)
    entry = {"valeur": VS_MANUELLE, "par": "CPE:cpe1", "le": T2}
    s = replace(s, saisies={"vie_scolaire": entry, "parcours": {"valeur": PARCOURS_MANUEL, "par": "CE:ce1", "le": T2}})
    r = merge_import(s, moved(b), SCONET_NOTES, "imp2", T3)
    assert r.statut == rules.MIS_A_JOUR and r.messages == []
    assert r.state.empreinte == s.empreinte
    assert r.state.saisies == {"parcours": {"valeur": PARCOURS_MANUEL, "par": "CE:ce1", "le": T2}}


def test_reimport_does_not_mutate_its_inputs(complet):
    b = sconet(complet)
    s = apply_edit(imported(b, SCONET_NOTES), CPE, "vie_scolaire", VS_MANUELLE, T2)
    snapshot_state, b2 = copy.deepcopy(s), sconet(complet, vs=complet["vie_scolaire"])
    snapshot_b2 = copy.deepcopy(b2)
    merge_import(s, b2, SCONET_NOTES, "imp2", T3)
    assert s == snapshot_state and b2 == snapshot_b2


# --- completion (Sconet Notes) -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def a_completer(complet) -> dict:
    """A partial bilan where one discipline is « non noté » and one has neither mark nor
    positioning: neither needs éléments de programme."""
    b = sconet(complet)
    non_note, sans_note = b["acquis"][2], b["acquis"][3]
    non_note["eleve_non_note"] = "true"
    non_note.pop("moyenne_eleve")
    sans_note.pop("moyenne_eleve")
    sans_note.pop("positionnement", None)
    assert not graded(non_note) and not graded(sans_note)
    return b


def test_partial_bilan_is_a_completer_with_exact_missing_list(a_completer):
    s = imported(a_completer, SCONET_NOTES)
    v = view(s)
    expected = [f"éléments de programme en {libelle(a)}" for i, a in enumerate(a_completer["acquis"])
                if i not in (2, 3)] + ["appréciation générale", "vie scolaire"]
    assert v["statut"] == A_COMPLETER and v["manquants"] == expected
    assert completeness(v) == (A_COMPLETER, expected)
    notes = {code: a["note"] for code, a in v["acquis"].items()}
    assert [notes[discipline_code(a)] for a in a_completer["acquis"]] == \
        [i not in (2, 3) for i in range(len(a_completer["acquis"]))]
    assert all(a["elements_programme"] == EP_ABSENT for a in v["acquis"].values())
    assert v["acquis_conseils"] == ABSENT and v["vie_scolaire"] == ABSENT


def test_graded():
    assert graded({"moyenne_eleve": "12,0"}) and graded({"positionnement": "2"})
    assert graded({"moyenne_eleve": "12,0", "eleve_non_note": "false"})
    assert not graded({"eleve_non_note": "true"})
    assert not graded({"eleve_non_note": "TRUE", "moyenne_eleve": "12,0"})
    assert not graded({}) and not graded({"moyenne_eleve": "", "positionnement": None})


def test_completion_step_by_step_then_lock(a_completer):
    b = a_completer
    s = imported(b, SCONET_NOTES)
    graded_codes = [discipline_code(a) for a in b["acquis"] if graded(a)]

    s = apply_edit(s, PP, "acquis_conseils", AG_MANUELLE, T2)
    assert view(s)["manquants"] == all_ep_missing(b) + ["vie scolaire"]
    s = apply_edit(s, CPE, "vie_scolaire", VS_MANUELLE, T2)
    assert view(s)["manquants"] == all_ep_missing(b)
    e = refused("BILAN_A_COMPLETER", lock, s, CE)
    assert "Il manque" in e.message["message"] and libelle(b["acquis"][0]) in e.message["message"]

    for i, code in enumerate(graded_codes):
        editor = ENS if code == MATHS else PP
        s = apply_edit(s, editor, "elements_programme", [f"EP {code}"], T2, code=code)
        assert len(view(s)["manquants"]) == len(graded_codes) - i - 1
        if i < len(graded_codes) - 1:
            refused("BILAN_A_COMPLETER", lock, s, DCE)

    v = view(s)
    assert (v["statut"], v["manquants"]) == (COMPLET, [])
    assert v["acquis_conseils"] == saisie_entry(AG_MANUELLE, PP, T2)
    assert v["vie_scolaire"] == saisie_entry(VS_MANUELLE, CPE, T2)
    assert v["acquis"][MATHS]["elements_programme"] == saisie_entry([f"EP {MATHS}"], ENS, T2)
    # The disciplines that need none still show none.
    for a in b["acquis"][2:4]:
        assert v["acquis"][discipline_code(a)]["elements_programme"] == EP_ABSENT

    for editor in (PP_AUTRE, CPE, ENS):
        refused("FORBIDDEN", lock, s, editor)
    assert lock(s, PP).verrouille and lock(s, PP).verrouille_par == "PP:pp1", "the division's PP may lock"
    locked = lock(s, CE)
    assert locked.verrouille and locked.verrouille_par == "CE:ce1"
    assert locked.saisies == s.saisies and locked.importe == s.importe
    assert view(locked)["verrouille"] is True and view(locked)["statut"] == COMPLET


def test_delegue_ce_may_lock(complet):
    s = complete_all(imported(sconet(complet), SCONET_NOTES), complet)
    locked = lock(s, DCE)
    assert locked.verrouille and locked.verrouille_par == "DELEGUE_CE:adj1"


def test_only_ce_roles_and_the_divisions_pp_may_lock_even_an_incomplete_bilan(complet):
    s = imported(sconet(complet), SCONET_NOTES)
    for editor in (PP_AUTRE, CPE, ENS, Editor("INCONNU", "x")):
        refused("FORBIDDEN", lock, s, editor)
    refused("BILAN_A_COMPLETER", lock, s, CE)
    refused("BILAN_A_COMPLETER", lock, s, PP)


def test_imported_ag_and_vie_scolaire_count_for_completion(complet):
    b = sconet(complet, ag="AG importée.", vs=complet["vie_scolaire"])
    s = imported(b, SCONET_NOTES)
    assert view(s)["manquants"] == all_ep_missing(b)
    s = complete_all(s, b)
    assert set(s.saisies) == {f"elements_programme/{discipline_code(a)}" for a in b["acquis"]}
    assert view(s)["statut"] == COMPLET


@pytest.fixture(scope="module")
def locked_sconet(complet) -> BilanState:
    s = complete_all(imported(sconet(complet), SCONET_NOTES), complet)
    return lock(s, CE)


@pytest.mark.parametrize("editor", ALL_EDITORS, ids=lambda e: f"{e.role}:{e.sub}")
@pytest.mark.parametrize("part", EDITABLE)
def test_locked_sconet_bilan_refuses_every_edit(locked_sconet, editor, part):
    code = MATHS if part == "elements_programme" else None
    refused("BILAN_VERROUILLE", apply_edit, locked_sconet, editor, part, "x", T3, code=code)
    refused("BILAN_VERROUILLE", apply_edit, locked_sconet, editor, part, None, T3, code=code)


@pytest.mark.parametrize("variant", ["same", "changed", "with_ag", "with_vs"])
@pytest.mark.parametrize("mode", [SCONET_NOTES, EDITEUR])
def test_locked_sconet_bilan_refuses_reimport(locked_sconet, complet, variant, mode):
    b = {"same": sconet(complet), "changed": changed(sconet(complet)),
         "with_ag": sconet(complet, ag="AG."), "with_vs": sconet(complet, vs=complet["vie_scolaire"])}[variant]
    r = merge_import(locked_sconet, b, mode, "imp9", T4)
    assert (r.statut, r.messages, r.state) == (rules.REJETE, [message("BILAN_VERROUILLE")], None)


def test_ce_unlocks_a_sconet_bilan_then_edits_and_imports_work(locked_sconet, complet):
    refused("FORBIDDEN", unlock, locked_sconet, PP)
    refused("FORBIDDEN", unlock, locked_sconet, CPE)
    s = unlock(locked_sconet, CE)
    assert s.verrouille is False and s.verrouille_par is None
    assert s.saisies == locked_sconet.saisies and s.importe == locked_sconet.importe
    s = apply_edit(s, CPE, "vie_scolaire", None, T3)
    assert "vie_scolaire" not in s.saisies and view(s)["manquants"] == ["vie scolaire"]
    s = apply_edit(s, CPE, "vie_scolaire", VS_MANUELLE, T3)
    r = merge_import(s, changed(sconet(complet)), SCONET_NOTES, "imp2", T4)
    assert r.statut == rules.MIS_A_JOUR and r.state.verrouille is False
    assert r.state.saisies == s.saisies
    assert lock(r.state, CE).verrouille


# --- roles -----------------------------------------------------------------------------------------------

PARTS_WITHOUT_EP = ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos")
OPTIONAL_PARTS = ("parcours", "epis", "acc_persos")
# A valid entry of each part (chalicelib/domain/entries.py).
VALID = {"acquis_conseils": AG_MANUELLE, "vie_scolaire": VS_MANUELLE, "parcours": PARCOURS_MANUEL,
         "epis": EPIS_MANUELS, "acc_persos": AP_MANUEL, "elements_programme": ["EP saisi"]}
# The fiche: CE, PP and CPE complete the bilans and « peuvent aussi saisir les informations
# facultatives suivantes : parcours, EPI, AP » (the whole matrix: test_roles.py).
ROLE_TABLE = (
    [(e, p, None, True) for e in (CE, DCE) for p in PARTS_WITHOUT_EP]
    + [(e, "elements_programme", c, True) for e in (CE, DCE, PP) for c in (MATHS, FRANCAIS)]
    + [(PP, "acquis_conseils", None, True)]
    + [(PP, "vie_scolaire", None, False)]
    + [(PP, p, None, True) for p in OPTIONAL_PARTS]
    + [(PP_AUTRE, "acquis_conseils", None, False), (PP_AUTRE, "elements_programme", MATHS, False)]
    + [(PP_AUTRE, p, None, False) for p in OPTIONAL_PARTS]
    + [(CPE, "vie_scolaire", None, True)]
    + [(CPE, "acquis_conseils", None, False)]
    + [(CPE, p, None, True) for p in OPTIONAL_PARTS]
    + [(CPE, "elements_programme", MATHS, False)]
    + [(ENS, "elements_programme", MATHS, True), (ENS, "elements_programme", FRANCAIS, False),
       (ENS, "elements_programme", None, False)]
    + [(ENS, p, None, False) for p in PARTS_WITHOUT_EP]
    + [(Editor("INCONNU", "x"), p, MATHS, False) for p in EDITABLE]
)


@pytest.mark.parametrize("editor,part,code,allowed", ROLE_TABLE,
                         ids=[f"{e.role}:{e.sub}-{p}-{c}" for e, p, c, _ in ROLE_TABLE])
def test_roles(complet, editor, part, code, allowed):
    assert may_edit(editor, part, code) is allowed
    s = imported(sconet(complet), SCONET_NOTES)
    valeur = VALID[part]
    if not allowed:
        e = refused("FORBIDDEN", apply_edit, s, editor, part, valeur, T2, code=code)
        assert editor.role in e.message["message"]
        return
    s2 = apply_edit(s, editor, part, valeur, T2, code=code)
    key = f"elements_programme/{code}" if part == "elements_programme" else part
    assert s2.saisies == {key: {"valeur": valeur, "par": f"{editor.role}:{editor.sub}", "le": T2}}
    assert s2.importe is s.importe and s2.verrouille is False and s.saisies == {}
    v = view(s2)
    shown = v["acquis"][code]["elements_programme"] if part == "elements_programme" else v[part]
    assert shown == saisie_entry(valeur, editor, T2)


def test_cpe_writing_the_ag_is_forbidden(complet):
    s = imported(sconet(complet), SCONET_NOTES)
    refused("FORBIDDEN", apply_edit, s, CPE, "acquis_conseils", AG_MANUELLE, T2)


@pytest.mark.parametrize("part", ["appreciation", "socle", "acquis", "", "elements_programme/061300"])
@pytest.mark.parametrize("locked", [False, True])
def test_unknown_part_is_a_bad_request(complet, locked_sconet, part, locked):
    s = locked_sconet if locked else imported(sconet(complet), SCONET_NOTES)
    for editor in (CE, PP, CPE):
        refused("BAD_REQUEST", apply_edit, s, editor, part, "x", T2, code=MATHS)
    assert not may_edit(CE, part)


def test_unknown_discipline_is_a_bad_request(complet):
    s = imported(sconet(complet), SCONET_NOTES)
    refused("BAD_REQUEST", apply_edit, s, CE, "elements_programme", ["x"], T2, code="999999")
    refused("BAD_REQUEST", apply_edit, s, CE, "elements_programme", ["x"], T2)


def test_none_clears_an_entry(complet):
    s0 = imported(sconet(complet), SCONET_NOTES)
    s = apply_edit(s0, PP, "acquis_conseils", AG_MANUELLE, T2)
    s = apply_edit(s, PP, "elements_programme", ["EP"], T2, code=FRANCAIS)
    s = apply_edit(s, CPE, "vie_scolaire", VS_MANUELLE, T2)
    s = apply_edit(s, CE, "acquis_conseils", None, T3)
    s = apply_edit(s, ENS, "elements_programme", None, T3, code=MATHS)        # nothing to clear
    s = apply_edit(s, PP, "elements_programme", None, T3, code=FRANCAIS)
    assert s.saisies == {"vie_scolaire": {"valeur": VS_MANUELLE, "par": "CPE:cpe1", "le": T2}}
    v = view(s)
    assert v["acquis_conseils"] == ABSENT and v["acquis"][FRANCAIS]["elements_programme"] == EP_ABSENT
    assert v["manquants"] == all_ep_missing(complet) + ["appréciation générale"]
    # An entry replaces the previous one (who and when too).
    zero = {"nb_retards": 0, "nb_abs_justifiees": 0, "nb_abs_injustifiees": 0}
    s = apply_edit(s, CE, "vie_scolaire", zero, T4)
    assert view(s)["vie_scolaire"] == saisie_entry(zero, CE, T4)


# --- bugs ------------------------------------------------------------------------------------------------

def test_sconet_import_over_editeur_bilan_is_not_locked_incomplete(complet):
    """The class moved from Éditeur to Sconet Notes (what BILAN_INCOMPLET advises). Either the
    Sconet import is refused, or it yields a Sconet bilan that can be completed: never a bilan
    locked while incomplete (`lock` itself requires COMPLET)."""
    s1 = imported(complet, EDITEUR)
    r = merge_import(s1, sconet(complet), SCONET_NOTES, "imp2", T2)
    if r.state is None:
        assert r.statut == rules.REJETE
        return
    v = view(r.state)
    assert v["statut"] == A_COMPLETER
    assert not r.state.verrouille, (r.state.verrouille_par, v["manquants"])
    apply_edit(r.state, CPE, "vie_scolaire", VS_MANUELLE, T3)


def test_empty_manual_ag_does_not_complete_the_bilan(complet):
    s = imported(sconet(complet, vs=complet["vie_scolaire"], ep_of=tuple(discipline_code(a) for a in complet["acquis"])),
                 SCONET_NOTES)
    assert view(s)["manquants"] == ["appréciation générale"]
    try:
        s = apply_edit(s, PP, "acquis_conseils", "", T2)
    except EditRefused as exc:          # refusing the empty text is fine too
        assert exc.code == "BAD_REQUEST"
        return
    assert view(s)["manquants"] == ["appréciation générale"]
    refused("BILAN_A_COMPLETER", lock, s, CE)


@pytest.mark.parametrize("editor", [PP_AUTRE, CPE, ENS], ids=lambda e: e.role)
def test_lock_by_non_ce_is_forbidden_even_when_already_locked(locked_sconet, editor):
    refused("FORBIDDEN", lock, locked_sconet, editor)


# --- properties ------------------------------------------------------------------------------------------

def _allowed_edits(b: dict) -> list[tuple[Editor, str, str | None]]:
    codes = [discipline_code(a) for a in b["acquis"]]
    out = [(e, p, None) for e in (CE, DCE) for p in PARTS_WITHOUT_EP]
    out += [(e, "elements_programme", c) for e in (CE, DCE, PP) for c in codes]
    out += [(PP, "acquis_conseils", None), (CPE, "vie_scolaire", None), (ENS, "elements_programme", MATHS)]
    out += [(e, p, None) for e in (PP, CPE) for p in OPTIONAL_PARTS]
    return out


def _entry_of(part: str, texte: str):
    """A valid entry of `part` made of a drawn text."""
    return {"acquis_conseils": texte, "elements_programme": [texte],
            "vie_scolaire": {"nb_retards": len(texte), "nb_abs_justifiees": 0, "nb_abs_injustifiees": 1,
                             "commentaire": texte},
            "parcours": [{"code": "PAR_AVN", "texte": texte}],
            "epis": [{"intitule": texte, "commentaire_eleve": texte}], "acc_persos": [{"intitule": texte}]}[part]


# Blank entries are refused (BAD_REQUEST), and characters XML cannot carry (SAISIE_INVALIDE):
# the properties draw non-blank texts of XML characters.
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
                min_size=1, max_size=20).filter(str.strip)


@hsettings(max_examples=200, deadline=None)
@given(data=st.data())
def test_property_manual_entries_survive_a_sconet_reimport_without_ag_and_vs(complet, data):
    b = sconet(complet)
    allowed = _allowed_edits(b)
    edits = data.draw(st.lists(st.tuples(st.sampled_from(allowed), st.none() | _text), max_size=12), label="edits")
    s = imported(b, SCONET_NOTES)
    for n, ((editor, part, code), texte) in enumerate(edits):
        valeur = None if texte is None else _entry_of(part, texte)
        s = apply_edit(s, editor, part, valeur, f"2026-06-11T09:00:{n:02d}+00:00", code=code)
    different = data.draw(st.booleans(), label="different content")
    again = changed(b) if different else moved(b)
    r = merge_import(s, again, SCONET_NOTES, "imp2", T3)
    assert r.statut == (rules.MIS_A_JOUR if different else rules.INCHANGE) and r.messages == []
    after = r.state if r.state is not None else s
    assert after.saisies == s.saisies
    v = view(after)
    for key, entry in s.saisies.items():
        if key.startswith("elements_programme/"):
            shown = v["acquis"][key.split("/", 1)[1]]["elements_programme"]
        else:
            shown = v[key]
        assert shown == {"valeur": entry["valeur"], "provenance": "SAISIE", "par": entry["par"], "le": entry["le"]}


_SAISIE_KEYS = ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos",
                f"elements_programme/{MATHS}", f"elements_programme/{FRANCAIS}")


@hsettings(max_examples=300, deadline=None)
@given(data=st.data())
def test_property_no_manual_vie_scolaire_survives_a_file_with_one(complet, data):
    vs = complet["vie_scolaire"]
    fichiers = {
        "complet": complet, "sconet+vs": sconet(complet, vs=vs),
        "sconet+vs+ag": sconet(complet, vs=vs, ag="AG."),
        "sconet+vs+ep": sconet(complet, vs=vs, ep_of=(MATHS,)),
        "sconet+vs (autre)": changed(sconet(complet, vs=vs)),
    }
    bases = {"sconet": sconet(complet), "sconet+vs": sconet(complet, vs=vs), "complet": complet}
    base = data.draw(st.sampled_from([None, *bases]), label="stored bilan")
    current = None
    if base is not None:
        state = merge_import(None, bases[base], data.draw(st.sampled_from([EDITEUR, SCONET_NOTES])), "imp1", T1).state
        keys = data.draw(st.sets(st.sampled_from(_SAISIE_KEYS)), label="saisies")
        saisies = {k: {"valeur": "x", "par": "CE:ce1", "le": T2} for k in keys}
        current = replace(state, saisies=saisies, verrouille=data.draw(st.booleans(), label="verrouille"))
    fichier = fichiers[data.draw(st.sampled_from(sorted(fichiers)), label="file")]
    mode = data.draw(st.sampled_from([EDITEUR, SCONET_NOTES]), label="mode")
    r = merge_import(current, fichier, mode, "imp2", T3)
    assert r.statut in (rules.IMPORTE, rules.MIS_A_JOUR, rules.INCHANGE, rules.REJETE)
    if r.state is not None:
        assert "vie_scolaire" not in r.state.saisies
        assert view(r.state)["vie_scolaire"] == imp_entry(vs, "imp2", T3)
    elif r.statut == rules.INCHANGE:
        assert "vie_scolaire" not in current.saisies
    else:
        assert r.statut == rules.REJETE and len(r.messages) == 1


# --- acquis keyed as the XSD keys a discipline (code, modalité d'élection, id-lv) -------------------

def _two_of_one_code(complet: dict, **second) -> dict:
    """`complet` as a Sconet Notes partial bilan with a second acquis of the maths code (another
    discipline of the file: `second` changes its discipline)."""
    b = sconet(complet)
    maths = next(a for a in b["acquis"] if discipline_code(a) == MATHS)
    other = copy.deepcopy(maths)
    other["discipline"] = {**maths["discipline"], "libelle": "Mathématiques renforcées", **second}
    other["moyenne_eleve"] = "8,5"
    b["acquis"].append(other)
    return b


def test_acquis_key_is_the_code_when_unique_else_a_composite(complet):
    maths = next(a for a in complet["acquis"] if discipline_code(a) == MATHS)
    assert maths["discipline"]["modalite_election"] == "S"
    lv = {**maths, "discipline": {**maths["discipline"], "modalite_election": "O"}}
    assert acquis_key(maths) == MATHS and acquis_key(maths, [maths, lv]) == f"{MATHS}-S"
    assert acquis_key(lv, [maths, lv]) == f"{MATHS}-O"
    lv1 = {**maths, "discipline": {**maths["discipline"], "id_lv": "LV1"}}
    lv2 = {**maths, "discipline": {**maths["discipline"], "id_lv": "LV2"}}
    assert acquis_keys([lv1, lv2]) == [f"{MATHS}-S-LV1", f"{MATHS}-S-LV2"]
    # Never two acquis under one key, whatever the bilan holds.
    assert acquis_keys([maths, copy.deepcopy(maths), {}, {"discipline": "x"}]) == \
        [f"{MATHS}-S-?#1", f"{MATHS}-S-?#2", "?-?-?#1", "?-?-?#2"]


@pytest.mark.parametrize("second,keys", [({"modalite_election": "O"}, (f"{MATHS}-S", f"{MATHS}-O")),
                                         ({"id_lv": "DI_LV2"}, (f"{MATHS}-S-?", f"{MATHS}-S-DI_LV2"))],
                         ids=["two modalites", "lv1 lv2"])
def test_two_acquis_of_one_code_are_both_shown_completed_and_printed(complet, second, keys):
    from chalicelib.api.render import pdf
    from pypdf import PdfReader
    import io

    b = _two_of_one_code(complet, **second)
    s = imported(b, SCONET_NOTES)
    v = view(s)
    assert len(v["acquis"]) == len(b["acquis"]), "no acquis vanishes"
    first, other = keys
    assert v["acquis"][first]["discipline"] == libelle(next(a for a in complet["acquis"] if discipline_code(a) == MATHS))
    assert v["acquis"][other]["discipline"] == "Mathématiques renforcées" and v["acquis"][other]["moyenne_eleve"] == "8,5"
    assert FRANCAIS in v["acquis"], "a unique code keeps its plain key"
    assert "éléments de programme en Mathématiques renforcées" in v["manquants"]
    # The teacher of maths completes both (their service is the matière code); by key.
    s = apply_edit(s, ENS, "elements_programme", ["Calcul littéral"], T2, code=other)
    refused("BAD_REQUEST", apply_edit, s, ENS, "elements_programme", ["Géométrie"], T2, code=MATHS)
    s = apply_edit(s, ENS, "elements_programme", ["Géométrie"], T2, code=first)
    assert set(s.saisies) == {f"elements_programme/{first}", f"elements_programme/{other}"}
    v = view(s)
    assert v["acquis"][other]["elements_programme"] == saisie_entry(["Calcul littéral"], ENS, T2)
    assert v["acquis"][first]["elements_programme"] == saisie_entry(["Géométrie"], ENS, T2)
    assert not any("Mathématiques" in m for m in v["manquants"])
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render([v]))).pages).split())
    assert "Calcul littéral" in text and "Géométrie" in text and "renforcées" in text


def test_a_discipline_keeps_its_id_lv_through_the_split(schema, small_spec, small_xml):
    """Index.shown drops the document id, not `id_lv` (the XSD's key): a file with an LV1 and an
    LV2 of one code and one modalité gives a bilan whose two acquis have two keys."""
    from lxml import etree
    from chalicelib.pipeline.split.file_checks import NS
    q = lambda n: f"{{{NS}}}{n}"                                      # noqa: E731
    root = etree.fromstring(small_xml)
    disciplines = root.find(f"{q('donnees')}/{q('disciplines')}")
    maths = next(d for d in disciplines if d.get("code") == MATHS)
    maths.set("id-lv", maths.get("id"))
    twin = copy.deepcopy(maths)
    twin.set("id", "DI_TWIN")
    twin.set("id-lv", "DI_TWIN")
    twin.set("libelle", "Mathématiques LV2")
    disciplines.append(twin)
    bilan = next(root.iter(q("bilan-periodique")))
    liste = bilan.find(q("liste-acquis"))
    acquis = next(a for a in liste if a.get("discipline-ref") == maths.get("id"))
    other = copy.deepcopy(acquis)
    other.set("discipline-ref", "DI_TWIN")
    liste.append(other)
    checked = check_file(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), schema, small_spec.uai)
    assert checked.ok, checked.erreurs
    b = next(split_bilans(checked.root))
    mine = [a for a in b["acquis"] if discipline_code(a) == MATHS]
    assert [a["discipline"]["id_lv"] for a in mine] == [maths.get("id"), "DI_TWIN"]
    assert acquis_keys(mine) == [f"{MATHS}-S-{maths.get('id')}", f"{MATHS}-S-DI_TWIN"]
    assert len(view(imported(b, SCONET_NOTES))["acquis"]) == len(b["acquis"])


def test_an_editeur_bilan_is_never_a_completer(complet):
    """Éditeur data are complete by definition (the fiche; Pronote treats éléments de programme as
    non-blocking): an Éditeur bilan without them is COMPLET, never « à compléter »."""
    b = clone(complet)
    for a in b["acquis"]:
        a["elements_programme"] = []
    s = merge_import(None, b, EDITEUR, "imp1", T1).state
    v = view(s)
    assert (v["statut"], v["manquants"]) == (COMPLET, []) and completeness(v) == (COMPLET, [])
    # The same content under Sconet Notes is to complete.
    assert view(imported(b, SCONET_NOTES))["manquants"] == all_ep_missing(b)
