"""Who enters what in LSU (chalicelib/domain/merge.py `may_edit`, `apply_edit`), as one table.

The fiche « Bilans > Import »: « le chef d'établissement, le professeur principal et le CPE
doivent compléter les bilans … De plus ils peuvent aussi saisir les informations facultatives
suivantes : parcours, EPI, AP. » The required parts stay each role's: the PP the appréciation
générale and éléments de programme of their classes, the CPE the vie scolaire, a teacher the
éléments de programme of their own services. « Own class » is, for a PP, a division they are the
professeur principal of; for a teacher, a division where they teach the discipline; CE, delegates
and CPE are the whole school's."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chalicelib.domain.checks import SCONET_NOTES
from chalicelib.domain.merge import EDITABLE, Editor, EditRefused, apply_edit, discipline_code, may_edit, merge_import, view
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file

MATHS = "061300"

#   role         part                 own class  other class
TABLE = """
    CE           acquis_conseils      oui        oui
    CE           vie_scolaire         oui        oui
    CE           parcours             oui        oui
    CE           epis                 oui        oui
    CE           acc_persos           oui        oui
    CE           elements_programme   oui        oui
    DELEGUE_CE   acquis_conseils      oui        oui
    DELEGUE_CE   vie_scolaire         oui        oui
    DELEGUE_CE   parcours             oui        oui
    DELEGUE_CE   epis                 oui        oui
    DELEGUE_CE   acc_persos           oui        oui
    DELEGUE_CE   elements_programme   oui        oui
    PP           acquis_conseils      oui        non
    PP           vie_scolaire         non        non
    PP           parcours             oui        non
    PP           epis                 oui        non
    PP           acc_persos           oui        non
    PP           elements_programme   oui        non
    CPE          acquis_conseils      non        non
    CPE          vie_scolaire         oui        oui
    CPE          parcours             oui        oui
    CPE          epis                 oui        oui
    CPE          acc_persos           oui        oui
    CPE          elements_programme   non        non
    ENSEIGNANT   acquis_conseils      non        non
    ENSEIGNANT   vie_scolaire         non        non
    ENSEIGNANT   parcours             non        non
    ENSEIGNANT   epis                 non        non
    ENSEIGNANT   acc_persos           non        non
    ENSEIGNANT   elements_programme   oui        non
