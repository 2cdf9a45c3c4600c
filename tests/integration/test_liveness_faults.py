"""Liveness on the emulator (issue 17): a bilan message lost in any way — deleted unprocessed, made
unreadable so that it reaches the DLQ, its claim-check object deleted before it is read — leaves
the import EN_COURS until the watchdog finishes it: every bilan of the file then has exactly one
result (the lost ones REJETE / ERREUR_TECHNIQUE, named in the synthèse), nothing counted twice.

Each test has resources of its own (queues with a 1 s visibility timeout, tables, bucket), fed by
a dispatcher of its own running the app's stages in-process; the watchdog is run as its schedule
would run it once the import has stopped moving (its `now` set past the stale delay)."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.adapters.ports import eleve_key
from chalicelib.api.referentiel import store_referentiel
from chalicelib.domain.vocabulary import BilanStatut, ImportStatut
from chalicelib.pipeline import manifest, report, upload, watchdog
from chalicelib.pipeline.merge import stage as worker
from chalicelib.pipeline.split import stage as splitter
from chalicelib.runtime import build_runtime
from chalicelib.config import ENDPOINT_SERVICES
from lsu_tools.local.stack import new_stack_suffix, with_unique_names
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from lsu_tools.local.dispatcher import Dispatcher, Schedule
from lsu_tools.local.resources import create_resources
from lsu_tools.local.workers import bindings

SPEC = SchoolSpec(uai="0751234K", divisions_par_niveau=1, eleves_par_division=6)


@pytest.fixture
def rt(stack):
    rt = build_runtime(with_unique_names(stack.settings, new_stack_suffix(), ENDPOINT_SERVICES))
    create_resources(rt, visibility={"bilans": 1, "uploads": 5, "report": 5})
    store_referentiel(rt, generate_referentiel(SPEC), None)
    return rt


@pytest.fixture
def dispatch():
    started: list[Dispatcher] = []

    def start(rt, roles: tuple[str, ...], schedules: list[Schedule] | None = None) -> Dispatcher:
        handlers = {"uploads": lambda e, c: splitter.process_uploads_event(e, rt),
                    "bilans": lambda e, c: worker.process_bilans_event(e, rt),
                    "report": lambda e, c: report.process_report_event(e, rt),
                    "bilans-dlq": lambda e, c: worker.process_dead_letters_event(e, rt)}
        queues = [b for b in bindings(rt, handlers) if b.name in roles]
        d = Dispatcher(rt.sqs, rt.settings.region, queues, wait_seconds=1, schedules=schedules).start()
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def start_import(rt) -> str:
    """An import created as the API creates it, its file put in S3 (its notification goes to the
    uploads queue)."""
    data = generate_lsu_xml(SPEC)
    created = upload.start_upload(rt, SPEC.uai, "export.xml", len(data), False, "CE:test")
    rt.s3.put_object(Bucket=rt.settings.bucket, Key=created["upload"]["fields"]["key"], Body=data)
    return created["import_id"]


def record(rt, import_id: str):
    return rt.repos.imports.get(SPEC.uai, import_id)


def wait_for(rt, import_id: str, predicate, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while True:
        cur = record(rt, import_id)
        if cur is not None and predicate(cur):
            return cur
        assert time.monotonic() < deadline, f"import bloqué : {cur and (cur.statut, cur.traites, cur.total)}"
        time.sleep(0.1)


def queue_counts(rt, name: str) -> tuple[int, int]:
    attrs = rt.sqs.get_queue_attributes(QueueUrl=rt.queue_url(name), AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def wait_drained(rt, names: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while any(queue_counts(rt, n) != (0, 0) for n in names):
        assert time.monotonic() < deadline, {n: queue_counts(rt, n) for n in names}
        time.sleep(0.2)


def split_only(rt, dispatch, import_id: str) -> list[dict]:
    """The file split (the uploads stage alone): the bilans messages, received and kept in flight
    (visible again after the queue's 1 s timeout)."""
    d = dispatch(rt, ("uploads",))
    wait_for(rt, import_id, lambda r: r.statut == ImportStatut.EN_COURS)
    wait_drained(rt, [rt.settings.uploads_queue])
    d.stop()
    url, messages, deadline = rt.queue_url(rt.settings.bilans_queue), {}, time.monotonic() + 30
    total = record(rt, import_id).total
    while sum(len(_bilans_of(rt, m)) for m in messages.values()) < total:
        assert time.monotonic() < deadline
        for m in rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        VisibilityTimeout=30).get("Messages", []):
            messages[m["MessageId"]] = m
    return list(messages.values())


def _bilans_of(rt, message: dict) -> list[str]:
    body = json.loads(message["Body"])
    if "bilans_s3" in body:
        bilans = json.loads(rt.s3.get_object(Bucket=rt.settings.bucket, Key=body["bilans_s3"])["Body"].read())
    else:
        bilans = body["bilans"]
    return [f"{b['eleve']['id_be']}#{b['cle']}" for b in bilans]


def give_back(rt, messages: list[dict]) -> None:
    """Visible again at once (by 10: SQS's batch limit)."""
    url = rt.queue_url(rt.settings.bilans_queue)
    for start in range(0, len(messages), 10):
        rt.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(messages[start:start + 10])])


def run_watchdog_when_stale(rt, import_id: str) -> dict:
    """As the schedule would, once the import has not moved for the stale delay."""
    assert watchdog.run_watchdog(rt)["interrompus"] == [], "moving imports are left alone"
    return watchdog.run_watchdog(rt, now=time.time() + rt.settings.stale_after_seconds + 1)


