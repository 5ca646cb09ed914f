"""Keyset pages of one owner's todos in (position, id) order: no OFFSET, no count(*).

A page costs one index range scan on (owner_id, position, id) however many rows the table
holds; the cursor is the (position, id) of the last row served, so rows are never skipped
or repeated while the list is not reordered.
"""

import base64
import binascii
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from service_kit.web.errors import Problem

from .models import Todo

DEFAULT_LIMIT = 200
MAX_LIMIT = 500
_LIMIT = re.compile(r"[0-9]{1,4}")
_CURSOR = struct.Struct(">iq")  # position is a signed 32-bit integer, id a 64-bit one


@dataclass(frozen=True)
class Page:
    limit: int = DEFAULT_LIMIT
    completed: bool | None = None
    after: tuple[int, int] | None = None


def parse_completed(raw: str | None) -> bool | None:
    """The `completed` query flag: None when absent; 422 unless exactly "true" or "false"."""
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise Problem(422, "completed must be true or false")
    return raw == "true"


def parse_page(args: Mapping[str, str]) -> Page:
    """The page a query string asks for (limit, completed, after); 422 when any is invalid."""
    limit = args.get("limit")
    if limit is not None and not (_LIMIT.fullmatch(limit) and 1 <= int(limit) <= MAX_LIMIT):
        raise Problem(422, f"limit must be a whole number from 1 to {MAX_LIMIT}")
    after = args.get("after")
    return Page(
        limit=DEFAULT_LIMIT if limit is None else int(limit),
        completed=parse_completed(args.get("completed")),
        after=None if after is None else decode_cursor(after),
    )


def _cursor(position: int, todo_id: int) -> str:
    return base64.urlsafe_b64encode(_CURSOR.pack(position, todo_id)).decode()


def encode_cursor(todo: Todo) -> str:
    return _cursor(todo.position, todo.id)


def decode_cursor(raw: str) -> tuple[int, int]:
    """(position, id) of a cursor this service wrote; 422 for anything else."""
    try:
        position, todo_id = _CURSOR.unpack(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (UnicodeEncodeError, binascii.Error, struct.error):
        position, todo_id = None, None
    if position is None or _cursor(position, todo_id) != raw:
        raise Problem(422, "after must be a cursor from a next link")
    return position, todo_id


def page_query(owner_id: str, page: Page) -> Select:
    """One row more than the page holds: its presence says whether a next page exists."""
    query = select(Todo).where(Todo.owner_id == owner_id)
    if page.completed is not None:
        query = query.where(Todo.completed == page.completed)
    if page.after is not None:
        # A row-value comparison is one index range condition on both PostgreSQL and SQLite,
        # where the equivalent OR of two conditions would not be.
        query = query.where(tuple_(Todo.position, Todo.id) > tuple_(*page.after))
    return query.order_by(Todo.position, Todo.id).limit(page.limit + 1)


def fetch_page(session: Session, owner_id: str, page: Page) -> tuple[list[Todo], str | None]:
    """The page's todos and the cursor of the next page (None on the last page)."""
    rows = list(session.scalars(page_query(owner_id, page)))
    if len(rows) <= page.limit:
        return rows, None
    return rows[: page.limit], encode_cursor(rows[page.limit - 1])


def next_query(page: Page, cursor: str) -> dict[str, str | int]:
    """The query string of the next page: the same filter and limit, after `cursor`."""
    query: dict[str, str | int] = {"limit": page.limit, "after": cursor}
    if page.completed is not None:
        query["completed"] = "true" if page.completed else "false"
    return query
