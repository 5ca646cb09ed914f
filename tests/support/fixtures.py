"""Fixtures shared by every test suite: real keys, a real JWKS over HTTP, throwaway databases."""

from collections.abc import Iterator

import pytest

from support.processes import free_port
from support.stack import stack  # noqa: F401  (the whole system, for system and browser tests)
from support.tokens import JwksServer, SigningKey


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture(scope="session")
def jwks(signing_key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer([signing_key])
    yield server
    server.close()


# The database backends every database test runs on.
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """Every test that needs a database runs on both backends; each suite makes its own database."""
    return request.param


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    return free_port()
