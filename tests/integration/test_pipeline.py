"""Pipeline stages against the emulator over HTTP: idempotency on business keys, duplicate S3
events, partial batch responses, the S3 size re-check and the local dispatcher's contract."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from chalicelib.pipeline.split import stage as splitter
from chalicelib.pipeline.merge import stage as worker
from chalicelib.api.referentiel import store_referentiel
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from lsu_tools.local.dispatcher import Dispatcher, QueueBinding
from chalicelib.runtime import build_runtime
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.stage import S3Object
from chalicelib.adapters.ports import import_key
from chalicelib.adapters.sqs import SQS_MAX_BATCH_BYTES
from chalicelib.domain.vocabulary import ImportStatut
from chalicelib.pipeline import handoff

EN_ATTENTE_FICHIER, EN_COURS = ImportStatut.EN_ATTENTE_FICHIER, ImportStatut.EN_COURS
from chalicelib.pipeline.split.file_checks import check_file


def _new_import(rt, uai: str, statut: str, total: int | None = None, key: str | None = None):
    import_id = f"T{uuid.uuid4().hex[:12]}"
    rec = rt.models.Import(uai, import_id, statut=statut, nom_fichier="f.xml", taille_declaree=1,
                           cle_s3=key or f"imports/{uai}/{import_id}.xml",
                           cree_le=datetime.now(timezone.utc).isoformat(), total=total)
    rec.save()
    return rec


def _referentiel(rt, spec: SchoolSpec) -> str:
    """Load the spec's référentiel (as the API does) and return its version's key."""
    current = rt.models.Etablissement.get(spec.uai) if rt.models.Etablissement.count(spec.uai) else None
    store_referentiel(rt, generate_referentiel(spec), current.referentiel_sha256 if current else None)
    return rt.models.Etablissement.get(spec.uai, consistent_read=True).referentiel_cle


def _bilans(rt, spec: SchoolSpec) -> list[dict]:
    result = check_file(generate_lsu_xml(spec), rt.schema, spec.uai)
    assert result.ok
    return list(split_bilans(result.root))


def _event(bodies: list[str], receive_count: int = 1) -> dict:
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": b, "md5OfBody": "",
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "0"},
        "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-3:123456789012:q", "awsRegion": "eu-west-3"} for b in bodies]}


def _wait_status(rt, uai, import_id, statut, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        rec = rt.models.Import.get(uai, import_id, consistent_read=True)
        if rec.statut == statut:
            return rec
        assert time.monotonic() < deadline, f"{rec.statut} != {statut}"
        time.sleep(0.2)


def test_redelivered_worker_batches_count_once_and_report_once(rt):
    spec = SchoolSpec(uai="0760001A", divisions_par_niveau=1, eleves_par_division=4)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    bodies = splitter.bilan_messages(rt, rec, bilans, _referentiel(rt, spec))
    assert len(bodies) == 3, "24 bilans: messages of 10, 10 and 4"
    first, rest = bodies[:2], bodies[2:]
    # Every batch delivered again, and a batch holding the same message twice (sent again).
    for batch in (first, first, rest, rest + rest[:2], first):
        assert worker.process_bilans_event(_event(batch, receive_count=2), rt) == {"batchItemFailures": []}
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert done.traites == done.total == len(bilans) == done.nouveaux
    assert rt.models.Resultat.count(import_key(spec.uai, rec.import_id)) == len(bilans)
    synthese = json.loads(rt.s3.get_object(Bucket=rt.settings.bucket, Key=done.synthese_cle)["Body"].read())
    assert synthese["totaux"]["bilans"] == len(bilans) == len(synthese["bilans"])
    # A late duplicate after the end changes nothing either.
    assert worker.process_bilans_event(_event(first), rt) == {"batchItemFailures": []}
    again = rt.models.Import.get(spec.uai, rec.import_id, consistent_read=True)
    assert (again.traites, again.nouveaux, again.termine_le) == (done.traites, done.nouveaux, done.termine_le)


def test_malformed_message_is_the_only_failure_of_its_batch(rt):
    spec = SchoolSpec(uai="0760002B", divisions_par_niveau=1, eleves_par_division=1)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans) + 1)
    event = _event(splitter.bilan_messages(rt, rec, bilans, _referentiel(rt, spec)) + ["{pas du json"])
    response = worker.process_bilans_event(event, rt)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][-1]["messageId"]}]}
    assert rt.models.Import.get(spec.uai, rec.import_id).traites == len(bilans)


def test_a_poison_message_fails_alone_and_the_rest_of_its_batch_is_written(rt):
    spec = SchoolSpec(uai="0760010K", divisions_par_niveau=1, eleves_par_division=2)
    bilans = _bilans(rt, spec)[:10]
    rec = _new_import(rt, spec.uai, EN_COURS, total=10)
    ref = _referentiel(rt, spec)
    good = splitter.bilan_messages(rt, rec, bilans[:4], ref) + splitter.bilan_messages(rt, rec, bilans[4:9], ref)
    poison = splitter.bilan_messages(rt, rec, bilans[9:], "referentiels/absent.json")   # unreadable référentiel
    event = _event(good[:1] + poison + good[1:])
    response = worker.process_bilans_event(event, rt)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    after = rt.models.Import.get(spec.uai, rec.import_id, consistent_read=True)
    assert (after.traites, after.nouveaux) == (9, 9)
    written = list(rt.models.Resultat.query(import_key(spec.uai, rec.import_id)))
    assert len(written) == 9 and all(r.expire_le is not None for r in written)


def _poisoned(bilan: dict) -> dict:
    """A bilan the worker cannot process (its checks raise on it): a poison, whatever the retries."""
    return {**bilan, "acquis": 42}


def test_a_poison_bilan_inside_a_message_fails_its_message_alone_then_the_dlq_records_it(rt):
    """Ten bilans in one message, the 4th poisoned: the nine others are written, only the message
    is reported failed; delivered again, it writes nothing more; dead, each of its bilans is tried
    once more alone and only the poison becomes ERREUR_TECHNIQUE. The import then finishes."""
    spec = SchoolSpec(uai="0760011L", divisions_par_niveau=1, eleves_par_division=3)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    ref = _referentiel(rt, spec)
    mixed = bilans[:3] + [_poisoned(bilans[3])] + bilans[4:10]
    [message] = splitter.bilan_messages(rt, rec, mixed, ref)
    assert len(json.loads(message)["bilans"]) == 10
    others = splitter.bilan_messages(rt, rec, bilans[10:], ref)
    event = _event(others[:1] + [message] + others[1:])
    response = worker.process_bilans_event(event, rt)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    after = rt.models.Import.get(spec.uai, rec.import_id, consistent_read=True)
    assert (after.traites, after.nouveaux) == (len(bilans) - 1, len(bilans) - 1)
    poison_id = f"{bilans[3]['eleve']['id_be']}#{bilans[3]['cle']}"
    stored = {r.bilan_id for r in rt.models.Resultat.query(import_key(spec.uai, rec.import_id))}
    assert poison_id not in stored and len(stored) == len(bilans) - 1
    # Delivered again, with the others (sent twice): the same failure alone, nothing counted twice.
    again = _event(others + [message], receive_count=2)
    assert worker.process_bilans_event(again, rt) == {
        "batchItemFailures": [{"itemIdentifier": again["Records"][-1]["messageId"]}]}
    assert rt.models.Import.get(spec.uai, rec.import_id, consistent_read=True).traites == len(bilans) - 1
    # Dead: the DLQ handler retries each bilan alone; only the poison is recorded as a failure.
    assert worker.process_dead_letters_event(_event([message], receive_count=4), rt) == {"batchItemFailures": []}
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert (done.traites, done.nouveaux, done.rejetes) == (len(bilans), len(bilans) - 1, 1)
    results = {r.bilan_id: r for r in rt.models.Resultat.query(import_key(spec.uai, rec.import_id))}
    assert len(results) == len(bilans)
    assert [m["code"] for m in results[poison_id].messages] == ["ERREUR_TECHNIQUE"]
    assert all(r.statut == "IMPORTE" for i, r in results.items() if i != poison_id)


def test_the_dlq_writes_a_bilan_that_no_longer_fails_as_the_worker_would(rt):
    """A message dead for a cause that has gone (here: its référentiel was missing, it is there
    now): its bilans are imported on the DLQ's retry, not marked ERREUR_TECHNIQUE."""
    spec = SchoolSpec(uai="0760012M", divisions_par_niveau=1, eleves_par_division=1)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    ref = _referentiel(rt, spec)
    [message] = splitter.bilan_messages(rt, rec, bilans, ref)
    with pytest.raises(BatchProcessingError):      # every record failed: Lambda gives the batch back
        worker.process_bilans_event(_event([message.replace(ref, "referentiels/absent.json")]), rt)
    assert worker.process_dead_letters_event(_event([message], receive_count=4), rt) == {"batchItemFailures": []}
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert (done.traites, done.nouveaux, done.rejetes) == (len(bilans), len(bilans), 0)


