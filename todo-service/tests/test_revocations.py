"""A token of a session user-service has revoked is refused within seconds: each worker reads
user-service's feed at USER_SERVICE_URL, and nothing is let through without it (how the reads
go, the kit's tests say: service-kit/tests/test_revocations.py)."""

import secrets

import pytest

from support.processes import wait_until
from support.tokens import user_claims
from todo_service.config import SERVICE_NAME

# Short, so that waits for a read end quickly.
REFRESH = "1"


@pytest.fixture
def session_token(signing_key, user_id):
    """session_token(sid): the Authorization header of a user token of session `sid`."""
    return lambda sid: {
        "Authorization": f"Bearer {signing_key.sign(user_claims(user_id, SERVICE_NAME, sid=sid))}"
    }


def status_becomes(client, headers, status: int, within: float = 10):
    """The first answer to GET /todos with `status`, waiting for it up to `within` seconds."""

    def answered():
        response = client.get("/todos", headers=headers)
        return response if response.status_code == status else None

    return wait_until(answered, within, f"GET /todos answering {status}", interval=0.1)


def test_a_token_of_a_revoked_session_is_refused_after_the_next_read(
    make_app, own_revocation_feed, session_token
):
    client = make_app(
        USER_SERVICE_URL=own_revocation_feed.url, REVOCATION_REFRESH_SECONDS=REFRESH
    ).test_client()
    ended, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    assert client.get("/todos", headers=session_token(ended)).status_code == 200

    own_revocation_feed.revoke(ended)

    refused = status_becomes(client, session_token(ended), 401, within=5)
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert (
        client.post("/todos", json={"title": "t"}, headers=session_token(ended)).status_code == 401
    )
    assert client.get("/todos", headers=session_token(other)).status_code == 200


def test_without_user_service_nothing_is_let_through(make_app, closed_port, client, auth):
    blind = make_app(USER_SERVICE_URL=f"http://127.0.0.1:{closed_port}").test_client()

    answers = [
        blind.get("/todos", headers=auth),
        blind.post("/todos", json={"title": "sneaked in"}, headers=auth),
    ]

    assert [(a.status_code, a.mimetype) for a in answers] == [(503, "application/problem+json")] * 2
    assert all(a.headers["Retry-After"] for a in answers)
    assert client.get("/todos", headers=auth).json == []
