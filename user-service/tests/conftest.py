"""Fixture ladder: database → app → client → tokens → users, all real (HTTP JWKS, migrated database)."""

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support.databases import database, migrate
from support.tokens import JwksServer, SigningKey, service_claims, user_claims
from user_service import create_app

PASSWORD = "correct horse battery staple"


def new_username() -> str:
    return f"u_{secrets.token_hex(6)}"


@pytest.fixture
def fresh_name() -> str:
    """A username no other test uses: tests share one database per backend."""
    return new_username()


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory) -> Iterator[str]:
    with database(backend, tmp_path_factory.mktemp(f"users-{backend}")) as url:
        migrate("user-service", url)
        yield url


@pytest.fixture(scope="session")
def make_app(database_url: str, jwks: JwksServer) -> Callable[..., Flask]:
    """An app on the test database and JWKS; keyword settings (environment names) override."""

    def make(**settings: str) -> Flask:
        # Every test client is 127.0.0.1, and a module's user logs in often: only the tests of
        # the limits set small ones. Hashes at OWASP's minimum cost a seventh of the default's
        # CPU; test_passwords.py covers both profiles.
        defaults = {
            "PASSWORD_HASH_PROFILE": "owasp-minimum",
            "DATABASE_URL": database_url,
            "JWKS_URL": jwks.url,
            "CLIENT_LOGIN_FAILURE_LIMIT": "1000000",
            "CLIENT_REGISTRATION_LIMIT": "1000000",
            "ACCOUNT_LOGIN_LIMIT": "1000000",
        }
        return create_app({**defaults, **settings})

    return make


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def service_token(signing_key: SigningKey) -> Callable[[str], str]:
    """A service token with the given scope, as faas mints it."""
    return lambda scope: signing_key.sign(service_claims(scope, "user-service"))


@pytest.fixture(scope="session")
def user_token(signing_key: SigningKey) -> Callable[[str], str]:
    """A user token for the given user id, as faas issues it after login."""
    return lambda user_id: signing_key.sign(user_claims(str(user_id), "user-service"))


@pytest.fixture(scope="session")
def as_service(service_token: Callable[[str], str]) -> Callable[[str], dict[str, str]]:
    """Authorization headers of a service token with the given scope."""
    return lambda scope: {"Authorization": f"Bearer {service_token(scope)}"}


@pytest.fixture(scope="session")
def as_user(user_token: Callable[[str], str]) -> Callable[[Any], dict[str, str]]:
    """Authorization headers of a user token for the given user id."""
    return lambda user_id: {"Authorization": f"Bearer {user_token(user_id)}"}


@pytest.fixture(scope="session")
def register(app: Flask, as_service) -> Callable[..., dict[str, Any]]:
    """Registers a user through the API: its JSON plus "password"."""

    def register(username: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        response = app.test_client().post(
            "/users",
            json={"username": username or new_username(), "password": password},
            headers=as_service("users:create"),
        )
        assert response.status_code == 201, response.json
        return {**response.json, "password": password}

    return register


@pytest.fixture(scope="module")
def user(register: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """One user per module and backend, for tests that neither throttle it nor change it."""
    return register()


@pytest.fixture(scope="session")
def login(app: Flask, as_service) -> Callable[[str, str], Any]:
    """POST /users/authenticate on `app`; the test response."""

    def login(username: str, password: str, on: Flask = app, client: str | None = None) -> Any:
        """`client`: the address faas would forward (X-Forwarded-For); else the caller's own."""
        forwarded = {"X-Forwarded-For": client} if client else {}
        return on.test_client().post(
            "/users/authenticate",
            json={"username": username, "password": password},
            headers={**as_service("users:authenticate"), **forwarded},
        )

    return login