def test_duplicate_s3_event_changes_nothing(api_for, rt):
    spec = SchoolSpec(uai="0760003C", divisions_par_niveau=1, eleves_par_division=2)
    api = api_for(spec.uai)
    api.put_referentiel(generate_referentiel(spec))
    s = api.import_bytes(generate_lsu_xml(spec))
    assert s["statut"] == "TERMINE"
    rec = rt.models.Import.get(spec.uai, s["import_id"], consistent_read=True)
    obj = S3Object(rt.settings.bucket, rec.cle_s3, rec.taille)
    assert splitter.handle_object(rt, obj) == "doublon"
    assert splitter.handle_object(rt, obj, redelivered=True) == "doublon"
    # The same notification through the queue, as S3 would send it again (key URL-encoded).
    body = json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Post", "s3": {
        "bucket": {"name": rt.settings.bucket}, "object": {"key": rec.cle_s3.replace("/", "%2F"), "size": rec.taille}}}]})
    url = rt.queue_url(rt.settings.uploads_queue)
    rt.sqs.send_message(QueueUrl=url, MessageBody=body)
    deadline = time.monotonic() + 30
    while True:
        attrs = rt.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        if attrs == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    after = rt.models.Import.get(spec.uai, s["import_id"], consistent_read=True)
    assert (after.statut, after.traites, after.total, after.nouveaux, after.termine_le) == \
           (rec.statut, rec.traites, rec.total, rec.nouveaux, rec.termine_le)
    assert rt.models.Resultat.count(import_key(spec.uai, s["import_id"])) == rec.total


