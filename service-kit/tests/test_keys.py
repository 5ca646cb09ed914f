"""faas's keys (tokens/keys.py): loaded and refreshed in the background; a request never waits
on a refresh of keys already held, a failed refresh keeps them up to the staleness limit, then
requests fail closed until a refresh succeeds."""

from collections.abc import Iterator

import pytest

from service_kit.tokens.auth import start_fetching
from support.processes import wait_until
from support.tokens import JwksServer, SigningKey

# Long enough for a test's few requests, short enough that waits for a refresh end quickly.
REFRESH = "1"


@pytest.fixture
def faas_keys(signing_key) -> Iterator[JwksServer]:
    """A JWKS of this test's own, publishing the suite's signing key."""
    server = JwksServer([signing_key])
    yield server
    server.close()


def refreshed(server: JwksServer, times: int = 1) -> None:
    """Wait until the JWKS has been fetched `times` more times (and the last fetch used)."""
    target = server.fetches + times + 1  # the fetch under way may predate the caller's change
    wait_until(lambda: server.fetches >= target or None, 15, "the keys refreshed")


def test_the_keys_are_loaded_in_the_background_before_any_token(make_app, faas_keys, user_auth):
    app = make_app(JWKS_URL=faas_keys.url)

    start_fetching(app)

    wait_until(lambda: faas_keys.fetches or None, 10, "the keys loaded")
    assert app.test_client().get("/user", headers=user_auth).status_code == 200


def test_a_request_never_waits_on_a_refresh_of_keys_already_held(make_app, faas_keys, user_auth):
    client = make_app(JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH).test_client()
    assert client.get("/user", headers=user_auth).status_code == 200
    faas_keys.release.clear()
    try:
        assert faas_keys.holding.wait(10), "no refresh came"

        answers = [client.get("/user", headers=user_auth).status_code for _ in range(5)]

        assert answers == [200] * 5
        assert faas_keys.holding.is_set(), "the refresh ended before the requests did"
    finally:
        faas_keys.release.set()


def test_a_failed_refresh_keeps_the_last_good_keys(make_app, faas_keys, user_auth):
    client = make_app(JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH).test_client()
    assert client.get("/user", headers=user_auth).status_code == 200

    faas_keys.status = 503
    refreshed(faas_keys, times=2)

    assert client.get("/user", headers=user_auth).status_code == 200


def test_keys_past_the_staleness_limit_are_dropped_and_requests_fail_closed_until_a_refresh(
    make_app, faas_keys, user_auth
):
    client = make_app(
        JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH, JWKS_MAX_STALENESS_SECONDS="2"
    ).test_client()
    assert client.get("/user", headers=user_auth).status_code == 200

    def refused():
        response = client.get("/user", headers=user_auth)
        return response if response.status_code == 503 else None

    faas_keys.status = 503
    closed = wait_until(refused, 15, "the stale keys dropped")
    assert closed.mimetype == "application/problem+json"
    assert closed.headers["Retry-After"]
    faas_keys.status = 200
    refreshed(faas_keys)
    assert client.get("/user", headers=user_auth).status_code == 200


def test_a_key_faas_stops_publishing_is_refused_after_the_next_refresh(
    make_app, faas_keys, user_auth
):
    client = make_app(JWKS_URL=faas_keys.url, JWKS_REFRESH_SECONDS=REFRESH).test_client()
    assert client.get("/user", headers=user_auth).status_code == 200

    faas_keys.keys = [SigningKey()]
    refreshed(faas_keys)

    response = client.get("/user", headers=user_auth)
    assert response.status_code == 401
    assert response.json["detail"] == "unknown signing key"
