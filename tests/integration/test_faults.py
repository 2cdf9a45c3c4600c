"""The fault suite: each fault injected deliberately into a whole import on the emulator, on
resources of the test's own (queues with short visibility timeouts, its own tables and bucket),
fed by a dispatcher of the test's own or by a worker process that the test kills.

Every test ends with the same audit (`audit`): no bilan lost, none counted twice, the counters
adding up to the total, one synthèse. The race with a manual edit is in test_races.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from chalicelib.pipeline import report
from chalicelib.pipeline.split import stage as splitter
from chalicelib.pipeline.merge import stage as worker
from chalicelib.api.referentiel import store_referentiel
from chalicelib.pipeline.upload import new_import_id, upload_key
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from lsu_tools.local.dispatcher import Dispatcher
from lsu_tools.local.resources import create_resources
from lsu_tools.local.workers import bindings
from chalicelib.runtime import build_runtime
from chalicelib.config import ENDPOINT_SERVICES
from lsu_tools.local.stack import new_stack_suffix, with_unique_names
from chalicelib.pipeline.split.stage import S3Object
from chalicelib.adapters.ports import eleve_key, import_key
from chalicelib.domain.vocabulary import ImportStatut

EN_ATTENTE_FICHIER = ImportStatut.EN_ATTENTE_FICHIER
from chalicelib.pipeline.split.file_checks import check_file
from chalicelib.pipeline.split.bilans import split_bilans


class Crash(Exception):
    """A fault injected on purpose (the Lambda invocation fails: its batch comes back)."""


def private_runtime(stack, visibility: dict[str, int]):
    """A runtime on resources of this test only: nothing else consumes its queues."""
    rt = build_runtime(with_unique_names(stack.settings, new_stack_suffix(), ENDPOINT_SERVICES))
    create_resources(rt, visibility=visibility)
    return rt


def handlers(rt, **by_role) -> dict:
    """The app's handlers bound to `rt`; a role given in `by_role` is replaced (a fault)."""
    base = {"uploads": lambda e, c: splitter.process_uploads_event(e, rt),
            "bilans": lambda e, c: worker.process_bilans_event(e, rt),
            "report": lambda e, c: report.process_report_event(e, rt),
            "bilans-dlq": lambda e, c: worker.process_dead_letters_event(e, rt)}
    return {**base, **by_role}


def upload(rt, spec: SchoolSpec, data: bytes | None = None):
    """The school's référentiel, an import waiting for its file, then the file in S3 (its
    notification goes to the uploads queue). Returns the import and the bilan ids of the file."""
    store_referentiel(rt, generate_referentiel(spec), None)
    data = data or generate_lsu_xml(spec)
    import_id = new_import_id(spec.uai)
    rec = rt.models.Import(spec.uai, import_id, statut=EN_ATTENTE_FICHIER, nom_fichier="export.xml",
                           taille_declaree=len(data), cle_s3=upload_key(spec.uai, import_id), cree_le="2026-11-28")
    rec.save()
    rt.s3.put_object(Bucket=rt.settings.bucket, Key=rec.cle_s3, Body=data)
    checked = check_file(data, rt.schema, spec.uai)
    ids = {f"{b['eleve']['id_be']}#{b['cle']}" for b in split_bilans(checked.root)}
    return rec, ids


def wait_for(rt, rec, predicate, timeout: float = 120, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        cur = rt.models.Import.get(rec.uai, rec.import_id, consistent_read=True)
        if predicate(cur):
            return cur
        assert time.monotonic() < deadline, f"import bloqué : {cur.statut} {cur.traites}/{cur.total}"
        time.sleep(step)


def wait_queue_drained(rt, name: str, timeout: float = 60, step: float = 0.2) -> None:
    """Until the queue holds nothing, visible or in flight: every message handled and deleted."""
    url = rt.queue_url(name)
    deadline = time.monotonic() + timeout
    while True:
        attrs = rt.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            return
        assert time.monotonic() < deadline, f"file {name} non vidée : {attrs}"
        time.sleep(step)


def audit(rt, rec, expected_ids: set[str]) -> dict:
    """What the fault cost: bilans lost, bilans counted twice, syntheses written."""
    done = rt.models.Import.get(rec.uai, rec.import_id, consistent_read=True)
    results = {r.bilan_id for r in rt.models.Resultat.query(import_key(rec.uai, rec.import_id), consistent_read=True)}
    keys = [(eleve_key(rec.uai, i.split("#", 1)[0]), i.split("#", 1)[1]) for i in sorted(expected_ids)]
    bilans = {f"{b.eleve_key.split('#', 1)[1]}#{b.cle}" for b in rt.models.Bilan.batch_get(keys, consistent_read=True)}
    synthese = json.loads(rt.s3.get_object(Bucket=rt.settings.bucket, Key=done.synthese_cle)["Body"].read())
    counters = done.nouveaux + done.mis_a_jour + done.inchanges + done.rejetes
    return {"statut": done.statut,
            "perdus": len((expected_ids - results) | (expected_ids - bilans)),
            "comptes_deux_fois": max(done.traites - len(expected_ids), 0) + abs(counters - done.traites)
            + max(len(synthese["bilans"]) - len(expected_ids), 0),
            "syntheses": rt.s3.list_objects_v2(Bucket=rt.settings.bucket, Prefix="syntheses/")["KeyCount"]}


CLEAN = {"statut": "TERMINE", "perdus": 0, "comptes_deux_fois": 0, "syntheses": 1}


@pytest.fixture
def dispatch():
    started: list[Dispatcher] = []

    def start(rt, role_handlers: dict, pollers: dict | None = None) -> Dispatcher:
        queues = bindings(rt, role_handlers)
        for b in queues:
            b.pollers = (pollers or {}).get(b.name, b.pollers)
        d = Dispatcher(rt.sqs, rt.settings.region, queues).start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def s3_event(bucket: str, key: str, size: int, name: str) -> str:
    return json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": name, "s3": {
        "bucket": {"name": bucket}, "object": {"key": key, "size": size}}}]})


