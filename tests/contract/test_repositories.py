"""The repository ports' contract (chalicelib/adapters/ports.py): conditional writes, version
conflicts, the group commit's all-or-nothing, idempotent re-writes, the school's lease — the same
tests on the in-memory and the DynamoDB implementations."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest

from chalicelib.adapters.ports import (Batch, BilanWrite, Conflict, ImportRecord, NotFound, Result, SchoolBusy,
                                       eleve_key, update_bilan)
from chalicelib.domain.merge import BilanState
from chalicelib.domain.vocabulary import ImportStatut

LEASE = 1800


def _import(uai: str, import_id: str = "A", statut=ImportStatut.EN_ATTENTE_FICHIER, **kw) -> ImportRecord:
    return ImportRecord(uai=uai, import_id=f"{uai}-{import_id}", statut=statut, nom_fichier="export.xml",
                        taille_declaree=10, cle_s3=f"imports/{uai}/{uai}-{import_id}.xml", cree_le="2026-12-04T10:00:00+00:00",
                        **kw)


def _running(repos, uai: str, total: int, import_id: str = "A") -> ImportRecord:
    record = _import(uai, import_id)
    repos.imports.create(record)
    assert repos.imports.start(record, total=total, entete={"uai": uai}, taille=10, sha256="0" * 64,
                               referentiel_cle="referentiels/x.json")
    return repos.imports.get(uai, record.import_id)


def _state(division: str = "3A", texte: str = "Bon trimestre.", cle: str = "P#2025#3#1") -> BilanState:
    return BilanState(importe={"type": "periodique", "cle": cle, "eleve": {"id_be": "1", "division": division},
                               "acquis_conseils": texte}, empreinte=texte, import_id="I", importe_le="t", mode="EDITEUR")


def _result(record: ImportRecord, n: int, statut: str = "IMPORTE") -> Result:
    return Result(record.uai, record.import_id, f"{n}#P#2025#3#1", "periodique", statut,
                  {"id_be": str(n), "nom": "N", "prenom": "P", "division": "3A"}, {"millesime": "2025"}, None, n, [])


def _key(uai: str, n: int, cle: str = "P#2025#3#1") -> tuple[str, str]:
    return eleve_key(uai, str(n)), cle


# --- imports ---------------------------------------------------------------------------------------

def test_an_import_is_created_once_and_read_back(repos, uai):
    record = _import(uai, pre_controle=True, cree_par="CE:dev")
    before = int(time.time())
    repos.imports.create(record)
    got = repos.imports.get(uai, record.import_id)
    assert before <= got.progres_le <= time.time() + 1, "created: its progress time starts"
    assert replace(got, progres_le=None) == record
    with pytest.raises(Conflict):
        repos.imports.create(replace(record, nom_fichier="autre.xml"))
    assert repos.imports.get(uai, record.import_id).nom_fichier == "export.xml"
    assert repos.imports.get(uai, "absent") is None


def test_recent_imports_newest_first_and_only_the_schools(repos, uai):
    for i in ("20261201", "20261203", "20261202"):
        repos.imports.create(_import(uai, i))
    repos.imports.create(_import("0999999Z" if uai != "0999999Z" else "0888888Y", "20261204"))
    assert [r.import_id for r in repos.imports.recent(uai, 2)] == [f"{uai}-20261203", f"{uai}-20261202"]


def test_only_one_splitter_starts_or_rejects_an_import(repos, uai):
    record = _import(uai)
    repos.imports.create(record)
    args = dict(total=3, entete={"uai": uai}, taille=10, sha256="1" * 64, referentiel_cle="referentiels/r.json")
    assert repos.imports.start(record, **args)
    assert not repos.imports.start(record, **args), "a duplicate notification changes nothing"
    assert not repos.imports.reject(record, erreurs=[{"code": "NOT_XML"}], entete={}, taille=10, sha256=None)
    got = repos.imports.get(uai, record.import_id)
    assert (got.statut, got.total, got.referentiel_cle, got.erreurs_fichier) == (ImportStatut.EN_COURS, 3,
                                                                                 "referentiels/r.json", None)


def test_a_rejected_file_is_final(repos, uai):
    record = _import(uai)
    repos.imports.create(record)
    assert repos.imports.reject(record, erreurs=[{"code": "NOT_XML"}], entete={}, taille=10, sha256="2" * 64)
    got = repos.imports.get(uai, record.import_id)
    assert (got.statut, got.total, got.erreurs_fichier, got.sha256) == (ImportStatut.FICHIER_REJETE, 0,
                                                                         [{"code": "NOT_XML"}], "2" * 64)
    assert not repos.imports.start(record, total=1, entete={}, taille=1, sha256="", referentiel_cle="r")


def test_the_report_is_claimed_once_when_complete_and_renewed_when_stale(repos, uai):
    record = _running(repos, uai, total=1)
    assert repos.imports.claim_report(uai, record.import_id, now=1000, stale_before=980) is None, "not complete"
    assert repos.results.commit(Batch(uai, record.import_id, [], [_result(record, 1)], {"traites": 1})) is None
    claimed = repos.imports.claim_report(uai, record.import_id, now=1000, stale_before=980)
    assert claimed is not None and claimed.rapport_demande_le == 1000 and claimed.total == 1
    assert repos.imports.claim_report(uai, record.import_id, now=1010, stale_before=990) is None, "claimed already"
    assert repos.imports.claim_report(uai, record.import_id, now=1030, stale_before=1010) is not None, "stale: renewed"
    repos.imports.clear_report_claim(uai, record.import_id)
    assert repos.imports.get(uai, record.import_id).rapport_demande_le is None


def test_an_import_finishes_once(repos, uai):
    record = _running(repos, uai, total=0)
    assert repos.imports.finish(uai, record.import_id, synthese_cle="syntheses/s.json", termine_le="t1")
    assert not repos.imports.finish(uai, record.import_id, synthese_cle="syntheses/autre.json", termine_le="t2")
    got = repos.imports.get(uai, record.import_id)
    assert (got.statut, got.synthese_cle, got.termine_le) == (ImportStatut.TERMINE, "syntheses/s.json", "t1")
    assert repos.imports.claim_report(uai, record.import_id, now=5000, stale_before=4000) is None, "over"


def _active_ids(repos, uai: str, statut) -> list[str]:
    return [r.import_id for r in repos.imports.active(statut) if r.uai == uai]


def test_the_imports_not_over_are_listed_for_the_watchdog_until_they_end(repos, uai):
    waiting, running, rejected, expired = (_import(uai, n) for n in ("1", "2", "3", "4"))
    for r in (waiting, running, rejected, expired):
        repos.imports.create(r)
    assert repos.imports.start(running, total=1, entete={}, taille=1, sha256="", referentiel_cle="r")
    assert repos.imports.reject(rejected, erreurs=[{"code": "NOT_XML"}], entete={}, taille=1, sha256=None)
    assert repos.imports.expire(uai, expired.import_id, erreurs=[{"code": "IMPORT_EXPIRE"}], termine_le="t")
    assert _active_ids(repos, uai, ImportStatut.EN_ATTENTE_FICHIER) == [waiting.import_id]
    assert _active_ids(repos, uai, ImportStatut.EN_COURS) == [running.import_id]
    got = repos.imports.active(ImportStatut.EN_COURS)
    assert next(r for r in got if r.uai == uai).total == 1, "whole records"
    assert repos.imports.finish(uai, running.import_id, synthese_cle="s", termine_le="t")
    assert _active_ids(repos, uai, ImportStatut.EN_COURS) == []


def test_an_import_expires_only_while_waiting_for_its_file(repos, uai):
    record = _import(uai)
    repos.imports.create(record)
    assert repos.imports.expire(uai, record.import_id, erreurs=[{"code": "IMPORT_EXPIRE"}], termine_le="t1")
    got = repos.imports.get(uai, record.import_id)
    assert (got.statut, got.erreurs_fichier, got.total, got.termine_le) == (
        ImportStatut.EXPIRE, [{"code": "IMPORT_EXPIRE"}], 0, "t1")
    assert not repos.imports.expire(uai, record.import_id, erreurs=[], termine_le="t2")
    assert not repos.imports.start(record, total=1, entete={}, taille=1, sha256="", referentiel_cle="r"), \
        "a file that comes after the expiry is not imported"
    running = _running(repos, uai, total=1, import_id="B")
    assert not repos.imports.expire(uai, running.import_id, erreurs=[], termine_le="t")


def test_progress_moves_with_each_commit_and_failure_and_an_interruption_is_recorded(repos, uai):
    record = _running(repos, uai, total=2)
    assert record.progres_le is not None and record.surveillance is None
    for n, write in ((1, lambda: repos.results.commit(Batch(uai, record.import_id, [], [_result(record, 1)],
                                                               {"traites": 1, "nouveaux": 1}))),
                     (2, lambda: repos.results.record_failure(_result(record, 2, "REJETE")))):
        _set_progress(repos, uai, record.import_id, 1000)
        write()
        assert repos.imports.get(uai, record.import_id).progres_le >= time.time() - 5, n
    assert repos.imports.interrupt(uai, record.import_id, surveillance={"le": "2026-12-06T10:00:00+00:00"})
    assert repos.imports.get(uai, record.import_id).surveillance == {"le": "2026-12-06T10:00:00+00:00"}
    assert repos.imports.finish(uai, record.import_id, synthese_cle="s", termine_le="t")
    assert not repos.imports.interrupt(uai, record.import_id, surveillance={"le": "later"}), "over"


def _set_progress(repos, uai: str, import_id: str, value: int) -> None:
    """Move the progress time back (a test's clock): straight into the store."""
    if hasattr(repos.imports, "s"):
        repos.imports.s.imports[(uai, import_id)].progres_le = value
    else:
        I = repos.imports.models.Import
        I(uai, import_id).update(actions=[I.progres_le.set(value)])
    assert repos.imports.get(uai, import_id).progres_le == value


# --- bilans ----------------------------------------------------------------------------------------

def test_a_bilan_is_written_on_its_version_only(repos, uai):
    key = _key(uai, 1)
    first = repos.bilans.save(BilanWrite(key, _state(), None))
    assert first.version == 1 and repos.bilans.get(key).state == _state()
    with pytest.raises(Conflict):
        repos.bilans.save(BilanWrite(key, _state(texte="Écrasé."), None))       # it exists now
    second = repos.bilans.save(BilanWrite(key, _state(texte="Deuxième."), 1))
    assert second.version == 2
    with pytest.raises(Conflict):
        repos.bilans.save(BilanWrite(key, _state(texte="Périmé."), 1))          # read at version 1
    assert repos.bilans.get(key).state.importe["acquis_conseils"] == "Deuxième."
    assert repos.bilans.get(_key(uai, 2)) is None


def test_bilans_by_eleve_division_and_key(repos, uai):
    repos.bilans.save(BilanWrite(_key(uai, 1), _state("3A"), None))
    repos.bilans.save(BilanWrite(_key(uai, 1, "P#2025#3#2"), _state("3A", cle="P#2025#3#2"), None))
    repos.bilans.save(BilanWrite(_key(uai, 2), _state("3B"), None))
    assert set(repos.bilans.get_many([_key(uai, 1), _key(uai, 2), _key(uai, 3)])) == {
        _key(uai, 1), _key(uai, 2)}
    assert [b.key[1] for b in repos.bilans.of_eleve(uai, "1")] == ["P#2025#3#1", "P#2025#3#2"]
    assert [b.key[1] for b in repos.bilans.of_eleve(uai, "1", "P#2025#3#2")] == ["P#2025#3#2"]
    assert [b.key for b in repos.bilans.of_division(uai, "3B")] == [_key(uai, 2)]
    assert [b.key for b in repos.bilans.of_division(uai, "3A", "P#2025#3#1")] == [_key(uai, 1)]
    assert repos.bilans.of_division(uai, "4A") == [] and repos.bilans.of_eleve(uai, "9") == []


def test_update_bilan_reapplies_the_change_on_the_newer_version(repos, uai):
    key = _key(uai, 1)
    repos.bilans.save(BilanWrite(key, _state(), None))
    seen = []

    def change(state: BilanState) -> BilanState:
        seen.append(state.importe["acquis_conseils"])
        if len(seen) == 1:            # someone writes between our read and our write
            repos.bilans.save(BilanWrite(key, _state(texte="Concurrent."), 1))
        return replace(state, saisies={"parcours": {"valeur": "x", "par": "CE:dev", "le": "t"}})

    stored = update_bilan(repos.bilans, key, change)
    assert seen == ["Bon trimestre.", "Concurrent."]
    assert stored.version == 3 and stored.state.importe["acquis_conseils"] == "Concurrent."
    assert repos.bilans.get(key).state.saisies["parcours"]["valeur"] == "x"
    with pytest.raises(LookupError):
        update_bilan(repos.bilans, _key(uai, 9), change)


# --- the group commit ------------------------------------------------------------------------------

def _batch(record: ImportRecord, n: int, versions: dict | None = None) -> Batch:
    versions = versions or {}
    return Batch(record.uai, record.import_id,
                 [BilanWrite(_key(record.uai, i), _state(texte=f"Bilan {i}."), versions.get(i)) for i in range(n)],
                 [_result(record, i) for i in range(n)], {"traites": n, "nouveaux": n, "avertissements": 1})


def test_a_batch_writes_bilans_results_and_counters_together(repos, uai):
    record = _running(repos, uai, total=3)
    assert repos.results.commit(_batch(record, 3)) is None
    got = repos.imports.get(uai, record.import_id)
    assert (got.traites, got.nouveaux, got.avertissements, got.rejetes) == (3, 3, 1, 0)
    assert sorted(r.bilan_id for r in repos.results.of_import(uai, record.import_id)) == [
        f"{i}#P#2025#3#1" for i in range(3)]
    assert repos.results.of_import(uai, record.import_id)[0].as_dict()["eleve"]["nom"] == "N"
    assert all(repos.bilans.get(_key(uai, i)).version == 1 for i in range(3))


def test_a_batch_written_again_is_refused_whole_with_what_was_done(repos, uai):
    record = _running(repos, uai, total=3)
    assert repos.results.commit(_batch(record, 2)) is None
    refused = repos.results.commit(_batch(record, 3, versions={0: 1, 1: 1}))
    assert refused is not None and not refused.import_closed
    assert refused.done == {"0#P#2025#3#1", "1#P#2025#3#1"}
    got = repos.imports.get(uai, record.import_id)
    assert got.traites == 2, "nothing of the refused batch was written"
    assert repos.bilans.get(_key(uai, 2)) is None and len(repos.results.of_import(uai, record.import_id)) == 2


def test_a_batch_on_a_bilan_written_since_it_was_read_writes_nothing(repos, uai):
    record = _running(repos, uai, total=2)
    repos.bilans.save(BilanWrite(_key(uai, 0), _state(texte="Saisie."), None))    # version 1 now
    refused = repos.results.commit(_batch(record, 2))                                # read as absent
    assert refused is not None and refused.stale == {_key(uai, 0)} and not refused.done
    assert repos.bilans.get(_key(uai, 0)).state.importe["acquis_conseils"] == "Saisie."
    assert repos.bilans.get(_key(uai, 1)) is None and repos.results.of_import(uai, record.import_id) == []
    assert repos.imports.get(uai, record.import_id).traites == 0
    assert repos.results.commit(_batch(record, 2, versions={0: 1})) is None, "recomputed on the new version"


def test_a_batch_of_an_import_that_is_over_writes_nothing(repos, uai):
    record = _running(repos, uai, total=1)
    assert repos.imports.finish(uai, record.import_id, synthese_cle="s", termine_le="t")
    refused = repos.results.commit(_batch(record, 1))
    assert refused is not None and refused.import_closed
    assert repos.bilans.get(_key(uai, 0)) is None and repos.results.of_import(uai, record.import_id) == []


def test_a_technical_failure_is_recorded_once_and_counted(repos, uai):
    record = _running(repos, uai, total=2)
    failure = _result(record, 1, statut="REJETE")
    assert repos.results.record_failure(failure)
    assert not repos.results.record_failure(failure)
    got = repos.imports.get(uai, record.import_id)
    assert (got.traites, got.rejetes) == (1, 1)
    assert repos.results.commit(_batch(record, 2)).done == {"1#P#2025#3#1"}


# --- schools ---------------------------------------------------------------------------------------

def _switch(repos, uai: str, sha: str, expected: str | None, nom: str | None = "Collège Test") -> None:
    repos.schools.switch_referentiel(uai, nom=nom, millesime="2025", cle=f"referentiels/{uai}/{sha}.json",
                                     sha256=sha, charge_le="t", resume={"eleves": 3}, expected_sha256=expected)


def test_a_referentiel_version_replaces_only_the_one_read(repos, uai):
    _switch(repos, uai, "a" * 64, None)
    with pytest.raises(Conflict):
        _switch(repos, uai, "b" * 64, None)                  # « If-None-Match: * »: exists already
    with pytest.raises(Conflict):
        _switch(repos, uai, "b" * 64, "c" * 64)              # not the version read
    _switch(repos, uai, "b" * 64, "a" * 64, nom=None)
    school = repos.schools.get(uai)
    assert (school.referentiel_sha256, school.nom, school.resume, school.millesime) == ("b" * 64, None,
                                                                                        {"eleves": 3}, "2025")
    assert uai in {s.uai for s in repos.schools.all()} and repos.schools.get("0000000X") is None


def test_one_import_holds_the_school_at_a_time_and_a_new_referentiel_keeps_it(repos, uai):
    with pytest.raises(SchoolBusy):
        repos.schools.acquire_lease(uai, "I1", now=1000, lease_seconds=LEASE)     # no such school
    _switch(repos, uai, "a" * 64, None)
    repos.schools.acquire_lease(uai, "I1", now=1000, lease_seconds=LEASE)
    repos.schools.acquire_lease(uai, "I1", now=1001, lease_seconds=LEASE)         # its own, again
    _switch(repos, uai, "b" * 64, "a" * 64)
    with pytest.raises(SchoolBusy):
        repos.schools.acquire_lease(uai, "I2", now=1002, lease_seconds=LEASE)
    repos.schools.release_lease(uai, "I2")                                        # not its lease: no-op
    assert repos.schools.get(uai).import_en_cours == "I1"
    repos.schools.acquire_lease(uai, "I2", now=1001 + LEASE + 1, lease_seconds=LEASE)   # expired: taken
    repos.schools.release_lease(uai, "I2")
    assert repos.schools.get(uai).import_en_cours is None
    repos.schools.acquire_lease(uai, "I3", now=5000, lease_seconds=LEASE)


# --- blobs -----------------------------------------------------------------------------------------

def test_blobs_are_read_back_and_a_missing_one_is_told(repos, uai):
    key = f"syntheses/{uai}/contrat.json"
    repos.blobs.put(key, b'{"a": 1}', "application/json")
    assert repos.blobs.get(key) == b'{"a": 1}' and repos.blobs.size(key) == 8
    with pytest.raises(NotFound):
        repos.blobs.get(f"syntheses/{uai}/absent.json")
    assert repos.blobs.exists(key) and not repos.blobs.exists(f"syntheses/{uai}/absent.json")
