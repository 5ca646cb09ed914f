"""GET and DELETE /sessions/<sid>: active sessions are found, revoked or expired ones are not."""

import secrets
import time
from datetime import datetime

import pytest


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


@pytest.mark.parametrize(
    "sid",
    [secrets.token_urlsafe(32), "x" * 300, "' OR '1'='1", "%00", "nul%00inside", "%F0%9F%98%80"],
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
