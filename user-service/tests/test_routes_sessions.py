"""Sessions: GET and DELETE /sessions/<sid> (active sessions are found, revoked or expired ones
are not), how a session began, DELETE /users/<id>/sessions, the feed of revoked sessions and
user tokens of revoked sessions, and expired sessions deleted."""

import hashlib
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from service_kit import db
from service_kit.db import utcnow
from support.databases import database, migrate
from support.processes import wait_until
from support.tokens import user_claims
from user_service import sessions
from user_service.models import Session


@pytest.fixture
def session_id(login, user) -> str:
    """A new session of the module's user."""
    return login(user["username"], user["password"]).json["session"]["id"]


def test_check_revoke_then_check_again(client, as_service, session_id, user):
    checked = client.get(f"/sessions/{session_id}", headers=as_service("sessions:check"))
    assert checked.status_code == 200
    assert checked.json["id"] == session_id
    assert checked.json["user_id"] == user["id"]
    revoked = client.delete(f"/sessions/{session_id}", headers=as_service("sessions:revoke"))
    assert revoked.status_code == 204
    assert revoked.data == b""
    gone = client.get(f"/sessions/{session_id}", headers=as_service("sessions:check"))
    assert gone.status_code == 404
    assert gone.mimetype == "application/problem+json"


def test_check_touches_last_seen_at(client, as_service, session_id):
    first = client.get(f"/sessions/{session_id}", headers=as_service("sessions:check")).json
    time.sleep(0.01)
    second = client.get(f"/sessions/{session_id}", headers=as_service("sessions:check")).json
    assert datetime.fromisoformat(second["last_seen_at"]) > datetime.fromisoformat(
        first["last_seen_at"]
    )
    assert second["expires_at"] == first["expires_at"]


def test_revoke_is_idempotent(client, as_service, session_id):
    for sid in (session_id, session_id, secrets.token_urlsafe(32)):
        assert (
            client.delete(f"/sessions/{sid}", headers=as_service("sessions:revoke")).status_code
            == 204
        )


# A well-formed id (token_urlsafe(32)'s shape) that no session was given, then malformed ones;
# fixed values, so that every pytest-xdist worker collects the same tests.
@pytest.mark.parametrize(
    "sid",
    [
        "Wh4pZhYaBqhNnXNMxHzzZS39NQuuP1KCLMQST3p34Dg",
        "x" * 300,
        "' OR '1'='1",
        "%00",
        "nul%00inside",
        "%F0%9F%98%80",
    ],
)
def test_unknown_session_is_404_and_revoking_it_is_204(client, as_service, sid):
    response = client.get(f"/sessions/{sid}", headers=as_service("sessions:check"))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    revoked = client.delete(f"/sessions/{sid}", headers=as_service("sessions:revoke"))
    assert revoked.status_code == 204


def test_a_session_past_its_absolute_limit_is_404(make_app, login, as_service, user):
    short_lived = make_app(SESSION_MAX_SECONDS="1")
    sid = login(user["username"], user["password"], on=short_lived).json["session"]["id"]
    client = short_lived.test_client()
    assert client.get(f"/sessions/{sid}", headers=as_service("sessions:check")).status_code == 200
    time.sleep(1.05)
    assert client.get(f"/sessions/{sid}", headers=as_service("sessions:check")).status_code == 404


def test_checking_and_revoking_need_their_own_scopes(client, as_service, as_user, session_id, user):
    assert (
        client.get(f"/sessions/{session_id}", headers=as_service("sessions:revoke")).status_code
        == 403
    )
    assert (
        client.delete(f"/sessions/{session_id}", headers=as_service("sessions:check")).status_code
        == 403
    )
    assert client.get(f"/sessions/{session_id}", headers=as_user(user["id"])).status_code == 403
    assert (
        client.get(f"/sessions/{session_id}", headers=as_service("sessions:check")).status_code
        == 200
    )


# How a session began -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cookie", "bearer"])
def test_a_session_records_how_it_began_and_the_check_says_it(client, as_service, user, kind):
    body = {"username": user["username"], "password": user["password"], "kind": kind}
    started = client.post(
        "/users/authenticate", json=body, headers=as_service("users:authenticate")
    )
    sid = started.json["session"]["id"]

    checked = client.get(f"/sessions/{sid}", headers=as_service("sessions:check"))

    assert started.json["session"]["kind"] == checked.json["kind"] == kind


def test_a_session_nobody_said_began_as_a_cookie_login_is_a_bearer_one(
    client, as_service, login, user
):
    sid = login(user["username"], user["password"]).json["session"]["id"]

    checked = client.get(f"/sessions/{sid}", headers=as_service("sessions:check"))

    assert checked.json["kind"] == "bearer"


@pytest.mark.parametrize("kind", ["browser", "", None, 1, ["cookie"], {"cookie": True}])
def test_any_other_kind_is_422_and_starts_no_session(client, as_service, user, kind):
    body = {"username": user["username"], "password": user["password"], "kind": kind}

    response = client.post(
        "/users/authenticate", json=body, headers=as_service("users:authenticate")
    )

    assert (response.status_code, response.mimetype) == (422, "application/problem+json")


# Ending all of a user's sessions -------------------------------------------------------------


