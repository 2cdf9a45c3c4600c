"""LSU's merge rules one by one (chalicelib/domain/merge_rules.py), in the words of the fiche
« Bilans > Import » (docs/contrats.md, « Règles de fusion »), then `decide`: what the worker
records for one bilan of an import (checks, then the rules, then the counter).

Each rule has its tests here, and each of them fails when its rule is left out of `RULES`.
Bilans are real ones: a generated file, checked and split; a Sconet Notes bilan is a partial one
(no appréciation générale, vie scolaire nor éléments de programme unless a test gives them)."""
from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.domain import checks, merge_rules, outcome
from chalicelib.domain.catalogue import ERREUR, message
from chalicelib.domain.merge import (
    BilanState, EditRefused, Editor, apply_edit, discipline_code, lock, merge_import, unlock, view,
)
from chalicelib.domain.merge_rules import RULES, Decision, decide
from chalicelib.domain.vocabulary import BilanStatut, Mode
from chalicelib.referentiel import index_referentiel, validate_referentiel
from lsu_tools.generator import generate_referentiel
from merge_data import (AG_MANUELLE, AP_MANUEL, CE, CPE, ENS, EPIS_MANUELS, FRANCAIS, MATHS, PARCOURS_MANUEL, PP,
                        T1, T2, T3, T4, split_file)

CONTRATS = Path(__file__).resolve().parents[2] / "docs" / "contrats.md"
VS_MANUELLE = {"nb_retards": 1, "nb_abs_justifiees": 2, "nb_abs_injustifiees": 0, "commentaire": "Saisie CPE."}


# --- fixtures and helpers ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bilans(schema, small_spec, small_xml) -> list[dict]:
    return split_file(schema, small_spec.uai, small_xml)


@pytest.fixture(scope="module")
def complet(bilans) -> dict:
    """A complete bilan périodique of 4A (what an Éditeur exports)."""
    b = next(b for b in bilans if b["type"] == "periodique" and b["eleve"]["division"] == "4A")
    assert b["acquis_conseils"] and b["vie_scolaire"] is not None and b["socle"] == []
    assert {MATHS, FRANCAIS} <= {discipline_code(a) for a in b["acquis"]}
    return b


@pytest.fixture(scope="module")
def cycle_bilan(bilans) -> dict:
    b = next(b for b in bilans if b["type"] == "cycle")
    assert b["socle"] and all("positionnement" in d for d in b["socle"])
    return b


def clone(b: dict, **changes) -> dict:
    out = copy.deepcopy(b)
    out.update(copy.deepcopy(changes))
    return out


def sconet(b: dict, *, ag: str | None = None, vs: dict | None = None) -> dict:
    """The Sconet Notes partial version of `b`."""
    out = clone(b, acquis_conseils=ag, vie_scolaire=vs, parcours=[], epis=[], acc_persos=[])
    for a in out["acquis"]:
        a["elements_programme"] = []
    return out


def changed(b: dict) -> dict:
    out = clone(b)
    out["acquis"][0]["appreciation"] = "Appréciation corrigée."
    return out


def moved(b: dict) -> dict:
    """The same content at another line of another file."""
    return clone(b, ligne=9999)


def imported(b: dict, mode: str, import_id: str = "imp1", now: str = T1) -> BilanState:
    r = merge_import(None, b, mode, import_id, now)
    assert r.statut == BilanStatut.IMPORTE and r.state is not None
    return r.state


def entry(editor: Editor, valeur, le: str = T2) -> dict:
    return {"valeur": valeur, "par": f"{editor.role}:{editor.sub}", "le": le}


def rejected(r, code: str) -> None:
    assert (r.statut, r.messages, r.state) == (BilanStatut.REJETE, [message(code)], None)
    assert r.messages[0]["niveau"] == ERREUR


def locked_sconet(b: dict) -> BilanState:
    """A Sconet Notes bilan completed in LSU, then locked by the chef d'établissement."""
    s = imported(sconet(b), Mode.SCONET_NOTES)
    s = apply_edit(s, PP, "acquis_conseils", AG_MANUELLE, T2)
    s = apply_edit(s, CPE, "vie_scolaire", VS_MANUELLE, T2)
    for a in b["acquis"]:
        s = apply_edit(s, PP, "elements_programme", ["EP"], T2, code=discipline_code(a))
    return lock(s, CE)