def test_size_is_checked_from_s3_not_from_the_upload_policy(rt, stack):
    """moto does not enforce the POST policy: the splitter re-reads the object's size."""
    bucket = f"lsu-test-taille-{uuid.uuid4().hex[:8]}"      # its own: an S3 endpoint may be shared
    small = build_runtime(replace(stack.settings, bucket=bucket, max_file_bytes=1000))
    small.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": stack.settings.region})
    spec = SchoolSpec(uai="0760004D", divisions_par_niveau=1, eleves_par_division=1)
    _referentiel(small, spec)
    rec = _new_import(small, spec.uai, EN_ATTENTE_FICHIER)
    data = generate_lsu_xml(spec)
    small.s3.put_object(Bucket=bucket, Key=rec.cle_s3, Body=data)
    assert splitter.handle_object(small, S3Object(bucket, rec.cle_s3, 10)) == "rejete"
    after = small.models.Import.get(spec.uai, rec.import_id, consistent_read=True)
    assert after.statut == "FICHIER_REJETE" and after.taille == len(data)
    assert [e["code"] for e in after.erreurs_fichier] == ["FILE_TOO_LARGE"]


def test_objects_outside_the_upload_prefix_or_without_import_are_ignored(rt):
    assert splitter.handle_object(rt, S3Object(rt.settings.bucket, "autre/0760005E/x.xml", 1)) == "ignore"
    assert splitter.handle_object(rt, S3Object(rt.settings.bucket, "imports/0760005E/inconnu.xml", 1)) == "ignore"
    assert splitter.handle_object(rt, S3Object("autre-bucket", "imports/0760005E/x.xml", 1)) == "ignore"


def test_dispatcher_deletes_successes_and_leaves_partial_failures(rt):
    name = f"lsu-test-dispatch-{uuid.uuid4().hex[:8]}"
    url = rt.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    for i in range(5):
        rt.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": i}))
    seen: list[dict] = []

    def handler(event, context):
        seen.append(event)
        assert context.get_remaining_time_in_millis() > 0
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if json.loads(r["body"])["n"] % 2]}

    binding = QueueBinding(name, url, f"arn:aws:sqs:{rt.settings.region}:123456789012:{name}", handler)
    d = Dispatcher(rt.sqs, rt.settings.region, [binding])
    messages = []
    while len(messages) < 5:
        messages += rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    failed = d.deliver(binding, messages)
    assert len(failed) == 2
    record = seen[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["attributes"]["ApproximateReceiveCount"] == "1"
    # The two failures come back once their 1 s visibility timeout ends (LocalStack: up to 1 s
    # late); the three successes were deleted, so they never do.
    left: list[int] = []
    deadline = time.monotonic() + 15
    while sorted(set(left)) != [1, 3]:
        assert time.monotonic() < deadline, f"messages revenus : {sorted(left)}"
        left += [json.loads(m["Body"])["n"] for m in
                 rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])]
    assert sorted(left) == [1, 3]
    rt.sqs.delete_queue(QueueUrl=url)


