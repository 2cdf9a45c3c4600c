"""SIECLE and STS Web exports → the school's référentiel (chalicelib/referentiel/exports.py).

Fixtures of our own in tests/fixtures/exports (a fictitious collège 0999999Z, 2025-2026), each in
UTF-8 and in ISO-8859-1: parsing of the three exports, refusals (the timetable file EDT_STS, an
unknown root, another school or year, hostile XML), the merge and its report (added, changed,
removed), modes of existing divisions preserved, atomicity, and a round trip: exports →
référentiel → the checks of an LSU import (generated, XSD-valid) use it. Then properties
(hypothesis) of the merge on random SIECLE exports."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from chalicelib.domain import checks
from chalicelib.domain.catalogue import CATALOGUE
from chalicelib.referentiel import (
    enseignements_facultatifs, enseignements_obligatoires, index_referentiel, validate_referentiel,
)
from chalicelib.referentiel.exports import (
    BEE_ELEVES, BEE_NOMENCLATURES, CONSEIL_FICHIER, STS_EDT, TYPES_STS, ExportError, import_exports,
    lire_export, referentiel_vide,
)
from chalicelib.referentiel.fusion import Apports, fusionner, niveau_du_mef
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file
from exports_school import ELEVES, FIXTURES, NOMENCLATURE, STS, UAI, fixture, lsu_file_of_the_fixture_school

ENCODAGES = ("utf8", "latin1")


def texte(nom: str) -> str:
    """The UTF-8 fixture as text, to derive variants from."""
    return (FIXTURES / f"{nom}.utf8.xml").read_text(encoding="utf-8")


def latin1(xml: str) -> bytes:
    return xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1).encode("iso-8859-1")


def erreurs_de(exc: pytest.ExceptionInfo) -> list[dict]:
    erreurs = exc.value.erreurs
    for e in erreurs:
        assert e["code"] in CATALOGUE and e["niveau"] == "ERREUR" and e["message"], e
    return erreurs


def codes_de(exc: pytest.ExceptionInfo) -> list[str]:
    return [e["code"] for e in erreurs_de(exc)]


def complet(encodage: str = "latin1") -> tuple[dict, dict]:
    """The référentiel made from the three exports, from nothing."""
    return import_exports(None, [fixture(ELEVES, encodage), fixture(NOMENCLATURE, encodage), fixture(STS, encodage)],
                          UAI, noms=["eleves.xml", "nomenclature.xml", "sts.xml"])


@pytest.fixture(scope="module")
def ref_complet() -> dict:
    return complet()[0]


# --- the fixtures themselves --------------------------------------------------------------------

@pytest.mark.parametrize("nom", [ELEVES, NOMENCLATURE, STS])
def test_latin1_fixtures_hold_real_single_byte_accents(nom):
    data = fixture(nom, "latin1")
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert b"\xe9" in data or b"\xc9" in data                    # é / É as one byte
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("iso-8859-1") == texte(nom).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1)


# --- parsing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("encodage", ENCODAGES)
def test_base_eleves_is_read_in_both_encodings(encodage):
    export = lire_export(fixture(ELEVES, encodage), UAI, nom="ElevesSansAdresses.xml")
    assert (export.type, export.uai, export.annee, export.nom) == (BEE_ELEVES, UAI, "2025", "ElevesSansAdresses.xml")
    eleves = {e.id_be: e for e in export.contenu.eleves}
    assert list(eleves) == ["4100001", "4100002", "4100003", "4100004", "4100005"]
    lea = eleves["4100001"]
    assert (lea.nom, lea.prenom, lea.sexe, lea.division, lea.code_mef) == ("DUPRÉ", "Léa", "F", "6A", "10010012110")
    assert (lea.date_naissance, lea.date_entree, lea.date_sortie) == ("2014-03-12", "2025-09-02", None)
    assert lea.ine == "000000001AA"
    assert eleves["4100002"].sexe == "M" and eleves["4100002"].nom == "LEFÈVRE"
    zoe = eleves["4100003"]
    assert (zoe.division, zoe.groupes) == ("3B", ("3LAT",))
    assert [(o.code_matiere, o.modalite) for o in zoe.options] == [("030602", "O"), ("020300", "F")]
    anais = eleves["4100004"]
    assert anais.nom == "MÜLLER" and anais.date_sortie == "2026-01-15"     # NOM_DE_FAMILLE before NOM_USAGE
    assert (eleves["4100005"].division, eleves["4100005"].groupes) == (None, ("3LAT",))


def test_both_encodings_give_the_same_content():
    for nom in (ELEVES, NOMENCLATURE, STS):
        assert lire_export(fixture(nom, "utf8"), UAI).contenu == lire_export(fixture(nom, "latin1"), UAI).contenu


def test_nomenclatures_are_read_with_padding_removed():
    contenu = lire_export(fixture(NOMENCLATURE), UAI).contenu
    francais = next(m for m in contenu.matieres if m.code == "020700")
    assert (francais.code_gestion, francais.libelle_court, francais.libelle_long, francais.libelle_edition) == \
        ("FRANC", "FRANCAIS", "FRANCAIS", "Français")
    assert francais.libelle == "Français"
    assert len(contenu.matieres) == 14
    assert {m.code: (m.formation, m.rattachement) for m in contenu.mefs} == {
        "10010012110": ("6EME", "10010012110"), "10310019110": ("3EME", "10310019110")}
    assert [(p.code_mef, p.code_matiere, p.modalite, p.horaire) for p in contenu.programmes][1] == \
        ("10310019110", "020300", "F", "3.00")
    assert [(m.code, m.libelle) for m in contenu.modalites] == [
        ("S", "Tronc commun"), ("O", "Option obligatoire"), ("F", "Option facultative")]


def test_sts_export_is_read():
    export = lire_export(fixture(STS), UAI)
    sts = export.contenu
    assert (export.type, export.annee) == (STS_EDT, "2025")
    assert (sts.nom_etablissement, sts.commune) == ("COLLEGE ÉMILE ZOLA", "VILLENEUVE-SUR-ÉPREUVE")
    individus = {i.id: i for i in sts.individus}
    assert (individus["51001"].nom, individus["51001"].prenom, individus["51001"].civilite) == ("BÉRANGER", "Hélène", "MME")
    assert individus["51001"].profs_principaux == ("6A",) and individus["51002"].civilite == "M"
    assert individus["51003"].type == "local" and individus["51004"].fonction == "DIR"
    divisions = {d.code: d for d in sts.divisions}
    assert divisions["6A"].mefs == ("10010012110",)
    assert [(s.code_matiere, s.code_mod_cours, s.enseignants) for s in divisions["3B"].services] == [
        ("020700", "CG", ("51001",)), ("061300", "CG", ("51002",)), ("061300", "TP", ("51002",))]
    assert divisions["3C"].services == ()
    (latin,) = sts.groupes
    assert (latin.code, latin.divisions, latin.services[0].enseignants) == ("3LAT", ("3B", "3C"), ("51003",))
    assert {m.code for m in sts.matieres} == {"020700", "061300", "020300"}


@pytest.mark.parametrize("code, niveau", [
    ("10010012110", "6E"), ("1001000C11A", "6E"), ("10110001110", "5E"), ("10210001110", "4E"),
    ("10310019110", "3E"), ("1671000C11A", "3E"), ("16410002110", "6E"), ("24720001110", None), (None, None)])
def test_niveau_of_a_mef_from_its_code(code, niveau):
    assert niveau_du_mef(code, {}) == niveau


def test_niveau_of_a_mef_from_its_attachment_or_label():
    from chalicelib.referentiel._lecture import Mef
    mefs = {"99900001110": Mef("99900001110", rattachement="10210001110"),
            "99900002110": Mef("99900002110", formation="5EME ULIS"),
            "99900003110": Mef("99900003110", libelle_long="CAP CUISINE")}
    assert [niveau_du_mef(c, mefs) for c in mefs] == ["4E", "5E", None]


# --- refusals: wrong file, wrong school, wrong year ---------------------------------------------

def test_the_timetable_file_is_refused_with_the_right_file_named():
    with pytest.raises(ExportError) as exc:
        lire_export((FIXTURES / "emp_sts_edt.xml").read_bytes(), UAI, nom="emp_sts_edt.xml")
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_FICHIER_EDT" and e["fichier"] == "emp_sts_edt.xml"
    assert "EDT_STS" in e["message"] and "emploi du temps" in e["message"]
    assert "sts_emp_UAI_ANNEE.xml" in e["conseil"] and "STS_EDT" in e["conseil"]


def test_the_timetable_file_is_refused_by_the_whole_import_too(ref_complet):
    avant = copy.deepcopy(ref_complet)
    with pytest.raises(ExportError) as exc:
        import_exports(ref_complet, [(FIXTURES / "emp_sts_edt.xml").read_bytes()], UAI, types=TYPES_STS)
    assert codes_de(exc) == ["EXPORT_FICHIER_EDT"]
    assert ref_complet == avant


@pytest.mark.parametrize("xml, trouve", [
    (b"<?xml version='1.0'?><BEE_RESPONSABLES><PARAMETRES/></BEE_RESPONSABLES>", "« BEE_RESPONSABLES »."),
    (b"<BEE_ELEVES xmlns='urn:autre'/>", "« BEE_ELEVES » de l'espace de noms « urn:autre »."),
])
def test_an_unknown_root_is_refused(xml, trouve):
    with pytest.raises(ExportError) as exc:
        lire_export(xml, UAI, nom="x.xml")
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_FICHIER_INCONNU" and e["message"].endswith(f"Élément racine trouvé : {trouve}")
    assert "ElevesSansAdresses.xml" in e["conseil"]


def test_an_lsu_bilans_file_is_no_export(small_xml):
    with pytest.raises(ExportError) as exc:
        lire_export(small_xml, UAI)
    assert codes_de(exc) == ["EXPORT_FICHIER_INCONNU"] and "lsun-bilans" in exc.value.erreurs[0]["message"]


def test_a_kind_not_expected_here_is_refused():
    with pytest.raises(ExportError) as exc:
        lire_export(fixture(ELEVES), UAI, types=TYPES_STS)
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_TYPE_INATTENDU"
    assert "Fichier : export SIECLE « Base élèves » ; attendu : export STS Web (sts_emp)." in e["message"]


@pytest.mark.parametrize("nom", [ELEVES, NOMENCLATURE, STS])
def test_another_schools_export_is_refused(nom):
    with pytest.raises(ExportError) as exc:
        lire_export(fixture(nom), "0750001A", nom="f.xml")
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_UAI_MISMATCH"
    assert e["message"].endswith("UAI du fichier : 0999999Z ; UAI de l'établissement : 0750001A.")


def test_an_export_without_uai_is_refused():
    xml = texte(ELEVES).replace("<UAJ>0999999Z</UAJ>", "")
    with pytest.raises(ExportError) as exc:
        lire_export(xml.encode(), UAI)
    assert codes_de(exc) == ["EXPORT_UAI_MISMATCH"] and "absent (PARAMETRES/UAJ)" in exc.value.erreurs[0]["message"]


def test_uai_case_is_not_significant():
    xml = texte(STS).replace('CODE="0999999Z"', 'CODE="0999999z"')
    assert lire_export(xml.encode(), UAI).uai == UAI


def test_another_year_is_refused_against_the_referentiel(ref_complet):
    suivant = texte(ELEVES).replace("<ANNEE_SCOLAIRE>2025</ANNEE_SCOLAIRE>", "<ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE>")
    with pytest.raises(ExportError) as exc:
        import_exports(ref_complet, [suivant.encode()], UAI, noms=["eleves-2026.xml"])
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_ANNEE_MISMATCH" and e["fichier"] == "eleves-2026.xml"
    assert e["message"].endswith("Année du fichier : 2026-2027 ; année du référentiel : 2025-2026.")


def test_exports_of_different_years_cannot_start_a_referentiel():
    sts = texte(STS).replace('ANNEE="2025"', 'ANNEE="2024"')
    with pytest.raises(ExportError) as exc:
        import_exports(None, [fixture(ELEVES), sts.encode()], UAI)
    assert codes_de(exc) == ["EXPORT_ANNEE_MISMATCH"]
    assert "2024-2025, 2025-2026" in exc.value.erreurs[0]["message"]


def test_a_referentiel_of_another_school_is_refused():
    with pytest.raises(ExportError) as exc:
        import_exports(referentiel_vide("0750001A", "2025"), [fixture(ELEVES)], UAI)
    assert codes_de(exc) == ["EXPORT_UAI_MISMATCH"]


def test_the_same_kind_twice_is_refused():
    with pytest.raises(ExportError) as exc:
        import_exports(None, [fixture(ELEVES, "utf8"), fixture(ELEVES, "latin1")], UAI, noms=["a.xml", "b.xml"])
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_EN_DOUBLE" and e["message"].endswith("Export SIECLE « Base élèves » : a.xml et b.xml.")


def test_no_file_is_a_bad_request():
    with pytest.raises(ExportError) as exc:
        import_exports(None, [], UAI)
    assert codes_de(exc) == ["BAD_REQUEST"]


def test_every_bad_file_is_reported_at_once():
    with pytest.raises(ExportError) as exc:
        import_exports(None, [b"", (FIXTURES / "emp_sts_edt.xml").read_bytes(), fixture(ELEVES)], UAI,
                       noms=["vide.xml", "edt.xml", "eleves.xml"])
    assert [(e["code"], e["fichier"]) for e in erreurs_de(exc)] == [
        ("EMPTY_FILE", "vide.xml"), ("EXPORT_FICHIER_EDT", "edt.xml")]


# --- the XML guards of LSU files, reused ----------------------------------------------------------

HOSTILE = {
    "DOCTYPE_FORBIDDEN": [
        b'<?xml version="1.0"?><!DOCTYPE BEE_ELEVES SYSTEM "http://example.invalid/x.dtd"><BEE_ELEVES/>',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<BEE_ELEVES><PARAMETRES><UAJ>&b;</UAJ></PARAMETRES></BEE_ELEVES>',
        b'<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE BEE_ELEVES [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<BEE_ELEVES><PARAMETRES><UAJ>&xxe;</UAJ></PARAMETRES></BEE_ELEVES>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE BEE_ELEVES [<!ENTITY x "y">]><BEE_ELEVES/>'.encode("utf-16"),
    ],
    "EMPTY_FILE": [b""],
    "BLANK_FILE": [b"  \n\t\n"],
    "NOT_XML": [b"%PDF-1.7\n1 0 obj\n", b"ELEVE_ID;NOM;PRENOM\n4100001;DUPRE;Lea\n"],
    "NOT_WELL_FORMED": [b"<BEE_ELEVES><PARAMETRES>", "<BEE_ELEVES>é</BEE_ELEVES>".encode("iso-8859-1")],
    "ENCODING_MISMATCH": [texte(ELEVES).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("utf-8")],
}


@pytest.mark.parametrize("code, data", [(c, d) for c, ds in HOSTILE.items() for d in ds])
def test_hostile_or_broken_files_are_refused_before_reading(code, data):
    with pytest.raises(ExportError) as exc:
        lire_export(data, UAI, nom="f.xml")
    (e,) = erreurs_de(exc)
    assert (e["code"], e["fichier"], e["conseil"]) == (code, "f.xml", CONSEIL_FICHIER)


def test_size_cap():
    with pytest.raises(ExportError) as exc:
        lire_export(fixture(ELEVES), UAI, max_bytes=1000)
    assert codes_de(exc) == ["FILE_TOO_LARGE"]
    assert lire_export(fixture(ELEVES), UAI, max_bytes=len(fixture(ELEVES))).type == BEE_ELEVES


def test_comments_and_processing_instructions_do_not_disturb():
    xml = texte(ELEVES).replace("<ELEVES>", "<ELEVES><!-- commentaire --><?traitement x?>")
    assert len(lire_export(xml.encode(), UAI).contenu.eleves) == 5


# --- data errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("avant, apres, attendu", [
    ('ELEVE_ID="4100002"', 'ELEVE_ID="41A0002"', "ELEVE_ID « 41A0002 » n'est pas un identifiant numérique."),
    ('ELEVE_ID="4100002" ELENOET="102"', 'ELEVE_ID="4100001" ELENOET="102"', "ELEVE_ID présent plusieurs fois."),
    ("<PRENOM>Noé</PRENOM>", "", "prénom (PRENOM) absent."),
    ("<DATE_ENTREE>02/09/2025</DATE_ENTREE>\n      </ELEVE>\n      <ELEVE ELEVE_ID=\"4100003\"",
     "<DATE_ENTREE>31/02/2025</DATE_ENTREE>\n      </ELEVE>\n      <ELEVE ELEVE_ID=\"4100003\"",
     "DATE_ENTREE « 31/02/2025 » n'est pas une date JJ/MM/AAAA valide."),
    ("<DATE_SORTIE>15/01/2026</DATE_SORTIE>", "<DATE_SORTIE>15/01/2022</DATE_SORTIE>",
     "date de sortie (2022-01-15) antérieure à la date d'entrée (2022-09-01)."),
    ("<CODE_MATIERE>020300</CODE_MATIERE>", "<CODE_MATIERE>LATIN</CODE_MATIERE>",
     "option de code matière « LATIN » au lieu d'un code de 6 chiffres."),
    ("<CODE_STRUCTURE>3LAT</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>G</TYPE_STRUCTURE>\n        </STRUCTURE>\n"
     "      </STRUCTURES_ELEVE>\n      <STRUCTURES_ELEVE ELEVE_ID=\"4100004\"",
     "<CODE_STRUCTURE>3C</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>\n        </STRUCTURE>\n"
     "      </STRUCTURES_ELEVE>\n      <STRUCTURES_ELEVE ELEVE_ID=\"4100004\"",
     "rattaché à plusieurs divisions (3B, 3C)."),
])
def test_invalid_data_of_the_base_eleves_is_reported_with_its_line(avant, apres, attendu):
    xml = texte(ELEVES)
    assert avant in xml
    with pytest.raises(ExportError) as exc:
        lire_export(latin1(xml.replace(avant, apres, 1)), UAI, nom="eleves.xml")
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_DONNEE_INVALIDE" and e["fichier"] == "eleves.xml" and e["ligne"] > 1
    assert e["message"].endswith(attendu), e["message"]


@pytest.mark.parametrize("avant, apres, attendu", [
    ('INDIVIDU ID="51003"', 'INDIVIDU ID="A51003"', "ID « A51003 » n'est pas un identifiant numérique."),
    ('TYPE="local">', 'TYPE="autre">', "TYPE « autre » au lieu de « epp » ou « local »."),
    ('INDIVIDU ID="51004"', 'INDIVIDU ID="51001"', "ID présent plusieurs fois dans INDIVIDUS."),
    ('SERVICE CODE_MATIERE="020300"', 'SERVICE CODE_MATIERE="LATIN"',
     "service de code matière « LATIN » au lieu d'un code de 6 chiffres."),
    ('DIVISION CODE="3C"', 'DIVISION CODE="3B"', "Division « 3B » présente plusieurs fois."),
])
def test_invalid_data_of_the_sts_export_is_reported(avant, apres, attendu):
    xml = texte(STS)
    assert avant in xml
    with pytest.raises(ExportError) as exc:
        lire_export(xml.replace(avant, apres, 1).encode(), UAI)
    assert any(e["code"] == "EXPORT_DONNEE_INVALIDE" and e["message"].endswith(attendu) for e in erreurs_de(exc)), \
        exc.value.erreurs


def test_many_errors_are_reported_together_up_to_a_limit():
    xml = texte(ELEVES)
    eleve = xml[xml.index('<ELEVE ELEVE_ID="4100001"'):xml.index('<ELEVE ELEVE_ID="4100002"')]
    xml = xml.replace(eleve, "".join(eleve.replace("4100001", f"X{i}") for i in range(30)) + eleve)
    with pytest.raises(ExportError) as exc:
        lire_export(xml.encode(), UAI)
    erreurs = erreurs_de(exc)
    assert len(erreurs) == 20 and "(et 10 autre(s) anomalie(s) non affichée(s))" in erreurs[-1]["message"]


def test_a_service_whose_teacher_or_subject_is_unknown_refuses_the_merge():
    xml = texte(STS).replace('<ENSEIGNANT ID="51003" TYPE="local"/>', '<ENSEIGNANT ID="59999" TYPE="epp"/>')
    xml = xml.replace('<MATIERE CODE="061300">', '<MATIERE CODE="061399">')
    with pytest.raises(ExportError) as exc:
        import_exports(None, [xml.encode()], UAI)
    messages = [e["message"] for e in erreurs_de(exc)]
    assert set(codes_de(exc)) == {"EXPORT_DONNEE_INVALIDE"}
    assert any("l'enseignant 59999 du service 020300 n'est pas dans la liste des individus." in m for m in messages)
    assert any("Division « 6A » : la matière 061300 du service est absente des nomenclatures" in m for m in messages)


def test_a_group_over_an_unknown_division_refuses_the_merge():
    xml = texte(STS).replace('<DIVISION_APPARTENANCE CODE="3C"/>', '<DIVISION_APPARTENANCE CODE="3Z"/>')
    with pytest.raises(ExportError) as exc:
        import_exports(None, [xml.encode()], UAI)
    (e,) = erreurs_de(exc)
    assert e["message"].endswith("Groupe « 3LAT » : la division « 3Z » n'est ni dans l'export STS Web ni dans "
                                 "le référentiel.")


def test_a_new_division_without_a_collège_mef_is_refused():
    xml = texte(ELEVES).replace("<CODE_MEF>10010012110</CODE_MEF>", "<CODE_MEF>24720001110</CODE_MEF>")
    with pytest.raises(ExportError) as exc:
        import_exports(None, [xml.encode()], UAI)
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_NIVEAU_INCONNU" and e["message"].endswith("Division « 6A ».")


def test_a_new_sts_division_without_a_collège_mef_is_refused_once():
    xml = texte(STS).replace('<DIVISION CODE="3C">\n          <LIBELLE_LONG>3ÈME C</LIBELLE_LONG>\n'
                             '          <EFFECTIF_PREVU>0</EFFECTIF_PREVU>\n          <MEFS_APPARTENANCE>\n'
                             '            <MEF_APPARTENANCE CODE="10310019110"/>',
                             '<DIVISION CODE="3C">\n          <LIBELLE_LONG>3ÈME C</LIBELLE_LONG>\n'
                             '          <EFFECTIF_PREVU>0</EFFECTIF_PREVU>\n          <MEFS_APPARTENANCE>\n'
                             '            <MEF_APPARTENANCE CODE="24720001110"/>')
    with pytest.raises(ExportError) as exc:
        import_exports(None, [xml.encode()], UAI)
    (e,) = erreurs_de(exc)                      # and no second message about the groupe 3LAT
    assert e["code"] == "EXPORT_NIVEAU_INCONNU" and e["message"].endswith("Division « 3C ».")


def test_an_invalid_result_is_refused_naming_the_record(ref_complet):
    """What only `validate_referentiel` sees (here a bad date of conseil that the existing
    référentiel holds and the merge keeps) comes back with the record named, not only indexed."""
    ref = copy.deepcopy(ref_complet)
    ref["divisions"][0]["dates_conseil"] = ["2025-13-01"]
    with pytest.raises(ExportError) as exc:
        import_exports(ref, [fixture(ELEVES)], UAI)
    (e,) = erreurs_de(exc)
    assert e["code"] == "EXPORT_REFERENTIEL_INVALIDE" and e["chemin"] == "divisions[0].dates_conseil[0]"
    assert "rien n'a été modifié. division « 6A » : " in e["message"] and "2025-13-01" in e["message"]


# --- the merge ------------------------------------------------------------------------------------

def test_a_new_referentiel_from_the_three_exports():
    ref, rapport = complet()
    assert validate_referentiel(ref) == []
    assert ref["etablissement"] == {"uai": UAI, "nom": "COLLEGE ÉMILE ZOLA", "commune": "VILLENEUVE-SUR-ÉPREUVE"}
    assert ref["millesime"] == "2025" and ref["calendrier"]["trimestres"]["nb_periodes"] == 3
    assert [(d["code"], d["niveau"], d["mode_import"], d["profs_principaux"]) for d in ref["divisions"]] == [
        ("6A", "6E", "SAISIE", ["51001"]), ("3B", "3E", "SAISIE", ["51002"]), ("3C", "3E", "SAISIE", [])]
    assert ref["eleves"][2] == {"id_be": "4100003", "nom": "GARÇON", "prenom": "Zoé", "sexe": "F", "division": "3B",
                                "date_entree": "2022-09-01", "date_sortie": None, "mef": "10310019110",
                                "options": ["030602", "020300"]}
    assert [e["id_sts"] for e in ref["enseignants"]] == ["51001", "51002", "51003"]      # not the principal
    assert ref["enseignants"][2] == {"id_sts": "51003", "type": "local", "civilite": "MME", "nom": "ROUX",
                                     "prenom": "Inès"}
    assert [(s["enseignant"], s["matiere"], s["division"]) for s in ref["services"]] == [
        ("51001", "020700", "6A"), ("51002", "061300", "6A"), ("51001", "020700", "3B"),
        ("51002", "061300", "3B"),                        # CG and TP: one service
        ("51003", "020300", "3B"), ("51003", "020300", "3C")]     # the groupe's service in each division
    assert {m["code"]: m["libelle"] for m in ref["matieres"]}["100100"] == "Éducation physique et sportive"
    assert rapport["cree"] is True and [f["type"] for f in rapport["fichiers"]] == [BEE_ELEVES, BEE_NOMENCLATURES, STS_EDT]
    assert rapport["resume"] == {
        "eleves": {"ajoutes": 4, "modifies": 0, "supprimes": 0, "ignores": 1},
        "enseignants": {"ajoutes": 3, "modifies": 0, "supprimes": 0},
        "divisions": {"ajoutes": 3, "modifies": 0, "supprimes": 0},
        "services": {"ajoutes": 6, "modifies": 0, "supprimes": 0},
        "matieres": {"ajoutes": 14, "modifies": 0, "supprimes": 0},
        "modalites_election": {"ajoutes": 3, "modifies": 0, "supprimes": 0}}
    assert rapport["eleves"]["ignores"] == [{"id_be": "4100005", "nom": "CÔTÉ", "prenom": "Jérôme",
                                             "motif": "aucune division (structure de type D) dans l'export SIECLE"}]
    assert rapport["divisions"]["mode_nouvelles_divisions"] == "SAISIE"
    json.dumps(rapport)                                   # JSON-ready, for the API


def test_utf8_and_latin1_exports_make_the_same_referentiel():
    assert complet("utf8") == complet("latin1")


def test_siecle_and_sts_imported_separately_make_the_same_referentiel():
    ref_siecle, _ = import_exports(None, [fixture(ELEVES), fixture(NOMENCLATURE)], UAI)
    ref_sts, rapport = import_exports(ref_siecle, [fixture(STS)], UAI)
    assert ref_sts == complet()[0]
    assert rapport["cree"] is False and rapport["eleves"] == {"ajoutes": [], "modifies": [], "supprimes": [],
                                                              "ignores": []}
    assert rapport["divisions"]["ajoutes"] == ["3C"]
    assert rapport["divisions"]["modifies"] == [{"code": "6A", "champs": ["profs_principaux"]},
                                                {"code": "3B", "champs": ["profs_principaux"]}]
    assert rapport["etablissement"]["modifies"] == ["nom", "commune"]


def test_importing_the_same_exports_again_changes_nothing(ref_complet):
    ref, rapport = import_exports(ref_complet, [fixture(ELEVES), fixture(NOMENCLATURE), fixture(STS)], UAI)
    assert ref == ref_complet
    assert all(n == 0 for c in rapport["resume"].values() for k, n in c.items() if k != "ignores")


def test_modes_and_settings_of_existing_divisions_are_preserved(ref_complet):
    ref = copy.deepcopy(ref_complet)
    reglages = {"6A": {"mode_import": "EDITEUR", "dates_conseil": ["2025-11-27"], "president_conseil": "M. Laurent",
                       "sans_notes": True},
                "3B": {"mode_import": "SCONET_NOTES", "periodes": "trimestres", "nb_periodes": 3, "cycle": 4}}
    for d in ref["divisions"]:
        d.update(reglages.get(d["code"], {}))
    ref["eleves"][0]["dispositifs"] = ["PAP"]
    ref["services"][0]["hors_programme"] = True
    # Next month: a 3D appears in SIECLE and STS Web.
    eleves = texte(ELEVES).replace("<CODE_STRUCTURE>3B</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>"
                                   "\n        </STRUCTURE>\n      </STRUCTURES_ELEVE>\n      <STRUCTURES_ELEVE "
                                   "ELEVE_ID=\"4100005\"",
                                   "<CODE_STRUCTURE>3B</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>"
                                   "\n        </STRUCTURE>\n      </STRUCTURES_ELEVE>\n      <STRUCTURES_ELEVE "
                                   "ELEVE_ID=\"4100005\"><STRUCTURE><CODE_STRUCTURE>3D</CODE_STRUCTURE>"
                                   "<TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE></STRUCTURES_ELEVE>\n"
                                   "      <STRUCTURES_ELEVE ELEVE_ID=\"4100099\"")
    nouveau, rapport = import_exports(ref, [latin1(eleves), fixture(STS)], UAI,
                                      mode_nouvelles_divisions="SCONET_NOTES")
    par_code = {d["code"]: d for d in nouveau["divisions"]}
    for code, attendu in reglages.items():
        assert {k: par_code[code][k] for k in attendu} == attendu
    assert par_code["3D"] == {"code": "3D", "niveau": "3E", "mode_import": "SCONET_NOTES", "profs_principaux": []}
    assert rapport["divisions"]["ajoutes"] == ["3D"] and rapport["divisions"]["modifies"] == []
    assert nouveau["eleves"][0]["dispositifs"] == ["PAP"] and nouveau["services"][0]["hors_programme"] is True
    assert rapport["eleves"]["ajoutes"] == ["4100005"] and rapport["eleves"]["ignores"] == []


def test_report_of_added_changed_and_removed(ref_complet):
    eleves = texte(ELEVES)
    eleves = eleves.replace("<PRENOM>Noé</PRENOM>", "<PRENOM>Noé-Lucas</PRENOM>")            # 4100002 renamed
    eleves = eleves.replace("<CODE_STRUCTURE>6A</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>\n"
                            "        </STRUCTURE>\n      </STRUCTURES_ELEVE>\n      <STRUCTURES_ELEVE ELEVE_ID=\"4100003\"",
                            "<CODE_STRUCTURE>3C</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>\n"
                            "        </STRUCTURE>\n      </STRUCTURES_ELEVE>\n      <STRUCTURES_ELEVE ELEVE_ID=\"4100003\"")
    debut, fin = eleves.index('<ELEVE ELEVE_ID="4100004"'), eleves.index('<ELEVE ELEVE_ID="4100005"')
    eleves = eleves[:debut] + eleves[fin:]                                                   # 4100004 gone
    eleves = eleves.replace("<CODE_STRUCTURE>3LAT</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>G</TYPE_STRUCTURE>\n"
                            "        </STRUCTURE>\n      </STRUCTURES_ELEVE>\n    </STRUCTURES>",
                            "<CODE_STRUCTURE>3B</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>\n"
                            "        </STRUCTURE>\n      </STRUCTURES_ELEVE>\n    </STRUCTURES>")  # 4100005 placed
    sts = texte(STS)
    sts = sts.replace("<PRENOM>Loïc</PRENOM>", "<PRENOM>Loïc-Anh</PRENOM>")                  # 51002 renamed
    sts = sts.replace('<ENSEIGNANT ID="51003" TYPE="local"/>', '<ENSEIGNANT ID="51005" TYPE="epp"/>')
    sts = sts.replace("</INDIVIDUS>", '<INDIVIDU ID="51005" TYPE="epp"><CIVILITE>M.</CIVILITE>'
                                      "<NOM_USAGE>PETIT</NOM_USAGE><FONCTION>ENS</FONCTION></INDIVIDU></INDIVIDUS>")
    sts = sts.replace("<INDIVIDU ID=\"51003\" TYPE=\"local\">", "<INDIVIDU ID=\"51003\" TYPE=\"local\"><!-- parti -->")
    sts = sts.replace("<FONCTION>ENS</FONCTION>\n      </INDIVIDU>\n      <INDIVIDU ID=\"51004\"",
                      "<FONCTION>SUR</FONCTION>\n      </INDIVIDU>\n      <INDIVIDU ID=\"51004\"")   # 51003 no longer teaches
    nouveau, rapport = import_exports(ref_complet, [latin1(eleves), latin1(sts)], UAI)
    assert validate_referentiel(nouveau) == []
    assert rapport["eleves"] == {
        "ajoutes": ["4100005"],
        "modifies": [{"id_be": "4100002", "champs": ["prenom", "division"]}],
        "supprimes": ["4100004"], "ignores": []}
    assert rapport["enseignants"] == {"ajoutes": ["51005"], "modifies": [{"id_sts": "51002", "champs": ["prenom"]}],
                                      "supprimes": ["51003"]}
    assert rapport["services"]["ajoutes"] == [{"enseignant": "51005", "matiere": "020300", "division": "3B"},
                                              {"enseignant": "51005", "matiere": "020300", "division": "3C"}]
    assert rapport["services"]["supprimes"] == [{"enseignant": "51003", "matiere": "020300", "division": "3B"},
                                                {"enseignant": "51003", "matiere": "020300", "division": "3C"}]
    assert rapport["divisions"] == {"ajoutes": [], "modifies": [], "supprimes": [], "mode_nouvelles_divisions": "SAISIE"}
    assert rapport["resume"]["matieres"] == {"ajoutes": 0, "modifies": 0, "supprimes": 0}


def test_only_both_exports_together_remove_a_division_nothing_lists_nor_uses(ref_complet):
    ref = copy.deepcopy(ref_complet)
    ref["divisions"].append({"code": "5Z", "niveau": "5E", "mode_import": "EDITEUR"})
    ref["divisions"].append({"code": "4Y", "niveau": "4E", "mode_import": "EDITEUR"})
    ref["services"].append({"enseignant": "51001", "matiere": "020700", "division": "4Y"})
    for partiel in ([fixture(ELEVES)], [fixture(STS)], [fixture(NOMENCLATURE)]):   # a partial import removes none
        nouveau, rapport = import_exports(ref, partiel, UAI)
        assert {"5Z", "4Y"} <= {d["code"] for d in nouveau["divisions"]} and rapport["divisions"]["supprimes"] == []
        assert {d["code"]: d["mode_import"] for d in nouveau["divisions"]}["5Z"] == "EDITEUR"
    nouveau, rapport = import_exports(ref, [fixture(ELEVES), fixture(STS)], UAI)   # the whole picture
    assert [d["code"] for d in nouveau["divisions"]] == ["6A", "3B", "3C"]
    assert sorted(rapport["divisions"]["supprimes"]) == ["4Y", "5Z"]
    assert rapport["services"]["supprimes"] == [{"enseignant": "51001", "matiere": "020700", "division": "4Y"}]


@pytest.mark.parametrize("nom, vide", [
    (ELEVES, b"<BEE_ELEVES><PARAMETRES><UAJ>0999999Z</UAJ><ANNEE_SCOLAIRE>2025</ANNEE_SCOLAIRE></PARAMETRES>"
             b"<DONNEES/></BEE_ELEVES>"),
    (STS, b"<STS_EDT><PARAMETRES><UAJ CODE='0999999Z'/><ANNEE_SCOLAIRE ANNEE='2025'/></PARAMETRES>"
          b"<DONNEES/></STS_EDT>"),
])
def test_an_empty_export_is_refused_and_empties_nothing(ref_complet, nom, vide):
    with pytest.raises(ExportError) as err:
        import_exports(ref_complet, [vide], UAI)
    assert err.value.codes == ["EXPORT_DONNEE_INVALIDE"] and "n'est pas vidé" in err.value.erreurs[0]["message"]


@pytest.mark.parametrize("millesime", ["2025-2026", "abc", "9999", "25"])
def test_a_wrong_millesime_is_a_french_refusal_not_a_crash(millesime):
    with pytest.raises(ExportError) as err:
        import_exports(None, [fixture(ELEVES)], UAI, millesime=millesime)
    assert err.value.codes == ["EXPORT_DONNEE_INVALIDE"] and "4 chiffres" in err.value.erreurs[0]["message"]


def test_a_pupil_without_division_keeps_the_one_they_had(ref_complet):
    xml = texte(ELEVES).replace("<CODE_STRUCTURE>6A</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>",
                                "<CODE_STRUCTURE>6LAT</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>G</TYPE_STRUCTURE>", 1)
    xml = xml.replace("<DATE_ENTREE>02/09/2025</DATE_ENTREE>", "<DATE_ENTREE>02/09/2025</DATE_ENTREE>"
                      "<DATE_SORTIE>20/12/2025</DATE_SORTIE>", 1)
    nouveau, rapport = import_exports(ref_complet, [xml.encode()], UAI)
    lea = nouveau["eleves"][0]
    assert (lea["id_be"], lea["division"], lea["date_sortie"]) == ("4100001", "6A", "2025-12-20")
    assert rapport["eleves"]["modifies"] == [{"id_be": "4100001", "champs": ["date_sortie"]}]


def test_a_missing_entry_date_falls_back_on_the_previous_one_then_the_school_year(ref_complet):
    xml = texte(ELEVES).replace("<DATE_ENTREE>02/09/2025</DATE_ENTREE>", "")
    assert import_exports(ref_complet, [xml.encode()], UAI)[0]["eleves"][0]["date_entree"] == "2025-09-02"
    assert import_exports(None, [xml.encode()], UAI)[0]["eleves"][0]["date_entree"] == "2025-09-01"


def test_nomenclatures_add_and_relabel_subjects_but_never_remove_one(ref_complet):
    ref = copy.deepcopy(ref_complet)
    ref["matieres"].append({"code": "999999", "libelle": "Matière locale", "modalite": "F"})
    ref["matieres"][0].update(libelle="FRANCAIS", niveaux=["6E"])
    nouveau, rapport = import_exports(ref, [fixture(NOMENCLATURE)], UAI)
    par_code = {m["code"]: m for m in nouveau["matieres"]}
    assert par_code["999999"]["libelle"] == "Matière locale"
    assert par_code["020700"] == {"code": "020700", "libelle": "Français", "niveaux": ["6E"]}
    assert rapport["matieres"] == {"ajoutes": [], "modifies": [{"code": "020700", "champs": ["libelle"]}],
                                   "supprimes": []}


def test_the_merge_is_atomic_and_pure(ref_complet):
    avant = copy.deepcopy(ref_complet)
    mauvais = texte(STS).replace('<ENSEIGNANT ID="51001" TYPE="epp"/>', '<ENSEIGNANT ID="59999" TYPE="epp"/>')
    with pytest.raises(ExportError):
        import_exports(ref_complet, [fixture(ELEVES), mauvais.encode()], UAI)
    assert ref_complet == avant
    apports = Apports(eleves=lire_export(fixture(ELEVES), UAI).contenu)
    fusionner(ref_complet, apports)
    assert ref_complet == avant


def test_an_unknown_mode_for_new_divisions_is_a_programming_error(ref_complet):
    with pytest.raises(ValueError):
        fusionner(ref_complet, Apports(), mode_nouvelles_divisions="IMPORT")


# --- round trip: exports → référentiel → the checks of an LSU import -------------------------------

def _lsu_import_of_the_fixture_school(schema) -> list[dict]:
    checked = check_file(lsu_file_of_the_fixture_school(), schema, UAI)
    assert checked.ok, checked.erreurs
    return list(split_bilans(checked.root))


def _bilan_of(bilans: list[dict], id_be: str) -> dict:
    return next(b for b in bilans if b["type"] == "periodique" and b["eleve"]["id_be"] == id_be)


def test_round_trip_exports_referentiel_lsu_checks(schema):
    ref, _ = complet()
    bilans = _lsu_import_of_the_fixture_school(schema)
    lea = _bilan_of(bilans, "4100001")

    # New divisions come in mode SAISIE: Léa is recognised, her division is not open to imports yet.
    codes = [m["code"] for m in checks.evaluate_bilan(lea, index_referentiel(ref))]
    assert codes[0] == "DIVISION_MODE_SAISIE" and "STUDENT_UNKNOWN" not in codes

    # The chef d'établissement opens 6A to imports; the next SIECLE import keeps that choice.
    next(d for d in ref["divisions"] if d["code"] == "6A")["mode_import"] = "EDITEUR"
    ref, _ = import_exports(ref, [fixture(ELEVES), fixture(STS)], UAI)
    index = index_referentiel(ref)
    messages = checks.evaluate_bilan(lea, index)
    codes = [m["code"] for m in messages]
    assert not {"STUDENT_UNKNOWN", "DIVISION_MODE_SAISIE", "SUBJECT_UNKNOWN"} & set(codes), messages
    assert not [m for m in messages if "STS 51001" in m["message"] or "STS 51002" in m["message"]], messages
    assert "TEACHER_WITHOUT_SERVICE" in codes            # the generator's other teachers are not in STS Web
    assert ("51001", "020700", "6A") in index.services and index.divisions_by_code["6A"]["profs_principaux"] == ["51001"]

    unknown = checks.evaluate_bilan(_bilan_of(bilans, "9999999"), index)
    assert [m["code"] for m in unknown] == ["STUDENT_UNKNOWN"]
    assert "identifiant SIECLE (id-be) 9999999 inconnu" in unknown[0]["message"]

    gone = checks.evaluate_bilan(_bilan_of(bilans, "4100004"), index)     # left on 2026-01-15; bilan of T3
    assert [m["code"] for m in gone] == ["STUDENT_UNKNOWN"] and "sortie le 2026-01-15" in gone[0]["message"]


# --- properties ----------------------------------------------------------------------------------

NIVEAUX_MEF = {"6E": "10010012110", "5E": "10110001110", "4E": "10210001110", "3E": "10310019110"}
_noms = st.text(alphabet="ABCDEÉÈÇÔÏÜ -'abcéèàçœ", min_size=1, max_size=12).filter(lambda s: s.strip() and s.strip("-'") == s.strip("-'").strip())
_eleve = st.fixed_dictionaries({
    "nom": _noms, "prenom": _noms,
    "division": st.sampled_from(["6A", "6B", "5A", "4A", "3A", None]),
    "sexe": st.sampled_from(["1", "2"]),
})
_exports = st.dictionaries(st.integers(1_000_000, 1_000_040).map(str), _eleve, min_size=1, max_size=12)


def _bee_eleves(eleves: dict[str, dict], encodage: str) -> bytes:
    def x(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")
    lignes = [f'<?xml version="1.0" encoding="{encodage}"?>', "<BEE_ELEVES><PARAMETRES><UAJ>0999999Z</UAJ>"
              "<ANNEE_SCOLAIRE>2025</ANNEE_SCOLAIRE></PARAMETRES><DONNEES><ELEVES>"]
    for id_be, e in eleves.items():
        mef = NIVEAUX_MEF[(e["division"] or "6A")[0] + "E"]
        lignes.append(f'<ELEVE ELEVE_ID="{id_be}"><NOM_DE_FAMILLE>{x(e["nom"])}</NOM_DE_FAMILLE>'
                      f'<PRENOM>{x(e["prenom"])}</PRENOM><CODE_SEXE>{e["sexe"]}</CODE_SEXE>'
                      f"<CODE_MEF>{mef}</CODE_MEF><DATE_ENTREE>01/09/2025</DATE_ENTREE></ELEVE>")
    lignes.append("</ELEVES><STRUCTURES>")
    for id_be, e in eleves.items():
        if e["division"]:
            lignes.append(f'<STRUCTURES_ELEVE ELEVE_ID="{id_be}"><STRUCTURE><CODE_STRUCTURE>{e["division"]}'
                          "</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE></STRUCTURES_ELEVE>")
    lignes.append("</STRUCTURES></DONNEES></BEE_ELEVES>")
    # « œ » is not Latin-1: written as a character reference, as a Latin-1 writer must.
    return "\n".join(lignes).encode("iso-8859-1" if encodage == "ISO-8859-1" else "utf-8", "xmlcharrefreplace")


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(avant=_exports, apres=_exports, encodage=st.sampled_from(["UTF-8", "ISO-8859-1"]),
       modes=st.lists(st.sampled_from(["EDITEUR", "SCONET_NOTES", "SAISIE"]), min_size=5, max_size=5))
def test_merging_any_siecle_export_gives_a_valid_referentiel_and_an_exact_report(avant, apres, encodage, modes):
    ref, _ = import_exports(None, [_bee_eleves(avant, encodage)], UAI)
    for d, mode in zip(ref["divisions"], modes):
        d["mode_import"] = mode
    modes_avant = {d["code"]: d["mode_import"] for d in ref["divisions"]}
    nouveau, rapport = import_exports(ref, [_bee_eleves(apres, encodage)], UAI)

    assert validate_referentiel(nouveau) == []
    anciens = {e["id_be"]: e for e in ref["eleves"]}
    places = {i for i, e in apres.items() if e["division"] or i in anciens}
    assert {e["id_be"] for e in nouveau["eleves"]} == places
    assert set(rapport["eleves"]["ajoutes"]) == places - set(anciens)
    assert set(rapport["eleves"]["supprimes"]) == set(anciens) - places
    assert {i["id_be"] for i in rapport["eleves"]["ignores"]} == {i for i in apres if i not in places}
    for e in nouveau["eleves"]:
        attendue = apres[e["id_be"]]["division"] or anciens[e["id_be"]]["division"]
        assert e["division"] == attendue and e["nom"] == " ".join(apres[e["id_be"]]["nom"].split())
    for d in nouveau["divisions"]:                                   # modes never touched
        assert d["mode_import"] == modes_avant.get(d["code"], "SAISIE")
    # SIECLE alone removes no division (only SIECLE and STS together may).
    assert {d["code"] for d in nouveau["divisions"]} == \
           {d["code"] for d in ref["divisions"]} | {e["division"] for e in nouveau["eleves"]}
    # Once more with the same file: nothing to report.
    encore, rapport2 = import_exports(nouveau, [_bee_eleves(apres, encodage)], UAI)
    assert encore == nouveau
    assert not any(rapport2["eleves"][k] for k in ("ajoutes", "modifies", "supprimes"))


def test_the_evaluation_system_of_a_division_is_kept_like_its_mode(ref_complet):
    """`systeme_evaluation` is set in LSU (« Paramétrage des classes »): no export ever changes it;
    a new division has none (null)."""
    ref = copy.deepcopy(ref_complet)
    reglages = {"6A": "POSITIONNEMENT", "3B": "NOTES"}
    for d in ref["divisions"]:
        if d["code"] in reglages:
            d["systeme_evaluation"] = reglages[d["code"]]
    eleves = texte(ELEVES).replace('<STRUCTURES_ELEVE ELEVE_ID="4100005" ELENOET="105">',   # 4100005 into a new 3D
                                   '<STRUCTURES_ELEVE ELEVE_ID="4100005" ELENOET="105"><STRUCTURE><CODE_STRUCTURE>3D'
                                   '</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE>', 1)
    assert eleves != texte(ELEVES)
    nouveau, rapport = import_exports(ref, [latin1(eleves), fixture(NOMENCLATURE), fixture(STS)], UAI)
    assert validate_referentiel(nouveau) == []
    par_code = {d["code"]: d for d in nouveau["divisions"]}
    assert {code: par_code[code]["systeme_evaluation"] for code in reglages} == reglages
    assert rapport["divisions"]["ajoutes"] == ["3D"] and rapport["divisions"]["modifies"] == []
    assert index_referentiel(nouveau).divisions_by_code["3D"]["systeme_evaluation"] is None
    # Unset on 3C before the import: still unset after it.
    assert "systeme_evaluation" not in par_code["3C"]


# --- formation (MEF) of the élèves and programmes of the MEF (brevet 2026) -------------------------

MEF_3E, MEF_6E = "10310019110", "10010012110"


def test_each_eleve_gets_their_mef_and_the_referentiel_the_programmes_of_the_nomenclatures(ref_complet):
    assert {e["id_be"]: e.get("mef") for e in ref_complet["eleves"]} == {
        "4100001": MEF_6E, "4100002": MEF_6E, "4100003": MEF_3E, "4100004": MEF_3E}
    programmes = ref_complet["programmes"]
    assert programmes[:2] == [{"mef": MEF_6E, "matiere": "020700", "modalite_election": "S"},
                              {"mef": MEF_3E, "matiere": "020300", "modalite_election": "F"}]
    assert len(programmes) == 14
    index = index_referentiel(ref_complet)
    assert index.obligatoires_by_mef[MEF_3E] == {
        "020700": "S", "061300": "S", "043000": "S", "030201": "S", "062900": "S", "063500": "S", "070700": "S",
        "100100": "S", "080100": "S", "081000": "S", "030602": "O", "030102": "O"}
    assert index.facultatives_by_mef == {MEF_3E: ("020300",)}
    zoe = index.eleves_by_id_be["4100003"]                     # options: Espagnol LV2 (O), Latin (F)
    obligatoires = enseignements_obligatoires(index, zoe)
    assert "030602" in obligatoires and "030102" not in obligatoires and "020300" not in obligatoires
    assert len(obligatoires) == 11
    assert enseignements_facultatifs(index, zoe) == ["020300"]


def test_a_nomenclature_without_programmes_keeps_them_and_a_bad_mef_is_left_out(ref_complet):
    nomenclature = texte(NOMENCLATURE)
    debut, fin = nomenclature.index("<PROGRAMMES>"), nomenclature.index("</PROGRAMMES>") + len("</PROGRAMMES>")
    eleves = texte(ELEVES).replace(f"<CODE_MEF>{MEF_3E}</CODE_MEF>", "<CODE_MEF>=1+1</CODE_MEF>", 1)
    nouveau, rapport = import_exports(ref_complet, [latin1(eleves), latin1(nomenclature[:debut] + nomenclature[fin:])],
                                      UAI)
    assert validate_referentiel(nouveau) == []
    assert nouveau["programmes"] == ref_complet["programmes"]
    par_id = {e["id_be"]: e for e in nouveau["eleves"]}
    assert "mef" not in par_id["4100003"] and par_id["4100004"]["mef"] == MEF_3E
    assert {"id_be": "4100003", "champs": ["mef"]} in rapport["eleves"]["modifies"]


def test_programmes_of_an_export_replace_the_previous_ones(ref_complet):
    ref = copy.deepcopy(ref_complet)
    ref["programmes"] = [{"mef": MEF_3E, "matiere": "020700", "modalite_election": "F"}]
    nouveau, _ = import_exports(ref, [fixture(NOMENCLATURE)], UAI)
    assert nouveau["programmes"] == ref_complet["programmes"]
