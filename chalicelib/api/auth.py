"""Identity and authorization. Every route goes through `identify` then `authorize`.

On AWS, API Gateway's Cognito authorizer (infra/) checks the user's ID token and hands its claims
to the function in the request context: the identity comes from them (`identity_from_claims`).
On the local stage, the identity comes from a development token:
base64url(JSON {uai, role, sub, exp}) "." base64url(HMAC-SHA256) signed with the stage secret.
Any other stage accepts no development token."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Mapping


from chalicelib.domain.vocabulary import Role

ROLES = tuple(Role)
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


# Cognito claims (infra/lsu_infra/stack.py): groups named after ROLES, the school and, for a
# teacher, the STS identifier as custom attributes.
UAI_CLAIM = "custom:uai"
ID_STS_CLAIM = "custom:id_sts"
GROUPS_CLAIM = "cognito:groups"
_UAI = re.compile(r"[0-9A-Za-z]{8}")
# Roles whose visibility depends on the STS identifier (their divisions, their services).
_TEACHING_ROLES = {"PP", "ENSEIGNANT"}


def _groups(value) -> list[str]:
    """`cognito:groups` as API Gateway passes it: a list, or a string — "CE,PP" (REST API),
    "[CE PP]" (HTTP API) — every claim being a string in a REST API's request context."""
    if isinstance(value, (list, tuple)):
        items = value
    elif isinstance(value, str):
        items = re.split(r"[\s,\[\]]+", value)
    else:
        return []
    return [str(g) for g in items if g]


def identity_from_claims(claims: Mapping) -> Identity:
    """The identity the Cognito authorizer vouches for. A user in several role groups acts with
    the first of ROLES (Cognito's group precedence is the same order)."""
    if not isinstance(claims, Mapping):
        raise AuthError("AUTH_REQUIRED")
    groups = set(_groups(claims.get(GROUPS_CLAIM)))
    role = next((r for r in ROLES if r in groups), None)
    uai = claims.get(UAI_CLAIM)
    if role is None or not isinstance(uai, str) or not _UAI.fullmatch(uai):
        raise AuthError("AUTH_REQUIRED")
    id_sts = claims.get(ID_STS_CLAIM)
    id_sts = id_sts.strip() if isinstance(id_sts, str) else ""
    if role in _TEACHING_ROLES and not id_sts:
        raise AuthError("AUTH_REQUIRED")         # their classes are found by their STS identifier
    sub = id_sts or claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AuthError("AUTH_REQUIRED")
    return Identity(uai=uai, role=role, sub=sub)


def cognito_claims(context: Mapping | None) -> Mapping | None:
    """The authorizer's claims in a request context (`requestContext.authorizer.claims`)."""
    authorizer = (context or {}).get("authorizer") if isinstance(context, Mapping) else None
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    return claims if claims else None


def identify(headers: dict, secret: str, context: Mapping | None = None, *, dev_tokens: bool = True) -> Identity:
    """The caller's identity: from the Cognito claims API Gateway put in the request context,
    else (only where `dev_tokens`, the local stage) from the `Authorization: Bearer …` header."""
    claims = cognito_claims(context)
    if claims is not None:
        return identity_from_claims(claims)
    if not dev_tokens:
        raise AuthError("AUTH_REQUIRED")
    value = (headers or {}).get("authorization") or (headers or {}).get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("AUTH_REQUIRED")
    return verify_token(secret, token.strip())


def identify_request(request, settings) -> Identity:
    """`identify` for a Chalice request under the stage's settings: development tokens on the
    local stage only, Cognito claims everywhere."""
    return identify(getattr(request, "headers", None) or {}, settings.token_secret,
                    getattr(request, "context", None), dev_tokens=settings.stage == "local")


def authorize(identity: Identity, action: str) -> None:
    if identity.role not in POLICY.get(action, set()):
        raise AuthError("FORBIDDEN")
