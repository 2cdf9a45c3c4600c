"""The repositories in memory: the same contract as DynamoDB and S3 (tests/contract/ runs one suite on
both), for the unit tests of the stages. A lock makes each operation atomic, as DynamoDB makes each
conditional write and each transaction; records are copied in and out, so a caller never holds
the stored object."""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import replace
from typing import Iterable

from chalicelib.adapters.ports import (Batch, BatchRefused, BilanKey, BilanWrite, Conflict, ImportRecord, NotFound,
                                       Repositories, Result, School, SchoolBusy, StoredBilan, eleve_key)
from chalicelib.domain.vocabulary import ImportStatut


class _Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.imports: dict[tuple[str, str], ImportRecord] = {}
        self.results: dict[tuple[str, str], dict[str, Result]] = {}
        self.bilans: dict[BilanKey, StoredBilan] = {}
        self.schools: dict[str, School] = {}
        self.blobs: dict[str, tuple[bytes, str | None]] = {}


class MemoryImports:
    def __init__(self, store: _Store):
        self.s = store

    def create(self, record: ImportRecord) -> None:
        with self.s.lock:
            key = (record.uai, record.import_id)
            if key in self.s.imports:
                raise Conflict(key)
            self.s.imports[key] = replace(copy.deepcopy(record), progres_le=int(time.time()))

    def get(self, uai: str, import_id: str) -> ImportRecord | None:
        with self.s.lock:
            record = self.s.imports.get((uai, import_id))
            return copy.deepcopy(record)

    def recent(self, uai: str, limit: int = 50) -> list[ImportRecord]:
        with self.s.lock:
            ids = sorted((i for (u, i) in self.s.imports if u == uai), reverse=True)[:limit]
            return [copy.deepcopy(self.s.imports[(uai, i)]) for i in ids]

    def _update_if(self, uai: str, import_id: str, condition, **changes) -> ImportRecord | None:
        with self.s.lock:
            current = self.s.imports.get((uai, import_id))
            if current is None or not condition(current):
                return None
            self.s.imports[(uai, import_id)] = updated = replace(current, **copy.deepcopy(changes))
            return copy.deepcopy(updated)

    def start(self, record: ImportRecord, *, total: int, entete: dict, taille: int, sha256: str,
              referentiel_cle: str) -> bool:
        return self._update_if(record.uai, record.import_id, lambda r: r.statut == ImportStatut.EN_ATTENTE_FICHIER,
                               statut=ImportStatut.EN_COURS, total=total, entete=entete, taille=taille,
                               sha256=sha256, referentiel_cle=referentiel_cle,
                               progres_le=int(time.time())) is not None

    def reject(self, record: ImportRecord, *, erreurs: list, entete: dict, taille: int, sha256: str | None) -> bool:
        extra = {"sha256": sha256} if sha256 else {}
        return self._update_if(record.uai, record.import_id, lambda r: r.statut == ImportStatut.EN_ATTENTE_FICHIER,
                               statut=ImportStatut.FICHIER_REJETE, erreurs_fichier=erreurs, entete=entete,
                               taille=taille, total=0, **extra) is not None

    def claim_report(self, uai: str, import_id: str, now: int, stale_before: int) -> ImportRecord | None:
        return self._update_if(uai, import_id, lambda r: (
            r.statut == ImportStatut.EN_COURS and r.total is not None and r.traites == r.total
            and (r.rapport_demande_le is None or r.rapport_demande_le < stale_before)), rapport_demande_le=now)

    def clear_report_claim(self, uai: str, import_id: str) -> None:
        self._update_if(uai, import_id, lambda r: True, rapport_demande_le=None)

    def finish(self, uai: str, import_id: str, *, synthese_cle: str, termine_le: str) -> bool:
        return self._update_if(uai, import_id, lambda r: r.statut == ImportStatut.EN_COURS,
                               statut=ImportStatut.TERMINE, synthese_cle=synthese_cle,
                               termine_le=termine_le) is not None

    def active(self, statut: str) -> list[ImportRecord]:
        with self.s.lock:
            found = [r for r in self.s.imports.values() if r.statut == statut]
            return [copy.deepcopy(r) for r in sorted(found, key=lambda r: (r.cree_le, r.uai, r.import_id))]

    def expire(self, uai: str, import_id: str, *, erreurs: list, termine_le: str) -> bool:
        return self._update_if(uai, import_id, lambda r: r.statut == ImportStatut.EN_ATTENTE_FICHIER,
                               statut=ImportStatut.EXPIRE, erreurs_fichier=erreurs, total=0,
                               termine_le=termine_le) is not None

    def interrupt(self, uai: str, import_id: str, *, surveillance: dict) -> bool:
        return self._update_if(uai, import_id, lambda r: r.statut == ImportStatut.EN_COURS,
                               surveillance=surveillance) is not None


