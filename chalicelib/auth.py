"""Identity and authorization. Every route goes through `identify` then `authorize`.

Locally (and until Cognito is provisioned) the identity comes from a development token:
base64url(JSON {uai, role, sub, exp}) "." base64url(HMAC-SHA256) signed with the stage secret."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

ROLES = ("CE", "DELEGUE_CE", "PP", "CPE", "ENSEIGNANT")
# Who may do what (LSU: the import is the chef d'établissement's, or a delegate's).
POLICY = {
    "import:create": {"CE", "DELEGUE_CE"},
    "import:read": {"CE", "DELEGUE_CE"},
    "referentiel:write": {"CE", "DELEGUE_CE"},
    "division:mode": {"CE"},
    # Which part each role may enter is LSU's rule, checked in merge.may_edit.
    "bilan:read": set(ROLES),
    "bilan:edit": set(ROLES),
    "bilan:lock": {"CE", "DELEGUE_CE", "PP"},
    "bilan:unlock": {"CE"},
    "referentiel:read": {"CE", "DELEGUE_CE", "PP", "CPE"},
}


class AuthError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Identity:
    uai: str
    role: str
    sub: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: str, uai: str, role: str, sub: str = "dev", ttl_seconds: int = 12 * 3600,
                now: float | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"rôle inconnu : {role} (attendu : {', '.join(ROLES)})")
    payload = {"uai": uai, "role": role, "sub": sub, "exp": int((now or time.time()) + ttl_seconds)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}"


def verify_token(secret: str, token: str, now: float | None = None) -> Identity:
    try:
        body, sig = token.split(".")
        expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(sig, expected):
            raise AuthError("AUTH_REQUIRED")
        payload = json.loads(_unb64(body))
        if payload["exp"] < (now or time.time()) or payload["role"] not in ROLES:
            raise AuthError("AUTH_REQUIRED")
        return Identity(uai=str(payload["uai"]), role=payload["role"], sub=str(payload.get("sub", "")))
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthError("AUTH_REQUIRED") from exc


def identify(headers: dict, secret: str) -> Identity:
    """The caller's identity from the `Authorization: Bearer …` header."""
    value = (headers or {}).get("authorization") or (headers or {}).get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("AUTH_REQUIRED")
    return verify_token(secret, token.strip())


def authorize(identity: Identity, action: str) -> None:
    if identity.role not in POLICY.get(action, set()):
        raise AuthError("FORBIDDEN")
