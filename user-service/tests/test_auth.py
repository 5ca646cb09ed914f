"""Token verification and scopes: every defect is a 401, every wrong kind of token a 403."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from support.tokens import SigningKey, service_claims, user_claims


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forged(header: dict, claims: dict, key: bytes | None) -> str:
    """A token PyJWT would refuse to make: alg none, or HMAC keyed with public key bytes."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    if key is None:
        return f"{signing_input}."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _read(**overrides):
    return service_claims("users:read", "user-service", **overrides)


NOW = int(time.time())
DEFECTS = {
    "expired": lambda key: key.sign(_read(iat=NOW - 1000, nbf=NOW - 1000, exp=NOW - 120)),
    "nbf in the future": lambda key: key.sign(_read(nbf=NOW + 600)),
    "wrong audience": lambda key: key.sign(_read(aud="todo-service")),
    "wrong issuer": lambda key: key.sign(_read(iss="someone-else")),
    "no jti": lambda key: key.sign(_read(jti=None)),
    "no exp": lambda key: key.sign(_read(exp=None)),
    "iat as a string": lambda key: key.sign(_read(iat=str(NOW))),
    "exp as a string": lambda key: key.sign(_read(exp=str(NOW + 900))),
    "signed by another key": lambda key: SigningKey().sign(_read(), headers={"kid": key.kid}),
    "unknown kid": lambda key: SigningKey().sign(_read()),
    "alg none": lambda key: _forged({"alg": "none", "kid": key.kid}, _read(), None),
    "HS256 with the public key": lambda key: _forged(
        {"alg": "HS256", "typ": "at+jwt", "kid": key.kid},
        _read(),
        key.private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
    ),
    "garbage": lambda key: "not.a.token",
    "tampered payload": lambda key: _tamper(
        key.sign(service_claims("users:create", "user-service"))
    ),
}


def _tamper(token: str) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64(_read())}.{signature}"


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_a_defective_token_is_401(client, signing_key, user, defect):
    token = DEFECTS[defect](signing_key)
    response = client.get(f"/users/{user['id']}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_a_missing_bearer_token_is_401(client, user, authorization):
    response = client.get(f"/users/{user['id']}", headers={"Authorization": authorization})
    assert response.status_code == 401


def test_a_user_token_for_both_services_is_accepted(client, signing_key, user):
    claims = user_claims(str(user["id"]), ["user-service", "todo-service"])
    response = client.get(
        f"/users/{user['id']}", headers={"Authorization": f"Bearer {signing_key.sign(claims)}"}
    )
    assert response.status_code == 200


def test_a_user_token_cannot_create_users(client, as_user, user):
    response = client.post(
        "/users", json={"username": "alice", "password": "long enough"}, headers=as_user(user["id"])
    )
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/users", "users:authenticate"),
        ("POST", "/users/authenticate", "users:create"),
        ("GET", "/users/1", "users:create"),
        ("GET", "/users/1", "sessions:check"),
    ],
)
def test_a_service_token_with_the_wrong_scope_is_403(client, as_service, method, path, scope):
    response = client.open(
        path,
        method=method,
        json={"username": "alice", "password": "long enough"},
        headers=as_service(scope),
    )
    assert response.status_code == 403


def test_a_token_with_both_a_session_and_a_scope_is_refused(client, signing_key, user):
    claims = user_claims(str(user["id"]), "user-service", scope="users:read")
    response = client.get(
        f"/users/{user['id']}", headers={"Authorization": f"Bearer {signing_key.sign(claims)}"}
    )
    assert response.status_code == 403


def test_an_unreachable_jwks_fails_closed(make_app, service_token, user, closed_port):
    app = make_app(JWKS_URL=f"http://127.0.0.1:{closed_port}/jwks.json")
    response = app.test_client().get(
        f"/users/{user['id']}", headers={"Authorization": f"Bearer {service_token('users:read')}"}
    )
    assert response.status_code in (401, 503)
    assert response.mimetype == "application/problem+json"
