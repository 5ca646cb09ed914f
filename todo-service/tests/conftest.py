"""Fixture ladder: database → app → client → tokens → todos, all real (HTTP JWKS, HTTP feed of
revoked sessions, migrated database)."""

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service_kit import db
from support.databases import database, migrate
from support.tokens import JwksServer, RevocationFeed, SigningKey, user_claims
from todo_service import create_app

# As faas issues user tokens: good for both services.
AUDIENCES = ["user-service", "todo-service"]


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory) -> Iterator[str]:
    with database(backend, tmp_path_factory.mktemp(f"todos-{backend}")) as url:
        migrate("todo-service", url)
        yield url


@pytest.fixture(scope="session")
def make_app(
    database_url: str, jwks: JwksServer, revocation_feed: RevocationFeed
) -> Callable[..., Flask]:
    """An app on the test database, JWKS and feed; keyword settings (environment names) override."""

    def make(**settings: str) -> Flask:
        defaults = {
            "DATABASE_URL": database_url,
            "JWKS_URL": jwks.url,
            "USER_SERVICE_URL": revocation_feed.url,
        }
        return create_app({**defaults, **settings})

    return make


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session of its own on the app's database, for looking under the API."""
    with app.app_context(), Session(db.engine(), expire_on_commit=False) as session:
        yield session


@pytest.fixture(scope="session")
def token(signing_key: SigningKey) -> Callable[..., str]:
    """A user token for the given user id as faas issues it; claim overrides as in user_claims."""
    return lambda user_id, **claims: signing_key.sign(
        user_claims(str(user_id), AUDIENCES, **claims)
    )


@pytest.fixture(scope="session")
def as_user(token: Callable[..., str]) -> Callable[[Any], dict[str, str]]:
    """Authorization headers of a user token for the given user id."""
    return lambda user_id: {"Authorization": f"Bearer {token(user_id)}"}


@pytest.fixture
def user_id() -> str:
    """A user no other test uses: tests share one database per backend."""
    return str(secrets.randbelow(10**12) + 1)


@pytest.fixture
def auth(as_user, user_id: str) -> dict[str, str]:
    """The Authorization header of this test's user."""
    return as_user(user_id)


@pytest.fixture
def create(client: FlaskClient, auth: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Creates a todo of this test's user through the API; its JSON."""

    def create(title: str = "a todo", **fields: Any) -> dict[str, Any]:
        response = client.post("/todos", json={"title": title, **fields}, headers=auth)
        assert response.status_code == 201, response.json
        return response.json

    return create