class MemoryResults:
    def __init__(self, store: _Store):
        self.s = store

    def of_import(self, uai: str, import_id: str) -> list[Result]:
        with self.s.lock:
            results = self.s.results.get((uai, import_id), {})
            return [copy.deepcopy(results[k]) for k in sorted(results)]

    def commit(self, batch: Batch) -> BatchRefused | None:
        with self.s.lock:
            results = self.s.results.setdefault((batch.uai, batch.import_id), {})
            record = self.s.imports.get((batch.uai, batch.import_id))
            refused = BatchRefused(
                import_closed=record is None or record.statut != ImportStatut.EN_COURS,
                done={r.bilan_id for r in batch.results if r.bilan_id in results},
                stale={w.key for w in batch.bilans if not _version_holds(self.s.bilans, w)})
            if refused.import_closed or refused.done or refused.stale:
                return refused
            for write in batch.bilans:
                _write_bilan(self.s.bilans, write)
            for result in batch.results:
                results[result.bilan_id] = copy.deepcopy(result)
            for counter, n in batch.counters.items():
                setattr(record, counter, getattr(record, counter) + n)
            record.progres_le = int(time.time())
            return None

    def record_failure(self, result: Result) -> bool:
        with self.s.lock:
            results = self.s.results.setdefault((result.uai, result.import_id), {})
            record = self.s.imports.get((result.uai, result.import_id))
            if result.bilan_id in results or record is None or record.statut != ImportStatut.EN_COURS:
                return False
            results[result.bilan_id] = copy.deepcopy(result)
            record.traites += 1
            record.rejetes += 1
            record.progres_le = int(time.time())
            return True


def _version_holds(bilans: dict[BilanKey, StoredBilan], write: BilanWrite) -> bool:
    current = bilans.get(write.key)
    return current.version == write.expected_version if current else write.expected_version is None


def _write_bilan(bilans: dict[BilanKey, StoredBilan], write: BilanWrite) -> StoredBilan:
    imp = write.state.importe or {}
    stored = StoredBilan(write.key, copy.deepcopy(write.state), (write.expected_version or 0) + 1,
                         imp.get("type") or "periodique", (imp.get("eleve") or {}).get("division"))
    bilans[write.key] = stored
    return copy.deepcopy(stored)


class MemoryBilans:
    def __init__(self, store: _Store):
        self.s = store

    def get(self, key: BilanKey) -> StoredBilan | None:
        with self.s.lock:
            return copy.deepcopy(self.s.bilans.get(tuple(key)))

    def get_many(self, keys: Iterable[BilanKey]) -> dict[BilanKey, StoredBilan]:
        with self.s.lock:
            return {tuple(k): copy.deepcopy(self.s.bilans[tuple(k)]) for k in keys if tuple(k) in self.s.bilans}

    def of_eleve(self, uai: str, id_be: str, cle: str | None = None) -> list[StoredBilan]:
        key = eleve_key(uai, id_be)
        with self.s.lock:
            return [copy.deepcopy(b) for k, b in sorted(self.s.bilans.items())
                    if k[0] == key and (cle is None or k[1] == cle)]

    def of_division(self, uai: str, division: str, cle: str | None = None) -> list[StoredBilan]:
        with self.s.lock:
            return [copy.deepcopy(b) for k, b in sorted(self.s.bilans.items(), key=lambda kv: kv[0][1])
                    if k[0].split("#", 1)[0] == uai and b.division == division and (cle is None or k[1] == cle)]

    def save(self, write: BilanWrite) -> StoredBilan:
        with self.s.lock:
            if not _version_holds(self.s.bilans, write):
                raise Conflict(write.key)
            return _write_bilan(self.s.bilans, write)


