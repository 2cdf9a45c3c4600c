"""Statuses and fingerprints of bilans (pure). The checks against the référentiel live in
`checks.py`, LSU's merge rules in `merge_rules.py` (the bilan's state and view in `merge.py`)."""
from __future__ import annotations

import hashlib
import json

from chalicelib.domain.catalogue import AVERTISSEMENT, ERREUR

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


def refused(messages: list[dict]) -> bool:
    """A bilan with any ERREUR message is rejected (the first refusal of the checks)."""
    return any(m["niveau"] == ERREUR for m in messages)


def has_warning(messages: list[dict]) -> bool:
    return any(m["niveau"] == AVERTISSEMENT for m in messages)
