"""The pipeline's stages on the in-memory repositories (chalicelib/adapters/memory.py): upload →
split → merge → report, each stage called with the event shape Lambda gives it, the network
blocked. The same stages run on the emulator in tests/integration/."""
from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from chalicelib.adapters.ports import eleve_key
from chalicelib.api.referentiel import store_referentiel
from chalicelib.domain.vocabulary import ImportStatut
from chalicelib.pipeline import report, upload
from chalicelib.pipeline.merge import stage as merge
from chalicelib.pipeline.split import stage as split
from chalicelib.runtime import memory_runtime
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

SPEC = SchoolSpec(uai="0750123X", divisions_par_niveau=1, eleves_par_division=3)


@pytest.fixture
def rt(settings):
    rt = memory_runtime(settings)
    store_referentiel(rt, generate_referentiel(SPEC), None)
    return rt


def _sqs_event(bodies: list[str], receive_count: int = 1) -> dict:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": body, "eventSource": "aws:sqs",
                         "attributes": {"ApproximateReceiveCount": str(receive_count)}, "messageAttributes": {}}
                        for i, body in enumerate(bodies)]}


def _upload(rt, data: bytes, pre_controle: bool = False) -> tuple[str, dict]:
    created = upload.start_upload(rt, SPEC.uai, "export.xml", len(data), pre_controle, "CE:dev")
    key = created["upload"]["fields"]["key"]
    rt.repos.blobs.put(key, data)
    notification = {"Records": [{"eventName": "ObjectCreated:Post", "s3": {
        "bucket": {"name": rt.settings.bucket}, "object": {"key": key, "size": len(data)}}}]}
    return created["import_id"], notification


def _run(rt, data: bytes, pre_controle: bool = False) -> str:
    """Every stage in turn, as the event sources would call them; the import id."""
    import_id, notification = _upload(rt, data, pre_controle)
    assert split.process_uploads_event(_sqs_event([json.dumps(notification)]), rt) == {"batchItemFailures": []}
    bodies = rt.queues.sent.pop(rt.settings.bilans_queue, [])
    for start in range(0, len(bodies), 10):
        assert merge.process_bilans_event(_sqs_event(bodies[start:start + 10]), rt) == {"batchItemFailures": []}
    reports = rt.queues.sent.pop(rt.settings.report_queue, [])
    assert len(reports) == 1, "the report is requested once"
    assert report.process_report_event(_sqs_event(reports), rt) == {"batchItemFailures": []}
    return import_id


def test_a_file_goes_through_every_stage_to_its_synthese(rt):
    data = generate_lsu_xml(SPEC)
    import_id = _run(rt, data)
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.TERMINE and record.traites == record.total > 0
    synthese = report.read_synthese(rt, record)
    assert synthese["totaux"]["nouveaux"] == record.total and len(synthese["bilans"]) == record.total
    assert rt.repos.schools.get(SPEC.uai).import_en_cours is None, "the school's lease is released"
    first = synthese["bilans"][0]
    stored = rt.repos.bilans.of_eleve(SPEC.uai, first["id_be"])
    assert stored and stored[0].state.import_id == import_id


def test_the_same_file_again_changes_nothing(rt):
    data = generate_lsu_xml(SPEC)
    _run(rt, data)
    again = rt.repos.imports.get(SPEC.uai, _run(rt, data))
    assert (again.inchanges, again.nouveaux, again.mis_a_jour) == (again.total, 0, 0)


def test_a_pre_controle_writes_no_bilan(rt):
    import_id = _run(rt, generate_lsu_xml(SPEC), pre_controle=True)
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.TERMINE and record.nouveaux == record.total > 0
    assert rt.repos.bilans.of_division(SPEC.uai, "3A") == []