def test_dispatcher_stops_without_waiting_for_its_long_polls_and_delivers_nothing_after(rt):
    name = f"lsu-test-arret-{uuid.uuid4().hex[:8]}"
    url = rt.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    seen: list[dict] = []
    binding = QueueBinding(name, url, f"arn:aws:sqs:{rt.settings.region}:123456789012:{name}",
                           lambda event, context: seen.append(event), pollers=2)
    d = Dispatcher(rt.sqs, rt.settings.region, [binding], wait_seconds=20).start()
    rt.sqs.send_message(QueueUrl=url, MessageBody="avant")
    deadline = time.monotonic() + 10
    while not seen:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)                              # both pollers back in a 20 s long poll
    t = time.monotonic()
    d.stop()
    assert time.monotonic() - t < 5, "stop() does not wait for idle long polls"
    rt.sqs.send_message(QueueUrl=url, MessageBody="après")
    time.sleep(1.5)                              # a poll still open takes it, then hands it back
    got = []
    deadline = time.monotonic() + 10
    while not got:
        got = rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        assert time.monotonic() < deadline, "handed back at once, not after the visibility timeout"
    assert [m["Body"] for m in got] == ["après"] and len(seen) == 1
    rt.sqs.delete_queue(QueueUrl=url)


def test_s3_notification_reaches_the_uploads_queue(rt):
    cfg = rt.s3.get_bucket_notification_configuration(Bucket=rt.settings.bucket)
    [queue] = cfg["QueueConfigurations"]
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "Prefix", "Value": "imports/"}] or \
           queue["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "imports/"}]
    for name in (rt.settings.uploads_queue, rt.settings.bilans_queue, rt.settings.report_queue):
        attrs = rt.sqs.get_queue_attributes(QueueUrl=rt.queue_url(name), AttributeNames=["RedrivePolicy"])
        assert json.loads(attrs["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"].endswith(f"{name}-dlq")


class _Killed(BaseException):
    """The process dies (not an exception the code could handle)."""


def test_report_requested_by_a_worker_that_died_is_renewed_on_redelivery(rt, monkeypatch):
    spec = SchoolSpec(uai="0760006F", divisions_par_niveau=1, eleves_par_division=1)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    bodies = splitter.bilan_messages(rt, rec, bilans, _referentiel(rt, spec))
    items = [item for r in _event(bodies)["Records"] for item in worker.parse_message(r, None)]
    worker.commit_bilans(rt, items)

    def die(queue, body):
        raise _Killed()

    with monkeypatch.context() as patched:
        patched.setattr(rt.queues, "send", die)
        try:
            handoff.request_report(rt, spec.uai, rec.import_id)
        except _Killed:
            pass
    dead = rt.models.Import.get(spec.uai, rec.import_id, consistent_read=True)
    assert dead.rapport_demande_le and dead.statut == EN_COURS, "requested, never sent"
    # The batch comes back after its visibility timeout (30 s): the request is then stale.
    rt.models.Import(spec.uai, rec.import_id).update(
        actions=[rt.models.Import.rapport_demande_le.set(dead.rapport_demande_le - handoff.REPORT_REQUEST_STALE_SECONDS - 10)])
    assert worker.process_bilans_event(_event(bodies, receive_count=2), rt) == {"batchItemFailures": []}
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert done.traites == done.total == len(bilans)


def test_poison_bilan_from_the_dlq_shows_as_erreur_technique_and_the_import_finishes(rt):
    spec = SchoolSpec(uai="0760007G", divisions_par_niveau=1, eleves_par_division=1)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    ok = splitter.bilan_messages(rt, rec, bilans[:-1], _referentiel(rt, spec))
    [poison] = splitter.bilan_messages(rt, rec, bilans[-1:], "referentiels/absent.json")   # fails on every try
    assert worker.process_bilans_event(_event(ok), rt) == {"batchItemFailures": []}
    dlq = rt.queue_url(rt.settings.bilans_queue + "-dlq")
    for _ in range(2):                                   # redelivered from the DLQ too: counted once
        rt.sqs.send_message(QueueUrl=dlq, MessageBody=poison)
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert (done.traites, done.rejetes) == (len(bilans), 1)
    synthese = json.loads(rt.s3.get_object(Bucket=rt.settings.bucket, Key=done.synthese_cle)["Body"].read())
    failed = [b for b in synthese["bilans"] if b["statut"] == "REJETE"]
    assert len(failed) == 1 and failed[0]["messages"][0]["code"] == "ERREUR_TECHNIQUE"
    assert "Relancer l'import" in failed[0]["messages"][0]["conseil"]


def test_a_bilan_that_always_fails_is_redriven_to_the_dlq_then_reported(rt):
    """The whole chain on the emulator, with short timeouts: fail, fail, DLQ, ERREUR_TECHNIQUE."""
    spec = SchoolSpec(uai="0760008H", divisions_par_niveau=1, eleves_par_division=1)
    bilans = _bilans(rt, spec)[:1]
    rec = _new_import(rt, spec.uai, EN_COURS, total=1)
    poison = splitter.bilan_messages(rt, rec, bilans, "referentiels/absent.json")[0]   # its référentiel is gone
    name = f"lsu-test-poison-{uuid.uuid4().hex[:8]}"
    dlq_url = rt.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = rt.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = rt.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})["QueueUrl"]
    arn = rt.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    d = Dispatcher(rt.sqs, rt.settings.region, [
        QueueBinding(name, url, arn, lambda e, c: worker.process_bilans_event(e, rt)),
        QueueBinding(f"{name}-dlq", dlq_url, dlq_arn, lambda e, c: worker.process_dead_letters_event(e, rt)),
    ]).start()
    try:
        rt.sqs.send_message(QueueUrl=url, MessageBody=poison)
        done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE", timeout=60)
    finally:
        d.stop()
    assert (done.traites, done.rejetes, done.total) == (1, 1, 1)
    [result] = list(rt.models.Resultat.query(import_key(spec.uai, rec.import_id)))
    assert result.statut == "REJETE" and result.messages[0]["code"] == "ERREUR_TECHNIQUE"