def test_revoking_all_of_a_users_sessions_ends_each_of_them_and_no_one_elses(
    client, as_service, login, register
):
    owner, bystander = register(), register()
    owned = [login(owner["username"], owner["password"]).json["session"]["id"] for _ in range(3)]
    other = login(bystander["username"], bystander["password"]).json["session"]["id"]

    revoked = client.delete(
        f"/users/{owner['id']}/sessions", headers=as_service("sessions:revoke-all")
    )

    assert (revoked.status_code, revoked.data) == (204, b"")
    check = as_service("sessions:check")
    assert [client.get(f"/sessions/{sid}", headers=check).status_code for sid in owned] == [404] * 3
    assert client.get(f"/sessions/{other}", headers=check).status_code == 200


@pytest.mark.parametrize("user_id", ["0", "999999999", str(2**31), str(10**30)])
def test_revoking_all_sessions_of_a_user_without_any_is_204(client, as_service, user_id):
    response = client.delete(
        f"/users/{user_id}/sessions", headers=as_service("sessions:revoke-all")
    )

    assert response.status_code == 204


def test_revoking_all_sessions_needs_its_own_scope(client, as_service, as_user, session_id, user):
    path = f"/users/{user['id']}/sessions"
    for headers in (as_service("sessions:revoke"), as_service("users:read"), as_user(user["id"])):
        assert client.delete(path, headers=headers).status_code == 403
    assert (
        client.get(f"/sessions/{session_id}", headers=as_service("sessions:check")).status_code
        == 200
    )


# The feed of revoked sessions ----------------------------------------------------------------


def digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def test_the_feed_lists_the_digests_of_revoked_sessions_and_needs_no_token(
    client, as_service, login, user
):
    revoked, active = (
        login(user["username"], user["password"]).json["session"]["id"] for _ in range(2)
    )
    client.delete(f"/sessions/{revoked}", headers=as_service("sessions:revoke"))

    feed = client.get("/sessions/revoked")

    assert feed.status_code == 200
    assert digest(revoked) in feed.json["revoked"]
    assert digest(active) not in feed.json["revoked"]
    assert revoked not in feed.text and active not in feed.text


def test_the_feed_leaves_out_revoked_sessions_past_their_absolute_end(
    make_app, login, as_service, user
):
    short_lived = make_app(SESSION_MAX_SECONDS="1")
    client = short_lived.test_client()
    sid = login(user["username"], user["password"], on=short_lived).json["session"]["id"]
    client.delete(f"/sessions/{sid}", headers=as_service("sessions:revoke"))
    assert digest(sid) in client.get("/sessions/revoked").json["revoked"]

    wait_until(
        lambda: digest(sid) not in client.get("/sessions/revoked").json["revoked"] or None,
        timeout=5,
        what="the session left out of the feed",
    )


# user-service's own user tokens --------------------------------------------------------------


def test_a_user_token_of_a_revoked_session_is_refused_here_too(
    make_app, login, as_service, signing_key, user
):
    app = make_app(REVOCATION_REFRESH_SECONDS="1")
    client = app.test_client()
    sid = login(user["username"], user["password"], on=app).json["session"]["id"]
    token = signing_key.sign(user_claims(str(user["id"]), "user-service", sid=sid))
    own = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/users/{user['id']}", headers=own).status_code == 200

    client.delete(f"/sessions/{sid}", headers=as_service("sessions:revoke"))

    def refused():
        response = client.get(f"/users/{user['id']}", headers=own)
        return response if response.status_code == 401 else None

    answer = wait_until(refused, timeout=5, what="the revoked session's token refused")
    assert answer.mimetype == "application/problem+json"
    assert client.get(f"/users/{user['id']}", headers=as_service("users:read")).status_code == 200


# Expired sessions are deleted ----------------------------------------------------------------


@pytest.fixture
def fresh_app(make_app, backend, tmp_path) -> Iterator[Flask]:
    """An app on a database of its own, so that its sessions are this test's alone."""
    with database(backend, tmp_path) as url:
        migrate("user-service", url)
        app = make_app(DATABASE_URL=url)
        yield app
        app.extensions["db_engine"].dispose()  # lets PostgreSQL drop the database


def test_each_session_started_deletes_a_bounded_batch_of_expired_ones(fresh_app, login, as_service):
    account = (
        fresh_app.test_client()
        .post(
            "/users",
            json={
                "username": f"u_{secrets.token_hex(6)}",
                "password": "correct horse battery staple",
            },
            headers=as_service("users:create"),
        )
        .json
    )
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    with fresh_app.app_context():
        db.session().add_all(
            Session(user_id=account["id"], expires_at=long_ago, kind="bearer")
            for _ in range(sessions.EXPIRED_BATCH + 5)
        )
        db.session().commit()

    def count() -> tuple[int, int]:
        with fresh_app.app_context():
            expired = select(func.count()).where(Session.expires_at <= utcnow())
            return db.session().scalar(expired), db.session().scalar(select(func.count(Session.id)))

    login(account["username"], "correct horse battery staple", on=fresh_app)
    assert count() == (5, 6)
    login(account["username"], "correct horse battery staple", on=fresh_app)
    assert count() == (0, 2)
