"""The internal API faas calls (users, authentication and sessions), and the feed of revoked
sessions todo-service reads. Errors are problem+json."""

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, url_for

from service_kit.tokens.auth import require_service
from service_kit.web.errors import Problem, json_object

from . import accounts, sessions, throttle
from .models import Session, User

bp = Blueprint("users", __name__)

CREDENTIAL_FIELDS = {"username", "password"}


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a "Z", to the millisecond: every JSON client parses this form."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "created_at": timestamp(user.created_at)}


def session_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "created_at": timestamp(session.created_at),
        "last_seen_at": timestamp(session.last_seen_at),
        "expires_at": timestamp(session.expires_at),
        "kind": session.kind,
    }


def credentials(body: dict[str, Any]) -> tuple[str, str]:
    """(username, password) from a body of exactly those two strings; Problem 422 otherwise."""
    if body.keys() != CREDENTIAL_FIELDS:
        raise Problem(422, "the body must have exactly the fields username and password")
    username, password = body["username"], body["password"]
    if not isinstance(username, str) or not isinstance(password, str):
        raise Problem(422, "username and password must be strings")
    return username, password


@bp.post("/users")
@require_service("users:create")
def create_user() -> tuple[Response, int, dict[str, str]]:
    """201 the new user with its Location; 409 if the username is taken; 415/400/422 for a bad body
    or a password the policy refuses; 429 + Retry-After when the client has registered too often."""
    user = accounts.register(*credentials(json_object()), throttle.client_address())
    return jsonify(user_json(user)), 201, {"Location": url_for(".get_user", user_id=user.id)}


@bp.post("/users/authenticate")
@require_service("users:authenticate")
def authenticate_user() -> Response:
    """200 {user, session} with a new session; 401 for bad credentials; 429 + Retry-After when the
    client has failed too often on this username, or the account has logged in too often.

    Besides the credentials, the body may say how the session begins: "kind": "cookie" for a
    browser's cookie login, renewed as a cookie while in use, or "bearer" (the default) for an
    API client's token, never renewed; anything else is 422.
    """
    body = json_object()
    kind = body.pop("kind", sessions.BEARER)
    if kind not in sessions.KINDS:
        raise Problem(422, f"kind must be one of {', '.join(sessions.KINDS)}")
    user, session = accounts.authenticate(*credentials(body), throttle.client_address(), kind)
    return jsonify(user=user_json(user), session=session_json(session))


@bp.get("/users/<int:user_id>")
@require_service("users:read", allow_user=True)
def get_user(user_id: int) -> Response:
    """200 the user, to that user's own token or a users:read service token; 404 otherwise."""
    # Another user's id answers exactly like an id that does not exist.
    own_or_service = g.user_id is None or g.user_id == str(user_id)
    user = accounts.get_user(user_id) if own_or_service else None
    if user is None:
        raise Problem(404, "no such user")
    return jsonify(user_json(user))


@bp.delete("/users/<int:user_id>/sessions")
@require_service("sessions:revoke-all")
def revoke_user_sessions(user_id: int) -> tuple[str, int]:
    """204 once every session of the user is revoked, also when there was none (or no user)."""
    if user_id <= accounts.MAX_ID:
        sessions.revoke_all(user_id)
    return "", 204


@bp.get("/sessions/revoked")
def list_revoked_sessions() -> Response:
    """200 {"revoked": [...]}: the SHA-256 (hex) of the id of every revoked session whose absolute
    end is still to come, the only ones a live token can name. todo-service reads it to refuse
    their tokens.

    Open to any caller, with no token: todo-service can mint none (only faas signs), and what it
    lists opens nothing. A digest cannot be turned back into a session id, and names only a
    session that has ended, to whoever holds one of its tokens already.
    """
    return jsonify(revoked=sessions.revoked_digests())


@bp.get("/sessions/<session_id>")
@require_service("sessions:check")
def check_session(session_id: str) -> Response:
    """200 the session when active (its last_seen_at touched); 404 if unknown, revoked or expired."""
    return jsonify(session_json(sessions.check(session_id)))


@bp.delete("/sessions/<session_id>")
@require_service("sessions:revoke")
def revoke_session(session_id: str) -> tuple[str, int]:
    """204 once the session is revoked, also when it was unknown or revoked already."""
    sessions.revoke(session_id)
    return "", 204
