"""LSU rules as named pure functions (no I/O). The checks against the référentiel and the merge
rules of later issues plug in here."""
from __future__ import annotations

import hashlib
import json

from chalicelib.catalogue import AVERTISSEMENT, ERREUR

IMPORTE = "IMPORTE"
MIS_A_JOUR = "MIS_A_JOUR"
INCHANGE = "INCHANGE"
REJETE = "REJETE"

# Fields of a split bilan that describe where it stood in the file, not what it says.
_NOT_CONTENT = frozenset({"ligne"})


def bilan_content(bilan: dict) -> dict:
    return {k: v for k, v in bilan.items() if k not in _NOT_CONTENT}


def empreinte(bilan: dict) -> str:
    """A stable fingerprint of a bilan's content: same content, same fingerprint."""
    canonical = json.dumps(bilan_content(bilan), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def statut_import(existing_empreinte: str | None, new_empreinte: str) -> str:
    """IMPORTE when LSU had no such bilan, INCHANGE when the content is the same, else MIS_A_JOUR."""
    if existing_empreinte is None:
        return IMPORTE
    return INCHANGE if existing_empreinte == new_empreinte else MIS_A_JOUR


def bilan_statut(messages: list[dict], existing_empreinte: str | None, new_empreinte: str) -> str:
    """A bilan with any ERREUR message is rejected; otherwise its import status."""
    if any(m["niveau"] == ERREUR for m in messages):
        return REJETE
    return statut_import(existing_empreinte, new_empreinte)


def has_warning(messages: list[dict]) -> bool:
    return any(m["niveau"] == AVERTISSEMENT for m in messages)
