"""The todos table beneath the API: UTC timestamps, versions, per-owner idempotency keys."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from todo_service.models import Todo


def _todo(owner_id: str, **values) -> Todo:
    return Todo(owner_id=owner_id, title="t", completed=False, position=1, **values)


def test_timestamps_come_back_as_aware_utc_on_every_backend(session, user_id):
    five_hours_east = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5)))
    session.add(_todo(user_id, created_at=five_hours_east))
    session.commit()

    with Session(session.get_bind()) as fresh:
        stored = fresh.scalar(select(Todo).where(Todo.owner_id == user_id))

    assert stored.created_at == datetime(2030, 1, 1, 7, 0, 0, 123456, tzinfo=UTC)
    assert stored.created_at.tzinfo == UTC and stored.updated_at.tzinfo == UTC


def test_a_naive_timestamp_is_refused(session, user_id):
    session.add(_todo(user_id, created_at=datetime(2030, 1, 1)))

    with pytest.raises(StatementError, match="naive"):
        session.commit()


def test_the_version_starts_at_1_and_every_update_bumps_it(session, user_id):
    todo = _todo(user_id)
    session.add(todo)
    session.commit()
    first_update = todo.updated_at

    todo.completed = True
    session.commit()

    assert todo.version == 2
    assert todo.updated_at > first_update


def test_an_idempotency_key_is_unique_per_owner(session, user_id):
    session.add_all(
        [_todo(user_id, idempotency_key="k"), _todo("someone-else", idempotency_key="k")]
    )
    session.commit()

    session.add(_todo(user_id, idempotency_key="k"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_todos_without_an_idempotency_key_do_not_collide(session, user_id):
    session.add_all([_todo(user_id), _todo(user_id)])
    session.commit()

    assert len(session.scalars(select(Todo).where(Todo.owner_id == user_id)).all()) == 2
