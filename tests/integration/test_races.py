"""Races on the emulator: an import racing a manual edit, two imports of one school at once."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest

from chalicelib.domain import merge
from chalicelib.pipeline.split import stage as splitter
from chalicelib.pipeline.merge import stage as worker
from chalicelib.api.referentiel import store_referentiel
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.adapters.dynamodb import bilan_state
from chalicelib.adapters.ports import eleve_key, update_bilan
from chalicelib.domain.vocabulary import ImportStatut

EN_COURS = ImportStatut.EN_COURS
from chalicelib.pipeline.split.file_checks import check_file


def _setup(rt, uai: str, mode: str):
    spec = SchoolSpec(uai=uai, divisions_par_niveau=1, eleves_par_division=1)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = mode
    store_referentiel(rt, ref, None)
    key = rt.models.Etablissement.get(uai, consistent_read=True).referentiel_cle
    root = check_file(generate_lsu_xml(spec, periodes=[1]), rt.schema, uai).root
    bilans = [b for b in split_bilans(root) if b["type"] == "periodique"]
    for b in bilans:
        b["acquis_conseils"] = None          # Sconet Notes partial: completed in LSU
    return spec, key, bilans


def _import(rt, uai: str, ref_key: str, bilans: list[dict]) -> str:
    import_id = f"R{uuid.uuid4().hex[:12]}"
    rec = rt.models.Import(uai, import_id, statut=EN_COURS, nom_fichier="f.xml", taille_declaree=1,
                           cle_s3=f"imports/{uai}/{import_id}.xml", total=len(bilans),
                           cree_le=datetime.now(timezone.utc).isoformat())
    rec.save()
    items = [item for i, body in enumerate(splitter.bilan_messages(rt, rec, bilans, ref_key))
             for item in worker.parse_message({"messageId": str(i), "body": body}, None)]
    worker.commit_bilans(rt, items)
    return import_id


def test_import_racing_a_manual_edit_loses_nothing(rt, monkeypatch):
    spec, ref_key, bilans = _setup(rt, "0791001A", "SCONET_NOTES")
    _import(rt, spec.uai, ref_key, bilans)
    target = bilans[0]
    key = (eleve_key(spec.uai, target["eleve"]["id_be"]), target["cle"])
    stale = {key: rt.models.Bilan.get(*key, consistent_read=True)}

    # The edit lands after the worker has read the bilan and before it writes.
    editor = merge.Editor("CE", "dev")
    update_bilan(rt.repos.bilans, key, lambda s: merge.apply_edit(s, editor, "parcours",
                                                           [{"code": "PAR_ART", "texte": "Saisi."}], "t"))
    original = rt.models.Bilan.batch_get
    calls = []

    def batch_get(keys, *a, **kw):
        calls.append(keys)
        if len(calls) == 1:                       # the worker's first read is stale
            return [stale[k] for k in keys if k in stale] + [r for r in original(
                [k for k in keys if k not in stale], *a, **kw)]
        return original(keys, *a, **kw)

    monkeypatch.setattr(rt.models.Bilan, "batch_get", batch_get)
    changed = [{**b, "vie_scolaire": {**b["vie_scolaire"], "nb_retards": 7}} for b in bilans]
    _import(rt, spec.uai, ref_key, changed)
    assert len(calls) >= 2, "the stale write was refused by the version condition, then retried"
    state = bilan_state(rt.models.Bilan.get(*key, consistent_read=True))
    assert state.saisies["parcours"]["valeur"] == [{"code": "PAR_ART", "texte": "Saisi."}], "the edit survived"
    assert state.importe["vie_scolaire"]["nb_retards"] == 7, "the import landed too"


def test_edit_racing_an_import_is_retried_on_the_new_version(rt):
    spec, ref_key, bilans = _setup(rt, "0791002B", "SCONET_NOTES")
    _import(rt, spec.uai, ref_key, bilans)
    key = (eleve_key(spec.uai, bilans[0]["eleve"]["id_be"]), bilans[0]["cle"])
    editor = merge.Editor("CE", "dev")
    seen = []

    def change(state):
        seen.append(state.empreinte)
        if len(seen) == 1:                         # an import commits between read and write
            _import(rt, spec.uai, ref_key, [{**bilans[0], "vie_scolaire": {**bilans[0]["vie_scolaire"], "nb_retards": 9}}])
        return merge.apply_edit(state, editor, "acquis_conseils", "Saisie concurrente.", "t")

    update_bilan(rt.repos.bilans, key, change)
    assert len(seen) == 2 and seen[0] != seen[1]
    state = bilan_state(rt.models.Bilan.get(*key, consistent_read=True))
    assert state.importe["vie_scolaire"]["nb_retards"] == 9 and state.saisies["acquis_conseils"]["valeur"] == "Saisie concurrente."


def test_two_imports_of_one_school_at_once_end_in_one_serial_order(api_for, rt):
    spec = SchoolSpec(uai="0791003C", divisions_par_niveau=1, eleves_par_division=4)
    api = api_for(spec.uai)
    api.put_referentiel(generate_referentiel(spec))
    a = generate_lsu_xml(spec, periodes=[1])
    b = a.replace(b"<acquis-conseils>", "<acquis-conseils>Version B. ".encode())
    results: dict[str, dict] = {}

    def run(name, data):
        results[name] = api.import_bytes(data)

    threads = [threading.Thread(target=run, args=(n, d)) for n, d in (("A", a), ("B", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert {r["statut"] for r in results.values()} == {"TERMINE"}
    for r in results.values():
        assert r["totaux"]["bilans"] == r["progression"]["traites"] == 16 and r["totaux"]["rejetes"] == 0
    statuts = {n: {x["statut"] for x in r["bilans"] if x["type"] == "periodique"} for n, r in results.items()}
    # One ran entirely before the other: all new, then all updated — never a mix.
    first = next(n for n, st in statuts.items() if st == {"IMPORTE"})
    second = "B" if first == "A" else "A"
    assert statuts[second] == {"MIS_A_JOUR"}, statuts
    versions = set()
    for e in generate_referentiel(spec)["eleves"]:
        row = rt.models.Bilan.get(eleve_key(spec.uai, e["id_be"]), "P#2025#3#1", consistent_read=True)
        versions.add(row.contenu["acquis_conseils"].startswith("Version B. "))
    assert versions == {second == "B"}, "every bilan ends as the import that ran second left it"


def test_a_referentiel_changed_during_an_import_keeps_the_school_lease(rt):
    """A new référentiel version (or a division's mode) while an import holds the school: the
    lease stays, so a second import still waits its turn."""
    from chalicelib.adapters.ports import SchoolBusy
    from chalicelib.pipeline.split.stage import SCHOOL_LEASE_SECONDS
    spec = SchoolSpec(uai="0760020U", divisions_par_niveau=1, eleves_par_division=1)
    ref = generate_referentiel(spec)
    first = store_referentiel(rt, ref, None)
    rt.repos.schools.acquire_lease(spec.uai, "IMPORT-A", int(datetime.now(timezone.utc).timestamp()), SCHOOL_LEASE_SECONDS)
    ref["divisions"][0]["mode_import"] = "SAISIE"
    second = store_referentiel(rt, ref, first["version"])
    school = rt.repos.schools.get(spec.uai)
    assert school.referentiel_sha256 == second["version"] != first["version"]
    assert school.import_en_cours == "IMPORT-A" and school.nom == ref["etablissement"]["nom"]
    with pytest.raises(SchoolBusy):       # the second import waits: the lease was kept
        rt.repos.schools.acquire_lease(spec.uai, "IMPORT-B", int(datetime.now(timezone.utc).timestamp()),
                                       SCHOOL_LEASE_SECONDS)
