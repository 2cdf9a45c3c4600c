"""DynamoDB through pynamodb. Models are built at run time from the settings (table names,
endpoint), so nothing is read from the environment at import time; adapters receive them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, NumberAttribute, TTLAttribute,
                                 UnicodeAttribute, VersionAttribute)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from chalicelib.config import Settings
from chalicelib.domain.merge import BilanState

# Import statuses (contract of the synthèse).
EN_ATTENTE_FICHIER = "EN_ATTENTE_FICHIER"
EN_COURS = "EN_COURS"
TERMINE = "TERMINE"
FICHIER_REJETE = "FICHIER_REJETE"

# Per-import counters, advanced atomically by the workers (nouveaux = bilans new to LSU).
# How long a bilan's result of an import is kept (the school year and the next one's start).
RESULTATS_RETENTION = timedelta(days=400)
COUNTERS = ("traites", "nouveaux", "mis_a_jour", "inchanges", "rejetes", "avertissements")


@dataclass(frozen=True)
class Models:
    Import: type[Model]
    Resultat: type[Model]
    Bilan: type[Model]
    Etablissement: type[Model]
    connection: Connection

    def all(self) -> tuple[type[Model], ...]:
        return (self.Import, self.Resultat, self.Bilan, self.Etablissement)


def _meta(settings: Settings, table: str) -> type:
    return type("Meta", (), {"table_name": table, "region": settings.region,
                             "host": settings.endpoint_url, "max_retry_attempts": 5})


def make_models(settings: Settings) -> Models:
    class Import(Model):
        """One import: a file of one school (UAI), its status, counters and file errors."""
        Meta = _meta(settings, settings.imports_table)
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
        referentiel_cle = UnicodeAttribute(null=True)   # the référentiel version the bilans are checked against
        traites = NumberAttribute(default=0)
        nouveaux = NumberAttribute(default=0)
        mis_a_jour = NumberAttribute(default=0)
        inchanges = NumberAttribute(default=0)
        rejetes = NumberAttribute(default=0)
        avertissements = NumberAttribute(default=0)
        rapport_demande_le = NumberAttribute(null=True)
        synthese_cle = UnicodeAttribute(null=True)
        termine_le = UnicodeAttribute(null=True)

    class Resultat(Model):
        """The outcome of one bilan of one import; its existence is the idempotency key."""
        Meta = _meta(settings, settings.resultats_table)
        import_key = UnicodeAttribute(hash_key=True)      # <uai>#<import_id>
        bilan_id = UnicodeAttribute(range_key=True)       # <id_be>#<cle du bilan>
        type = UnicodeAttribute()
        statut = UnicodeAttribute()
        eleve = JSONAttribute()
        periode = JSONAttribute(null=True)
        cycle = NumberAttribute(null=True)
        ligne = NumberAttribute(null=True)
        messages = JSONAttribute(default=list)
        # Results outlive the school year (the synthèse itself is kept in S3); DynamoDB's TTL
        # removes them after RESULTATS_RETENTION (infra/: TTL on this attribute).
        expire_le = TTLAttribute(null=True)

    class ParDivision(GlobalSecondaryIndex):
        """Bilans of a division (recherche de bilans, PDF of a division)."""
        class Meta:
            index_name = "par-division"
            projection = AllProjection()
        division_key = UnicodeAttribute(hash_key=True)   # <uai>#<division>
        cle = UnicodeAttribute(range_key=True)

    class Bilan(Model):
        """A bilan as LSU keeps it: UAI × élève × période (or cycle × millésime)."""
        Meta = _meta(settings, settings.bilans_table)
        par_division = ParDivision()
        division_key = UnicodeAttribute(null=True)
        eleve_key = UnicodeAttribute(hash_key=True)       # <uai>#<id_be>
        cle = UnicodeAttribute(range_key=True)            # P#millesime#nb#indice | C#cycle#millesime
        type = UnicodeAttribute()
        division = UnicodeAttribute(null=True)
        contenu = JSONAttribute(null=True)              # the imported bilan
        empreinte = UnicodeAttribute(null=True)
        import_id = UnicodeAttribute(null=True)
        importe_le = UnicodeAttribute(null=True)
        mode = UnicodeAttribute(null=True)              # EDITEUR | SCONET_NOTES at the last import
        saisies = JSONAttribute(default=dict)           # parts entered in LSU, with who and when
        verrouille = BooleanAttribute(default=False)
        verrouille_par = UnicodeAttribute(null=True)
        version = VersionAttribute()

    class Etablissement(Model):
        """The school and where its référentiel (SIECLE/STS picture) is kept."""
        Meta = _meta(settings, settings.etablissements_table)
        uai = UnicodeAttribute(hash_key=True)
        nom = UnicodeAttribute(null=True)
        millesime = UnicodeAttribute(null=True)
        referentiel_cle = UnicodeAttribute()
        referentiel_sha256 = UnicodeAttribute()
        charge_le = UnicodeAttribute()
        resume = JSONAttribute(default=dict)
        # One import writes the school's bilans at a time (a lease): two imports of the same
        # division end in the state of one of their serial orders.
        import_en_cours = UnicodeAttribute(null=True)
        import_verrou_le = NumberAttribute(null=True)

    connection = Connection(region=settings.region, host=settings.endpoint_url, max_retry_attempts=5)
    return Models(Import, Resultat, Bilan, Etablissement, connection)


def current_school(models: Models, uai: str):
    """The school's record (current référentiel version, import lease), or None."""
    try:
        return models.Etablissement.get(uai, consistent_read=True)
    except models.Etablissement.DoesNotExist:
        return None


def create_tables(models: Models) -> None:
    """On-demand tables; idempotent (the local stack and tests call it)."""
    for m in models.all():
        if not m.exists():
            m.create_table(billing_mode="PAY_PER_REQUEST", wait=True)


def import_key(uai: str, import_id: str) -> str:
    return f"{uai}#{import_id}"


def eleve_key(uai: str, id_be: str) -> str:
    return f"{uai}#{id_be}"


def division_key(uai: str, division: str | None) -> str | None:
    return f"{uai}#{division}" if division else None


def bilan_state(row) -> BilanState | None:
    """The pure state of a stored bilan (None: LSU has no such bilan)."""
    if row is None:
        return None
    return BilanState(importe=row.contenu, empreinte=row.empreinte, import_id=row.import_id,
                      importe_le=row.importe_le, mode=row.mode, saisies=row.saisies or {},
                      verrouille=bool(row.verrouille), verrouille_par=row.verrouille_par)


def bilan_row(models: Models, key: tuple[str, str], state: BilanState, current=None):
    """The row that stores `state`, conditioned on the version of `current` (if any)."""
    imp = state.importe or {}
    division = (imp.get("eleve") or {}).get("division")
    row = models.Bilan(key[0], key[1], type=imp.get("type") or (current.type if current else "periodique"),
                       division=division, division_key=division_key(key[0].split("#", 1)[0], division),
                       contenu=state.importe,
                       empreinte=state.empreinte, import_id=state.import_id, importe_le=state.importe_le,
                       mode=state.mode, saisies=state.saisies, verrouille=state.verrouille,
                       verrouille_par=state.verrouille_par)
    if current is not None:
        row.version = current.version
    return row


def update_bilan(models: Models, key: tuple[str, str], change, attempts: int = 5):
    """Read a bilan, apply the pure `change(state) -> state`, write it back only if nobody wrote
    it in between (version attribute); on a conflict, read again and re-apply."""
    from pynamodb.exceptions import PutError
    for _ in range(attempts):
        try:
            current = models.Bilan.get(*key, consistent_read=True)
        except models.Bilan.DoesNotExist:
            raise LookupError(key) from None
        new = change(bilan_state(current))
        if new == bilan_state(current):
            return current
        row = bilan_row(models, key, new, current)
        try:
            row.save()
            return row
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise RuntimeError(f"modifications concurrentes répétées sur le bilan {key}")


SCHOOL_LEASE_SECONDS = 30 * 60


class SchoolBusy(Exception):
    """Another import of the school is being written: this one waits its turn."""


def acquire_school(models: Models, uai: str, import_id: str, now: int) -> None:
    E = models.Etablissement
    condition = (E.import_en_cours.does_not_exist() | (E.import_en_cours == import_id)
                 | (E.import_verrou_le < now - SCHOOL_LEASE_SECONDS))
    try:
        E(uai).update(actions=[E.import_en_cours.set(import_id), E.import_verrou_le.set(now)],
                      condition=E.uai.exists() & condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise SchoolBusy(uai) from exc
        raise


def release_school(models: Models, uai: str, import_id: str) -> None:
    E = models.Etablissement
    try:
        E(uai).update(actions=[E.import_en_cours.remove(), E.import_verrou_le.remove()],
                      condition=E.import_en_cours == import_id)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