# --- the sequence -------------------------------------------------------------------------------------

def _contract_rules() -> dict[str, str]:
    """docs/contrats.md, « Règles de fusion »: each numbered rule's text (spaces normalised)."""
    text = CONTRATS.read_text(encoding="utf-8")
    section = text.split("## Règles de fusion", 1)[1].split("\n## ", 1)[0]
    items = re.findall(r"^(\d)\. (.+?)(?=^\d\. |^\s*$)", section, flags=re.M | re.S)
    return {n: " ".join(t.split()) for n, t in items}


def _doc(fn) -> str:
    return " ".join(fn.__doc__.split())


def test_rules_are_the_fiches_in_its_order():
    """The locked-bilan refusal first (before any other refusal), then rules 1 to 7, each named
    and documented with its rule's words."""
    assert [r.__name__ for r in RULES] == [
        "rule_bilan_verrouille", "rule_1_import_editeurs", "rule_2_donnees_importees",
        "rule_3_appreciation_generale", "rule_4_vie_scolaire", "rule_5_saisies_conservees",
        "rule_6_socle", "rule_7_statut"]
    contract = _contract_rules()
    assert sorted(contract) == [str(n) for n in range(1, 8)]
    for n, rule in enumerate(RULES[1:], start=1):
        assert rule.__name__.startswith(f"rule_{n}_")
        assert f"{n}. « {contract[str(n)]} »" in _doc(rule), rule.__name__
    assert "« un bilan verrouillé refuse saisies et imports (`BILAN_VERROUILLE`) »" in _doc(RULES[0])
    assert "un bilan verrouillé refuse saisies et imports (`BILAN_VERROUILLE`)" in " ".join(
        CONTRATS.read_text(encoding="utf-8").split())


def test_the_first_refusal_stops_the_sequence(complet):
    """A locked bilan whose appréciation générale was entered in LSU: the lock refuses first."""
    s = locked_sconet(complet)
    assert "acquis_conseils" in s.saisies
    rejected(merge_import(s, sconet(complet, ag="AG de Sconet Notes."), Mode.SCONET_NOTES, "imp2", T3),
             "BILAN_VERROUILLE")


# --- un bilan verrouillé refuse les imports -------------------------------------------------------------

@pytest.mark.parametrize("mode", [Mode.SCONET_NOTES, Mode.EDITEUR])
def test_a_locked_sconet_bilan_refuses_imports(complet, mode):
    """« Un bilan verrouillé refuse saisies et imports » : the same file or another, in any mode."""
    s = locked_sconet(complet)
    for b in (sconet(complet), changed(sconet(complet)), complet):
        rejected(merge_import(s, b, mode, "imp2", T3), "BILAN_VERROUILLE")
    # Unlocked by the chef d'établissement, it takes imports again.
    r = merge_import(unlock(s, CE), changed(sconet(complet)), Mode.SCONET_NOTES, "imp2", T3)
    assert r.statut == BilanStatut.MIS_A_JOUR and r.state.saisies == s.saisies


# --- rule 1 ---------------------------------------------------------------------------------------------

def test_rule_1_an_editeur_import_is_complete_locked_and_never_unlockable(complet):
    """« Import Éditeurs : bilan complet, verrouillé, jamais déverrouillable ; toute saisie est
    refusée. »"""
    r = merge_import(None, complet, Mode.EDITEUR, "imp1", T1)
    assert r.statut == BilanStatut.IMPORTE and r.messages == []
    s = r.state
    assert (s.mode, s.verrouille, s.verrouille_par, s.saisies) == (Mode.EDITEUR, True, "import éditeur", {})
    assert view(s)["statut"] == "COMPLET"
    for editor, part in ((CE, "parcours"), (PP, "acquis_conseils"), (CPE, "vie_scolaire")):
        with pytest.raises(EditRefused) as exc:
            apply_edit(s, editor, part, "x", T2)
        assert exc.value.code == "BILAN_LOCKED_EDITEUR"
    with pytest.raises(EditRefused) as exc:
        unlock(s, CE)
    assert exc.value.code == "BILAN_LOCKED_EDITEUR"


