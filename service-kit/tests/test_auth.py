"""Token checks (tokens/auth.py): every defect is a 401, every wrong kind of token a 403, and a
user token is good only with its own audience and while its session is."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from support.tokens import SigningKey, service_claims, user_claims

AUDIENCE, SCOPE = "kit-test", "things:read"  # what the kit app asks for (conftest.py)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forged(header: dict, claims: dict, key: bytes | None) -> str:
    """A token PyJWT would refuse to make: alg none, or HMAC keyed with public key bytes."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    if key is None:
        return f"{signing_input}."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _public_bytes(key: SigningKey) -> bytes:
    return key.private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )


def _user(sub: str = "42", **overrides):
    return user_claims(sub, AUDIENCE, **overrides)


def _tamper(token: str) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64(_user(sub='43'))}.{signature}"


NOW = int(time.time())
DEFECTS = {
    "expired": lambda key: key.sign(_user(iat=NOW - 2000, nbf=NOW - 2000, exp=NOW - 120)),
    "not yet valid": lambda key: key.sign(_user(nbf=NOW + 600)),
    "another service's audience": lambda key: key.sign(user_claims("42", "todo-service")),
    "wrong issuer": lambda key: key.sign(_user(iss="someone-else")),
    "no jti": lambda key: key.sign(_user(jti=None)),
    "no exp": lambda key: key.sign(_user(exp=None)),
    "iat as a string": lambda key: key.sign(_user(iat=str(NOW))),
    "exp as a string": lambda key: key.sign(_user(exp=str(NOW + 900))),
    "empty sub": lambda key: key.sign(_user(sub="")),
    "signed by another key": lambda key: SigningKey().sign(_user(), headers={"kid": key.kid}),
    "unknown kid": lambda key: SigningKey().sign(_user()),
    "typ JWT": lambda key: key.sign(_user(), {"typ": "JWT"}),
    "no typ": lambda key: key.sign(_user(), {"typ": None}),
    "key material in the header": lambda key: key.sign(_user(), {"jku": "http://evil/jwks"}),
    "alg none": lambda key: _forged(
        {"alg": "none", "typ": "at+jwt", "kid": key.kid}, _user(), None
    ),
    "HS256 with the public key": lambda key: _forged(
        {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}, _user(), _public_bytes(key)
    ),
    "tampered payload": lambda key: _tamper(key.sign(_user())),
    "garbage": lambda _key: "not-a-token",
    "garbage with dots": lambda _key: "a.b.c",
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_a_defective_token_is_401(client, signing_key, defect):
    response = client.get(
        "/user", headers={"Authorization": f"Bearer {DEFECTS[defect](signing_key)}"}
    )

    assert (response.status_code, response.mimetype) == (401, "application/problem+json")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_a_request_without_a_bearer_token_is_401(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get("/user", headers=headers)

    assert (response.status_code, response.mimetype) == (401, "application/problem+json")


def test_a_user_token_puts_its_subject_on_g(client, user_auth, user_id):
    assert client.get("/user", headers=user_auth).json == {"user_id": user_id}


def test_a_user_token_for_several_services_is_accepted(client, bearer, user_id):
    headers = bearer(user_claims(user_id, [AUDIENCE, "todo-service"]))

    assert client.get("/user", headers=headers).status_code == 200


def test_a_service_token_is_403_where_a_user_token_is_required(client, service_auth):
    assert client.get("/user", headers=service_auth).status_code == 403


def test_a_service_token_with_the_scope_is_accepted_without_a_user(client, service_auth):
    assert client.get("/service", headers=service_auth).json == {"user_id": None}


@pytest.mark.parametrize("scope", ["things:write", "things", f"{SCOPE}s"])
def test_a_service_token_with_another_scope_is_403(client, bearer, scope):
    response = client.get("/service", headers=bearer(service_claims(scope, AUDIENCE)))

    assert (response.status_code, response.mimetype) == (403, "application/problem+json")


def test_a_user_token_is_403_where_only_a_service_token_is_accepted(client, user_auth):
    assert client.get("/service", headers=user_auth).status_code == 403


def test_a_user_token_is_accepted_where_a_user_is_allowed_and_sets_the_user(
    client, user_auth, user_id
):
    assert client.get("/either", headers=user_auth).json == {"user_id": user_id}


def test_a_token_with_both_a_session_and_a_scope_is_refused(client, bearer, user_id):
    headers = bearer(user_claims(user_id, AUDIENCE, scope=SCOPE))

    assert client.get("/user", headers=headers).status_code == 403
    assert client.get("/service", headers=headers).status_code == 403


@pytest.mark.parametrize("sid", [5, "", ["a session"]], ids=repr)
def test_a_user_token_whose_sid_is_no_session_id_is_401(client, bearer, user_id, sid):
    response = client.get("/user", headers=bearer(user_claims(user_id, AUDIENCE, sid=sid)))

    assert (response.status_code, response.mimetype) == (401, "application/problem+json")


def test_when_the_jwks_cannot_be_fetched_nothing_is_let_through(make_app, closed_port, user_auth):
    blind = make_app(JWKS_URL=f"http://127.0.0.1:{closed_port}/jwks.json").test_client()

    response = blind.get("/user", headers=user_auth)

    assert (response.status_code, response.mimetype) == (503, "application/problem+json")
    assert response.headers["Retry-After"]
