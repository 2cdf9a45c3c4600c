"""Schema versions as data (chalicelib/pipeline/split/schemas.py): a folder of XSD files and the
schemaVersion values each validates (manifest.json, or derived from each XSD's own enumeration);
the file's schemaVersion selects its schema; a version no installed schema accepts is refused
with SCHEMA_VERSION_NON_PRISE_EN_CHARGE, naming the version found and the versions installed.

The newer schema here is a TEST schema built at test time from the official one
(tests/schema_fixtures.py: version 99.0 and an optional `moyennes-annuelles-test`), never an official one."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from chalicelib.api.referentiel import store_referentiel
from chalicelib.config import Settings
from chalicelib.domain.vocabulary import ImportStatut
from chalicelib.pipeline import upload
from chalicelib.pipeline.split import file_checks, schemas, stream
from chalicelib.pipeline.split import stage as split_stage
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.runtime import memory_runtime
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from schema_fixtures import (OFFICIAL_NAME, OFFICIAL_VERSIONS, TEST_VERSION, TEST_XSD_NAME,
                             derived_test_schema_dir, with_test_element, with_test_version)

SPEC = SchoolSpec(uai="0750123X", divisions_par_niveau=1, eleves_par_division=3)
UAI = SPEC.uai
INSTALLED = "versions installées : 2.0, 3.0, 4.0, 5.0, 6.0, 7.0."


@pytest.fixture(scope="module")
def test_dir(tmp_path_factory):
    return derived_test_schema_dir(tmp_path_factory.mktemp("schemas"))


@pytest.fixture(scope="module")
def test_set(test_dir):
    return schemas.load_schemas(test_dir)


@pytest.fixture(scope="module")
def official_set(settings):
    return schemas.load_schemas(settings.schema_dir)


@pytest.fixture(scope="module")
def xml():
    return generate_lsu_xml(SPEC)


def _codes(result) -> list[str]:
    return [e["code"] for e in result.erreurs]


# --- the manifest: derived, read, invalid ---------------------------------------------------------

def test_the_official_folder_has_no_manifest_its_versions_are_derived_from_the_xsd(settings, official_set):
    assert settings.schema_dir == str(Path(settings.xsd_path).parent)
    assert not (Path(settings.schema_dir) / schemas.MANIFEST).exists()
    assert official_set.versions == OFFICIAL_VERSIONS
    assert [s.file for s in official_set.schemas] == [OFFICIAL_NAME]
    assert official_set.default.file == OFFICIAL_NAME


def test_lsu_xsd_path_alone_is_a_folder_holding_just_that_file(settings):
    s = Settings.from_env({"LSU_XSD_PATH": settings.xsd_path})
    assert s.schema_dir == settings.xsd_path
    assert schemas.load_schemas(s.schema_dir).versions == OFFICIAL_VERSIONS


def test_lsu_schema_dir_is_read_by_from_env_only_and_round_trips(test_dir):
    s = Settings.from_env({"LSU_SCHEMA_DIR": str(test_dir)})
    assert s.schema_dir == str(test_dir)
    assert Settings.from_env(s.as_env()).schema_dir == str(test_dir)


def test_a_manifest_is_authoritative(test_set):
    assert test_set.versions == OFFICIAL_VERSIONS + (TEST_VERSION,)
    assert {s.file: s.versions for s in test_set.schemas} == {OFFICIAL_NAME: OFFICIAL_VERSIONS,
                                                              TEST_XSD_NAME: (TEST_VERSION,)}
    assert test_set.default.file == TEST_XSD_NAME          # the newest version's


def test_a_manifest_may_install_fewer_versions_than_the_xsd_declares(tmp_path):
    folder = derived_test_schema_dir(tmp_path)
    _write_manifest(folder, [{"file": OFFICIAL_NAME, "versions": ["7.0"]}])
    found = schemas.load_schemas(folder)
    assert found.versions == ("7.0",)
    _schema, err = found.select("6.0")
    assert err["code"] == "SCHEMA_VERSION_NON_PRISE_EN_CHARGE" and "versions installées : 7.0." in err["message"]


def test_without_manifest_two_xsd_claiming_one_version_are_refused(tmp_path, settings):
    shutil.copyfile(settings.xsd_path, tmp_path / "a.xsd")
    shutil.copyfile(settings.xsd_path, tmp_path / "b.xsd")
    with pytest.raises(schemas.SchemaFolderError, match="la version 2.0 est déclarée par a.xsd et par b.xsd"):
        schemas.load_schemas(tmp_path)


def _write_manifest(folder, items, **top):
    (folder / "manifest.json").write_text(json.dumps({"schemas": items, **top}), encoding="utf-8")


@pytest.mark.parametrize("manifest, problem", [
    ("{", "JSON illisible"),
    ("[]", "un objet attendu"),
    ('{"schemas": [], "x": 1}', "un objet attendu"),
    ('{"schemas": []}', "« schemas » doit être une liste non vide"),
    ('{"schemas": [{"file": "import-complet-strict.xsd"}]}', "« versions » doit être une liste non vide"),
    ('{"schemas": [{"file": "import-complet-strict.xsd", "versions": [7]}]}', "« versions » doit être"),
    ('{"schemas": [{"file": "import-complet-strict.xsd", "versions": ["7.0", "7.0"]}]}', "version répétée"),
    ('{"schemas": [{"file": "../lsun/import-complet-strict.xsd", "versions": ["7.0"]}]}', "« file » doit être"),
    ('{"schemas": [{"file": "absent.xsd", "versions": ["7.0"]}]}', "fichier absent.xsd absent du dossier"),
    ('{"schemas": [{"file": "import-complet-strict.xsd", "versions": ["7.0"], "extra": 1}]}', "les clés"),
    ('{"schemas": [{"file": "import-complet-strict.xsd", "versions": ["7.0"]},'
     ' {"file": "import-complet-strict.xsd", "versions": ["6.0"]}]}', "déjà décrit"),
    ('{"schemas": [{"file": "import-complet-strict.xsd", "versions": ["13.0"]}]}',
     "import-complet-strict.xsd n'accepte pas la version 13.0"),
    ('{"schemas": [{"file": "import-complet-strict.xsd", "versions": ["7.0"]},'
     ' {"file": "lsu-test-99.xsd", "versions": ["7.0"]}]}', "n'accepte pas la version 7.0"),
])
def test_an_invalid_manifest_is_a_french_error_at_load_naming_the_problem(tmp_path, manifest, problem):
    folder = derived_test_schema_dir(tmp_path)
    (folder / "manifest.json").write_text(manifest, encoding="utf-8")
    with pytest.raises(schemas.SchemaFolderError) as exc:
        schemas.load_schemas(folder)
    assert problem in str(exc.value)


def test_a_missing_or_empty_folder_is_a_french_error(tmp_path):
    with pytest.raises(schemas.SchemaFolderError, match="introuvable"):
        schemas.load_schemas(tmp_path / "absent")
    with pytest.raises(schemas.SchemaFolderError, match="aucun fichier .xsd"):
        schemas.load_schemas(tmp_path)


def test_an_xsd_without_schema_version_enumeration_needs_a_manifest(tmp_path):
    (tmp_path / "autre.xsd").write_text(f'<xs:schema xmlns:xs="{file_checks.XS}"/>', encoding="utf-8")
    with pytest.raises(schemas.SchemaFolderError, match="aucune énumération de schemaVersion"):
        schemas.load_schemas(tmp_path)


def test_schemas_are_loaded_once_per_process_and_per_folder(test_dir, test_set, official_set, settings):
    assert schemas.load_schemas(test_dir) is test_set
    assert schemas.load_schemas(str(test_dir) + "/") is test_set
    assert schemas.load_schemas(settings.schema_dir) is official_set is not test_set


# --- the partial profile, per schema ------------------------------------------------------------

def test_each_schema_gets_its_own_partial_profile(test_set):
    official, test = (test_set.installed("7.0"), test_set.installed(TEST_VERSION))
    assert official.file == OFFICIAL_NAME and test.file == TEST_XSD_NAME
    assert len({id(official.strict), id(official.partial), id(test.strict), id(test.partial)}) == 4
    partial_file = _without_vie_scolaire(with_test_version(generate_lsu_xml(SPEC, periodes=[1])))
    assert file_checks.check_file(partial_file, test.partial, UAI).ok
    assert _codes(file_checks.check_file(partial_file, test.strict, UAI)) and \
        set(_codes(file_checks.check_file(partial_file, test.strict, UAI))) == {"XSD_INVALID"}
    # The partial profile of the TEST schema keeps what the TEST schema adds.
    assert file_checks.check_file(with_test_element(partial_file), test.partial, UAI).ok


def _without_vie_scolaire(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    for el in list(root.iter(f"{{{file_checks.NS}}}vie-scolaire")):
        if etree.QName(el.getparent()).localname == "bilan-periodique":
            el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- selection by version; the refusal ------------------------------------------------------------

def test_the_version_is_read_from_the_root_start_tag_only():
    assert schemas.read_schema_version(b'<?xml version="1.0"?><lsun-bilans xmlns="urn:fr:edu:scolarite:lsun:'
                                       b'bilans:import" schemaVersion="13.0"><entete>') == (file_checks.ROOT_TAG, "13.0")
    assert schemas.read_schema_version(b"<a><b") == ("a", None)
    assert schemas.read_schema_version(b"<<<") == (None, None)
    # Never more than VERSION_PROBE_BYTES read: a root start tag longer than that is not found.
    long_tag = b'<lsun-bilans ' + b" " * schemas.VERSION_PROBE_BYTES + b'schemaVersion="13.0">'
    assert schemas.read_schema_version(long_tag) == (None, None)


def test_selection_by_version(test_set):
    for v in OFFICIAL_VERSIONS:
        assert test_set.select(v)[0] is test_set.installed("7.0").partial
        assert test_set.select(v, partial=False)[0] is test_set.installed("7.0").strict
    assert test_set.select(TEST_VERSION)[0] is test_set.installed(TEST_VERSION).partial
    assert test_set.select(None)[0] is test_set.default.partial
    assert test_set.select("  ")[0] is test_set.default.partial


def test_a_version_no_installed_schema_accepts_is_refused_naming_both(official_set, xml):
    data = with_test_version(xml, "13.0")
    result = stream.check_and_split(data, official_set, UAI)
    [err] = result.erreurs
    expected = file_checks.message("SCHEMA_VERSION_NON_PRISE_EN_CHARGE", f"Version du fichier : 13.0 ; {INSTALLED}",
                                   version="13.0")
    assert err == {**expected, "message": f"{expected['message']} (ligne 2)", "ligne": 2, "element": "lsun-bilans"}
    assert result.entete["schema_version"] == "13.0" and result.entete["etablissement"] == UAI
    assert not result.bilans
    tree = file_checks.check_file(data, official_set, UAI)
    assert tree.erreurs == result.erreurs and tree.entete == result.entete


def test_the_refusal_does_not_need_the_tree_for_a_large_file(official_set, xml, monkeypatch):
    monkeypatch.setattr(stream, "EXPLAIN_MAX_BYTES", 10)
    monkeypatch.setattr(stream.validation, "check_file", None)     # never built above the limit
    [err] = stream.check_and_split(with_test_version(xml, "13.0"), official_set, UAI).erreurs
    assert err["code"] == "SCHEMA_VERSION_NON_PRISE_EN_CHARGE" and "Version du fichier : 13.0 ;" in err["message"]


def test_a_hostile_version_value_is_shown_bounded(official_set, xml):
    [err] = stream.check_and_split(with_test_version(xml, "9" * 500), official_set, UAI).erreurs
    assert err["code"] == "SCHEMA_VERSION_NON_PRISE_EN_CHARGE" and len(err["version"]) == 41


def test_a_file_not_well_formed_stays_not_well_formed_whatever_its_version(official_set, xml):
    data = with_test_version(xml, "13.0")
    assert _codes(stream.check_and_split(data[: len(data) // 2], official_set, UAI)) == ["NOT_WELL_FORMED"]


def test_a_root_that_is_not_lsu_is_a_namespace_error_not_a_version_one(official_set):
    data = b'<?xml version="1.0"?><lsun-bilans schemaVersion="13.0"/>'
    assert _codes(stream.check_and_split(data, official_set, UAI)) == ["WRONG_NAMESPACE"]
    assert _codes(file_checks.check_file(data, official_set, UAI)) == ["WRONG_NAMESPACE"]


def test_a_file_without_schema_version_keeps_the_xsd_verdict(official_set, xml):
    root = etree.fromstring(xml)
    del root.attrib["schemaVersion"]
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    streamed = stream.check_and_split(data, official_set, UAI)
    assert set(_codes(streamed)) == {"XSD_INVALID"}
    assert "schemaVersion" in streamed.erreurs[0]["message"]


def test_a_7_0_file_is_still_validated_by_the_official_schema(test_set, official_set, xml, settings):
    official_partial = file_checks.load_schema(settings.xsd_path, partial=True)
    reference = stream.check_and_split(xml, official_partial, UAI)
    for s in (official_set, test_set):
        streamed = stream.check_and_split(xml, s, UAI)
        assert streamed.ok and streamed.bilans == reference.bilans and streamed.entete == reference.entete
    # …and by it only: the official schema refuses the TEST element, in a 7.0 file too.
    assert set(_codes(stream.check_and_split(with_test_element(xml), test_set, UAI))) == {"XSD_INVALID"}


def test_a_99_0_file_is_validated_by_the_test_schema_and_split(test_set, official_set, xml):
    data = with_test_element(with_test_version(xml))
    streamed = stream.check_and_split(data, test_set, UAI)
    assert streamed.ok and streamed.entete["schema_version"] == TEST_VERSION
    tree = file_checks.check_file(data, test_set, UAI)
    assert tree.ok
    assert [json.loads(b) for b in streamed.bilans] == list(split_bilans(tree.root))
    assert len(streamed.bilans) == len(stream.check_and_split(xml, official_set, UAI).bilans) > 0
    # The official folder does not install 99.0.
    assert _codes(stream.check_and_split(data, official_set, UAI)) == ["SCHEMA_VERSION_NON_PRISE_EN_CHARGE"]


def test_a_99_0_file_is_still_checked_by_its_schema(test_set, xml):
    bad = with_test_version(xml).replace(b'nb-retards="', b'nb-retards="x', 1)
    assert set(_codes(stream.check_and_split(bad, test_set, UAI))) == {"XSD_INVALID"}


# --- the split stage, on the in-memory runtime ----------------------------------------------------

def _split(settings, data: bytes):
    rt = memory_runtime(settings)
    store_referentiel(rt, generate_referentiel(SPEC), None)
    created = upload.start_upload(rt, UAI, "export.xml", len(data), False, "CE:dev")
    key = created["upload"]["fields"]["key"]
    rt.repos.blobs.put(key, data)
    outcome = split_stage.handle_object(rt, split_stage.S3Object(rt.settings.bucket, key, len(data)))
    return outcome, rt.repos.imports.get(UAI, created["import_id"]), rt


def test_the_split_stage_refuses_a_version_not_installed_and_changes_nothing(settings, xml):
    outcome, record, rt = _split(settings, with_test_version(xml, "13.0"))
    assert outcome == "rejete" and record.statut == ImportStatut.FICHIER_REJETE
    assert [e["code"] for e in record.erreurs_fichier] == ["SCHEMA_VERSION_NON_PRISE_EN_CHARGE"]
    assert INSTALLED in record.erreurs_fichier[0]["message"]
    assert not rt.queues.sent.get(rt.settings.bilans_queue)


def test_the_split_stage_uses_the_configured_schema_folder(settings, test_dir, xml):
    outcome, record, rt = _split(replace(settings, schema_dir=str(test_dir)), with_test_element(with_test_version(xml)))
    assert outcome == "decoupe" and record.statut == ImportStatut.EN_COURS and record.total > 0
    assert rt.queues.sent.get(rt.settings.bilans_queue)