"""
ROWS = [line.split() for line in TABLE.strip().splitlines()]
CASES = [(role, part, where, allowed == "oui")
         for role, part, own, other in ROWS for where, allowed in (("own", own), ("other", other))]

EDITORS = {
    "own": {"CE": Editor("CE", "ce1"), "DELEGUE_CE": Editor("DELEGUE_CE", "adj1"),
            "PP": Editor("PP", "pp1", pp_of_division=True), "CPE": Editor("CPE", "cpe1"),
            "ENSEIGNANT": Editor("ENSEIGNANT", "ens1", services=frozenset({MATHS}))},
    "other": {"CE": Editor("CE", "ce1"), "DELEGUE_CE": Editor("DELEGUE_CE", "adj1"),
              "PP": Editor("PP", "pp2", pp_of_division=False), "CPE": Editor("CPE", "cpe1"),
              "ENSEIGNANT": Editor("ENSEIGNANT", "ens2", services=frozenset())},
}
VALID = {"acquis_conseils": "Trimestre sérieux.",
         "vie_scolaire": {"nb_retards": 1, "nb_abs_justifiees": 2, "nb_abs_injustifiees": 0},
         "parcours": [{"code": "PAR_SAN", "texte": "Formation aux premiers secours."}],
         "epis": [{"intitule": "Projet presse", "commentaire_eleve": "Investi."}],
         "acc_persos": [{"intitule": "Méthodologie"}], "elements_programme": ["Géométrie"]}


def test_the_table_covers_every_role_and_every_part():
    assert {(r, p) for r, p, *_ in ROWS} == {(r, p) for r in EDITORS["own"] for p in EDITABLE}
    assert len(ROWS) == len(EDITORS["own"]) * len(EDITABLE)


@pytest.fixture(scope="module")
def partial_state(schema, small_spec, small_xml):
    """A Sconet Notes bilan with every editable part to complete."""
    checked = check_file(small_xml, schema, small_spec.uai)
    b = next(b for b in split_bilans(checked.root) if b["type"] == "periodique")
    assert MATHS in [discipline_code(a) for a in b["acquis"]]
    b = {**b, "acquis_conseils": None, "vie_scolaire": None, "parcours": [], "epis": [], "acc_persos": [],
         "acquis": [{**a, "elements_programme": []} for a in b["acquis"]]}
    return merge_import(None, b, SCONET_NOTES, "imp1", "2026-01-10T10:00:00+00:00").state


@pytest.mark.parametrize("role,part,where,allowed", CASES, ids=[f"{r}-{p}-{w}" for r, p, w, _ in CASES])
def test_roles_matrix(partial_state, role, part, where, allowed):
    editor = EDITORS[where][role]
    code = MATHS if part == "elements_programme" else None
    assert may_edit(editor, part, code) is allowed
    if not allowed:
        with pytest.raises(EditRefused) as exc:
            apply_edit(partial_state, editor, part, VALID[part], "2026-01-11T10:00:00+00:00", code=code)
        assert exc.value.code == "FORBIDDEN" and role in exc.value.message["message"]
        return
    s = apply_edit(partial_state, editor, part, VALID[part], "2026-01-11T10:00:00+00:00", code=code)
    v = view(s)
    shown = v["acquis"][MATHS]["elements_programme"] if code else v[part]
    assert shown == {"valeur": VALID[part], "provenance": "SAISIE", "par": f"{role}:{editor.sub}",
                     "le": "2026-01-11T10:00:00+00:00"}


# --- the same rule through the API: the référentiel says whose class it is --------------------------

def test_through_the_api_a_pp_enters_parcours_epi_ap_of_their_class_only(settings):
    from chalicelib.adapters.ports import BilanWrite, eleve_key
    from chalicelib.api import bilans as api
    from chalicelib.api.auth import issue_token
    from chalicelib.api.referentiel import store_referentiel
    from chalicelib.pipeline.split.file_checks import load_schema
    from chalicelib.runtime import memory_runtime
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

    spec = SchoolSpec(uai="0750322L", divisions_par_niveau=1, eleves_par_division=1)
    rt = memory_runtime(settings)
    ref = generate_referentiel(spec)
    store_referentiel(rt, ref, None)
    checked = check_file(generate_lsu_xml(spec, periodes=[1]), load_schema(settings.xsd_path), spec.uai)
    b = next(b for b in split_bilans(checked.root) if b["type"] == "periodique" and b["eleve"]["division"] == "5A")
    b = {**b, "parcours": [], "epis": [], "acc_persos": []}
    key = (eleve_key(spec.uai, b["eleve"]["id_be"]), b["cle"])
    rt.repos.bilans.save(BilanWrite(key, merge_import(None, b, SCONET_NOTES, "imp1", "2026-01-10T10:00:00+00:00").state, None))
    divisions = {d["code"]: d for d in ref["divisions"]}
    own_pp = divisions["5A"]["profs_principaux"][0]
    other_pp = next(p for code, d in divisions.items() if code != "5A" for p in d["profs_principaux"] if p != own_pp)

    def put(role: str, sub: str, part: str):
        token = issue_token(rt.settings.token_secret, spec.uai, role, sub=sub)
        request = SimpleNamespace(headers={"Authorization": f"Bearer {token}"}, context=None, query_params=None,
                                  json_body={"valeur": VALID[part]})
        r = api.edit_bilan(request, rt, b["eleve"]["id_be"], b["cle"].replace("#", "-"), part)
        return r.status_code, json.loads(r.body)

    for part in ("parcours", "epis", "acc_persos"):
        status, body = put("PP", other_pp, part)
        assert status == 403 and body["erreur"]["code"] == "FORBIDDEN"
        status, body = put("PP", own_pp, part)
        assert status == 200 and body[part]["valeur"] == VALID[part] and body[part]["par"] == f"PP:{own_pp}"
    status, body = put("CPE", "cpe1", "epis")
    assert status == 200 and body["epis"]["par"] == "CPE:cpe1"
