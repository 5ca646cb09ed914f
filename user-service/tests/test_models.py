"""Timestamps come back as aware UTC datetimes on both backends, whatever offset they went in with."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from service_kit import db
from user_service.models import Session, User


def test_timestamps_round_trip_as_aware_utc(app, user):
    written = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=5)))
    with app.app_context():
        session = Session(
            user_id=user["id"], created_at=written, last_seen_at=written, expires_at=written
        )
        db.session().add(session)
        db.session().commit()
        sid = session.id
    with app.app_context():
        stored = db.session().get(Session, sid)
        assert stored.expires_at == written
        assert stored.expires_at.tzinfo == UTC
        assert stored.expires_at.hour == 22
        assert stored.revoked_at is None


def test_naive_datetimes_are_refused(app, user):
    with app.app_context():
        db.session().add(Session(user_id=user["id"], expires_at=datetime(2030, 1, 1)))
        with pytest.raises(StatementError, match="naive"):
            db.session().commit()


def test_usernames_are_stored_lower_cased_or_not_at_all(app):
    with app.app_context():
        db.session().add(User(username="Mixed", password_hash="x"))
        with pytest.raises(IntegrityError, match=r"(?i)check"):
            db.session().commit()