def test_one_object_announced_twice_at_once_is_one_import(stack, dispatch):
    """A multipart upload emits two ObjectCreated events; S3 may also deliver one twice. Both
    reach two splitters at the same time (and the S3 notification itself is a third)."""
    rt = private_runtime(stack, {"uploads": 5})
    spec = SchoolSpec(uai="0770001A", divisions_par_niveau=1, eleves_par_division=3)
    rec, ids = upload(rt, spec)
    size = rt.s3.head_object(Bucket=rt.settings.bucket, Key=rec.cle_s3)["ContentLength"]
    url = rt.queue_url(rt.settings.uploads_queue)
    rt.sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(n), "MessageBody": s3_event(rt.settings.bucket, rec.cle_s3, size, name)}
        for n, name in enumerate(["ObjectCreated:CompleteMultipartUpload", "ObjectCreated:Put"])])
    barrier = threading.Barrier(2)
    outcomes = []

    def splitter_now():
        barrier.wait()
        outcomes.append(splitter.handle_object(rt, S3Object(rt.settings.bucket, rec.cle_s3, size)))

    threads = [threading.Thread(target=splitter_now) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["decoupe", "doublon"]
    dispatch(rt, handlers(rt), pollers={"uploads": 2})
    wait_for(rt, rec, lambda r: r.statut == "TERMINE")
    wait_queue_drained(rt, rt.settings.uploads_queue)   # the queued notifications handled too (duplicates)
    assert audit(rt, rec, ids) == CLEAN


@pytest.mark.parametrize("fault", ["crash_apres_ecriture", "lent_au_dela_du_delai"])
def test_worker_faults_are_redelivered_and_count_once(stack, dispatch, fault):
    """A worker that dies after its transaction (its batch is not deleted), or one so slow that
    its batch becomes visible again and a second worker takes it at the same time."""
    rt = private_runtime(stack, {"uploads": 5, "bilans": 2, "report": 5})
    spec = SchoolSpec(uai="0770002B", divisions_par_niveau=2, eleves_par_division=5)
    rec, ids = upload(rt, spec)
    faults = {"messages": 0}
    redelivered: set[str] = set()
    seen_again = threading.Condition()

    def faulty(event, context):
        with seen_again:
            redelivered.update(r["messageId"] for r in event["Records"]
                               if r["attributes"]["ApproximateReceiveCount"] != "1")
            seen_again.notify_all()
        first = [r for r in event["Records"] if r["attributes"]["ApproximateReceiveCount"] == "1"]
        if first and fault == "lent_au_dela_du_delai":
            faults["messages"] += len(first)
            # Slower than the 2 s visibility timeout: busy until another worker has received
            # this batch again (a deadline, not a sleep against the timeout), then both write.
            mine = {r["messageId"] for r in first}
            with seen_again:
                if not seen_again.wait_for(lambda: mine & redelivered, timeout=60):
                    faults["jamais_redistribue"] = sorted(mine)
        response = worker.process_bilans_event(event, rt)
        if first and fault == "crash_apres_ecriture":
            faults["messages"] += len(first)
            raise Crash("le worker meurt après avoir écrit")
        return response

    # More pollers than messages (10 bilans each): one is always free to take a batch back.
    dispatch(rt, handlers(rt, bilans=faulty), pollers={"bilans": len(ids) // 10 + 3})
    wait_for(rt, rec, lambda r: r.statut == "TERMINE")
    assert "jamais_redistribue" not in faults, faults
    assert faults["messages"] >= 2 and len(ids) > 20, "several messages of several bilans went through the fault"
    assert audit(rt, rec, ids) == CLEAN
    versions = {b.version for e in {i.split("#", 1)[0] for i in ids}
                for b in rt.models.Bilan.query(eleve_key(spec.uai, e))}
    assert versions == {1}, "aucun bilan écrit deux fois"


def _raise_once_after(client, operation: str, when=lambda params: True):
    """The call reaches the service, then the caller sees a failure: the write happened, the
    code did not see it (a timeout, a process dying)."""
    state = {"raised": 0, "params": None}

    def before(params, **_):
        state["params"] = params

    def after(**_):
        if not state["raised"] and when(state["params"]):
            state["raised"] += 1
            raise Crash(f"{operation} fait, puis échec")

    client.meta.events.register(f"before-parameter-build.{client.meta.service_model.service_name}.{operation}", before)
    client.meta.events.register(f"after-call.{client.meta.service_model.service_name}.{operation}", after)
    return state


def test_report_request_sent_then_worker_fails_report_failing_once(stack, dispatch):
    """The worker's report request reaches SQS then the worker fails (its batch comes back and
    the request is sent again); the report itself fails once after writing the synthèse, before
    marking the import finished. One synthèse, one end."""
    rt = private_runtime(stack, {"uploads": 5, "bilans": 2, "report": 2})
    spec = SchoolSpec(uai="0770003C", divisions_par_niveau=1, eleves_par_division=2)
    rec, ids = upload(rt, spec)
    faulty_worker = build_runtime(rt.settings)
    sent = _raise_once_after(faulty_worker.sqs, "SendMessage",
                             lambda p: p["QueueUrl"].endswith(rt.settings.report_queue))
    faulty_report = build_runtime(rt.settings)
    wrote = _raise_once_after(faulty_report.s3, "PutObject", lambda p: p["Key"].startswith("syntheses/"))
    reports = {"n": 0}

    def report_handler(event, context):
        reports["n"] += 1
        if reports["n"] == 1:
            raise Crash("le rapport échoue une fois avant d'avoir rien fait")
        return report.process_report_event(event, faulty_report)

    dispatch(rt, handlers(rt, bilans=lambda e, c: worker.process_bilans_event(e, faulty_worker),
                          report=report_handler))
    done = wait_for(rt, rec, lambda r: r.statut == "TERMINE")
    assert sent["raised"] == 1 and wrote["raised"] == 1 and reports["n"] >= 3
    assert audit(rt, rec, ids) == CLEAN
    wait_queue_drained(rt, rt.settings.report_queue)   # every report message handled: the end does not move
    assert rt.models.Import.get(rec.uai, rec.import_id, consistent_read=True).termine_le == done.termine_le


def test_splitter_dying_while_sending_resends_on_redelivery(stack, dispatch):
    """The splitter records the total, sends part of the bilans, then dies: the notification
    comes back and the bilans are sent again; workers ignore the ones already written."""
    rt = private_runtime(stack, {"uploads": 2, "bilans": 5, "report": 5})
    spec = SchoolSpec(uai="0770004D", divisions_par_niveau=2, eleves_par_division=10)
    rec, ids = upload(rt, spec)
    assert len(ids) > 100
    faulty = build_runtime(rt.settings)
    batches = {"n": 0}

    def count(**_):
        batches["n"] += 1

    faulty.sqs.meta.events.register("before-call.sqs.SendMessageBatch", count)
    died = _raise_once_after(faulty.sqs, "SendMessageBatch", lambda _params: batches["n"] == 2)
    dispatch(rt, handlers(rt, uploads=lambda e, c: splitter.process_uploads_event(e, faulty)))
    wait_for(rt, rec, lambda r: r.statut == "TERMINE")
    # 12 messages of 10 bilans in 3 batches: the first two sent, then the splitter died; sent again.
    assert died["raised"] == 1 and batches["n"] >= 2 + 3
    assert audit(rt, rec, ids) == CLEAN


def _start_workers(rt) -> subprocess.Popen:
    env = {**os.environ, **rt.settings.as_env()}
    proc = subprocess.Popen([sys.executable, "-m", "lsu_tools.local.workers"], env=env,
                            stdout=subprocess.PIPE, stderr=None, text=True)
    assert proc.stdout.readline().strip() == "prêt"
    return proc


def test_worker_process_killed_mid_split_and_mid_batch_then_restarted(stack):
    """SIGKILL of the process running the splitter and the workers, twice: as soon as the file
    is being split, then in the middle of the bilans. A new process finishes the import."""
    rt = private_runtime(stack, {"uploads": 3, "bilans": 22, "report": 5})
    spec = SchoolSpec(uai="0770005E", divisions_par_niveau=2, eleves_par_division=12)
    rec, ids = upload(rt, spec)
    procs = [_start_workers(rt)]
    try:
        wait_for(rt, rec, lambda r: r.statut != EN_ATTENTE_FICHIER, step=0.02)
        procs[-1].kill()
        procs[-1].wait()
        procs.append(_start_workers(rt))
        mid = wait_for(rt, rec, lambda r: (r.traites or 0) > 0, step=0.02)
        procs[-1].kill()
        procs[-1].wait()
        assert mid.statut == "EN_COURS" and mid.traites < mid.total == len(ids)
        in_flight = rt.sqs.get_queue_attributes(QueueUrl=rt.queue_url(rt.settings.bilans_queue), AttributeNames=[
            "ApproximateNumberOfMessagesNotVisible"])["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
        assert int(in_flight) > 0, "the killed process held batches it never deleted"
        procs.append(_start_workers(rt))
        wait_for(rt, rec, lambda r: r.statut == "TERMINE", timeout=180)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=30)
    assert [p.returncode for p in procs[:2]] == [-9, -9]
    assert audit(rt, rec, ids) == CLEAN
