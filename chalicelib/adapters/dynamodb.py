"""The repositories on DynamoDB, through pynamodb.

The models are declared once, at module level, with the default table names; `bind_models(settings)`
derives the stage's classes (table names, region, endpoint) at run time, so nothing is read from the
environment at import time and several stacks can live in one process (the fault tests do).

Every conditional write goes through `conditional()`; the group commit's cancellation reasons are
read by `_refusal()`. Nothing else here catches a DynamoDB error."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Iterable, Iterator

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, NumberAttribute, TTLAttribute,
                                 UnicodeAttribute, VersionAttribute)
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.ports import (Batch, BatchRefused, BilanKey, BilanWrite, Conflict, ImportRecord, Result,
                                       School, SchoolBusy, StoredBilan, division_key, eleve_key, import_key)
from chalicelib.config import DEFAULT_NAMES, Settings
from chalicelib.domain.merge import BilanState
from chalicelib.domain.vocabulary import ImportStatut

# How long a bilan's result of an import is kept (the school year and the next one's start).
RESULTATS_RETENTION = timedelta(days=400)
_CONDITION_FAILED = "ConditionalCheckFailedException"


class Actifs(GlobalSecondaryIndex):
    """The imports not over yet, every school's (the watchdog's round): sparse — `actif` is the
    statut while EN_ATTENTE_FICHIER or EN_COURS and is removed when the import ends. Keys only, so
    the counters' updates never write to it."""
    class Meta:
        index_name = "actifs"
        projection = KeysOnlyProjection()
    actif = UnicodeAttribute(hash_key=True)
    cree_le = UnicodeAttribute(range_key=True)


class ImportItem(Model):
    """One import: a file of one school (UAI), its status, counters and file errors."""
    class Meta:
        table_name = DEFAULT_NAMES["LSU_IMPORTS_TABLE"]
    actifs = Actifs()
    actif = UnicodeAttribute(null=True)
    uai = UnicodeAttribute(hash_key=True)
    import_id = UnicodeAttribute(range_key=True)
    statut = UnicodeAttribute()
    pre_controle = BooleanAttribute(default=False)
    nom_fichier = UnicodeAttribute()
    taille_declaree = NumberAttribute()
    cle_s3 = UnicodeAttribute()
    cree_le = UnicodeAttribute()
    cree_par = UnicodeAttribute(null=True)
    taille = NumberAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    entete = JSONAttribute(null=True)
    erreurs_fichier = JSONAttribute(null=True)
    total = NumberAttribute(null=True)
    referentiel_cle = UnicodeAttribute(null=True)
    traites = NumberAttribute(default=0)
    nouveaux = NumberAttribute(default=0)
    mis_a_jour = NumberAttribute(default=0)
    inchanges = NumberAttribute(default=0)
    rejetes = NumberAttribute(default=0)
    avertissements = NumberAttribute(default=0)
    rapport_demande_le = NumberAttribute(null=True)
    synthese_cle = UnicodeAttribute(null=True)
    termine_le = UnicodeAttribute(null=True)
    progres_le = NumberAttribute(null=True)
    surveillance = JSONAttribute(null=True)


class ResultatItem(Model):
    """The outcome of one bilan of one import; its existence is the idempotency key."""
    class Meta:
        table_name = DEFAULT_NAMES["LSU_RESULTATS_TABLE"]
    import_key = UnicodeAttribute(hash_key=True)      # <uai>#<import_id>
    bilan_id = UnicodeAttribute(range_key=True)       # <id_be>#<cle du bilan>
    type = UnicodeAttribute()
    statut = UnicodeAttribute()
    eleve = JSONAttribute()
    periode = JSONAttribute(null=True)
    cycle = NumberAttribute(null=True)
    ligne = NumberAttribute(null=True)
    messages = JSONAttribute(default=list)
    systeme_evaluation = UnicodeAttribute(null=True)
    a_completer = JSONAttribute(null=True)
    # Results outlive the school year (the synthèse itself is kept in S3); DynamoDB's TTL removes
    # them after RESULTATS_RETENTION (infra/: TTL on this attribute).
    expire_le = TTLAttribute(null=True)


class ParDivision(GlobalSecondaryIndex):
    """Bilans of a division (recherche de bilans, PDF of a division)."""
    class Meta:
        index_name = "par-division"
        projection = AllProjection()
    division_key = UnicodeAttribute(hash_key=True)   # <uai>#<division>
    cle = UnicodeAttribute(range_key=True)


