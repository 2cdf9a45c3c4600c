"""Development tokens and the authorization policy (chalicelib/auth.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from chalicelib.api.auth import AuthError, Identity, authorize, identify, issue_token, verify_token

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


# --- Cognito claims (API Gateway's authorizer, infra/) ------------------------------------------

from types import SimpleNamespace  # noqa: E402

from chalicelib.api.auth import cognito_claims, identify_request, identity_from_claims  # noqa: E402
from chalicelib.config import Settings  # noqa: E402

COGNITO_SUB = "3f1c2a9e-5b7d-4c1e-9f00-0123456789ab"


def claims(**extra):
    """Claims as a REST API's request context carries them: every value a string."""
    base = {"sub": COGNITO_SUB, "cognito:groups": "CE", "custom:uai": UAI, "token_use": "id",
            "email": "ce.0750001a@ac-paris.fr"}
    return {**base, **extra}


def context(c):
    return {"authorizer": {"claims": c}, "stage": "prod"}


def test_claims_yield_the_identity():
    assert identify({}, SECRET, context(claims())) == Identity(uai=UAI, role="CE", sub=COGNITO_SUB)


@pytest.mark.parametrize("groups", ["PP,ENSEIGNANT", "ENSEIGNANT,PP", "[ENSEIGNANT PP]", "[PP, ENSEIGNANT]",
                                    ["ENSEIGNANT", "PP"], " PP "])
def test_groups_in_any_format_and_the_first_role_wins(groups):
    who = identity_from_claims(claims(**{"cognito:groups": groups, "custom:id_sts": "4242"}))
    assert who == Identity(uai=UAI, role="PP", sub="4242")


def test_the_teachers_sub_is_their_sts_identifier():
    who = identity_from_claims(claims(**{"cognito:groups": "ENSEIGNANT", "custom:id_sts": " 1234 "}))
    assert (who.role, who.sub) == ("ENSEIGNANT", "1234")
    # the CE keeps the Cognito subject unless an STS identifier is given
    assert identity_from_claims(claims()).sub == COGNITO_SUB
    assert identity_from_claims(claims(**{"custom:id_sts": "77"})).sub == "77"


@pytest.mark.parametrize("bad", [
    {"cognito:groups": ""}, {"cognito:groups": "ADMIN"}, {"cognito:groups": "ce"},
    {"cognito:groups": None}, {"cognito:groups": 3},
    {"custom:uai": None}, {"custom:uai": ""}, {"custom:uai": "0750001"}, {"custom:uai": "0750001AB"},
    {"custom:uai": "0750001*"}, {"custom:uai": ["0750001A"]},
    {"sub": None}, {"sub": ""},
    {"cognito:groups": "PP"}, {"cognito:groups": "ENSEIGNANT", "custom:id_sts": "  "},   # no STS id
], ids=repr)
def test_incomplete_or_foreign_claims_are_refused(bad):
    c = {k: v for k, v in claims(**bad).items() if v is not None}
    assert_auth_required(identity_from_claims, c)
    assert_auth_required(identify, {}, SECRET, context(c))


def test_claims_are_read_only_from_the_authorizer():
    assert cognito_claims(None) is None
    assert cognito_claims({}) is None
    assert cognito_claims({"authorizer": None}) is None
    assert cognito_claims({"authorizer": {"claims": {}}}) is None
    assert cognito_claims({"authorizer": "x"}) is None
    assert cognito_claims(context(claims())) == claims()
    assert_auth_required(identity_from_claims, "not a mapping")


def test_claims_take_precedence_over_a_development_token():
    token = issue_token(SECRET, "0930002X", "CPE")
    who = identify({"Authorization": f"Bearer {token}"}, SECRET, context(claims()))
    assert who == Identity(uai=UAI, role="CE", sub=COGNITO_SUB)


def test_development_tokens_only_where_allowed():
    token = issue_token(SECRET, UAI, "CE")
    headers = {"Authorization": f"Bearer {token}"}
    assert identify(headers, SECRET, None).role == "CE"                    # unchanged default
    assert_auth_required(identify, headers, SECRET, None, dev_tokens=False)
    assert_auth_required(identify, headers, SECRET, {"authorizer": {}}, dev_tokens=False)
    assert identify({}, SECRET, context(claims()), dev_tokens=False).role == "CE"


@pytest.mark.parametrize("stage, dev_ok", [("local", True), ("dev", False), ("prod", False)])
def test_identify_request_by_stage(stage, dev_ok):
    settings = Settings.from_env({"LSU_STAGE": stage, "LSU_TOKEN_SECRET": SECRET})
    token = issue_token(SECRET, UAI, "DELEGUE_CE")
    with_token = SimpleNamespace(headers={"Authorization": f"Bearer {token}"}, context={})
    if dev_ok:
        assert identify_request(with_token, settings).role == "DELEGUE_CE"
    else:
        assert_auth_required(identify_request, with_token, settings)
    with_claims = SimpleNamespace(headers={}, context=context(claims(**{"cognito:groups": "CPE"})))
    assert identify_request(with_claims, settings) == Identity(uai=UAI, role="CPE", sub=COGNITO_SUB)
    assert_auth_required(identify_request, SimpleNamespace(headers=None, context=None), settings)
