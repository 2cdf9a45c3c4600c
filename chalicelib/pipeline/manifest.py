"""The manifest of an import: what the splitter sent, by identity (élève, période or cycle), written
before its first send; the watchdog reads it to name the bilans left without a result. Shared by
the stages like handoff.py (none imports another)."""
from __future__ import annotations

import json

import orjson

from chalicelib.adapters.ports import NotFound

PREFIX = "manifestes/"


def manifest_key(uai: str, import_id: str) -> str:
    return f"{PREFIX}{uai}/{import_id}.json"


def write_manifest(rt, record, identities: list[dict]) -> None:
    """The identities of the bilans about to be sent (liveness.bilan_identity, in sending order)."""
    rt.repos.blobs.put(manifest_key(record.uai, record.import_id), orjson.dumps(identities), "application/json")


def read_manifest(rt, uai: str, import_id: str) -> list[dict] | None:
    """The manifest, or None if there is none (an import split before manifests existed)."""
    try:
        return json.loads(rt.repos.blobs.get(manifest_key(uai, import_id)))
    except NotFound:
        return None