class BilanItem(Model):
    """A bilan as LSU keeps it: UAI × élève × période (or cycle × millésime)."""
    class Meta:
        table_name = DEFAULT_NAMES["LSU_BILANS_TABLE"]
    par_division = ParDivision()
    division_key = UnicodeAttribute(null=True)
    eleve_key = UnicodeAttribute(hash_key=True)       # <uai>#<id_be>
    cle = UnicodeAttribute(range_key=True)            # P#millesime#nb#indice | C#cycle#millesime
    type = UnicodeAttribute()
    division = UnicodeAttribute(null=True)
    contenu = JSONAttribute(null=True)                # the imported bilan
    empreinte = UnicodeAttribute(null=True)
    import_id = UnicodeAttribute(null=True)
    importe_le = UnicodeAttribute(null=True)
    mode = UnicodeAttribute(null=True)                # EDITEUR | SCONET_NOTES at the last import
    saisies = JSONAttribute(default=dict)             # parts entered in LSU, with who and when
    verrouille = BooleanAttribute(default=False)
    verrouille_par = UnicodeAttribute(null=True)
    version = VersionAttribute()


class EtablissementItem(Model):
    """The school and where its référentiel (SIECLE/STS picture) is kept."""
    class Meta:
        table_name = DEFAULT_NAMES["LSU_ETABLISSEMENTS_TABLE"]
    uai = UnicodeAttribute(hash_key=True)
    nom = UnicodeAttribute(null=True)
    millesime = UnicodeAttribute(null=True)
    referentiel_cle = UnicodeAttribute()
    referentiel_sha256 = UnicodeAttribute()
    charge_le = UnicodeAttribute()
    resume = JSONAttribute(default=dict)
    # One import writes the school's bilans at a time (a lease): two imports of the same division
    # end in the state of one of their serial orders.
    import_en_cours = UnicodeAttribute(null=True)
    import_verrou_le = NumberAttribute(null=True)


@dataclass(frozen=True)
class Models:
    """The models bound to one stage's tables."""
    Import: type[ImportItem]
    Resultat: type[ResultatItem]
    Bilan: type[BilanItem]
    Etablissement: type[EtablissementItem]
    connection: Connection

    def all(self) -> tuple[type[Model], ...]:
        return (self.Import, self.Resultat, self.Bilan, self.Etablissement)


def _bind(model: type[Model], settings: Settings, table: str) -> type[Model]:
    meta = type("Meta", (), {"table_name": table, "region": settings.region,
                             "host": settings.endpoint_for("dynamodb"), "max_retry_attempts": 5})
    return type(model.__name__, (model,), {"Meta": meta, "__module__": __name__})


def bind_models(settings: Settings) -> Models:
    return Models(_bind(ImportItem, settings, settings.imports_table),
                  _bind(ResultatItem, settings, settings.resultats_table),
                  _bind(BilanItem, settings, settings.bilans_table),
                  _bind(EtablissementItem, settings, settings.etablissements_table),
                  Connection(region=settings.region, host=settings.endpoint_for("dynamodb"), max_retry_attempts=5))


def create_tables(models: Models) -> None:
    """On-demand tables; idempotent (the local stack and tests call it)."""
    for m in models.all():
        if not m.exists():
            m.create_table(billing_mode="PAY_PER_REQUEST", wait=True)


@contextlib.contextmanager
def conditional(refusal: type[Exception] = Conflict, *args) -> Iterator[None]:
    """The one place a lost DynamoDB condition is recognised: it becomes `refusal(*args)`; any other
    error passes through."""
    try:
        yield
    except (PutError, UpdateError, DeleteError) as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            raise refusal(*args) from exc
        raise


def _won(write) -> bool:
    """True if the conditional `write()` was made, False if its condition did not hold."""
    try:
        with conditional():
            write()
    except Conflict:
        return False
    return True


# --- records ↔ items ---------------------------------------------------------------------------

_IMPORT_FIELDS = [f.name for f in fields(ImportRecord)]
_SCHOOL_FIELDS = [f.name for f in fields(School)]


