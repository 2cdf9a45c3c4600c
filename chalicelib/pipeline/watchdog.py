"""The watchdog (a scheduled function: every 5 minutes on AWS, on a timer in the local stack):
every import reaches a final state, whatever was lost on the way (chalicelib/domain/liveness.py).

- Imports EN_COURS whose progress has not moved for `stale_after_seconds`: each bilan of the
  splitter's manifest without a result is recorded REJETE / ERREUR_TECHNIQUE by its identity
  (conditional on no result: a late worker and the watchdog never both count a bilan), the import
  is marked interrupted and its report is asked for — the report stage finishes it as usual.
- Imports EN_ATTENTE_FICHIER: once the upload form has expired and no file came, EXPIRE; a file
  that came but was never split, after every retry, FICHIER_REJETE.

Every step is conditional and idempotent: two rounds at once, or a round and a late worker, end
in the same state. One import's failure does not stop the round (it is raised at the end)."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from chalicelib import observability
from chalicelib.adapters.ports import Result
from chalicelib.domain import liveness
from chalicelib.domain.vocabulary import BilanStatut, ImportStatut
from chalicelib.pipeline import handoff
from chalicelib.pipeline.manifest import read_manifest

logger = logging.getLogger(__name__)


class WatchdogRoundFailed(RuntimeError):
    """Some imports could not be handled this round (the next round tries again)."""


def process_watchdog_event(event: dict, rt) -> dict:
    return run_watchdog(rt)


# A round stops starting work after this (the function's timeout is 300 s: .chalice/config.json);
# what is left is for the next round, every step being idempotent.
ROUND_BUDGET_SECONDS = 240


def run_watchdog(rt, now: float | None = None, budget: float = ROUND_BUDGET_SECONDS) -> dict:
    """One round; what it did, by import (for logs, metrics and tests)."""
    now = int(time.time() if now is None else now)
    deadline = time.monotonic() + budget
    settings, imports = rt.settings, rt.repos.imports
    done: dict[str, list[str]] = {"interrompus": [], "expires": [], "rejetes": []}
    failed: list[str] = []
    for record in imports.active(ImportStatut.EN_COURS):
        if liveness.is_stale(record.statut, record.progres_le, now, settings.stale_after_seconds):
            _guarded(failed, record, lambda r=record: _count(done, "interrompus" if settle(rt, r, now, deadline) else None,
                                                            r.import_id))
    for record in imports.active(ImportStatut.EN_ATTENTE_FICHIER):
        if time.monotonic() < deadline:
            _guarded(failed, record, lambda r=record: _count(done, end_waiting(rt, r, now), r.import_id))
    observability.emit_watchdog_metrics(done, failed)
    if failed:
        raise WatchdogRoundFailed(f"imports non traités par la surveillance : {', '.join(failed)}")
    return done


def _guarded(failed: list[str], record, action) -> None:
    with observability.log_context(uai=record.uai, import_id=record.import_id):
        try:
            action()
        except Exception:  # noqa: BLE001 — logged, the others handled, the round raises at its end
            logger.exception("surveillance : import %s/%s non traité", record.uai, record.import_id)
            failed.append(record.import_id)


def settle(rt, record, now: int, deadline: float = float("inf")) -> bool:
    """Reject the stale import's bilans without a result, mark it interrupted, ask for its report;
    False if the round's time ran out first (the next round goes on)."""
    repos = rt.repos
    manifest = read_manifest(rt, record.uai, record.import_id)
    if manifest is None:
        logger.error("surveillance : import %s/%s sans manifeste, bilans sans résultat non identifiables",
                     record.uai, record.import_id)
    have = {r.bilan_id for r in repos.results.of_import(record.uai, record.import_id)}
    rejected = 0
    for ident in liveness.without_result(manifest or [], have):
        if time.monotonic() >= deadline:
            logger.warning("surveillance : import %s/%s, temps de la tournée écoulé après %d bilan(s) rejeté(s)",
                           record.uai, record.import_id, rejected)
            return False
        rejected += repos.results.record_failure(Result(
            record.uai, record.import_id, ident["bilan_id"], ident["type"], BilanStatut.REJETE, ident["eleve"],
            ident.get("periode"), ident.get("cycle"), ident.get("ligne"), [liveness.lost_bilan_message()]))
    logger.warning("surveillance : import %s/%s interrompu, %d bilan(s) rejeté(s) faute de résultat",
                   record.uai, record.import_id, rejected)
    le = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds")
    if not repos.imports.interrupt(record.uai, record.import_id, surveillance={"le": le}):
        return False                     # finished meanwhile
    handoff.send_report(rt, record.uai, record.import_id)
    return True


def _count(done: dict, what: str | None, import_id: str) -> None:
    if what:
        done[what].append(import_id)


def end_waiting(rt, record, now: int) -> str | None:
    """An import waiting for its file, past its form's expiry: EXPIRE if no file came ("expires"),
    FICHIER_REJETE if it came but was never split after every retry ("rejetes"); None: left as is."""
    settings, repos = rt.settings, rt.repos
    if not liveness.upload_expired(record.statut, record.cree_le, now, settings.upload_expiry_seconds):
        return None
    le = datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds")
    if not repos.blobs.exists(record.cle_s3):
        won = repos.imports.expire(record.uai, record.import_id, erreurs=[liveness.expired_file_error()], termine_le=le)
        return "expires" if won else None
    if liveness.file_never_split(record.statut, record.cree_le, now):
        won = repos.imports.reject(record, erreurs=[liveness.unsplit_file_error()], entete={},
                                   taille=repos.blobs.size(record.cle_s3), sha256=None)
        return "rejetes" if won else None
    return None
