"""The todo API: one Blueprint of thin views, every one behind a user token (owner = its sub)."""

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for
from werkzeug.datastructures import ETags

from service_kit import db
from service_kit.tokens.auth import require_user
from service_kit.web.errors import Problem, json_object

from . import fields, pagination, todos
from .models import Todo

bp = Blueprint("todos", __name__)

# Fits the owner column; faas issues str(user id), so anything else is not one of its tokens.
_OWNER_ID = re.compile(r"[\x21-\x7e]{1,64}")


def _owner() -> str:
    if not _OWNER_ID.fullmatch(g.user_id):
        raise Problem(403, "the token's subject is not a usable owner id")
    return g.user_id


def _if_match() -> ETags | None:
    return request.if_match if "If-Match" in request.headers else None


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _representation(todo: Todo) -> dict[str, Any]:
    return {
        "id": todo.id,
        "title": todo.title,
        "completed": todo.completed,
        "order": todo.position,
        "url": url_for("todos.get_todo", todo_id=todo.id, _external=True),
        "created_at": _timestamp(todo.created_at),
        "updated_at": _timestamp(todo.updated_at),
    }


def _todo_response(todo: Todo, status: int = 200) -> Response:
    response = jsonify(_representation(todo))
    response.status_code = status
    response.set_etag(str(todo.version))
    return response


@bp.get("/todos")
@require_user
def list_todos() -> Response:
    """200: a JSON array of one page of the caller's todos, ordered by (order, id).

    Query: completed=true|false filters; limit=1..500 (default 200); after=<cursor> continues
    where a `Link: <url>; rel="next"` header (sent only when more todos follow) pointed.
    Raises 422 on a bad limit, completed or after.
    """
    page = pagination.parse_page(request.args)
    page_todos, cursor = pagination.fetch_page(db.session(), _owner(), page)
    response = jsonify([_representation(todo) for todo in page_todos])
    if cursor is not None:
        next_url = url_for(
            "todos.list_todos", _external=True, **pagination.next_query(page, cursor)
        )
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.post("/todos")
@require_user
def create_todo() -> Response:
    """201: the new todo {title, completed?, order?}, with Location and ETag.

    Without order it goes to the end. With an Idempotency-Key already used by the caller,
    the same body answers the todo that key made (201, same Location) and another body 422;
    while a request with that key is still in flight, 409 with Retry-After. The key lives as
    long as that todo. Raises 415/400/422 on a bad body, 409 when no order is left after the
    last todo.
    """
    body = json_object()
    checked = fields.parse_fields(body, required=("title",))
    key = fields.parse_idempotency_key(request.headers.get("Idempotency-Key"))
    body_hash = None if key is None else fields.fingerprint(body)
    todo = todos.create(db.session(), _owner(), checked, key, body_hash)
    response = _todo_response(todo, 201)
    response.headers["Location"] = url_for("todos.get_todo", todo_id=todo.id, _external=True)
    return response


@bp.get("/todos/<int:todo_id>")
@require_user
def get_todo(todo_id: int) -> Response:
    """200: the caller's todo, with its ETag. Raises 404 when missing or someone else's."""
    return _todo_response(todos.get(db.session(), _owner(), todo_id))


@bp.patch("/todos/<int:todo_id>")
@require_user
def update_todo(todo_id: int) -> Response:
    """200: the todo after changing any of title, completed, order, with its new ETag.

    Raises 415/400/422 on a bad body (also an empty one), 404 when missing or someone
    else's, 412 when If-Match does not match the current ETag (nothing changes).
    """
    changes = fields.parse_fields(json_object())
    return _todo_response(todos.update(db.session(), _owner(), todo_id, changes, _if_match()))


@bp.delete("/todos/<int:todo_id>")
@require_user
def delete_todo(todo_id: int) -> Response:
    """204: the todo is gone. Raises 404 when missing or someone else's, 412 on a stale If-Match."""
    todos.delete_one(db.session(), _owner(), todo_id, _if_match())
    return Response(status=204)


@bp.delete("/todos")
@require_user
def delete_todos() -> Response:
    """204: with completed=true the caller's completed todos are gone; with completed=false or
    without it, all of the caller's todos (false is "not only the completed ones", not a
    filter for open ones). Raises 422 when completed is neither true nor false.
    """
    completed_only = pagination.parse_completed(request.args.get("completed")) is True
    todos.delete_all(db.session(), _owner(), completed_only)
    return Response(status=204)