def test_rule_1_a_new_editeur_import_replaces_it(complet):
    """« … un nouvel import le remplace », locked again."""
    s = imported(complet, Mode.EDITEUR)
    corrige = clone(complet, acquis_conseils="Appréciation corrigée par l'éditeur.")
    r = merge_import(s, corrige, Mode.EDITEUR, "imp2", T2)
    assert r.statut == BilanStatut.MIS_A_JOUR
    assert r.state.importe == outcome.bilan_content(corrige) and r.state.import_id == "imp2"
    assert (r.state.verrouille, r.state.verrouille_par) == (True, "import éditeur")


def test_rule_1_an_editeur_import_leaves_nothing_entered_in_lsu(complet):
    """The class moved from Sconet Notes to Éditeur: the data is complete, the entries made to
    complete the Sconet bilan go, and the bilan is locked."""
    s = imported(sconet(complet), Mode.SCONET_NOTES)
    s = apply_edit(s, CE, "parcours", PARCOURS_MANUEL, T2)
    s = apply_edit(s, ENS, "elements_programme", ["EP maths"], T2, code=MATHS)
    r = merge_import(s, complet, Mode.EDITEUR, "imp2", T3)
    assert r.statut == BilanStatut.MIS_A_JOUR
    assert (r.state.saisies, r.state.verrouille, r.state.verrouille_par) == ({}, True, "import éditeur")


def test_rule_1_a_sconet_import_over_an_editeur_bilan_is_refused(complet):
    """« … jamais déverrouillable … un import Sconet Notes est refusé pour ce bilan » : the class
    switched to Sconet Notes does not unlock an Éditeur bilan; a new Éditeur import still replaces it."""
    s = imported(complet, Mode.EDITEUR)
    for b in (sconet(complet), changed(sconet(complet)), complet):
        rejected(merge_import(s, b, Mode.SCONET_NOTES, "imp2", T2), "BILAN_EDITEUR_IMPORT_SCONET")
    assert merge_import(s, changed(complet), Mode.EDITEUR, "imp2", T2).statut == BilanStatut.MIS_A_JOUR
    assert message("BILAN_EDITEUR_IMPORT_SCONET")["conseil"]


def test_rule_1_an_editeur_bilan_without_elements_de_programme_is_complete_with_an_info(complet):
    """« Il n'est jamais « à compléter » : des éléments de programme absents sont signalés sans
    bloquer » — the info names the disciplines."""
    bare = clone(complet)
    for a in bare["acquis"][:2]:
        a["elements_programme"] = []
    r = merge_import(None, bare, Mode.EDITEUR, "imp1", T1)
    assert r.statut == BilanStatut.IMPORTE and r.state.verrouille
    [info] = r.messages
    assert info["code"] == "ELEMENTS_PROGRAMME_ABSENTS" and info["niveau"] == "INFO"
    assert all((a["discipline"] or {}).get("libelle") in info["message"] for a in bare["acquis"][:2])
    assert merge_import(None, complet, Mode.EDITEUR, "imp1", T1).messages == []
    assert merge_import(None, sconet(complet), Mode.SCONET_NOTES, "imp1", T1).messages == []


# --- rule 2 ---------------------------------------------------------------------------------------------

def test_rule_2_imported_data_is_not_modifiable_in_lsu(complet):
    """« Les données importées ne sont pas modifiables dans LSU (`PART_IMPORTEE`). »"""
    s = imported(sconet(complet, ag="AG importée.", vs=complet["vie_scolaire"]), Mode.SCONET_NOTES)
    assert s.importe["acquis_conseils"] == "AG importée."
    for editor, part, valeur in ((PP, "acquis_conseils", AG_MANUELLE), (CPE, "vie_scolaire", VS_MANUELLE)):
        with pytest.raises(EditRefused) as exc:
            apply_edit(s, editor, part, valeur, T2)
        assert exc.value.code == "PART_IMPORTEE"


