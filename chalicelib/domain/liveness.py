"""Liveness rules: every import reaches a final state (issue 17). Pure; the watchdog
(chalicelib/pipeline/watchdog.py) applies them on a schedule.

- An import EN_COURS whose progress has not moved for `stale_after` seconds is finished: each
  bilan the splitter sent (its manifest) that has no result is rejected for a technical error, by
  its identity (élève, période or cycle), so the synthèse names it.
- An import EN_ATTENTE_FICHIER whose upload form has expired (plus a grace for S3's notification)
  and whose file never came is EXPIRE.
- A file that came but was never split (its splitter failed every retry) is rejected once the
  uploads queue's retries are surely over."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.catalogue import message
from chalicelib.domain.vocabulary import ImportStatut

# S3's notification of an upload made just before its form expired may come a little later.
UPLOAD_GRACE_SECONDS = 120
# A file waiting for its splitter: the uploads queue retries for up to 30 receives with delays of at
# most 300 s while the school's other import is written (SCHOOL_LEASE_SECONDS = 30 min): beyond
# 4 hours its message has surely reached the uploads DLQ and nothing will split it.
UNSPLIT_FILE_SECONDS = 4 * 3600
# What marks a result recorded by the watchdog (a field of its message).
ORIGINE = "surveillance"


def bilan_identity(bilan: dict) -> dict:
    """What the manifest keeps of a bilan sent: enough to record its result without its content
    (the fields `result_of` takes from a bilan)."""
    eleve = bilan["eleve"]
    return {"bilan_id": f"{eleve['id_be']}#{bilan['cle']}", "type": bilan["type"], "eleve": eleve,
            "periode": bilan.get("periode"), "cycle": bilan.get("cycle"), "ligne": bilan.get("ligne")}


def is_stale(statut: str, progres_le: int | None, now: int, stale_after: int) -> bool:
    """An import EN_COURS whose progress has not moved for `stale_after` seconds (one without a
    progress time — written before the watchdog existed — is never stale)."""
    return statut == ImportStatut.EN_COURS and progres_le is not None and now - progres_le >= stale_after


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def upload_expired(statut: str, cree_le: str, now: int, expiry: int, grace: int = UPLOAD_GRACE_SECONDS) -> bool:
    """An import still waiting for its file once its form has expired, plus the grace."""
    return statut == ImportStatut.EN_ATTENTE_FICHIER and now - _epoch(cree_le) >= expiry + grace


def file_never_split(statut: str, cree_le: str, now: int, after: int = UNSPLIT_FILE_SECONDS) -> bool:
    """An import whose file came (the caller knows it is in S3) but is still waiting long after
    every retry of its splitter is over."""
    return statut == ImportStatut.EN_ATTENTE_FICHIER and now - _epoch(cree_le) >= after


def without_result(manifest: list[dict], done: set[str]) -> list[dict]:
    """The bilans sent (manifest order, each once) that have no result."""
    seen, out = set(done), []
    for ident in manifest:
        if ident["bilan_id"] not in seen:
            seen.add(ident["bilan_id"])
            out.append(ident)
    return out


def lost_bilan_message() -> dict:
    """The message of a bilan the watchdog rejects: ERREUR_TECHNIQUE, marked as its."""
    return message("ERREUR_TECHNIQUE", "Aucun résultat n'a été reçu pour ce bilan : son traitement s'est "
                   "interrompu (message perdu ou illisible).", origine=ORIGINE)


def interrupted_message(surveillance: dict | None, bilans: list[dict], total: int, traites: int) -> dict | None:
    """The synthèse's message for an import the watchdog finished: how many bilans it rejected,
    and how many could not be named (sent before manifests existed, or manifest lost)."""
    if not surveillance:
        return None
    rejected = sum(1 for b in bilans for m in b.get("messages") or [] if m.get("origine") == ORIGINE)
    unnamed = max(0, total - traites)
    if not rejected and not unnamed:        # only its report was lost: nothing to tell
        return None
    detail = f"{rejected} bilan(s) rejeté(s) faute de résultat"
    if unnamed:
        detail += f" ; {unnamed} bilan(s) sans résultat n'ont pas pu être identifiés"
    return message("IMPORT_INTERROMPU", detail + ".", le=surveillance.get("le"))


def expired_file_error() -> dict:
    return message("IMPORT_EXPIRE")


def unsplit_file_error() -> dict:
    return message("ERREUR_TECHNIQUE", "Le fichier déposé n'a pas pu être traité : toutes les tentatives "
                   "ont échoué.", origine=ORIGINE)