def _import_record(item: ImportItem) -> ImportRecord:
    values = {name: getattr(item, name) for name in _IMPORT_FIELDS}
    for name in ("taille_declaree", "taille", "total", "traites", "nouveaux", "mis_a_jour", "inchanges",
                 "rejetes", "avertissements", "rapport_demande_le", "progres_le"):
        if values[name] is not None:
            values[name] = int(values[name])
    values["pre_controle"] = bool(values["pre_controle"])
    return ImportRecord(**values)


def _school(item: EtablissementItem) -> School:
    school = School(**{name: getattr(item, name) for name in _SCHOOL_FIELDS})
    if school.import_verrou_le is not None:
        school.import_verrou_le = int(school.import_verrou_le)
    school.resume = school.resume or {}
    return school


def bilan_state(item: BilanItem) -> BilanState:
    """The pure state of a stored bilan."""
    return BilanState(importe=item.contenu, empreinte=item.empreinte, import_id=item.import_id,
                      importe_le=item.importe_le, mode=item.mode, saisies=item.saisies or {},
                      verrouille=bool(item.verrouille), verrouille_par=item.verrouille_par)


def _stored(item: BilanItem) -> StoredBilan:
    return StoredBilan((item.eleve_key, item.cle), bilan_state(item), int(item.version or 0), item.type,
                       item.division)


def bilan_item(models: Models, write: BilanWrite) -> BilanItem:
    """The item that stores `write.state`; its version attribute conditions the save on the
    version read (none: the bilan must not exist)."""
    key, state = write.key, write.state
    imp = state.importe or {}
    division = (imp.get("eleve") or {}).get("division")
    item = models.Bilan(key[0], key[1], type=imp.get("type") or "periodique", division=division,
                        division_key=division_key(key[0].split("#", 1)[0], division), contenu=state.importe,
                        empreinte=state.empreinte, import_id=state.import_id, importe_le=state.importe_le,
                        mode=state.mode, saisies=state.saisies, verrouille=state.verrouille,
                        verrouille_par=state.verrouille_par)
    if write.expected_version is not None:
        item.version = write.expected_version
    return item


def result_item(models: Models, result: Result) -> ResultatItem:
    return models.Resultat(import_key(result.uai, result.import_id), result.bilan_id, type=result.type,
                           statut=result.statut, eleve=result.eleve, periode=result.periode, cycle=result.cycle,
                           ligne=result.ligne, messages=result.messages, systeme_evaluation=result.systeme_evaluation,
                           a_completer=result.a_completer or None, expire_le=RESULTATS_RETENTION)


# --- repositories ---------------------------------------------------------------------------------