def test_rule_2_a_new_import_replaces_the_imported_data(complet):
    """« … un nouvel import les remplace » : the content, which import, when, in which mode."""
    s1 = imported(sconet(complet, ag="Première appréciation."), Mode.SCONET_NOTES)
    b2 = changed(sconet(complet, ag="Appréciation corrigée."))
    r = merge_import(s1, b2, Mode.SCONET_NOTES, "imp2", T2)
    assert r.statut == BilanStatut.MIS_A_JOUR
    s2 = r.state
    assert s2.importe == outcome.bilan_content(b2) and s2.empreinte == outcome.empreinte(b2)
    assert (s2.import_id, s2.importe_le, s2.mode) == ("imp2", T2, Mode.SCONET_NOTES)
    v = view(s2)
    assert v["acquis_conseils"] == {"valeur": "Appréciation corrigée.", "provenance": "IMPORT",
                                    "import_id": "imp2", "le": T2}
    assert v["acquis"][discipline_code(b2["acquis"][0])]["appreciation"] == "Appréciation corrigée."


def test_rule_2_a_partial_sconet_file_keeps_the_parts_imported_before(complet):
    """« Un import Sconet Notes ne remplace que les parties qu'il porte : celles qu'un import
    précédent avait apportées et que le nouveau fichier ne porte pas … sont conservées
    (`PARTIES_CONSERVEES`) » — and say so in the bilan's messages."""
    full = clone(sconet(complet, ag="AG du premier import.", vs=complet["vie_scolaire"]),
                 parcours=PARCOURS_MANUEL, acquis=copy.deepcopy(complet["acquis"]))
    s1 = imported(full, Mode.SCONET_NOTES)
    partial = changed(sconet(complet))                       # no AG, no vie scolaire, no EP, no parcours
    r = merge_import(s1, partial, Mode.SCONET_NOTES, "imp2", T2)
    assert r.statut == BilanStatut.MIS_A_JOUR
    [info] = r.messages
    assert info["code"] == "PARTIES_CONSERVEES" and info["niveau"] == "INFO"
    for label in ("appréciation générale", "vie scolaire", "parcours", "éléments de programme"):
        assert label in info["message"]
    v = view(r.state)
    assert v["acquis_conseils"]["valeur"] == "AG du premier import."
    assert v["vie_scolaire"]["valeur"] == complet["vie_scolaire"] and v["parcours"]["valeur"] == PARCOURS_MANUEL
    maths = next(a for a in complet["acquis"] if discipline_code(a) == MATHS)
    assert v["acquis"][MATHS]["elements_programme"]["valeur"] == maths["elements_programme"]
    assert r.state.importe["conserve"]["acquis_conseils"] == {"import_id": "imp1", "le": T1}
    assert r.state.empreinte == outcome.empreinte(partial), "the file's fingerprint: the same file again is INCHANGE"
    again = merge_import(r.state, partial, Mode.SCONET_NOTES, "imp3", T3)
    assert again.statut == BilanStatut.INCHANGE
    # A part the new file carries replaces the kept one; a later kept part still names imp1.
    r3 = merge_import(r.state, changed(sconet(complet, ag="AG corrigée.")), Mode.SCONET_NOTES, "imp3", T3)
    assert view(r3.state)["acquis_conseils"]["valeur"] == "AG corrigée."
    assert r3.state.importe["conserve"]["vie_scolaire"] == {"import_id": "imp1", "le": T1}


def test_rule_2_an_editeur_file_replaces_everything(complet):
    """« … un nouvel import les remplace » : an Éditeur file is complete, nothing is kept."""
    s1 = imported(clone(complet, parcours=PARCOURS_MANUEL), Mode.EDITEUR)
    r = merge_import(s1, complet, Mode.EDITEUR, "imp2", T2)
    assert r.messages == [] and r.state.importe == outcome.bilan_content(complet)


