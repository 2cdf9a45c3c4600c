"""Every request body is bounded: its raw size before it is parsed (413 REQUETE_TROP_VOLUMINEUSE),
unreadable or too deep JSON a French 400, the exports sent inline at most EXPORTS_INLINE_MAX_BYTES
decoded (exactly the bound accepted, one byte more refused), a deposit at most
EXPORTS_DEPOT_MAX_BYTES announced and read back at its announced sizes."""
from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from chalicelib.api import errors, openapi
from chalicelib.api import imports as import_routes
from chalicelib.api import referentiel as routes
from chalicelib.api.auth import issue_token
from chalicelib.runtime import memory_runtime

UAI = "0750001A"


@pytest.fixture
def rt(settings):
    return memory_runtime(settings)


def _request(rt, raw: bytes, role: str = "CE", uai: str = UAI):
    token = issue_token(rt.settings.token_secret, uai, role)
    return SimpleNamespace(headers={"Authorization": f"Bearer {token}"}, context=None, query_params=None,
                           raw_body=raw, json_body=None)


def _erreur(response) -> tuple[int, dict]:
    return response.status_code, json.loads(response.body)["erreur"]


def _padded(body: dict, size: int) -> bytes:
    """`body` as JSON of exactly `size` bytes (spaces before the closing brace)."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def test_a_body_over_its_raw_bound_is_refused_before_it_is_parsed(rt):
    bound = openapi.operations()["create_import"][2]["x-lsu-max-octets"]
    body = {"nom_fichier": "a.xml", "taille": 0}
    status, erreur = _erreur(import_routes.create_import(_request(rt, _padded(body, bound)), rt))
    assert (status, erreur["code"]) == (400, "EMPTY_FILE"), "exactly the bound: read"
    status, erreur = _erreur(import_routes.create_import(_request(rt, _padded(body, bound + 1)), rt))
    assert (status, erreur["code"]) == (413, "REQUETE_TROP_VOLUMINEUSE")
    assert str(bound) in erreur["message"] and erreur["conseil"]
    # Not even JSON: the size is checked first.
    status, erreur = _erreur(import_routes.create_import(_request(rt, b"{" * (bound + 1)), rt))
    assert (status, erreur["code"]) == (413, "REQUETE_TROP_VOLUMINEUSE")


@pytest.mark.parametrize("raw", [b"{", b"[" * 5000 + b"]" * 5000, b'{"a": ' * 3000 + b"1" + b"}" * 3000,
                                 b"\xff\xfe", b"", b"[]", b"null"])
def test_unreadable_too_deep_or_non_object_json_is_a_french_400(rt, raw):
    status, erreur = _erreur(import_routes.create_import(_request(rt, raw), rt))
    assert (status, erreur["code"]) == (400, "BAD_REQUEST") and "JSON" in erreur["message"]


def test_a_deeply_nested_entry_is_refused_not_a_500(rt):
    from chalicelib.api import bilans
    raw = json.dumps({"valeur": [[["x"]]]}).replace('"x"', '[' * 900 + '"x"' + ']' * 900).encode()
    status, erreur = _erreur(bilans.edit_bilan(_request(rt, raw), rt, "123", "P-2025-3-1", "parcours"))
    assert status == 400 and erreur["code"] in ("REQUETE_NON_CONFORME", "BAD_REQUEST")


def _inline(size: int) -> bytes:
    return json.dumps({"pre_controle": True, "fichiers": [
        {"nom": "ElevesSansAdresses.xml", "contenu": base64.b64encode(b"<" + b" " * (size - 1)).decode()}]}).encode()


def test_inline_exports_exactly_at_the_bound_are_read_one_byte_more_is_refused(rt):
    at_bound = _inline(routes.EXPORTS_MAX_BYTES)
    assert len(at_bound) <= openapi.MAX_REQUEST_BYTES, "the bound fits in a request"
    status, erreur = _erreur(routes.import_referentiel_exports(_request(rt, at_bound), rt))
    assert status == 400 and erreur["code"].startswith(("NOT_", "EXPORT_")), erreur    # read: not an export
    status, erreur = _erreur(routes.import_referentiel_exports(_request(rt, _inline(routes.EXPORTS_MAX_BYTES + 1)), rt))
    assert (status, erreur["code"]) == (413, "FILE_TOO_LARGE") and "/referentiel/exports/depots" in erreur["message"]


def _announce(rt, sizes, role="CE"):
    raw = json.dumps({"fichiers": [{"nom": f"f{i}.xml", "taille": s} for i, s in enumerate(sizes)]}).encode()
    return routes.create_exports_depot(_request(rt, raw, role), rt)


def test_a_deposit_is_bounded_in_total_and_read_back_at_its_announced_sizes(rt, monkeypatch):
    monkeypatch.setattr(routes, "EXPORTS_DEPOT_MAX_BYTES", 30)
    status, erreur = _erreur(_announce(rt, [10, 21]))
    assert (status, erreur["code"]) == (413, "FILE_TOO_LARGE") and "30 octets par dépôt" in erreur["message"]
    assert not [k for k in rt.repos.blobs.s.blobs if k.startswith("depots-referentiel/")], "nothing written"
    r = _announce(rt, [10, 20])
    assert r.status_code == 201
    depot = json.loads(r.body)
    assert [f["upload"]["fields"]["key"] for f in depot["fichiers"]] == [
        f"depots-referentiel/{UAI}/{depot['depot']}/1", f"depots-referentiel/{UAI}/{depot['depot']}/2"]

    def take(pre_controle=True):
        raw = json.dumps({"depot": depot["depot"], "pre_controle": pre_controle}).encode()
        return _erreur(routes.import_referentiel_exports(_request(rt, raw), rt))

    rt.repos.blobs.put(depot["fichiers"][0]["upload"]["fields"]["key"], b"<" * 10)
    status, erreur = take()
    assert (status, erreur["code"]) == (409, "EXPORT_NON_DEPOSE") and erreur["fichier"] == "f1.xml"
    rt.repos.blobs.put(depot["fichiers"][1]["upload"]["fields"]["key"], b"<" * 21)
    status, erreur = take()
    assert (status, erreur["code"]) == (409, "EXPORT_NON_DEPOSE") and "21 octets déposés pour 20" in erreur["message"]
    rt.repos.blobs.put(depot["fichiers"][1]["upload"]["fields"]["key"], b"<" * 20)
    status, erreur = take()
    assert status == 400 and erreur["code"] not in ("EXPORT_NON_DEPOSE", "FILE_TOO_LARGE"), "read: not exports"


def test_a_deposit_is_the_head_s_and_named_only_by_its_school(rt):
    assert _announce(rt, [10], role="PP").status_code == 403
    depot = json.loads(_announce(rt, [10]).body)["depot"]
    raw = json.dumps({"depot": depot}).encode()
    status, erreur = _erreur(routes.import_referentiel_exports(_request(rt, raw, uai="0750002B"), rt))
    assert (status, erreur["code"]) == (404, "NOT_FOUND")


def test_validated_body_reads_a_unit_test_request_without_raw_body():
    request = SimpleNamespace(json_body={"nom_fichier": "a", "taille": 1})
    assert errors.validated_body(request, "create_import") == {"nom_fichier": "a", "taille": 1}


def test_a_file_not_deposited_is_told_and_a_refusal_of_s3_is_not_taken_for_one(rt, monkeypatch):
    """Whether a deposited file is there is asked by listing its exact key (`blobs.exists`): a
    missing one is EXPORT_NON_DEPOSE; an error of S3 (a refused list, say) is not hidden as one."""
    from botocore.exceptions import ClientError
    depot = json.loads(_announce(rt, [10]).body)["depot"]
    raw = json.dumps({"depot": depot}).encode()
    status, erreur = _erreur(routes.import_referentiel_exports(_request(rt, raw), rt))
    assert (status, erreur["code"], erreur["fichier"]) == (409, "EXPORT_NON_DEPOSE", "f0.xml")

    def refused(key):
        raise ClientError({"Error": {"Code": "AccessDenied"}}, "ListObjectsV2")

    monkeypatch.setattr(rt.repos.blobs, "exists", refused)
    with pytest.raises(ClientError):
        routes.import_referentiel_exports(_request(rt, raw), rt)