class MemorySchools:
    def __init__(self, store: _Store):
        self.s = store

    def get(self, uai: str) -> School | None:
        with self.s.lock:
            return copy.deepcopy(self.s.schools.get(uai))

    def all(self) -> list[School]:
        with self.s.lock:
            return [copy.deepcopy(s) for _, s in sorted(self.s.schools.items())]

    def switch_referentiel(self, uai: str, *, nom: str | None, millesime: str, cle: str, sha256: str,
                           charge_le: str, resume: dict, expected_sha256: str | None) -> None:
        with self.s.lock:
            current = self.s.schools.get(uai)
            holds = current is None if expected_sha256 is None else (
                current is not None and current.referentiel_sha256 == expected_sha256)
            if not holds:
                raise Conflict(uai)
            lease = {"import_en_cours": current.import_en_cours, "import_verrou_le": current.import_verrou_le} \
                if current else {}
            self.s.schools[uai] = School(uai=uai, nom=nom, millesime=millesime, referentiel_cle=cle,
                                         referentiel_sha256=sha256, charge_le=charge_le,
                                         resume=copy.deepcopy(resume), **lease)

    def acquire_lease(self, uai: str, import_id: str, now: int, lease_seconds: int) -> None:
        with self.s.lock:
            school = self.s.schools.get(uai)
            free = school is not None and (school.import_en_cours in (None, import_id) or (
                school.import_verrou_le is not None and school.import_verrou_le < now - lease_seconds))
            if not free:
                raise SchoolBusy(uai)
            school.import_en_cours, school.import_verrou_le = import_id, now

    def release_lease(self, uai: str, import_id: str) -> None:
        with self.s.lock:
            school = self.s.schools.get(uai)
            if school is not None and school.import_en_cours == import_id:
                school.import_en_cours = school.import_verrou_le = None


class MemoryBlobs:
    def __init__(self, store: _Store):
        self.s = store

    def put(self, key: str, body: bytes, content_type: str | None = None) -> None:
        with self.s.lock:
            self.s.blobs[key] = (bytes(body), content_type)

    def get(self, key: str) -> bytes:
        with self.s.lock:
            if key not in self.s.blobs:
                raise NotFound(key)
            return self.s.blobs[key][0]

    def size(self, key: str) -> int:
        return len(self.get(key))

    def exists(self, key: str) -> bool:
        with self.s.lock:
            return key in self.s.blobs

    def presigned_post(self, key: str, max_bytes: int, expires: int, content_type: str) -> dict:
        return {"url": "memory://blobs", "fields": {"key": key, "Content-Type": content_type}}


def memory_repositories() -> Repositories:
    store = _Store()
    return Repositories(imports=MemoryImports(store), results=MemoryResults(store), bilans=MemoryBilans(store),
                        schools=MemorySchools(store), blobs=MemoryBlobs(store))


class MemoryQueues:
    """Messages sent, by queue name (the unit tests read them and deliver them to the stages)."""

    def __init__(self):
        self.sent: dict[str, list[str]] = {}
        self.delays: list[tuple[str, str, int]] = []

    def url(self, name: str) -> str:
        return f"memory://{name}"

    def send(self, queue: str, body: str) -> None:
        self.sent.setdefault(queue, []).append(body)

    def send_all(self, queue: str, bodies: list[str]) -> None:
        self.sent.setdefault(queue, []).extend(bodies)

    def delay(self, queue: str, receipt_handle: str, seconds: int) -> None:
        self.delays.append((queue, receipt_handle, seconds))