def audit(rt, import_id: str, lost: set[str]) -> dict:
    """Every bilan of the file: one result; the lost ones REJETE (ERREUR_TECHNIQUE) and named in
    the synthèse, the others stored; counters adding up; one synthèse."""
    rec = record(rt, import_id)
    sent = {m["bilan_id"] for m in manifest.read_manifest(rt, SPEC.uai, import_id)}
    results = {r.bilan_id: r for r in rt.repos.results.of_import(SPEC.uai, import_id)}
    stored = {b for b in sent if rt.repos.bilans.get((eleve_key(SPEC.uai, b.split("#", 1)[0]), b.split("#", 1)[1]))}
    synthese = json.loads(rt.repos.blobs.get(rec.synthese_cle))
    rejected = {k for k, r in results.items() if r.statut == BilanStatut.REJETE}
    named = {(b["id_be"], b["statut"]) for b in synthese["bilans"]}
    return {
        "statut": rec.statut,
        "sans_resultat": len(sent - set(results)),
        "resultats_en_trop": len(set(results) - sent),
        "comptes_deux_fois": abs(rec.traites - len(sent))
        + abs(rec.nouveaux + rec.mis_a_jour + rec.inchanges + rec.rejetes - rec.traites),
        "perdus_rejetes": rejected == lost and all(
            [m["code"] for m in results[k].messages] == ["ERREUR_TECHNIQUE"] for k in lost),
        "autres_integres": stored == sent - lost,
        "nommes": all((k.split("#", 1)[0], "REJETE") in named for k in lost) and len(synthese["bilans"]) == len(sent),
        "message": [m["code"] for m in synthese["messages"]],
        "syntheses": rt.s3.list_objects_v2(Bucket=rt.settings.bucket, Prefix="syntheses/")["KeyCount"],
    }


def clean(lost: set[str]) -> dict:
    return {"statut": "TERMINE", "sans_resultat": 0, "resultats_en_trop": 0, "comptes_deux_fois": 0,
            "perdus_rejetes": True, "autres_integres": True, "nommes": True,
            "message": ["IMPORT_INTERROMPU"], "syntheses": 1}


def finish(rt, dispatch, import_id: str, lost: set[str]) -> dict:
    """The other bilans processed; the import stuck short of them; the watchdog; the report."""
    rec = wait_for(rt, import_id, lambda r: r.traites == r.total - len(lost))
    wait_drained(rt, [rt.settings.bilans_queue, rt.settings.bilans_queue + "-dlq"])
    assert record(rt, import_id).statut == ImportStatut.EN_COURS and rec.traites < rec.total, "stuck without the watchdog"
    assert run_watchdog_when_stale(rt, import_id)["interrompus"] == [import_id]
    wait_for(rt, import_id, lambda r: r.statut == ImportStatut.TERMINE)
    return audit(rt, import_id, lost)


def test_a_bilans_message_deleted_unprocessed(rt, dispatch):
    import_id = start_import(rt)
    messages = split_only(rt, dispatch, import_id)
    victim = messages[len(messages) // 2]
    lost = set(_bilans_of(rt, victim))
    rt.sqs.delete_message(QueueUrl=rt.queue_url(rt.settings.bilans_queue), ReceiptHandle=victim["ReceiptHandle"])
    give_back(rt, [m for m in messages if m is not victim])
    dispatch(rt, ("bilans", "bilans-dlq", "report"))
    assert finish(rt, dispatch, import_id, lost) == clean(lost)


def test_a_malformed_message_that_reaches_the_dlq(rt, dispatch):
    import_id = start_import(rt)
    messages = split_only(rt, dispatch, import_id)
    victim = messages[0]
    lost = set(_bilans_of(rt, victim))
    url = rt.queue_url(rt.settings.bilans_queue)
    rt.sqs.delete_message(QueueUrl=url, ReceiptHandle=victim["ReceiptHandle"])
    rt.sqs.send_message(QueueUrl=url, MessageBody=victim["Body"][: len(victim["Body"]) // 2])   # cut in two
    give_back(rt, messages[1:])
    d = dispatch(rt, ("bilans", "bilans-dlq", "report"))
    assert finish(rt, dispatch, import_id, lost) == clean(lost)
    assert d.invocations > len(messages), "the malformed message was delivered, failed, reached the DLQ"


def test_a_claim_check_object_deleted_before_its_message_is_read(rt, dispatch, monkeypatch):
    monkeypatch.setattr(splitter, "INLINE_LIMIT", 300)        # every bilan by reference to S3
    import_id = start_import(rt)
    messages = split_only(rt, dispatch, import_id)
    victim = messages[1]
    assert "bilans_s3" in json.loads(victim["Body"])
    lost = set(_bilans_of(rt, victim))
    rt.s3.delete_object(Bucket=rt.settings.bucket, Key=json.loads(victim["Body"])["bilans_s3"])
    give_back(rt, messages)
    dispatch(rt, ("bilans", "bilans-dlq", "report"))
    assert finish(rt, dispatch, import_id, lost) == clean(lost)


def test_the_local_stack_runs_the_watchdog_on_its_schedule(rt, dispatch, monkeypatch):
    """The dispatcher's timer invokes app.py's scheduled function (Chalice's handler, with
    EventBridge's event shape), which runs a round."""
    import app as app_module
    rounds: list[dict] = []
    real = watchdog.run_watchdog
    monkeypatch.setattr(watchdog, "run_watchdog", lambda rt_, **kw: rounds.append(real(rt_, **kw)) or rounds[-1])
    d = dispatch(rt, (), schedules=[Schedule("watchdog", app_module.on_watchdog, 0.2)])
    deadline = time.monotonic() + 10
    while d.ticks < 2:
        assert time.monotonic() < deadline, f"the schedule never ran ({d.errors} error(s))"
        time.sleep(0.05)
    assert d.errors == 0 and len(rounds) >= 2
    assert set(rounds[0]) == {"interrompus", "expires", "rejetes"}
