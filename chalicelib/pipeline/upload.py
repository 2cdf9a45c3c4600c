"""Stage 1, upload: an import is created for the caller's school and its file goes straight from the
browser to S3 by a presigned POST (bounded: exact key, size range, content type, ≤ 15 min). S3's
notification then starts the split stage."""
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
    form = rt.repos.blobs.presigned_post(key, settings.max_file_bytes, expires, CONTENT_TYPE)
    expire = datetime.fromtimestamp(now.timestamp() + expires, timezone.utc)
    return {"import_id": import_id, "statut": ImportStatut.EN_ATTENTE_FICHIER, "upload": form,
            "expire_a": expire.isoformat(timespec="seconds")}