def test_rule_2_an_entry_made_in_lsu_shows_again_rather_than_the_kept_import(complet):
    """« … sauf si une saisie LSU les complète déjà » : the entry (rule 5) is what LSU holds."""
    s = apply_edit(imported(sconet(complet), Mode.SCONET_NOTES), CE, "parcours", PARCOURS_MANUEL, T2)
    s = merge_import(s, sconet(complet) | {"parcours": [{"code": "PAR_AVN", "texte": "Stage."}]},
                     Mode.SCONET_NOTES, "imp2", T3).state
    r = merge_import(s, sconet(complet), Mode.SCONET_NOTES, "imp3", T4)
    assert r.messages == [] and view(r.state)["parcours"]["provenance"] == "SAISIE"


# --- rule 3 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stored_ag", [None, "AG importée auparavant."], ids=["absente", "importee"])
def test_rule_3_the_files_ag_updates_an_absent_or_imported_one(complet, stored_ag):
    """« Appréciation générale présente dans le fichier : mise à jour si absente ou importée dans
    LSU. »"""
    s = imported(sconet(complet, ag=stored_ag), Mode.SCONET_NOTES)
    r = merge_import(s, sconet(complet, ag="AG de Sconet Notes."), Mode.SCONET_NOTES, "imp2", T2)
    assert r.statut == BilanStatut.MIS_A_JOUR and r.messages == []
    assert view(r.state)["acquis_conseils"]["valeur"] == "AG de Sconet Notes."


@pytest.mark.parametrize("mode", [Mode.SCONET_NOTES, Mode.EDITEUR])
def test_rule_3_an_ag_entered_in_lsu_rejects_the_bilan_and_is_kept(complet, mode):
    """« … si elle a été saisie dans LSU, le bilan est rejeté (`MANUAL_AG_PRESENT`) et la saisie
    conservée » — whatever the file's mode: nothing is written."""
    s = apply_edit(imported(sconet(complet), Mode.SCONET_NOTES), PP, "acquis_conseils", AG_MANUELLE, T2)
    file = complet if mode == Mode.EDITEUR else sconet(complet, ag="AG de Sconet Notes.")
    rejected(merge_import(s, file, mode, "imp2", T3), "MANUAL_AG_PRESENT")
    # A file without appréciation générale is merged, the entry kept.
    r = merge_import(s, changed(sconet(complet)), Mode.SCONET_NOTES, "imp2", T3)
    assert r.statut == BilanStatut.MIS_A_JOUR and r.state.saisies == {"acquis_conseils": entry(PP, AG_MANUELLE)}


# --- rule 4 ---------------------------------------------------------------------------------------------

def test_rule_4_a_file_without_vie_scolaire_keeps_the_one_entered(complet):
    """« Vie scolaire : fichier sans → la saisie LSU est conservée. »"""
    s = apply_edit(imported(sconet(complet), Mode.SCONET_NOTES), CPE, "vie_scolaire", VS_MANUELLE, T2)
    r = merge_import(s, changed(sconet(complet)), Mode.SCONET_NOTES, "imp2", T3)
    assert r.state.saisies == {"vie_scolaire": entry(CPE, VS_MANUELLE)}
    assert view(r.state)["vie_scolaire"]["provenance"] == "SAISIE"


def test_rule_4_a_file_with_vie_scolaire_replaces_and_deletes_the_one_entered(complet):
    """« … fichier avec → elle remplace (et supprime) la saisie LSU » ; the other entries stay."""
    s = imported(sconet(complet), Mode.SCONET_NOTES)
    s = apply_edit(s, CPE, "vie_scolaire", VS_MANUELLE, T2)
    s = apply_edit(s, CE, "parcours", PARCOURS_MANUEL, T2)
    r = merge_import(s, sconet(complet, vs=complet["vie_scolaire"]), Mode.SCONET_NOTES, "imp2", T3)
    assert r.statut == BilanStatut.MIS_A_JOUR
    assert r.state.saisies == {"parcours": entry(CE, PARCOURS_MANUEL)}
    assert view(r.state)["vie_scolaire"]["provenance"] == "IMPORT"
    # Deleted: a later file without vie scolaire does not bring the entry back (the vie scolaire
    # imported by imp2 stays: rule 2, a partial file replaces only what it carries).
    r2 = merge_import(r.state, sconet(complet), Mode.SCONET_NOTES, "imp3", T4)
    assert "vie_scolaire" not in r2.state.saisies
    assert view(r2.state)["vie_scolaire"]["valeur"] == complet["vie_scolaire"]


