"""The revoked sessions (tokens/revocations.py): read in the background, a revoked session's
tokens refused after the next read, the last good set kept while reads fail, and user tokens
refused (503) past the staleness limit or before the first read."""

import secrets

import pytest

from service_kit.tokens.auth import start_fetching
from service_kit.tokens.revocations import session_digest
from support.processes import wait_until
from support.tokens import user_claims

AUDIENCE = "kit-test"  # the kit app's audience (conftest.py)
# Short, so that waits for a read end quickly.
REFRESH = "1"


@pytest.fixture
def session_token(bearer, user_id):
    """session_token(sid): the Authorization header of a user token of session `sid`."""
    return lambda sid: bearer(user_claims(user_id, AUDIENCE, sid=sid))


def status_becomes(client, headers, status: int, within: float = 10):
    """The first answer to GET /user with `status`, waiting for it up to `within` seconds."""

    def answered():
        response = client.get("/user", headers=headers)
        return response if response.status_code == status else None

    return wait_until(answered, within, f"GET /user answering {status}", interval=0.1)


def test_a_session_is_named_by_the_sha256_of_its_id():
    assert session_digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_a_token_of_a_revoked_session_is_refused_after_the_next_read(
    make_app, own_revocation_feed, session_token
):
    client = make_app(
        FEED_URL=own_revocation_feed.url, REVOCATION_REFRESH_SECONDS=REFRESH
    ).test_client()
    ended, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    assert client.get("/user", headers=session_token(ended)).status_code == 200

    own_revocation_feed.revoke(ended)

    refused = status_becomes(client, session_token(ended), 401, within=5)
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/either", headers=session_token(ended)).status_code == 401
    assert client.get("/user", headers=session_token(other)).status_code == 200


def test_the_revoked_sessions_are_read_in_the_background_before_any_token(
    make_app, own_revocation_feed, user_auth
):
    app = make_app(FEED_URL=own_revocation_feed.url)

    start_fetching(app)

    wait_until(lambda: own_revocation_feed.reads or None, 10, "the revoked sessions read")
    assert app.test_client().get("/user", headers=user_auth).status_code == 200


def test_a_failed_read_keeps_the_last_good_set(make_app, own_revocation_feed, session_token):
    client = make_app(
        FEED_URL=own_revocation_feed.url, REVOCATION_REFRESH_SECONDS=REFRESH
    ).test_client()
    ended, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    own_revocation_feed.revoke(ended)
    status_becomes(client, session_token(ended), 401)

    own_revocation_feed.status = 503
    failed_from = own_revocation_feed.reads
    wait_until(lambda: own_revocation_feed.reads >= failed_from + 2 or None, 10, "two failed reads")

    assert client.get("/user", headers=session_token(ended)).status_code == 401
    assert client.get("/user", headers=session_token(other)).status_code == 200


def test_past_the_staleness_limit_user_tokens_fail_closed_until_a_read_succeeds(
    make_app, own_revocation_feed, user_auth
):
    client = make_app(
        FEED_URL=own_revocation_feed.url,
        REVOCATION_REFRESH_SECONDS=REFRESH,
        REVOCATION_MAX_STALENESS_SECONDS="2",
    ).test_client()
    assert client.get("/user", headers=user_auth).status_code == 200

    own_revocation_feed.status = 503
    closed = status_becomes(client, user_auth, 503)

    assert closed.mimetype == "application/problem+json"
    assert closed.headers["Retry-After"] == "1"
    own_revocation_feed.status = 200
    status_becomes(client, user_auth, 200)


def test_without_the_feed_user_tokens_are_refused_and_service_tokens_are_not(
    make_app, closed_port, user_auth, service_auth
):
    blind = make_app(FEED_URL=f"http://127.0.0.1:{closed_port}").test_client()

    refused = blind.get("/user", headers=user_auth)

    assert (refused.status_code, refused.mimetype) == (503, "application/problem+json")
    assert refused.headers["Retry-After"]
    assert blind.get("/service", headers=service_auth).status_code == 200