class DynamoImports:
    def __init__(self, models: Models):
        self.models = models

    def create(self, record: ImportRecord) -> None:
        values = {k: v for k, v in vars(record).items() if v is not None}
        item = self.models.Import(**{**values, "progres_le": int(time.time()), "actif": record.statut})
        with conditional():
            item.save(condition=self.models.Import.import_id.does_not_exist())

    def get(self, uai: str, import_id: str) -> ImportRecord | None:
        try:
            return _import_record(self.models.Import.get(uai, import_id, consistent_read=True))
        except self.models.Import.DoesNotExist:
            return None

    def recent(self, uai: str, limit: int = 50) -> list[ImportRecord]:
        return [_import_record(i) for i in self.models.Import.query(uai, scan_index_forward=False, limit=limit)]

    def _waiting(self, record: ImportRecord, actions: list) -> bool:
        I = self.models.Import
        return _won(lambda: I(record.uai, record.import_id).update(
            actions=actions, condition=I.statut == ImportStatut.EN_ATTENTE_FICHIER))

    def start(self, record: ImportRecord, *, total: int, entete: dict, taille: int, sha256: str,
              referentiel_cle: str) -> bool:
        I = self.models.Import
        return self._waiting(record, [I.statut.set(ImportStatut.EN_COURS), I.actif.set(ImportStatut.EN_COURS),
                                      I.total.set(total), I.entete.set(entete), I.taille.set(taille),
                                      I.sha256.set(sha256), I.referentiel_cle.set(referentiel_cle),
                                      I.progres_le.set(int(time.time()))])

    def reject(self, record: ImportRecord, *, erreurs: list, entete: dict, taille: int, sha256: str | None) -> bool:
        I = self.models.Import
        return self._waiting(record, [I.statut.set(ImportStatut.FICHIER_REJETE), I.actif.remove(),
                                      I.erreurs_fichier.set(erreurs),
                                      I.entete.set(entete), I.taille.set(taille), I.total.set(0)]
                             + ([I.sha256.set(sha256)] if sha256 else []))

    def claim_report(self, uai: str, import_id: str, now: int, stale_before: int) -> ImportRecord | None:
        I = self.models.Import
        item = I(uai, import_id)
        condition = ((I.statut == ImportStatut.EN_COURS) & (I.traites == I.total)
                     & (I.rapport_demande_le.does_not_exist() | (I.rapport_demande_le < stale_before)))
        if not _won(lambda: item.update(actions=[I.rapport_demande_le.set(now)], condition=condition)):
            return None
        return _import_record(item)

    def clear_report_claim(self, uai: str, import_id: str) -> None:
        I = self.models.Import
        I(uai, import_id).update(actions=[I.rapport_demande_le.remove()])

    def finish(self, uai: str, import_id: str, *, synthese_cle: str, termine_le: str) -> bool:
        I = self.models.Import
        return _won(lambda: I(uai, import_id).update(
            actions=[I.statut.set(ImportStatut.TERMINE), I.actif.remove(), I.synthese_cle.set(synthese_cle),
                     I.termine_le.set(termine_le)],
            condition=I.statut == ImportStatut.EN_COURS))

    def active(self, statut: str) -> list[ImportRecord]:
        found = (self.get(k.uai, k.import_id) for k in self.models.Import.actifs.query(statut))
        return [r for r in found if r is not None and r.statut == statut]

    def expire(self, uai: str, import_id: str, *, erreurs: list, termine_le: str) -> bool:
        I = self.models.Import
        return _won(lambda: I(uai, import_id).update(
            actions=[I.statut.set(ImportStatut.EXPIRE), I.actif.remove(), I.erreurs_fichier.set(erreurs),
                     I.total.set(0), I.termine_le.set(termine_le)],
            condition=I.statut == ImportStatut.EN_ATTENTE_FICHIER))

    def interrupt(self, uai: str, import_id: str, *, surveillance: dict) -> bool:
        I = self.models.Import
        return _won(lambda: I(uai, import_id).update(actions=[I.surveillance.set(surveillance)],
                                                     condition=I.statut == ImportStatut.EN_COURS))


class DynamoResults:
    def __init__(self, models: Models):
        self.models = models

    def of_import(self, uai: str, import_id: str) -> list[Result]:
        return [Result(uai, import_id, r.bilan_id, r.type, r.statut, r.eleve, r.periode,
                       None if r.cycle is None else int(r.cycle), None if r.ligne is None else int(r.ligne),
                       r.messages or [], r.systeme_evaluation, r.a_completer)
                for r in self.models.Resultat.query(import_key(uai, import_id), consistent_read=True)]

    def commit(self, batch: Batch) -> BatchRefused | None:
        """One TransactWriteItems: each bilan (version condition), each result (must not exist),
        then the import's counters (EN_COURS). DynamoDB refuses two operations on one item, so a
        batch holds each bilan once (the caller's job)."""
        m = self.models
        ops: list[tuple[str, object]] = []
        try:
            with TransactWrite(connection=m.connection) as tw:
                for write in batch.bilans:
                    tw.save(bilan_item(m, write))
                    ops.append(("bilan", write.key))
                for result in batch.results:
                    tw.save(result_item(m, result), condition=m.Resultat.bilan_id.does_not_exist())
                    ops.append(("resultat", result.bilan_id))
                tw.update(m.Import(batch.uai, batch.import_id),
                          actions=[getattr(m.Import, k).add(v) for k, v in batch.counters.items() if v]
                          + [m.Import.progres_le.set(int(time.time()))],
                          condition=m.Import.statut == ImportStatut.EN_COURS)
        except TransactWriteError as exc:
            refused = _refusal(exc, ops)
            if refused is None:
                raise
            return refused
        return None

    def record_failure(self, result: Result) -> bool:
        m = self.models
        try:
            with TransactWrite(connection=m.connection) as tw:
                tw.save(result_item(m, result), condition=m.Resultat.bilan_id.does_not_exist())
                tw.update(m.Import(result.uai, result.import_id), actions=[m.Import.traites.add(1), m.Import.rejetes.add(1),
                                   m.Import.progres_le.set(int(time.time()))],
                          condition=m.Import.statut == ImportStatut.EN_COURS)
        except TransactWriteError as exc:
            refused = _refusal(exc, [("resultat", result.bilan_id)])
            if refused is None or not (refused.done or refused.import_closed):
                raise
            return False                     # already recorded, or the import is over
        return True


