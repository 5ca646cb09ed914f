"""Keyset pages: every todo exactly once, a next link only when more follow, one index scan."""

import math
import re

import pytest
from sqlalchemy import insert, text

from todo_service import pagination
from todo_service.models import Todo

NEXT = re.compile(r'<([^>]+)>; rel="next"')


def _walk(client, auth, url: str) -> list[list[dict]]:
    """Every page from `url` on, following next links; the last page must have none."""
    pages = []
    while url is not None:
        response = client.get(url, headers=auth)
        assert response.status_code == 200, response.json
        pages.append(response.json)
        link = response.headers.get("Link")
        url = NEXT.fullmatch(link).group(1) if link else None
        assert url is None or url.startswith("http://localhost/todos?")
        assert len(pages) <= 100, "pages never end"
    return pages


def _add_todos(session, owner_id: str, count: int, **values) -> None:
    rows = [
        {
            "owner_id": owner_id,
            "title": f"t{n}",
            "completed": n % 3 == 0,
            "position": n % 4,
            "version": 1,
            **values,
        }
        for n in range(count)
    ]
    session.execute(insert(Todo), rows)
    session.commit()


@pytest.mark.parametrize("limit", [1, 2, 7])
def test_pages_hold_every_todo_exactly_once_in_order(client, auth, session, user_id, limit):
    _add_todos(session, user_id, 15)
    everything = client.get("/todos", headers=auth).json

    pages = _walk(client, auth, f"/todos?limit={limit}")

    assert [todo for page in pages for todo in page] == everything
    assert len(everything) == 15
    assert [(t["order"], t["id"]) for t in everything] == sorted(
        (t["order"], t["id"]) for t in everything
    )
    assert len(pages) == math.ceil(15 / limit)
    assert all(len(page) == limit for page in pages[:-1])


@pytest.mark.parametrize("completed", ["true", "false"])
def test_pages_of_a_filter_hold_exactly_the_matching_todos(
    client, auth, session, user_id, completed
):
    _add_todos(session, user_id, 15)
    matching = [
        t
        for t in client.get("/todos", headers=auth).json
        if str(t["completed"]).lower() == completed
    ]

    pages = _walk(client, auth, f"/todos?completed={completed}&limit=2")

    assert [todo for page in pages for todo in page] == matching
    assert len(pages) == math.ceil(len(matching) / 2)


def test_a_last_page_that_is_exactly_full_has_no_next_link(client, auth, session, user_id):
    _add_todos(session, user_id, 14)

    assert [len(page) for page in _walk(client, auth, "/todos?limit=7")] == [7, 7]


def test_without_limit_a_page_holds_200_todos(client, auth, session, user_id):
    _add_todos(session, user_id, 201)

    response = client.get("/todos", headers=auth)

    assert len(response.json) == 200
    assert "limit=200" in response.headers["Link"]
    assert len(client.get("/todos?limit=500", headers=auth).json) == 201


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=-1",
        "limit=",
        "limit=1.5",
        "completed=yes",
        "completed=True",
        "completed=1",
        "after=garbage",
        "after=",
        "after=%F0%9F%99%82",
        "after=AAAAAAAAAAAAAAAA%3D%3D",
    ],
)
def test_a_bad_page_query_is_422(client, auth, query):
    response = client.get(f"/todos?{query}", headers=auth)

    assert (response.status_code, response.mimetype) == (422, "application/problem+json")


def test_a_cursor_round_trips_through_its_opaque_form():
    todo = Todo(position=-(2**31), id=2**31 - 1)

    cursor = pagination.encode_cursor(todo)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert pagination.decode_cursor(cursor) == (-(2**31), 2**31 - 1)


# How each backend's plan shows the keyset condition as part of the index range.
RANGE_ON_INDEX = {
    "postgresql": 'ROW("position", id) > ROW(1, 500)',
    "sqlite": "(owner_id=? AND position>?)",
}


@pytest.mark.parametrize("completed", [None, True], ids=["all", "completed"])
def test_a_page_is_one_range_scan_of_the_owner_position_id_index(
    session, backend, user_id, completed
):
    # Other owners make the table larger than the page's owner; the page must not care.
    for owner in range(20):
        _add_todos(session, f"{user_id}-other-{owner}", 50)
    _add_todos(session, user_id, 1000)
    session.execute(text("ANALYZE todos" if backend == "postgresql" else "ANALYZE"))
    page = pagination.Page(limit=20, completed=completed, after=(1, 500))
    query = pagination.page_query(user_id, page).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )

    explain = "EXPLAIN" if backend == "postgresql" else "EXPLAIN QUERY PLAN"
    plan = "\n".join(str(row[-1]) for row in session.execute(text(f"{explain} {query}")))

    assert "ix_todos_owner_position_id" in plan, plan
    assert RANGE_ON_INDEX[backend] in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan
