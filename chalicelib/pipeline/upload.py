"""Stage 1, upload: an import is created for the caller's school and its file goes straight from the
browser to S3 by a presigned POST (bounded: exact key, at most the declared size, content type,
≤ 15 min). S3's notification then starts the split stage."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from chalicelib.adapters.ports import ImportRecord
from chalicelib.config import UPLOAD_PREFIX
from chalicelib.domain.vocabulary import ImportStatut

CONTENT_TYPE = "application/xml"


def new_import_id(uai: str, now: datetime | None = None) -> str:
    """`<UAI>-<UTC time>-<random>`: sortable by time within a school, and it says whose it is."""
    now = now or datetime.now(timezone.utc)
    return f"{uai}-{now:%Y%m%dT%H%M%S}Z-{secrets.token_hex(4)}"


def upload_key(uai: str, import_id: str) -> str:
    return f"{UPLOAD_PREFIX}{uai}/{import_id}.xml"


def upload_max_bytes(taille: int, max_file_bytes: int) -> int:
    """The upper bound of the form's content-length-range: the declared size, bounded by the
    maximum (and at least 1 byte: S3 refuses an empty file anyway)."""
    return max(1, min(taille, max_file_bytes))


def start_upload(rt, uai: str, nom: str, taille: int, pre_controle: bool, par: str) -> dict:
    """The import, waiting for its file, and the form that uploads it."""
    settings = rt.settings
    now = datetime.now(timezone.utc)
    import_id = new_import_id(uai, now)
    key = upload_key(uai, import_id)
    rt.repos.imports.create(ImportRecord(uai=uai, import_id=import_id, statut=ImportStatut.EN_ATTENTE_FICHIER,
                                         pre_controle=pre_controle, nom_fichier=nom, taille_declaree=taille, cle_s3=key,
                                         cree_le=now.isoformat(timespec="seconds"), cree_par=par))
    expires = min(settings.upload_expiry_seconds, 900)
    # S3 refuses a file larger than the one declared (EntityTooLarge), never more than the maximum.
    form = rt.repos.blobs.presigned_post(key, upload_max_bytes(taille, settings.max_file_bytes), expires, CONTENT_TYPE)
    expire = datetime.fromtimestamp(now.timestamp() + expires, timezone.utc)
    return {"import_id": import_id, "statut": ImportStatut.EN_ATTENTE_FICHIER, "upload": form,
            "expire_a": expire.isoformat(timespec="seconds")}