def test_a_duplicate_notification_is_one_split(rt):
    import_id, notification = _upload(rt, generate_lsu_xml(SPEC))
    [obj] = split.s3_objects(json.dumps(notification))
    assert split.handle_object(rt, obj) == "decoupe"
    sent = len(rt.queues.sent[rt.settings.bilans_queue])
    assert split.handle_object(rt, obj) == "doublon" and len(rt.queues.sent[rt.settings.bilans_queue]) == sent


def test_a_file_of_another_school_is_rejected_and_sends_nothing(rt):
    other = generate_lsu_xml(SchoolSpec(uai="0999999Z", divisions_par_niveau=1, eleves_par_division=1))
    import_id, notification = _upload(rt, other)
    [obj] = split.s3_objects(json.dumps(notification))
    assert split.handle_object(rt, obj) == "rejete"
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.FICHIER_REJETE and record.erreurs_fichier[0]["code"] == "UAI_MISMATCH"
    assert rt.settings.bilans_queue not in rt.queues.sent


def test_a_batch_delivered_twice_counts_once_and_a_malformed_message_fails_alone(rt):
    import_id, notification = _upload(rt, generate_lsu_xml(SPEC))
    [obj] = split.s3_objects(json.dumps(notification))
    split.handle_object(rt, obj)
    bodies = rt.queues.sent[rt.settings.bilans_queue]
    assert merge.process_bilans_event(_sqs_event(bodies[:1]), rt) == {"batchItemFailures": []}
    response = merge.process_bilans_event(_sqs_event(bodies[:1] + ["{pas du json"]), rt)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.traites == len(json.loads(bodies[0])["bilans"]), "the redelivered message is a no-op"


def test_a_poison_bilan_fails_its_message_then_the_dlq_records_it(rt, monkeypatch):
    import_id, notification = _upload(rt, generate_lsu_xml(SPEC))
    [obj] = split.s3_objects(json.dumps(notification))
    split.handle_object(rt, obj)
    bodies = rt.queues.sent[rt.settings.bilans_queue]
    poison = json.loads(bodies[0])["bilans"][0]
    real = merge.plan

    def plan(rt_, items, existing):
        if any(i.bilan == poison for i in items):
            raise RuntimeError("bilan empoisonné")
        return real(rt_, items, existing)

    monkeypatch.setattr(merge, "plan", plan)
    response = merge.process_bilans_event(_sqs_event(bodies), rt)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert merge.process_dead_letters_event(_sqs_event(bodies[:1]), rt) == {"batchItemFailures": []}
    results = {r.bilan_id: r for r in rt.repos.results.of_import(SPEC.uai, import_id)}
    poisoned = results[f"{poison['eleve']['id_be']}#{poison['cle']}"]
    assert poisoned.statut == "REJETE" and poisoned.messages[0]["code"] == "ERREUR_TECHNIQUE"
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.traites == record.total and record.rejetes == 1
    assert len(rt.queues.sent[rt.settings.report_queue]) == 1


def test_a_busy_school_puts_the_upload_back_soon(rt):
    rt.repos.schools.acquire_lease(SPEC.uai, "AUTRE-IMPORT", 10**10, split.SCHOOL_LEASE_SECONDS)
    import_id, notification = _upload(rt, generate_lsu_xml(SPEC))
    with pytest.raises(BatchProcessingError):     # the whole batch failed: Lambda hands it back
        split.process_uploads_event(_sqs_event([json.dumps(notification)], receive_count=2), rt)
    assert rt.queues.delays == [(rt.settings.uploads_queue, "r0", 2 * split.BUSY_BACKOFF_SECONDS)]
    assert rt.repos.imports.get(SPEC.uai, import_id).statut == ImportStatut.EN_ATTENTE_FICHIER


def test_the_edit_of_a_bilan_is_kept_by_its_key(rt):
    import_id = _run(rt, generate_lsu_xml(SPEC))
    first = rt.repos.results.of_import(SPEC.uai, import_id)[0]
    key = (eleve_key(SPEC.uai, first.eleve["id_be"]), first.bilan_id.split("#", 1)[1])
    assert rt.repos.bilans.get(key).version == 1
