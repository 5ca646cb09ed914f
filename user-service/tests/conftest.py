"""Fixture ladder: database → app → client → tokens, all real (HTTP JWKS, migrated database)."""

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.databases import alembic, database
from support.tokens import JwksServer, SigningKey, service_claims, user_claims
from user_service import create_app


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory) -> Iterator[str]:
    with database(backend, tmp_path_factory.mktemp(f"users-{backend}")) as url:
        alembic("user-service", url, "upgrade", "head")
        yield url


@pytest.fixture(scope="session")
def app(database_url: str, jwks: JwksServer) -> Flask:
    return create_app(
        {"DATABASE_URL": database_url, "JWKS_URL": jwks.url, "LOCK_BASE_SECONDS": "1"}
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def service_token(signing_key: SigningKey) -> Callable[[str], str]:
    """A service token with the given scope, as faas mints it."""
    return lambda scope: signing_key.sign(service_claims(scope, "user-service"))


@pytest.fixture
def user_token(signing_key: SigningKey) -> Callable[[str], str]:
    """A user token for the given user id, as faas issues it after login."""
    return lambda user_id: signing_key.sign(user_claims(str(user_id), "user-service"))