def test_bilans_too_large_for_sqs_travel_by_reference_and_import_the_same(rt, monkeypatch):
    spec = SchoolSpec(uai="0760009J", divisions_par_niveau=1, eleves_par_division=1)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    monkeypatch.setattr(splitter, "INLINE_LIMIT", 100)          # every bilan is « too large »
    bodies = splitter.bilan_messages(rt, rec, bilans, _referentiel(rt, spec))
    assert len(bodies) == len(bilans), "one message per bilan too large to travel inline"
    assert all("bilans_s3" in json.loads(b) and "bilans" not in json.loads(b) for b in bodies)
    assert all(len(b) < 400 for b in bodies)
    assert worker.process_bilans_event(_event(bodies), rt) == {"batchItemFailures": []}
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert done.traites == done.nouveaux == len(bilans)
    stored = {r.bilan_id for r in rt.models.Resultat.query(import_key(spec.uai, rec.import_id))}
    assert stored == {f"{b['eleve']['id_be']}#{b['cle']}" for b in bilans}


def test_a_large_bilan_travels_by_reference_between_messages_of_the_others(rt, monkeypatch):
    """Between the limits: the small bilans de cycle go inline, ten at most per message and within
    the limit; each periodic bilan, too large, goes alone by reference to S3 (claim check). Order
    and content are kept; the same bilans give the same messages (a resend is the same)."""
    spec = SchoolSpec(uai="0760013N", divisions_par_niveau=1, eleves_par_division=4)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    ref = _referentiel(rt, spec)
    sizes = {kind: [len(json.dumps(b, ensure_ascii=False).encode()) for b in bilans if b["type"] == kind]
             for kind in ("periodique", "cycle")}
    assert max(sizes["cycle"]) * 3 < min(sizes["periodique"])
    monkeypatch.setattr(splitter, "INLINE_LIMIT", min(sizes["periodique"]))   # the envelope makes it too large
    bodies = splitter.bilan_messages(rt, rec, bilans, ref)
    assert bodies == splitter.bilan_messages(rt, rec, bilans, ref)
    carried, inline_counts = [], []
    for body in bodies:
        msg = json.loads(body)
        assert len(body.encode()) <= splitter.INLINE_LIMIT
        assert {k: msg[k] for k in ("uai", "import_id", "referentiel")} == {
            "uai": spec.uai, "import_id": rec.import_id, "referentiel": ref}
        if "bilans_s3" in msg:
            stored = json.loads(rt.s3.get_object(Bucket=rt.settings.bucket, Key=msg["bilans_s3"])["Body"].read())
            assert len(stored) == 1 and stored[0]["type"] == "periodique"
            carried += stored
        else:
            assert all(b["type"] == "cycle" for b in msg["bilans"])
            inline_counts.append(len(msg["bilans"]))
            carried += msg["bilans"]
    assert carried == bilans
    assert sum(b["type"] == "periodique" for b in bilans) == sum("bilans_s3" in b for b in bodies)
    assert max(inline_counts) <= splitter.BILANS_PER_MESSAGE
    assert worker.process_bilans_event(_event(bodies), rt) == {"batchItemFailures": []}
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert done.traites == done.nouveaux == len(bilans)


