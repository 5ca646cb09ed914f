"""Only a valid user token of this service's audience reaches a todo; the rest is 401/403/503."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from support.tokens import SigningKey, service_claims, user_claims
from todo_service.config import SERVICE_NAME


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_input(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _alg_none(key: SigningKey, user_id: str) -> str:
    header = {"alg": "none", "typ": "at+jwt", "kid": key.kid}
    return _signing_input(header, user_claims(user_id, SERVICE_NAME)) + "."


def _hs256_with_the_public_key(key: SigningKey, user_id: str) -> str:
    # The classic confusion attack: the public key, which anyone has, used as an HMAC secret.
    secret = key.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _signing_input(
        {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}, user_claims(user_id, SERVICE_NAME)
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _signed(**overrides):
    return lambda key, user_id: key.sign(user_claims(user_id, SERVICE_NAME, **overrides))


NOW = int(time.time())
DEFECTIVE_TOKENS = {
    "expired": _signed(iat=NOW - 2000, nbf=NOW - 2000, exp=NOW - 120),
    "not yet valid": _signed(nbf=NOW + 600),
    "audience of user-service only": lambda key, user_id: key.sign(
        user_claims(user_id, "user-service")
    ),
    "wrong issuer": _signed(iss="someone-else"),
    "no jti": _signed(jti=None),
    "no exp": _signed(exp=None),
    "iat as a string": _signed(iat=str(NOW)),
    "empty sub": lambda key, _user_id: key.sign(user_claims("", SERVICE_NAME)),
    "alg none": _alg_none,
    "HS256 with the public key": _hs256_with_the_public_key,
    "unknown kid": lambda _key, user_id: SigningKey().sign(user_claims(user_id, SERVICE_NAME)),
    "garbage": lambda _key, _user_id: "not-a-token",
    "garbage with dots": lambda _key, _user_id: "a.b.c",
}


@pytest.mark.parametrize("make", DEFECTIVE_TOKENS.values(), ids=DEFECTIVE_TOKENS.keys())
def test_a_defective_token_is_401(client, signing_key, user_id, make):
    response = client.get(
        "/todos", headers={"Authorization": f"Bearer {make(signing_key, user_id)}"}
    )

    assert (response.status_code, response.mimetype) == (401, "application/problem+json")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Basic dXNlcjpwYXNz"])
def test_a_request_without_a_bearer_token_is_401(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.post("/todos", json={"title": "t"}, headers=headers)

    assert (response.status_code, response.mimetype) == (401, "application/problem+json")


@pytest.mark.parametrize("scope", ["users:read", "todos:write"])
def test_a_service_token_is_403_even_with_a_scope(client, signing_key, scope):
    token = signing_key.sign(service_claims(scope, SERVICE_NAME))

    response = client.get("/todos", headers={"Authorization": f"Bearer {token}"})

    assert (response.status_code, response.mimetype) == (403, "application/problem+json")


def test_a_subject_that_cannot_be_an_owner_is_403(client, token):
    response = client.get("/todos", headers={"Authorization": f"Bearer {token('x' * 65)}"})

    assert response.status_code == 403


def test_a_user_token_for_todo_service_alone_is_accepted(client, signing_key, user_id):
    token = signing_key.sign(user_claims(user_id, SERVICE_NAME))

    assert client.get("/todos", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_when_the_jwks_cannot_be_fetched_nothing_is_let_through(
    make_app, closed_port, client, auth
):
    blind = make_app(JWKS_URL=f"http://127.0.0.1:{closed_port}/jwks.json").test_client()

    answers = [
        blind.get("/todos", headers=auth),
        blind.post("/todos", json={"title": "sneaked in"}, headers=auth),
    ]

    assert [(a.status_code, a.mimetype) for a in answers] == [(503, "application/problem+json")] * 2
    assert all(a.headers["Retry-After"] for a in answers)
    assert client.get("/todos", headers=auth).json == []