_RETRYABLE = {"ConditionalCheckFailed", "TransactionConflict"}


def _refusal(exc: TransactWriteError, ops: list[tuple[str, object]]) -> BatchRefused | None:
    """What the cancellation reasons of a group commit say (ops: what each item was, in order; the
    import's update last), or None if it was cancelled for another reason (an error to raise). A
    transaction that met another one on the same items (TransactionConflict) is refused with
    nothing done: it is tried again."""
    reasons = exc.cancellation_reasons or []
    if not reasons or any(r is not None and r.code not in _RETRYABLE for r in reasons):
        return None
    failed = [r is not None and r.code == "ConditionalCheckFailed" for r in reasons]
    refused = BatchRefused(import_closed=len(failed) > len(ops) and failed[len(ops)])
    for (what, key), lost in zip(ops, failed):
        if lost and what == "resultat":
            refused.done.add(key)
        elif lost:
            refused.stale.add(key)
    return refused


class DynamoBilans:
    def __init__(self, models: Models):
        self.models = models

    def get(self, key: BilanKey) -> StoredBilan | None:
        try:
            return _stored(self.models.Bilan.get(*key, consistent_read=True))
        except self.models.Bilan.DoesNotExist:
            return None

    def get_many(self, keys: Iterable[BilanKey]) -> dict[BilanKey, StoredBilan]:
        return {(b.eleve_key, b.cle): _stored(b) for b in self.models.Bilan.batch_get(list(keys), consistent_read=True)}

    def of_eleve(self, uai: str, id_be: str, cle: str | None = None) -> list[StoredBilan]:
        B = self.models.Bilan
        return [_stored(b) for b in B.query(eleve_key(uai, id_be), range_key_condition=(B.cle == cle) if cle else None,
                                            consistent_read=True)]

    def of_division(self, uai: str, division: str, cle: str | None = None) -> list[StoredBilan]:
        B = self.models.Bilan
        return [_stored(b) for b in B.par_division.query(division_key(uai, division),
                                                         range_key_condition=(B.cle == cle) if cle else None)]

    def save(self, write: BilanWrite) -> StoredBilan:
        item = bilan_item(self.models, write)
        with conditional():
            item.save()          # conditioned on the version attribute
        return _stored(item)


class DynamoSchools:
    def __init__(self, models: Models):
        self.models = models

    def get(self, uai: str) -> School | None:
        try:
            return _school(self.models.Etablissement.get(uai, consistent_read=True))
        except self.models.Etablissement.DoesNotExist:
            return None

    def all(self) -> list[School]:
        return [_school(e) for e in self.models.Etablissement.scan()]

    def switch_referentiel(self, uai: str, *, nom: str | None, millesime: str, cle: str, sha256: str,
                           charge_le: str, resume: dict, expected_sha256: str | None) -> None:
        E = self.models.Etablissement
        condition = E.uai.does_not_exist() if expected_sha256 is None else E.referentiel_sha256 == expected_sha256
        with conditional():
            # An update, not a whole-item save: the school's import lease stays.
            E(uai).update(actions=[E.nom.set(nom) if nom else E.nom.remove(), E.millesime.set(millesime),
                                   E.referentiel_cle.set(cle), E.referentiel_sha256.set(sha256),
                                   E.charge_le.set(charge_le), E.resume.set(resume)], condition=condition)

    def acquire_lease(self, uai: str, import_id: str, now: int, lease_seconds: int) -> None:
        E = self.models.Etablissement
        condition = (E.import_en_cours.does_not_exist() | (E.import_en_cours == import_id)
                     | (E.import_verrou_le < now - lease_seconds))
        with conditional(SchoolBusy, uai):
            E(uai).update(actions=[E.import_en_cours.set(import_id), E.import_verrou_le.set(now)],
                          condition=E.uai.exists() & condition)

    def release_lease(self, uai: str, import_id: str) -> None:
        E = self.models.Etablissement
        _won(lambda: E(uai).update(actions=[E.import_en_cours.remove(), E.import_verrou_le.remove()],
                                   condition=E.import_en_cours == import_id))
