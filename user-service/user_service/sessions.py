"""Login sessions: started by a successful authentication, checked by faas, revoked at logout
(one, or all of a user's), and listed while revoked for the services' revocation checks."""

import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from service_kit import db
from service_kit.db import utcnow
from service_kit.tokens.revocations import session_digest
from service_kit.web.errors import Problem

from .models import Session, User

# What new_session_id() makes, within the column: anything else (a NUL, which PostgreSQL cannot
# even compare) names no session.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# How a session began: a browser's cookie login (renewed as a cookie while in use) or an API
# client's token (never renewed).
COOKIE, BEARER = "cookie", "bearer"
KINDS = (COOKIE, BEARER)
# Sessions past their absolute end deleted per session started: bounded work per login, and
# since every session begins with one, they never pile up.
EXPIRED_BATCH = 100


def start(user: User, now: datetime, kind: str) -> Session:
    """A new session of `user`, added to the request's transaction (the caller commits), which
    also deletes a batch of expired sessions."""
    _delete_expired(now)
    session = Session(
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=current_app.config["SETTINGS"].session_max_seconds),
        kind=kind,
    )
    db.session().add(session)
    return session


def _delete_expired(now: datetime) -> None:
    # SKIP LOCKED (PostgreSQL; SQLite locks the whole database anyway): concurrent logins take
    # different rows, so none waits for another's, and none can deadlock with another.
    expired = (
        select(Session.id)
        .where(Session.expires_at <= now)
        .limit(EXPIRED_BATCH)
        .with_for_update(skip_locked=True)
    )
    db.session().execute(
        delete(Session).where(Session.id.in_(expired)).execution_options(synchronize_session=False)
    )


def check(session_id: str) -> Session:
    """The active session, its last_seen_at touched; Problem 404 if unknown, revoked or expired."""
    session = db.session().get(Session, session_id) if _SESSION_ID.fullmatch(session_id) else None
    now = utcnow()
    if session is None or session.revoked_at is not None or session.expires_at <= now:
        raise Problem(404, "no active session with this id")
    session.last_seen_at = now
    db.session().commit()
    return session


def revoke(session_id: str) -> None:
    """Ends the session; revoking an unknown or revoked one does nothing (idempotent)."""
    if not _SESSION_ID.fullmatch(session_id):
        return
    db.session().execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session().commit()


def revoke_all(user_id: int) -> None:
    """Ends every active session of the user; for a user without any it does nothing."""
    now = utcnow()
    db.session().execute(
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None), Session.expires_at > now)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session().commit()


def revoked_digests() -> list[str]:
    """The digest (revocations.session_digest) of every revoked session that a token may still
    name: one whose absolute end is still to come, since no token outlives its session."""
    revoked = db.session().scalars(
        select(Session.id).where(Session.revoked_at.is_not(None), Session.expires_at > utcnow())
    )
    return sorted(session_digest(session_id) for session_id in revoked)
