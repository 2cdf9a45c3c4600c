"""The repository ports: what the pipeline and the API need from storage, as protocols over plain
records. Two implementations: DynamoDB and S3 (`dynamodb.py`, `s3.py`, with SQS in `sqs.py`) and in
memory (`memory.py`); `tests/contract/` runs one suite on both.

Every write that can race is conditional, and a lost condition is told, never overwritten: `Conflict`
(or a `False` result where losing is an expected outcome, such as a second splitter). Keys are
business keys: the school (UAI), the import, the élève and the période or cycle."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from chalicelib.domain.merge import BilanState

# Per-import counters, advanced atomically with the results (nouveaux = bilans new to LSU).
COUNTERS = ("traites", "nouveaux", "mis_a_jour", "inchanges", "rejetes", "avertissements")


class Conflict(Exception):
    """A conditional write whose condition did not hold: someone else wrote first."""


class SchoolBusy(Exception):
    """Another import of the school is being written: this one waits its turn."""


class NotFound(Exception):
    """No such object (a blob)."""


def import_key(uai: str, import_id: str) -> str:
    return f"{uai}#{import_id}"


def eleve_key(uai: str, id_be: str) -> str:
    return f"{uai}#{id_be}"


def division_key(uai: str, division: str | None) -> str | None:
    return f"{uai}#{division}" if division else None


BilanKey = tuple[str, str]          # (eleve_key, cle): <uai>#<id_be>, P#millesime#nb#indice | C#cycle#millesime


@dataclass
class ImportRecord:
    """One import: a file of one school, its status, counters and file errors."""
    uai: str
    import_id: str
    statut: str
    nom_fichier: str
    taille_declaree: int
    cle_s3: str
    cree_le: str
    pre_controle: bool = False
    cree_par: str | None = None
    taille: int | None = None
    sha256: str | None = None
    entete: dict | None = None
    erreurs_fichier: list | None = None
    total: int | None = None
    referentiel_cle: str | None = None     # the référentiel version the bilans are checked against
    traites: int = 0
    nouveaux: int = 0
    mis_a_jour: int = 0
    inchanges: int = 0
    rejetes: int = 0
    avertissements: int = 0
    rapport_demande_le: int | None = None
    synthese_cle: str | None = None
    termine_le: str | None = None
    # Liveness (chalicelib/pipeline/watchdog.py): when the import last moved (epoch seconds: created,
    # started, each commit or recorded failure) and, if the watchdog had to finish it, what it found.
    progres_le: int | None = None
    surveillance: dict | None = None


@dataclass
class School:
    """The school and where its référentiel (SIECLE/STS picture) is kept; its import lease."""
    uai: str
    referentiel_cle: str
    referentiel_sha256: str
    charge_le: str
    nom: str | None = None
    millesime: str | None = None
    resume: dict = field(default_factory=dict)
    import_en_cours: str | None = None
    import_verrou_le: int | None = None


@dataclass
class StoredBilan:
    """A bilan as LSU keeps it, with the version its next write is conditioned on."""
    key: BilanKey
    state: BilanState
    version: int
    type: str = "periodique"
    division: str | None = None


@dataclass
class Result:
    """The outcome of one bilan of one import; its key (import, bilan) is the idempotency key."""
    uai: str
    import_id: str
    bilan_id: str                       # <id_be>#<cle du bilan>
    type: str
    statut: str
    eleve: dict
    periode: dict | None = None
    cycle: int | None = None
    ligne: int | None = None
    messages: list = field(default_factory=list)
    systeme_evaluation: str | None = None     # what the bilan's acquis follow: NOTES, POSITIONNEMENT, MIXTE
    a_completer: list | None = None           # what a Sconet Notes bilan lacks after the import

    def as_dict(self) -> dict:
        return {"type": self.type, "statut": self.statut, "eleve": self.eleve, "periode": self.periode,
                "cycle": self.cycle, "ligne": self.ligne, "messages": self.messages,
                "systeme_evaluation": self.systeme_evaluation, "a_completer": self.a_completer or []}


@dataclass
class BilanWrite:
    """A bilan to store, conditioned on the version it was read at (None: it must not exist)."""
    key: BilanKey
    state: BilanState
    expected_version: int | None


@dataclass
class Batch:
    """What one group commit writes for one import, all or nothing: the bilans, one result per bilan
    (which must not exist yet) and the import's counters (the import must still be EN_COURS)."""
    uai: str
    import_id: str
    bilans: list[BilanWrite]
    results: list[Result]
    counters: dict[str, int]


@dataclass
class BatchRefused:
    """Why a batch was not written (nothing of it was): the import is over, or some of its results
    exist already (those bilans were processed: `done`), or a bilan changed since it was read."""
    import_closed: bool = False
    done: set[str] = field(default_factory=set)          # bilan ids whose result exists
    stale: set[BilanKey] = field(default_factory=set)    # bilans written since they were read


