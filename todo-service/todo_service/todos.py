"""One owner's todos: created (idempotently), read, changed under optimistic concurrency
(the version is the ETag), and deleted."""

import hashlib
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import ETags

from service_kit.web.errors import Problem

from .fields import INT32_MAX
from .models import Todo

# The API's field names, as columns.
_COLUMNS = {"title": "title", "completed": "completed", "order": "position"}
# Without If-Match the client set no precondition: losing a race to another writer is retried.
UPDATE_ATTEMPTS = 3


def get(session: Session, owner_id: str, todo_id: int) -> Todo:
    """The owner's todo; 404 when it does not exist or belongs to someone else (same answer)."""
    todo = None
    if 0 < todo_id <= INT32_MAX:
        todo = session.scalar(select(Todo).where(Todo.id == todo_id, Todo.owner_id == owner_id))
    if todo is None:
        raise Problem(404, f"todo {todo_id} not found")
    return todo


def _by_key(session: Session, owner_id: str, key: str) -> Todo | None:
    return session.scalar(
        select(Todo).where(Todo.owner_id == owner_id, Todo.idempotency_key == key)
    )


def _claim_key(session: Session, owner_id: str, key: str) -> None:
    """Holds the owner's key until this transaction ends; 409 while another request holds it.

    On PostgreSQL, a transaction-scoped advisory lock on (owner, key): a retry that arrives
    while the first request is still running learns so at once, instead of queueing behind
    it. SQLite runs one write at a time; there the unique constraint settles a race.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{owner_id}\x00{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    if not session.scalar(select(func.pg_try_advisory_xact_lock(lock_id))):
        raise Problem(
            409, "a request with this Idempotency-Key is still in progress", {"Retry-After": "1"}
        )


def _replay(todo: Todo, body_hash: str | None) -> Todo:
    if todo.idempotency_fingerprint != body_hash:
        raise Problem(422, "this Idempotency-Key was already used with a different body")
    return todo


def _end_position(session: Session, owner_id: str) -> int:
    last = session.scalar(select(func.max(Todo.position)).where(Todo.owner_id == owner_id))
    if last == INT32_MAX:
        raise Problem(409, "no order is left after the last todo; give this todo an order")
    return 1 if last is None else last + 1


def create(
    session: Session, owner_id: str, fields: dict[str, Any], key: str | None, body_hash: str | None
) -> Todo:
    """A new todo at `order` or at the end; with an idempotency key already used, the todo it
    made (422 if the body differs); 409 while a request with the same key is in flight."""
    if key is not None:
        _claim_key(session, owner_id, key)
        if (earlier := _by_key(session, owner_id, key)) is not None:
            return _replay(earlier, body_hash)
    todo = Todo(
        owner_id=owner_id,
        title=fields["title"],
        completed=fields.get("completed", False),
        position=fields["order"] if "order" in fields else _end_position(session, owner_id),
        idempotency_key=key,
        idempotency_fingerprint=body_hash,
    )
    session.add(todo)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent request with the same key inserted first: answer with its todo.
        session.rollback()
        earlier = None if key is None else _by_key(session, owner_id, key)
        if earlier is None:
            raise
        return _replay(earlier, body_hash)
    return todo


def _require_match(todo: Todo, if_match: ETags | None) -> None:
    if if_match is not None and not if_match.contains(str(todo.version)):
        raise Problem(412, "If-Match does not match the todo's current ETag")


def apply_changes(
    session: Session, todo: Todo, changes: dict[str, Any], if_match: ETags | None
) -> bool:
    """Write `changes` to a loaded todo; 412 when If-Match fails, before or at the write.

    False, with nothing written, when another writer changed the todo since it was read and
    no If-Match was given: the caller reads it again and retries.
    """
    _require_match(todo, if_match)
    for name, value in changes.items():
        setattr(todo, _COLUMNS[name], value)
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        if if_match is not None:
            raise Problem(412, "the todo was changed by another request") from None
        return False
    return True


def update(
    session: Session, owner_id: str, todo_id: int, changes: dict[str, Any], if_match: ETags | None
) -> Todo:
    """The owner's todo after `changes`; 404 when not theirs, 412 when If-Match fails."""
    for _ in range(UPDATE_ATTEMPTS):
        todo = get(session, owner_id, todo_id)
        if apply_changes(session, todo, changes, if_match):
            return todo
    raise Problem(409, "the todo keeps changing; try again")


def delete_one(session: Session, owner_id: str, todo_id: int, if_match: ETags | None) -> None:
    """Deletes the owner's todo; 404 when not theirs, 412 when If-Match fails."""
    todo = get(session, owner_id, todo_id)
    _require_match(todo, if_match)
    query = delete(Todo).where(Todo.id == todo.id, Todo.owner_id == owner_id)
    if if_match is not None:
        # Only the version that matched: a write since then makes this a 412, not a lost update.
        query = query.where(Todo.version == todo.version)
    deleted = session.execute(query, execution_options={"synchronize_session": False}).rowcount
    session.commit()
    if if_match is not None and not deleted:
        raise Problem(412, "the todo was changed by another request")


def delete_all(session: Session, owner_id: str, completed_only: bool) -> None:
    """Deletes every todo of the owner, or only the completed ones."""
    query = delete(Todo).where(Todo.owner_id == owner_id)
    if completed_only:
        query = query.where(Todo.completed.is_(True))
    session.execute(query, execution_options={"synchronize_session": False})
    session.commit()
