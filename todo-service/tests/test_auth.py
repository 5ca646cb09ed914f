"""Only a valid user token of this service's audience reaches a todo; the rest is 401/403/503."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from support.processes import wait_until
from support.tokens import JwksServer, SigningKey, service_claims, user_claims
from todo_service.auth import start_fetching
from todo_service.config import SERVICE_NAME

# Long enough for a test's few requests, short enough that waits for a refresh end quickly.
REFRESH = "1"


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
    "typ JWT": lambda key, user_id: key.sign(user_claims(user_id, SERVICE_NAME), {"typ": "JWT"}),
    "no typ": lambda key, user_id: key.sign(user_claims(user_id, SERVICE_NAME), {"typ": None}),
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


@pytest.fixture
def faas_keys(signing_key):
    """A JWKS of this test's own, publishing the suite's signing key."""
    server = JwksServer([signing_key])
    yield server
    server.close()


def refreshed(server: JwksServer, times: int = 1) -> None:
    """Wait until the JWKS has been fetched `times` more times (and the last fetch used)."""
    target = server.fetches + times + 1  # the fetch under way may predate the caller's change
    wait_until(lambda: server.fetches >= target or None, 15, "the keys refreshed")


def test_the_keys_are_loaded_in_the_background_before_any_token(make_app, faas_keys, auth):
    app = make_app(JWKS_URL=faas_keys.url)

    start_fetching(app)

    wait_until(lambda: faas_keys.fetches or None, 10, "the keys loaded")
    assert app.test_client().get("/todos", headers=auth).status_code == 200


def test_a_request_never_waits_on_a_refresh_of_keys_already_held(make_app, faas_keys, auth):
    client = make_app(JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH).test_client()
    assert client.get("/todos", headers=auth).status_code == 200
    faas_keys.release.clear()
    try:
        assert faas_keys.holding.wait(10), "no refresh came"

        answers = [client.get("/todos", headers=auth).status_code for _ in range(5)]

        assert answers == [200] * 5
        assert faas_keys.holding.is_set(), "the refresh ended before the requests did"
    finally:
        faas_keys.release.set()


def test_a_failed_refresh_keeps_the_last_good_keys(make_app, faas_keys, auth):
    client = make_app(JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH).test_client()
    assert client.get("/todos", headers=auth).status_code == 200

    faas_keys.status = 503
    refreshed(faas_keys, times=2)

    assert client.get("/todos", headers=auth).status_code == 200


def test_keys_past_the_staleness_limit_are_dropped_and_requests_fail_closed_until_a_refresh(
    make_app, faas_keys, auth
):
    client = make_app(
        JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH, JWKS_MAX_STALENESS_SECONDS="2"
    ).test_client()
    assert client.get("/todos", headers=auth).status_code == 200

    def refused():
        response = client.get("/todos", headers=auth)
        return response if response.status_code == 503 else None

    faas_keys.status = 503
    closed = wait_until(refused, 15, "the stale keys dropped")
    assert closed.mimetype == "application/problem+json"
    assert closed.headers["Retry-After"]
    faas_keys.status = 200
    refreshed(faas_keys)
    assert client.get("/todos", headers=auth).status_code == 200


def test_a_key_faas_stops_publishing_is_refused_after_the_next_refresh(
    make_app, signing_key, faas_keys, auth
):
    client = make_app(JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH).test_client()
    assert client.get("/todos", headers=auth).status_code == 200

    faas_keys.keys = [SigningKey()]
    refreshed(faas_keys)

    response = client.get("/todos", headers=auth)
    assert response.status_code == 401
    assert response.json["detail"] == "unknown signing key"