class ImportRepository(Protocol):
    def create(self, record: ImportRecord) -> None: ...
    def get(self, uai: str, import_id: str) -> ImportRecord | None: ...
    def recent(self, uai: str, limit: int = 50) -> list[ImportRecord]: ...
    def start(self, record: ImportRecord, *, total: int, entete: dict, taille: int, sha256: str,
              referentiel_cle: str) -> bool:
        """EN_ATTENTE_FICHIER → EN_COURS; False if it was not waiting for its file any more."""
    def reject(self, record: ImportRecord, *, erreurs: list, entete: dict, taille: int,
               sha256: str | None) -> bool:
        """EN_ATTENTE_FICHIER → FICHIER_REJETE; False if it was not waiting any more."""
    def claim_report(self, uai: str, import_id: str, now: int, stale_before: int) -> ImportRecord | None:
        """Mark the report requested if the import is EN_COURS, complete (traites = total) and no
        request newer than `stale_before` exists; the updated record, or None."""
    def clear_report_claim(self, uai: str, import_id: str) -> None: ...
    def finish(self, uai: str, import_id: str, *, synthese_cle: str, termine_le: str) -> bool:
        """EN_COURS → TERMINE; False if it was already over."""
    def active(self, statut: str) -> list[ImportRecord]:
        """Every school's imports in `statut` (EN_ATTENTE_FICHIER or EN_COURS), oldest first: the
        watchdog's round (a sparse index of the imports not over)."""
    def expire(self, uai: str, import_id: str, *, erreurs: list, termine_le: str) -> bool:
        """EN_ATTENTE_FICHIER → EXPIRE (no file came); False if it was not waiting any more."""
    def interrupt(self, uai: str, import_id: str, *, surveillance: dict) -> bool:
        """Record what the watchdog found on an import EN_COURS; False if it was over."""


class ResultRepository(Protocol):
    def of_import(self, uai: str, import_id: str) -> list[Result]: ...
    def commit(self, batch: Batch) -> BatchRefused | None:
        """Write the batch atomically; None when written, else why nothing was."""
    def record_failure(self, result: Result) -> bool:
        """A result REJETE (technical failure) and its counters (traites, rejetes), atomically;
        False if that bilan already has a result or the import is over."""


class BilanRepository(Protocol):
    def get(self, key: BilanKey) -> StoredBilan | None: ...
    def get_many(self, keys: Iterable[BilanKey]) -> dict[BilanKey, StoredBilan]: ...
    def of_eleve(self, uai: str, id_be: str, cle: str | None = None) -> list[StoredBilan]: ...
    def of_division(self, uai: str, division: str, cle: str | None = None) -> list[StoredBilan]: ...
    def save(self, write: BilanWrite) -> StoredBilan:
        """Store one bilan if its version is still `expected_version`; Conflict otherwise."""


class SchoolRepository(Protocol):
    def get(self, uai: str) -> School | None: ...
    def all(self) -> list[School]: ...
    def switch_referentiel(self, uai: str, *, nom: str | None, millesime: str, cle: str, sha256: str,
                           charge_le: str, resume: dict, expected_sha256: str | None) -> None:
        """Point the school at a new référentiel version if its current one is still
        `expected_sha256` (None: the school must not exist yet); Conflict otherwise. The import
        lease is kept."""
    def acquire_lease(self, uai: str, import_id: str, now: int, lease_seconds: int) -> None:
        """The school's import lease for `import_id` (free, already its own, or expired); SchoolBusy."""
    def release_lease(self, uai: str, import_id: str) -> None: ...


class BlobStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str | None = None) -> None: ...
    def get(self, key: str) -> bytes:
        """NotFound if there is no such object."""
    def size(self, key: str) -> int: ...
    def exists(self, key: str) -> bool: ...
    def presigned_post(self, key: str, max_bytes: int, expires: int, content_type: str) -> dict: ...


class Queues(Protocol):
    def url(self, queue: str) -> str: ...
    def send(self, queue: str, body: str) -> None: ...
    def send_all(self, queue: str, bodies: list[str]) -> None:
        """Every body sent (SendMessageBatch by 10, within SQS's batch size), failed entries retried."""
    def delay(self, queue: str, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again in `seconds`."""


@dataclass
class Repositories:
    """One set of storage adapters (the runtime's)."""
    imports: ImportRepository
    results: ResultRepository
    bilans: BilanRepository
    schools: SchoolRepository
    blobs: BlobStore


def update_bilan(bilans: BilanRepository, key: BilanKey, change: Callable[[BilanState], BilanState],
                 attempts: int = 5) -> StoredBilan:
    """Read a bilan, apply the pure `change(state) -> state`, write it back only if nobody wrote it
    in between (its version); on a conflict, read again and re-apply. LookupError: no such bilan."""
    from chalicelib.adapters.retry import backoff
    for attempt in range(attempts):
        current = bilans.get(key)
        if current is None:
            raise LookupError(key)
        new = change(current.state)
        if new == current.state:
            return current
        try:
            return bilans.save(BilanWrite(key, new, current.version))
        except Conflict:
            backoff(attempt)
    raise Conflict(f"modifications concurrentes répétées sur le bilan {key}")
