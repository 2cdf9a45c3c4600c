"""The watchdog (chalicelib/pipeline/watchdog.py) on the in-memory repositories: whatever is lost
on the way, every import ends, each bilan with exactly one result. The same faults on the
emulator, through the local stack: tests/integration/test_liveness_faults.py."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.adapters.ports import NotFound
from chalicelib.api.referentiel import store_referentiel
from chalicelib.domain import liveness
from chalicelib.domain.vocabulary import BilanStatut, ImportStatut
from chalicelib.pipeline import manifest, report, upload, watchdog
from chalicelib.pipeline.merge import stage as merge
from chalicelib.pipeline.split import stage as split
from chalicelib.runtime import memory_runtime
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

SPEC = SchoolSpec(uai="0750123X", divisions_par_niveau=1, eleves_par_division=4)


@pytest.fixture
def rt(settings):
    rt = memory_runtime(settings)
    store_referentiel(rt, generate_referentiel(SPEC), None)
    return rt


def _sqs_event(bodies: list[str]) -> dict:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body, "eventSource": "aws:sqs",
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}}
                        for i, body in enumerate(bodies)]}


def _split(rt, spec: SchoolSpec = SPEC) -> tuple[str, list[str]]:
    """An import uploaded and split; its bilans messages, not yet delivered."""
    data = generate_lsu_xml(spec)
    created = upload.start_upload(rt, spec.uai, "export.xml", len(data), False, "CE:dev")
    key = created["upload"]["fields"]["key"]
    rt.repos.blobs.put(key, data)
    notification = {"Records": [{"eventName": "ObjectCreated:Post", "s3": {
        "bucket": {"name": rt.settings.bucket}, "object": {"key": key, "size": len(data)}}}]}
    assert split.process_uploads_event(_sqs_event([json.dumps(notification)]), rt) == {"batchItemFailures": []}
    return created["import_id"], rt.queues.sent.pop(rt.settings.bilans_queue)


def _deliver(rt, bodies: list[str]) -> dict:
    return merge.process_bilans_event(_sqs_event(bodies), rt)


def _reports(rt) -> None:
    bodies = rt.queues.sent.pop(rt.settings.report_queue, [])
    if bodies:
        assert report.process_report_event(_sqs_event(bodies), rt) == {"batchItemFailures": []}


def _later(rt) -> float:
    return time.time() + rt.settings.stale_after_seconds + 1


def _audit(rt, import_id: str) -> dict:
    """Every bilan of the manifest has exactly one result; the counters add up."""
    record = rt.repos.imports.get(SPEC.uai, import_id)
    sent = [m["bilan_id"] for m in manifest.read_manifest(rt, SPEC.uai, import_id)]
    results = rt.repos.results.of_import(SPEC.uai, import_id)
    assert sorted(r.bilan_id for r in results) == sorted(sent) and len(set(sent)) == len(sent)
    assert record.traites == record.total == len(sent)
    assert record.nouveaux + record.mis_a_jour + record.inchanges + record.rejetes == record.total
    return {r.bilan_id: r for r in results}


def test_the_splitter_writes_the_manifest_of_what_it_sends_before_sending(rt):
    import_id, bodies = _split(rt)
    sent = [f"{b['eleve']['id_be']}#{b['cle']}" for body in bodies for b in json.loads(body)["bilans"]]
    idents = manifest.read_manifest(rt, SPEC.uai, import_id)
    assert [i["bilan_id"] for i in idents] == sent
    assert all(i["eleve"]["nom"] and (i["periode"] or i["cycle"]) for i in idents)


def test_a_bilans_message_lost_is_finished_by_the_watchdog_naming_its_bilans(rt):
    import_id, bodies = _split(rt)
    lost = [f"{b['eleve']['id_be']}#{b['cle']}" for b in json.loads(bodies[0])["bilans"]]
    assert _deliver(rt, bodies[1:]) == {"batchItemFailures": []}
    assert rt.queues.sent.get(rt.settings.report_queue) is None, "incomplete: no report"
    assert watchdog.run_watchdog(rt) == {"interrompus": [], "expires": [], "rejetes": []}, "not stale yet"
    assert rt.repos.imports.get(SPEC.uai, import_id).statut == ImportStatut.EN_COURS

    assert watchdog.run_watchdog(rt, now=_later(rt))["interrompus"] == [import_id]
    _reports(rt)
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.TERMINE
    results = _audit(rt, import_id)
    for bilan_id in lost:
        assert results[bilan_id].statut == BilanStatut.REJETE
        assert [m["code"] for m in results[bilan_id].messages] == ["ERREUR_TECHNIQUE"]
    synthese = json.loads(rt.repos.blobs.get(record.synthese_cle))
    assert synthese["totaux"]["rejetes"] == len(lost) and synthese["totaux"]["bilans"] == record.total
    named = {f"{b['id_be']}#{b['type']}" for b in synthese["bilans"] if b["statut"] == "REJETE"}
    assert len(named) == len(lost) and all(b["nom"] for b in synthese["bilans"])
    assert [m["code"] for m in synthese["messages"]] == ["IMPORT_INTERROMPU"]
    assert f"{len(lost)} bilan(s) rejeté(s)" in synthese["messages"][0]["message"]


def test_a_late_message_after_the_watchdog_counts_nothing_twice(rt):
    import_id, bodies = _split(rt)
    _deliver(rt, bodies[1:])
    watchdog.run_watchdog(rt, now=_later(rt))
    before = rt.repos.imports.get(SPEC.uai, import_id)
    assert _deliver(rt, bodies[:1]) == {"batchItemFailures": []}, "its bilans have a result: no-ops"
    assert rt.repos.imports.get(SPEC.uai, import_id).traites == before.traites
    _reports(rt)
    assert _deliver(rt, bodies[:1]) == {"batchItemFailures": []}, "the import is over: ignored"
    _audit(rt, import_id)
    assert watchdog.run_watchdog(rt, now=_later(rt) + 3600)["interrompus"] == [], "finished: not seen again"


def test_two_rounds_at_once_or_again_change_nothing_more(rt):
    import_id, bodies = _split(rt)
    _deliver(rt, bodies[2:])
    later = _later(rt)
    watchdog.run_watchdog(rt, now=later)
    watchdog.run_watchdog(rt, now=later)        # the next round, before the report ran
    _reports(rt)                                # two report requests: one synthèse
    results = _audit(rt, import_id)
    lost = {f"{b['eleve']['id_be']}#{b['cle']}" for body in bodies[:2] for b in json.loads(body)["bilans"]}
    assert {k for k, r in results.items() if r.statut == BilanStatut.REJETE} == lost


def test_a_complete_import_whose_report_was_lost_ends_without_rejections(rt):
    import_id, bodies = _split(rt)
    _deliver(rt, bodies)
    rt.queues.sent.pop(rt.settings.report_queue)          # the report request lost
    watchdog.run_watchdog(rt, now=_later(rt))
    _reports(rt)
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.TERMINE and record.rejetes == 0
    assert json.loads(rt.repos.blobs.get(record.synthese_cle))["messages"] == []


def test_a_splitter_that_died_before_sending_leaves_every_bilan_named(rt):
    import_id, bodies = _split(rt)                           # nothing delivered: all lost
    watchdog.run_watchdog(rt, now=_later(rt))
    _reports(rt)
    results = _audit(rt, import_id)
    assert {r.statut for r in results.values()} == {BilanStatut.REJETE}
    synthese = json.loads(rt.repos.blobs.get(rt.repos.imports.get(SPEC.uai, import_id).synthese_cle))
    assert [m["code"] for m in synthese["messages"]] == ["IMPORT_INTERROMPU", "ALL_BILANS_REJECTED"]


def test_an_import_without_a_manifest_still_ends_and_says_what_it_could_not_name(rt):
    import_id, bodies = _split(rt)
    _deliver(rt, bodies[1:])
    del rt.repos.blobs.s.blobs[manifest.manifest_key(SPEC.uai, import_id)]
    watchdog.run_watchdog(rt, now=_later(rt))
    _reports(rt)
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.TERMINE and record.traites < record.total
    synthese = json.loads(rt.repos.blobs.get(record.synthese_cle))
    assert f"{record.total - record.traites} bilan(s) sans résultat n'ont pas pu être identifiés" in \
        synthese["messages"][0]["message"]


def test_one_import_failing_does_not_stop_the_round(rt, monkeypatch):
    other = SchoolSpec(uai="0750124Y", divisions_par_niveau=1, eleves_par_division=2)
    store_referentiel(rt, generate_referentiel(other), None)
    first, _ = _split(rt)
    second, _ = _split(rt, other)
    real = rt.repos.results.of_import

    def broken(uai, import_id):
        if import_id == first:
            raise RuntimeError("injected")
        return real(uai, import_id)

    monkeypatch.setattr(rt.repos.results, "of_import", broken)
    with pytest.raises(watchdog.WatchdogRoundFailed, match=first):
        watchdog.run_watchdog(rt, now=_later(rt))
    assert rt.repos.imports.get(other.uai, second).surveillance is not None
    assert rt.repos.imports.get(SPEC.uai, first).surveillance is None


def test_an_upload_never_made_expires_after_its_form_and_the_grace(rt):
    created = upload.start_upload(rt, SPEC.uai, "export.xml", 1000, False, "CE:dev")
    import_id = created["import_id"]
    expiry = rt.settings.upload_expiry_seconds
    assert watchdog.run_watchdog(rt, now=time.time() + expiry)["expires"] == []
    done = watchdog.run_watchdog(rt, now=time.time() + expiry + liveness.UPLOAD_GRACE_SECONDS + 1)
    assert done["expires"] == [import_id]
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.EXPIRE and record.termine_le
    assert [e["code"] for e in record.erreurs_fichier] == ["IMPORT_EXPIRE"]
    assert rt.repos.results.of_import(SPEC.uai, import_id) == []


def test_a_file_that_came_waits_for_its_splitter_and_is_rejected_only_after_every_retry(rt):
    created = upload.start_upload(rt, SPEC.uai, "export.xml", 1000, False, "CE:dev")
    rt.repos.blobs.put(created["upload"]["fields"]["key"], b"<xml/>")
    assert watchdog.run_watchdog(rt, now=time.time() + 3600) == {"interrompus": [], "expires": [], "rejetes": []}
    done = watchdog.run_watchdog(rt, now=time.time() + liveness.UNSPLIT_FILE_SECONDS + 1)
    assert done["rejetes"] == [created["import_id"]]
    record = rt.repos.imports.get(SPEC.uai, created["import_id"])
    assert record.statut == ImportStatut.FICHIER_REJETE and record.erreurs_fichier[0]["code"] == "ERREUR_TECHNIQUE"


def test_a_claim_check_that_cannot_be_read_fails_its_own_message_only(rt, monkeypatch):
    monkeypatch.setattr(split, "INLINE_LIMIT", 300)         # every bilan by reference to S3
    import_id, bodies = _split(rt)
    keys = [json.loads(b)["bilans_s3"] for b in bodies]
    assert len(keys) == len(bodies) > 3
    del rt.repos.blobs.s.blobs[keys[1]]
    response = _deliver(rt, bodies[:4])
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert rt.repos.imports.get(SPEC.uai, import_id).traites == 3
    with pytest.raises(NotFound):
        rt.repos.blobs.get(keys[1])
    # In the DLQ it cannot be read either: discarded, the watchdog names its bilan.
    assert merge.process_dead_letters_event(_sqs_event([bodies[1]]), rt) == {"batchItemFailures": []}
    _deliver(rt, bodies[4:])
    watchdog.run_watchdog(rt, now=_later(rt))
    _reports(rt)
    results = _audit(rt, import_id)
    assert sum(r.statut == BilanStatut.REJETE for r in results.values()) == 1
