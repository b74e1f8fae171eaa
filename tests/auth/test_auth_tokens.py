"""Signed tokens (re-login cookie, API): tampering, expiry, purpose, alg none, wrong secret."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from core import auth
from core.db.schema import User

SECRET = "s" * 64


def user() -> User:
    return User(id=7, username="hank", email="hank@example.com", role="premium", password_hash="")


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_round_trip() -> None:
    token = auth.issue_token(SECRET, user(), 3600, "relogin")
    claims = auth.verify_token(SECRET, token, "relogin")
    assert (claims.user_id, claims.username, claims.role, claims.purpose) == (
        7,
        "hank",
        "premium",
        "relogin",
    )
    assert claims.expires_at - claims.issued_at == timedelta(hours=1)


def test_tampered_payload_refused() -> None:
    header, payload, signature = auth.issue_token(SECRET, user(), 3600, "relogin").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = f"{header}.{b64(claims)}.{signature}"
    with pytest.raises(auth.InvalidToken) as caught:
        auth.verify_token(SECRET, forged, "relogin")
    assert caught.value.reason == "invalid"


def test_expired_refused() -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    token = auth.issue_token(SECRET, user(), 3600, "relogin", now=past)
    with pytest.raises(auth.InvalidToken) as caught:
        auth.verify_token(SECRET, token, "relogin")
    assert caught.value.reason == "expired"


def test_wrong_purpose_refused() -> None:
    token = auth.issue_token(SECRET, user(), 3600, "api")
    with pytest.raises(auth.InvalidToken) as caught:
        auth.verify_token(SECRET, token, "relogin")
    assert caught.value.reason == "wrong purpose"


def test_alg_none_refused() -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "7", "role": "admin", "purpose": "relogin", "iat": now, "exp": now + 600}
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(SECRET, unsigned, "relogin")
    also = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(SECRET, also, "relogin")


def test_other_algorithm_and_wrong_secret_refused() -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "7", "role": "admin", "purpose": "relogin", "iat": now, "exp": now + 600}
    hs512 = jwt.encode(claims, SECRET, algorithm="HS512")
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(SECRET, hs512, "relogin")
    other = auth.issue_token("o" * 64, user(), 3600, "relogin")
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(SECRET, other, "relogin")


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "purpose", "role", "gen", "jti"])
def test_missing_claims_refused(missing: str) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "sub": "7",
        "role": "free",
        "purpose": "relogin",
        "gen": "g",
        "jti": "j",
        "iat": now,
        "exp": now + 600,
    }
    del claims[missing]
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"), "relogin")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 5000])
def test_garbage_refused(garbage: str) -> None:
    with pytest.raises(auth.InvalidToken):
        auth.verify_token(SECRET, garbage, "relogin")
