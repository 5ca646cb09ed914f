"""Fixtures shared by every test suite: real keys, a real JWKS over HTTP, throwaway databases."""

from collections.abc import Iterator

import pytest

from support.processes import free_port
from support.stack import stack  # noqa: F401  (the whole system, for system and browser tests)
from support.tokens import JwksServer, RevocationFeed, SigningKey


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey()


@pytest.fixture(scope="session")
def jwks(signing_key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer([signing_key])
    yield server
    server.close()


@pytest.fixture(scope="session")
def revocation_feed() -> Iterator[RevocationFeed]:
    """user-service's feed of revoked sessions as the unit suites' apps read it: nothing revoked."""
    feed = RevocationFeed()
    yield feed
    feed.close()


@pytest.fixture
def own_revocation_feed() -> Iterator[RevocationFeed]:
    """A feed of revoked sessions of this test's own, read by this test's app alone."""
    feed = RevocationFeed()
    yield feed
    feed.close()


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
