"""What a client may send for a todo: body fields and the Idempotency-Key header, checked
the same way on every backend (422 problem otherwise)."""

import hashlib
import json
import re
from typing import Any

from service_kit.web.errors import Problem

from .models import TITLE_MAX_LENGTH

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def _title(value: Any) -> str:
    if not isinstance(value, str):
        raise Problem(422, "title must be a string")
    if not 1 <= len(value) <= TITLE_MAX_LENGTH or value.isspace():
        raise Problem(422, f"title must be 1 to {TITLE_MAX_LENGTH} characters, not only spaces")
    # PostgreSQL text cannot hold NUL, and no backend can store half a surrogate pair:
    # refusing both here makes SQLite and PostgreSQL answer alike.
    if "\x00" in value:
        raise Problem(422, "title must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Problem(422, "title must not contain unpaired surrogates") from None
    return value


def _completed(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Problem(422, "completed must be true or false")
    return value


def _order(value: Any) -> int:
    # bool is an int in Python, but `true` is no order.
    if isinstance(value, bool) or not isinstance(value, int) or not INT32_MIN <= value <= INT32_MAX:
        raise Problem(422, f"order must be a whole number from {INT32_MIN} to {INT32_MAX}")
    return value


_FIELDS = {"title": _title, "completed": _completed, "order": _order}


def parse_fields(body: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The checked fields of a todo body; 422 on an unknown, missing or invalid field, or none."""
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise Problem(422, f"unknown fields: {', '.join(unknown)}")
    missing = [name for name in required if name not in body]
    if missing:
        raise Problem(422, f"missing fields: {', '.join(missing)}")
    if not body:
        raise Problem(422, f"give at least one of {', '.join(_FIELDS)}")
    return {name: check(body[name]) for name, check in _FIELDS.items() if name in body}


def parse_idempotency_key(raw: str | None) -> str | None:
    if raw is not None and not _IDEMPOTENCY_KEY.fullmatch(raw):
        raise Problem(422, "Idempotency-Key must be 1 to 255 printable ASCII characters")
    return raw


def fingerprint(body: dict[str, Any]) -> str:
    """The same JSON object gives the same hash, whatever its key order and spacing."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