# --- rule 5 ---------------------------------------------------------------------------------------------

def test_rule_5_what_was_entered_to_complete_an_import_is_kept_on_reimport(complet):
    """« Ce qui a été saisi dans LSU pour compléter un import (parcours, éléments de programme,
    EPI, AP…) est conservé à la réimportation. »"""
    s = imported(sconet(complet), Mode.SCONET_NOTES)
    s = apply_edit(s, CE, "parcours", PARCOURS_MANUEL, T2)
    s = apply_edit(s, CE, "epis", EPIS_MANUELS, T2)
    s = apply_edit(s, CE, "acc_persos", AP_MANUEL, T2)
    s = apply_edit(s, ENS, "elements_programme", ["EP maths"], T2, code=MATHS)
    assert len(s.saisies) == 4
    r = merge_import(s, changed(sconet(complet)), Mode.SCONET_NOTES, "imp2", T3)
    assert r.statut == BilanStatut.MIS_A_JOUR
    assert r.state.saisies == s.saisies and list(r.state.saisies) == list(s.saisies)
    v = view(r.state)
    assert v["parcours"]["provenance"] == v["epis"]["provenance"] == v["acc_persos"]["provenance"] == "SAISIE"
    assert v["acquis"][MATHS]["elements_programme"]["valeur"] == ["EP maths"]


# --- rule 6 ---------------------------------------------------------------------------------------------

def test_rule_6_a_bilan_de_fin_de_cycle_carries_the_socle(cycle_bilan):
    """« Les bilans importés portent le positionnement du socle. »"""
    s = imported(cycle_bilan, Mode.EDITEUR)
    assert s.importe["socle"] == cycle_bilan["socle"]
    socle = view(s)["socle"]
    assert socle == {"valeur": cycle_bilan["socle"], "provenance": "IMPORT", "import_id": "imp1", "le": T1}
    assert all({"code", "positionnement"} <= set(d) for d in socle["valeur"])
    # Stored as the file has it: same parts, in the same order.
    assert json.dumps(s.importe) == json.dumps(outcome.bilan_content(cycle_bilan))


def test_rule_6_a_bilan_periodique_carries_the_socle_too(complet):
    socle = [{"code": "CPD_FRA", "positionnement": "3"}, {"code": "MET_APP", "positionnement": "2"}]
    s = imported(sconet(complet), Mode.SCONET_NOTES)
    assert view(s)["socle"]["provenance"] == "ABSENT"
    r = merge_import(s, sconet(complet) | {"socle": socle}, Mode.SCONET_NOTES, "imp2", T2)
    assert r.statut == BilanStatut.MIS_A_JOUR
    assert view(r.state)["socle"]["valeur"] == socle


# --- rule 7 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [Mode.EDITEUR, Mode.SCONET_NOTES])
def test_rule_7_importe_then_inchange_then_mis_a_jour(complet, mode):
    """« Statut à la réimportation : `IMPORTE`, `MIS_A_JOUR` ou `INCHANGE`. »"""
    b = complet if mode == Mode.EDITEUR else sconet(complet)
    r1 = merge_import(None, b, mode, "imp1", T1)
    assert r1.statut == BilanStatut.IMPORTE and r1.state is not None
    r2 = merge_import(r1.state, moved(b), mode, "imp2", T2)
    assert (r2.statut, r2.messages, r2.state) == (BilanStatut.INCHANGE, [], None)
    r3 = merge_import(r1.state, changed(b), mode, "imp3", T3)
    assert r3.statut == BilanStatut.MIS_A_JOUR and r3.state.import_id == "imp3"


