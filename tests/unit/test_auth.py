"""Development tokens and the authorization policy (chalicelib/auth.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from chalicelib.auth import AuthError, Identity, authorize, identify, issue_token, verify_token

SECRET = "secret-de-test"
NOW = 1_764_320_000.0          # 2025-11-28
UAI = "0750001A"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(payload, secret: str = SECRET, raw: bytes | None = None) -> str:
    """A token correctly signed with `secret` whose body is anything we like."""
    body = b64(raw if raw is not None else json.dumps(payload).encode())
    sig = b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}"


def assert_auth_required(fn, *args, **kwargs):
    with pytest.raises(AuthError) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == "AUTH_REQUIRED"


# --- tokens --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["CE", "DELEGUE_CE", "PP", "CPE"])
def test_issue_verify_round_trip(role):
    token = issue_token(SECRET, UAI, role, sub="agent-42", now=NOW)
    assert verify_token(SECRET, token, now=NOW + 60) == Identity(uai=UAI, role=role, sub="agent-42")


def test_identify_with_bearer_header():
    token = issue_token(SECRET, UAI, "CE")
    for headers in ({"Authorization": f"Bearer {token}"}, {"authorization": f"bearer {token}"},
                    {"Authorization": f"Bearer   {token}  "}):
        assert identify(headers, SECRET) == Identity(uai=UAI, role="CE", sub="dev")


def test_issue_refuses_an_unknown_role():
    with pytest.raises(ValueError):
        issue_token(SECRET, UAI, "ADMIN")


def test_tampered_signature():
    token = issue_token(SECRET, UAI, "CE", now=NOW)
    body, sig = token.split(".")
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    assert_auth_required(verify_token, SECRET, f"{body}.{flipped}", now=NOW)
    assert_auth_required(verify_token, SECRET, f"{body}.", now=NOW)
    assert_auth_required(verify_token, SECRET, body, now=NOW)


def test_tampered_payload():
    token = issue_token(SECRET, UAI, "PP", now=NOW)
    body, sig = token.split(".")
    payload = json.loads(unb64(body))
    for change in ({"role": "CE"}, {"uai": "0930002X"}, {"exp": payload["exp"] + 3600}):
        forged_body = b64(json.dumps({**payload, **change}, separators=(",", ":")).encode())
        assert_auth_required(verify_token, SECRET, f"{forged_body}.{sig}", now=NOW)


def test_expired_token():
    token = issue_token(SECRET, UAI, "CE", ttl_seconds=60, now=NOW)
    assert verify_token(SECRET, token, now=NOW + 60).role == "CE"      # valid up to exp
    assert_auth_required(verify_token, SECRET, token, now=NOW + 61)
    old = issue_token(SECRET, UAI, "CE", ttl_seconds=60, now=NOW - 3600)
    assert_auth_required(identify, {"Authorization": f"Bearer {old}"}, SECRET)


def test_wrong_secret():
    token = issue_token("autre-secret", UAI, "CE", now=NOW)
    assert_auth_required(verify_token, SECRET, token, now=NOW)


def test_unknown_role_correctly_signed():
    token = forge({"uai": UAI, "role": "ADMIN", "sub": "x", "exp": int(NOW) + 60})
    assert_auth_required(verify_token, SECRET, token, now=NOW)


@pytest.mark.parametrize("token", [
    "", ".", "..", "abc", "a.b.c", "é.é", "Bearer", "null.null",
    forge(None, raw=b"not json"),
    forge(None, raw=b"\xff\xfe\x00"),
    forge(["CE"]),
    forge("CE"),
    forge(None),
    forge({"uai": UAI, "role": "CE"}),                                   # no exp
    forge({"uai": UAI, "role": "CE", "exp": "demain"}),
    forge({"uai": UAI, "exp": int(NOW) + 60}),                            # no role
    forge({"role": "CE", "exp": int(NOW) + 60}),                          # no uai
    forge({"uai": UAI, "role": ["CE"], "exp": int(NOW) + 60}),
], ids=lambda t: t[:20] or "empty")
def test_garbage_tokens(token):
    assert_auth_required(verify_token, SECRET, token, now=NOW)


@pytest.mark.parametrize("headers", [
    None, {}, {"Authorization": ""}, {"X-Authorization": "Bearer x"},
])
def test_missing_header(headers):
    assert_auth_required(identify, headers, SECRET)


@pytest.mark.parametrize("value", [
    "Basic dXNlcjpwYXNz", "Token {t}", "{t}", "Bearer", "Bearer ", "Bearer:{t}", "JWT {t}",
])
def test_non_bearer_scheme(value):
    token = issue_token(SECRET, UAI, "CE")
    assert_auth_required(identify, {"Authorization": value.format(t=token)}, SECRET)


# --- authorization -------------------------------------------------------------------------------

MATRIX = {
    # action: roles allowed (LSU: the import is the chef d'établissement's or a delegate's)
    "import:create": {"CE", "DELEGUE_CE"},
    "import:read": {"CE", "DELEGUE_CE"},
    "referentiel:write": {"CE", "DELEGUE_CE"},
    "referentiel:read": {"CE", "DELEGUE_CE", "PP", "CPE"},
}


@pytest.mark.parametrize("action", list(MATRIX) + ["import:delete"])
@pytest.mark.parametrize("role", ["CE", "DELEGUE_CE", "PP", "CPE"])
def test_authorize_matrix(role, action):
    identity = Identity(uai=UAI, role=role, sub="x")
    if role in MATRIX.get(action, set()):
        assert authorize(identity, action) is None
    else:
        with pytest.raises(AuthError) as exc:
            authorize(identity, action)
        assert exc.value.code == "FORBIDDEN"


def test_ce_may_import_pp_and_cpe_may_not_but_pp_may_read_the_referentiel():
    authorize(Identity(UAI, "CE", "x"), "import:create")
    for role in ("PP", "CPE"):
        with pytest.raises(AuthError, match="FORBIDDEN"):
            authorize(Identity(UAI, role, "x"), "import:create")
    authorize(Identity(UAI, "PP", "x"), "referentiel:read")
