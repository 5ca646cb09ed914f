"""What a client may send: every bad body is a problem+json, stored titles come back verbatim."""

import json

import pytest

PROBLEM = "application/problem+json"

INVALID_NEW_TODOS = {
    "empty title": {"title": ""},
    "whitespace title": {"title": " \t\n\u3000"},
    "501 characters": {"title": "x" * 501},
    "NUL in title": {"title": "a\x00b"},
    "number title": {"title": 5},
    "null title": {"title": None},
    "no title": {"completed": True},
    "empty object": {},
    "string completed": {"title": "t", "completed": "true"},
    "number completed": {"title": "t", "completed": 1},
    "null completed": {"title": "t", "completed": None},
    "boolean order": {"title": "t", "order": True},
    "fractional order": {"title": "t", "order": 1.5},
    "string order": {"title": "t", "order": "3"},
    "order above int32": {"title": "t", "order": 2**31},
    "order below int32": {"title": "t", "order": -(2**31) - 1},
    "owner in the body": {"title": "t", "owner_id": "someone-else"},
    "id in the body": {"title": "t", "id": 1},
}

ROUND_TRIP_TITLES = [
    "😀 emoji 👨‍👩‍👧 with a zero-width joiner",
    "עברית מימין לשמאל \u202e override",
    "quotes \"double\" 'single' `back` \\ backslash",
    "<script>alert('x')</script> &amp;",
    "  leading and trailing spaces  ",
    "tab\tnew line\ncarriage return\r",
    "e\u0301 combining and \u00e9 precomposed",
    "\u200b zero width space",
    "🙂" * 500,
]


def _assert_problem(response, status: int) -> None:
    assert (response.status_code, response.mimetype) == (status, PROBLEM), response.data
    assert response.json["status"] == status
    assert {"type", "title", "detail"} <= set(response.json)


@pytest.mark.parametrize("body", INVALID_NEW_TODOS.values(), ids=INVALID_NEW_TODOS.keys())
def test_an_invalid_new_todo_is_422_and_nothing_is_stored(client, auth, body):
    _assert_problem(client.post("/todos", json=body, headers=auth), 422)
    assert client.get("/todos", headers=auth).json == []


def test_a_title_with_an_unpaired_surrogate_is_422(client, auth):
    body = '{"title": "half a pair \\ud83d"}'

    response = client.post("/todos", data=body, content_type="application/json", headers=auth)

    _assert_problem(response, 422)


def test_a_title_of_500_characters_is_accepted(create):
    assert create("x" * 500)["title"] == "x" * 500


@pytest.mark.parametrize("title", ROUND_TRIP_TITLES)
def test_a_title_comes_back_exactly_as_sent(client, auth, create, title):
    todo = create(title)

    stored = client.get(f"/todos/{todo['id']}", headers=auth).json["title"]
    assert stored.encode("utf-8") == todo["title"].encode("utf-8") == title.encode("utf-8")


def test_malformed_json_is_400(client, auth):
    response = client.post(
        "/todos", data='{"title": "unterminated', content_type="application/json", headers=auth
    )

    _assert_problem(response, 400)


def test_an_empty_json_body_is_400(client, auth):
    _assert_problem(client.post("/todos", content_type="application/json", headers=auth), 400)


def test_a_missing_body_is_415(client, auth):
    _assert_problem(client.post("/todos", headers=auth), 415)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415(client, auth, content_type):
    response = client.post(
        "/todos", data=json.dumps({"title": "t"}), content_type=content_type, headers=auth
    )

    _assert_problem(response, 415)


def test_a_json_array_is_422(client, auth):
    _assert_problem(client.post("/todos", json=[{"title": "t"}], headers=auth), 422)


def test_a_body_over_64_kib_is_413(client, auth):
    response = client.post("/todos", json={"title": "x" * 70_000}, headers=auth)

    _assert_problem(response, 413)


@pytest.mark.parametrize(
    "changes",
    [{}, {"title": ""}, {"title": "   "}, {"completed": "false"}, {"order": False}, {"due": 1}],
    ids=["nothing", "empty title", "blank title", "string completed", "bool order", "unknown"],
)
def test_an_invalid_change_is_422_and_the_todo_is_unchanged(client, auth, create, changes):
    todo = create("unchanged")

    _assert_problem(client.patch(f"/todos/{todo['id']}", json=changes, headers=auth), 422)
    assert client.get(f"/todos/{todo['id']}", headers=auth).json == todo


def test_a_change_that_is_not_json_is_415(client, auth, create):
    todo = create()

    response = client.patch(f"/todos/{todo['id']}", data="title=x", headers=auth)

    _assert_problem(response, 415)


@pytest.mark.parametrize(
    "key", ["", "k" * 256, "caf\u00e9", "tab\there"], ids=["empty", "256", "latin-1", "control"]
)
def test_an_invalid_idempotency_key_is_422(client, auth, key):
    response = client.post("/todos", json={"title": "t"}, headers={**auth, "Idempotency-Key": key})

    _assert_problem(response, 422)
    assert client.get("/todos", headers=auth).json == []


def test_an_idempotency_key_of_255_printable_characters_is_accepted(client, auth):
    key = ("a-Z_0.9 ~!" * 26)[:255]

    response = client.post("/todos", json={"title": "t"}, headers={**auth, "Idempotency-Key": key})

    assert response.status_code == 201
