"""Schema versions as data, on the emulator (issue 15): a runtime whose schema folder holds the
official v7.0 XSD and the derived TEST schema of tests/schema_fixtures.py (version 99.0, one more
optional element — never official). A 99.0 file goes through every stage and its extra element
is carried to the bilan's view and PDF; a version no installed schema accepts is refused with its
code and the versions installed, and nothing is written."""
from __future__ import annotations

import io
import json
import uuid
from dataclasses import replace

import pytest
from pypdf import PdfReader

from chalicelib.api.referentiel import store_referentiel
from chalicelib.api.render import pdf
from chalicelib.domain import merge
from chalicelib.domain.vocabulary import ImportStatut
from chalicelib.pipeline import report, upload
from chalicelib.pipeline.merge import stage as merge_stage
from chalicelib.pipeline.split import stage as split_stage
from chalicelib.runtime import build_runtime
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from lsu_tools.local.resources import create_resources
from schema_fixtures import TEST_ELEMENT, TEST_VERSION, derived_test_schema_dir, with_test_element, with_test_version

SPEC = SchoolSpec(uai="0791501A", divisions_par_niveau=1, eleves_par_division=1)


@pytest.fixture(scope="module")
def rt(stack, tmp_path_factory):
    """A runtime of this module only (its bucket, queues, tables), reading the TEST schema folder."""
    s, suffix = stack.settings, uuid.uuid4().hex[:6]
    folder = derived_test_schema_dir(tmp_path_factory.mktemp("schemas"))
    settings = replace(s, schema_dir=str(folder), bucket=f"{s.bucket}-{suffix}",
                       uploads_queue=f"{s.uploads_queue}-{suffix}", bilans_queue=f"{s.bilans_queue}-{suffix}",
                       report_queue=f"{s.report_queue}-{suffix}", imports_table=f"{s.imports_table}-{suffix}",
                       resultats_table=f"{s.resultats_table}-{suffix}", bilans_table=f"{s.bilans_table}-{suffix}",
                       etablissements_table=f"{s.etablissements_table}-{suffix}")
    rt = build_runtime(settings)
    create_resources(rt)
    store_referentiel(rt, generate_referentiel(SPEC), None)
    return rt


def _event(bodies: list[str]) -> dict:
    return {"Records": [{"messageId": f"m{i}", "receiptHandle": f"r{i}", "body": b, "eventSource": "aws:sqs",
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}}
                        for i, b in enumerate(bodies)]}


def _drain(rt, queue: str) -> list[str]:
    url, bodies = rt.queue_url(queue), []
    while True:
        got = rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return bodies
        bodies += [m["Body"] for m in got]
        rt.sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                           for i, m in enumerate(got)])


def _import(rt, data: bytes) -> str:
    """Upload → split → merge → report, each stage called as its event source would."""
    created = upload.start_upload(rt, SPEC.uai, "export.xml", len(data), False, "CE:dev")
    key = created["upload"]["fields"]["key"]
    rt.repos.blobs.put(key, data)
    obj = split_stage.S3Object(rt.settings.bucket, key, len(data))
    split_stage.handle_object(rt, obj)
    bodies = _drain(rt, rt.settings.bilans_queue)
    for start in range(0, len(bodies), 10):
        assert merge_stage.process_bilans_event(_event(bodies[start:start + 10]), rt) == {"batchItemFailures": []}
    reports = _drain(rt, rt.settings.report_queue)
    if reports:
        assert report.process_report_event(_event(reports[:1]), rt) == {"batchItemFailures": []}
    return created["import_id"]


def test_a_file_of_the_test_version_is_imported_and_its_extra_element_shown(rt):
    data = with_test_element(with_test_version(generate_lsu_xml(SPEC, periodes=[1])))
    assert f'schemaVersion="{TEST_VERSION}"'.encode() in data and TEST_ELEMENT.encode() in data
    import_id = _import(rt, data)
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.TERMINE and record.traites == record.total > 0, record
    synthese = report.read_synthese(rt, record)
    carried = [b for b in synthese["bilans"] if any(m["code"] == "ELEMENT_NON_MODELISE" for m in b["messages"])]
    assert len(carried) == 1 and carried[0]["statut"] == "IMPORTE"
    assert TEST_ELEMENT in next(m for m in carried[0]["messages"] if m["code"] == "ELEMENT_NON_MODELISE")["message"]
    [stored] = [b for b in rt.repos.bilans.of_eleve(SPEC.uai, carried[0]["id_be"]) if b.key[1].startswith("P#")]
    view = merge.view(stored.state)
    names = [line["nom"] for line in view["autres_informations"]]
    assert any(TEST_ELEMENT in n for n in names), view["autres_informations"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.render([view], "Collège test"))).pages)
    assert "Autres informations du fichier" in text and TEST_ELEMENT in text


def test_a_version_no_installed_schema_accepts_is_refused_and_nothing_is_written(rt):
    data = with_test_version(generate_lsu_xml(SPEC, periodes=[1]), "13.0")
    before = {b.key: b.version for b in rt.repos.bilans.of_division(SPEC.uai, "3A")}
    import_id = _import(rt, data)
    record = rt.repos.imports.get(SPEC.uai, import_id)
    assert record.statut == ImportStatut.FICHIER_REJETE
    [erreur] = record.erreurs_fichier
    assert erreur["code"] == "SCHEMA_VERSION_NON_PRISE_EN_CHARGE" and erreur["conseil"]
    assert "Version du fichier : 13.0" in erreur["message"]
    assert "2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 99.0" in erreur["message"]
    assert rt.repos.results.of_import(SPEC.uai, import_id) == []
    assert {b.key: b.version for b in rt.repos.bilans.of_division(SPEC.uai, "3A")} == before
    assert json.loads(json.dumps(record.entete))["etablissement"] == SPEC.uai or record.entete == {}