def test_several_bilans_per_message_within_the_limits(rt, monkeypatch):
    spec = SchoolSpec(uai="0760014P", divisions_par_niveau=2, eleves_par_division=5)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    ref = _referentiel(rt, spec)
    bodies = splitter.bilan_messages(rt, rec, bilans, ref)
    groups = [json.loads(b)["bilans"] for b in bodies]
    assert [len(g) for g in groups] == [10] * (len(bilans) // 10) + ([len(bilans) % 10] if len(bilans) % 10 else [])
    assert [b for g in groups for b in g] == bilans
    # A smaller limit: fewer bilans per message, never more bytes than the limit.
    limit = 3 * max(len(json.dumps(b, ensure_ascii=False).encode()) for b in bilans)
    monkeypatch.setattr(splitter, "INLINE_LIMIT", limit)
    small = splitter.bilan_messages(rt, rec, bilans, ref)
    assert all(len(b.encode()) <= limit for b in small) and len(small) > len(bodies)
    assert [b for body in small for b in json.loads(body)["bilans"]] == bilans
    # Sent by the splitter (to a queue of this test): SendMessageBatch by 10 messages at most,
    # within 256 KiB, every bilan delivered once.
    name = f"lsu-test-envoi-{uuid.uuid4().hex[:8]}"
    private = build_runtime(replace(rt.settings, bilans_queue=name))
    url = private.sqs.create_queue(QueueName=name)["QueueUrl"]
    sent = []
    original = private.sqs.send_message_batch

    def spy(**kwargs):
        sent.append(kwargs["Entries"])
        return original(**kwargs)

    monkeypatch.setattr(private.sqs, "send_message_batch", spy)
    splitter.send_bilans(private, rec, bilans, ref)
    assert len(sent) < len(small) and all(
        len(entries) <= 10 and sum(len(e["MessageBody"].encode()) for e in entries) <= SQS_MAX_BATCH_BYTES
        for entries in sent)
    received = []
    while True:
        got = private.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        received += [b for m in got for b in json.loads(m["Body"])["bilans"]]
        private.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    key = lambda b: (b["eleve"]["id_be"], b["cle"])  # noqa: E731
    assert sorted(received, key=key) == sorted(bilans, key=key)
    private.sqs.delete_queue(QueueUrl=url)


def test_messages_of_the_previous_format_are_still_read(rt):
    """One bilan per message (`bilan`, `bilan_s3`): messages in flight when this version deploys."""
    spec = SchoolSpec(uai="0760015Q", divisions_par_niveau=1, eleves_par_division=1)
    bilans = _bilans(rt, spec)
    rec = _new_import(rt, spec.uai, EN_COURS, total=len(bilans))
    envelope = {"uai": spec.uai, "import_id": rec.import_id, "pre_controle": False,
                "referentiel": _referentiel(rt, spec)}
    key = f"messages/{spec.uai}/{rec.import_id}/ancien.json"
    rt.s3.put_object(Bucket=rt.settings.bucket, Key=key, Body=json.dumps(bilans[0]).encode())
    bodies = [json.dumps({**envelope, "bilan_s3": key})] + [json.dumps({**envelope, "bilan": b}) for b in bilans[1:]]
    assert worker.process_bilans_event(_event(bodies), rt) == {"batchItemFailures": []}
    done = _wait_status(rt, spec.uai, rec.import_id, "TERMINE")
    assert done.traites == done.nouveaux == len(bilans)