def test_rule_7_a_bilan_never_imported_is_importe(complet):
    r = merge_import(BilanState(saisies={"parcours": entry(CE, PARCOURS_MANUEL)}), sconet(complet),
                     Mode.SCONET_NOTES, "imp1", T1)
    assert r.statut == BilanStatut.IMPORTE and r.state.saisies == {"parcours": entry(CE, PARCOURS_MANUEL)}


def test_rule_7_same_content_but_another_mode_or_deleted_entries_is_mis_a_jour(complet):
    s = imported(complet, Mode.SCONET_NOTES)
    r = merge_import(s, moved(complet), Mode.EDITEUR, "imp2", T2)
    assert r.statut == BilanStatut.MIS_A_JOUR and r.state.mode == Mode.EDITEUR
    # Same content; the only change is a manual vie scolaire the file's deletes.
    s = replace(s, saisies={"vie_scolaire": entry(CPE, VS_MANUELLE)})
    r = merge_import(s, moved(complet), Mode.SCONET_NOTES, "imp2", T2)
    assert r.statut == BilanStatut.MIS_A_JOUR and r.state.saisies == {}


# --- decide: one bilan of an import ---------------------------------------------------------------------

@pytest.fixture
def data(small_spec) -> dict:
    """The school's référentiel (a fresh copy per test), every division in Éditeur mode."""
    d = copy.deepcopy(generate_referentiel(small_spec))
    assert {div["mode_import"] for div in d["divisions"]} == {Mode.EDITEUR}
    return d


def index(data: dict):
    assert validate_referentiel(data) == []
    return index_referentiel(data)


def set_mode(data: dict, division: str, mode: str) -> None:
    next(d for d in data["divisions"] if d["code"] == division)["mode_import"] = mode


def without_service(data: dict, bilan: dict) -> list[dict]:
    """Take the Français teacher's services in the bilan's division away: the checks warn."""
    teacher = next(a for a in bilan["acquis"] if discipline_code(a) == FRANCAIS)["enseignants"][0]["id_sts"]
    division = bilan["eleve"]["division"]
    data["services"] = [s for s in data["services"] if not (s["enseignant"] == teacher and s["division"] == division)]
    warnings = checks.evaluate_bilan(bilan, index(data))
    assert [m["code"] for m in warnings] == ["SERVICE_UNKNOWN"]
    return warnings


def core(d: Decision) -> tuple:
    """What the worker writes and counts (the result's élève, evaluation system and lacks aside)."""
    return d.statut, d.messages, d.state, d.counter, d.warning


def test_decide_a_new_bilan_is_importe_in_its_divisions_mode(data, complet):
    ref = index(data)
    d = decide(None, complet, ref, "imp1", T1, pre_controle=False)
    expected = merge_import(None, complet, Mode.EDITEUR, "imp1", T1).state
    assert core(d) == core(Decision(BilanStatut.IMPORTE, [], expected, "nouveaux", False))
    assert d.state.mode == Mode.EDITEUR and d.state.verrouille
    set_mode(data, "4A", Mode.SCONET_NOTES)
    d = decide(None, complet, index(data), "imp1", T1, pre_controle=False)
    assert d.state.mode == Mode.SCONET_NOTES and not d.state.verrouille


def test_decide_a_bilan_the_checks_refuse_is_rejected_before_the_merge(data, complet):
    """The checks come first: an unknown élève is rejected with the check's message alone, even
    when LSU holds a bilan the merge rules would refuse too (locked)."""
    bilan = clone(complet)
    bilan["eleve"]["id_be"] = "1234"
    expected = checks.evaluate_bilan(bilan, index(data))
    assert [m["code"] for m in expected] == ["STUDENT_UNKNOWN"]
    for current in (None, locked_sconet(complet)):
        for pre_controle in (False, True):
            d = decide(current, bilan, index(data), "imp2", T3, pre_controle)
            assert core(d) == core(Decision(BilanStatut.REJETE, expected, None, "rejetes", False))


