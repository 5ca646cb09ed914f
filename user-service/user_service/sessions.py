"""Login sessions: started by a successful authentication, checked by faas, revoked at logout."""

import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from . import db
from .errors import Problem
from .models import Session, User, utcnow

# What new_session_id() makes, within the column: anything else (a NUL, which PostgreSQL cannot
# even compare) names no session.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def start(user: User, now: datetime) -> Session:
    """A new session of `user`, added to the request's transaction (the caller commits)."""
    session = Session(
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=current_app.config["SETTINGS"].session_max_seconds),
    )
    db.session().add(session)
    return session


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