def test_decide_a_bilan_the_rules_refuse_lists_the_merges_message_then_the_checks(data, complet):
    set_mode(data, "4A", Mode.SCONET_NOTES)
    warnings = without_service(data, complet)
    current = apply_edit(imported(sconet(complet), Mode.SCONET_NOTES), PP, "acquis_conseils", AG_MANUELLE, T2)
    d = decide(current, sconet(complet, ag="AG de Sconet Notes."), index(data), "imp2", T3, pre_controle=False)
    assert core(d) == core(Decision(BilanStatut.REJETE, [message("MANUAL_AG_PRESENT"), *warnings], None, "rejetes", True))


def test_decide_counts_each_status_and_its_warnings(data, complet):
    warnings = without_service(data, complet)
    ref = index(data)
    first = decide(None, complet, ref, "imp1", T1, pre_controle=False)
    assert (first.statut, first.counter, first.messages, first.warning) == (
        BilanStatut.IMPORTE, "nouveaux", warnings, True)
    again = decide(first.state, moved(complet), ref, "imp2", T2, pre_controle=False)
    assert core(again) == core(Decision(BilanStatut.INCHANGE, warnings, None, "inchanges", True))
    other = decide(first.state, changed(complet), ref, "imp3", T3, pre_controle=False)
    assert (other.statut, other.counter, other.warning) == (BilanStatut.MIS_A_JOUR, "mis_a_jour", True)
    assert other.state == merge_import(first.state, changed(complet), Mode.EDITEUR, "imp3", T3).state
    assert merge_rules.COUNTER_OF == {BilanStatut.IMPORTE: "nouveaux", BilanStatut.MIS_A_JOUR: "mis_a_jour",
                                      BilanStatut.INCHANGE: "inchanges", BilanStatut.REJETE: "rejetes"}


def test_decide_without_warning(data, complet):
    clean = decide(None, complet, index(data), "imp1", T1, pre_controle=False)
    assert clean.messages == [] and clean.warning is False


def test_decide_a_pre_controle_reports_the_same_and_writes_nothing(data, complet):
    ref = index(data)
    stored = imported(complet, Mode.EDITEUR)
    for current, bilan in ((None, complet), (stored, changed(complet)), (stored, moved(complet))):
        real = decide(current, bilan, ref, "imp2", T2, pre_controle=False)
        dry = decide(current, bilan, ref, "imp2", T2, pre_controle=True)
        assert dry == replace(real, state=None)
        assert (real.state is None) == (real.statut == BilanStatut.INCHANGE)


def test_decide_attaches_the_bilan_to_the_eleves_siecle_class_and_warns(data, complet):
    """Issue 14 (defect 5): one division per bilan, SIECLE's — the file's is kept beside it and
    the synthèse warns (the élève changed class, or the file is stale)."""
    moved_file = clone(complet, eleve={**complet["eleve"], "division": "4B"})
    d = decide(None, moved_file, index(data), "imp1", T1, pre_controle=False)
    assert d.statut == BilanStatut.IMPORTE and d.warning
    assert [m["code"] for m in d.messages] == ["DIVISION_FICHIER_DIFFERENTE"]
    assert "Fichier : 4B ; SIECLE : 4A." in d.messages[0]["message"]
    assert d.state.importe["eleve"]["division"] == "4A" and d.state.importe["eleve"]["division_fichier"] == "4B"
    assert d.eleve["division"] == "4A" and view(d.state)["eleve"]["division"] == "4A"
    same = decide(None, complet, index(data), "imp1", T1, pre_controle=False)
    assert same.messages == [] and "division_fichier" not in same.state.importe["eleve"]


def test_decide_says_what_a_sconet_bilan_lacks_and_which_evaluation_system_it_follows(data, complet):
    set_mode(data, "4A", Mode.SCONET_NOTES)
    d = decide(None, sconet(complet), index(data), "imp1", T1, pre_controle=False)
    assert d.statut == BilanStatut.IMPORTE
    assert "appréciation générale" in d.a_completer and "vie scolaire" in d.a_completer
    assert any(m.startswith("éléments de programme") for m in d.a_completer)
    assert d.systeme_evaluation in ("NOTES", "POSITIONNEMENT")
    set_mode(data, "4A", Mode.EDITEUR)
    assert decide(None, complet, index(data), "imp1", T1, pre_controle=False).a_completer == []
