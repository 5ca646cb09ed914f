"""Ownership, idempotent creation and optimistic concurrency, through the API and beneath it."""

import threading

import pytest
from sqlalchemy import event, func, insert, select, update
from werkzeug.datastructures import ETags

from service_kit import db
from service_kit.web.errors import Problem
from todo_service import todos
from todo_service.models import Todo


def _without_request_id(response) -> dict:
    return {k: v for k, v in response.json.items() if k != "request_id"}


def test_another_users_todo_is_404_exactly_like_a_missing_one(client, auth, as_user, create):
    todo = create("mine")
    other = as_user("someone-else")
    path = f"/todos/{todo['id']}"

    answers = [
        client.get(path, headers=other),
        client.patch(path, json={"title": "stolen"}, headers=other),
        client.delete(path, headers=other),
    ]
    client.delete(path, headers=auth)
    missing = client.get(path, headers=auth)

    assert missing.status_code == 404
    assert [(a.status_code, _without_request_id(a)) for a in answers] == [
        (404, _without_request_id(missing))
    ] * 3


def test_a_user_cannot_see_change_or_delete_another_users_todos(client, auth, as_user, create):
    todo = create("mine", order=3)
    other = as_user("someone-else")

    client.patch(f"/todos/{todo['id']}", json={"completed": True}, headers=other)
    client.delete(f"/todos/{todo['id']}", headers=other)
    client.delete("/todos", headers=other)

    assert todo not in client.get("/todos", headers=other).json
    assert client.get("/todos", headers=auth).json == [todo]
    assert client.get(f"/todos/{todo['id']}", headers=auth).headers["ETag"] == '"1"'


def test_the_same_idempotency_key_and_body_answer_the_first_result(client, auth):
    headers = {**auth, "Idempotency-Key": "create-1"}

    first = client.post("/todos", json={"title": "once", "order": 4}, headers=headers)
    again = client.post(
        "/todos",
        data='{ "order":4,  "title":"once"}',
        content_type="application/json",
        headers=headers,
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert client.get("/todos", headers=auth).json == [first.json]


def test_the_same_idempotency_key_with_another_body_is_422(client, auth):
    headers = {**auth, "Idempotency-Key": "create-1"}
    first = client.post("/todos", json={"title": "once"}, headers=headers)

    response = client.post("/todos", json={"title": "twice"}, headers=headers)

    assert (response.status_code, response.mimetype) == (422, "application/problem+json")
    assert client.get("/todos", headers=auth).json == [first.json]


def test_idempotency_keys_are_per_user(client, auth, as_user):
    body, key = {"title": "same"}, {"Idempotency-Key": "shared"}
    mine = client.post("/todos", json=body, headers={**auth, **key})
    theirs = client.post("/todos", json=body, headers={**as_user("someone-else"), **key})

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json["id"] != theirs.json["id"]


def test_concurrent_creates_with_one_idempotency_key_make_one_todo(app, auth, client):
    headers, start, answers = {**auth, "Idempotency-Key": "race"}, threading.Barrier(6), []

    def create() -> None:
        start.wait()
        answers.append(app.test_client().post("/todos", json={"title": "race"}, headers=headers))

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # 409: the request came while the first with its key was still in flight (PostgreSQL).
    assert {a.status_code for a in answers} <= {201, 409}
    created = [a for a in answers if a.status_code == 201]
    assert created
    assert len({a.headers["Location"] for a in created}) == 1
    assert len(client.get("/todos", headers=auth).json) == 1


def test_a_create_while_its_key_is_in_flight_is_409_on_postgresql(
    client, auth, session, user_id, backend
):
    headers = {**auth, "Idempotency-Key": "in flight"}
    todos._claim_key(session, user_id, "in flight")  # as the first request, still running
    during = client.post("/todos", json={"title": "t"}, headers=headers)
    session.rollback()  # the first request ends
    after = client.post("/todos", json={"title": "t"}, headers=headers)

    if backend == "postgresql":
        assert (during.status_code, during.headers["Retry-After"]) == (409, "1")
        assert during.mimetype == "application/problem+json"
    else:  # one writer at a time: nothing is ever in flight beside another write
        assert during.status_code == 201
    assert after.status_code == 201
    assert len(client.get("/todos", headers=auth).json) == 1


def test_an_insert_losing_the_idempotency_race_answers_the_winners_todo(session, user_id):
    def winner_commits_first(*_args) -> None:
        # Between this request's look-up of the key and its insert, another request commits.
        with db.engine().begin() as connection:
            connection.execute(
                insert(Todo).values(
                    owner_id=user_id,
                    title="race",
                    completed=False,
                    position=1,
                    version=1,
                    idempotency_key="k",
                    idempotency_fingerprint="f",
                )
            )

    event.listen(session, "before_flush", winner_commits_first, once=True)

    todo = todos.create(session, user_id, {"title": "race"}, "k", "f")

    rows = session.scalars(select(Todo).where(Todo.owner_id == user_id)).all()
    assert [row.id for row in rows] == [todo.id]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_stale_if_match_is_412_and_nothing_changes(client, auth, create, method):
    todo = create("v1")
    client.patch(f"/todos/{todo['id']}", json={"title": "v2"}, headers=auth)

    response = getattr(client, method)(
        f"/todos/{todo['id']}", json={"title": "v3"}, headers={**auth, "If-Match": '"1"'}
    )

    assert (response.status_code, response.mimetype) == (412, "application/problem+json")
    current = client.get(f"/todos/{todo['id']}", headers=auth)
    assert (current.json["title"], current.headers["ETag"]) == ("v2", '"2"')


@pytest.mark.parametrize("if_match", ['"1"', '"7", "1"', "*"])
def test_a_matching_if_match_lets_the_change_through(client, auth, create, if_match):
    todo = create()

    response = client.patch(
        f"/todos/{todo['id']}", json={"completed": True}, headers={**auth, "If-Match": if_match}
    )

    assert (response.status_code, response.headers["ETag"]) == (200, '"2"')


def test_a_weak_if_match_never_matches(client, auth, create):
    todo = create()

    response = client.delete(f"/todos/{todo['id']}", headers={**auth, "If-Match": 'W/"1"'})

    assert response.status_code == 412


def test_a_matching_if_match_deletes(client, auth, create):
    todo = create()

    response = client.delete(f"/todos/{todo['id']}", headers={**auth, "If-Match": '"1"'})

    assert response.status_code == 204
    assert client.get("/todos", headers=auth).json == []


def _bump_elsewhere(app, todo_id: int) -> None:
    """Another writer, on its own connection, changes the todo and commits."""
    with app.app_context(), db.engine().begin() as connection:
        connection.execute(
            update(Todo).where(Todo.id == todo_id).values(title="theirs", version=Todo.version + 1)
        )


def test_a_writer_that_wins_after_if_match_was_checked_makes_the_change_412(
    app, session, create, user_id
):
    todo = todos.get(session, user_id, create("mine")["id"])
    _bump_elsewhere(app, todo.id)

    with pytest.raises(Problem) as raised:
        todos.apply_changes(session, todo, {"title": "lost update"}, ETags(["1"]))

    assert raised.value.status == 412
    assert session.scalar(select(Todo.title).where(Todo.id == todo.id)) == "theirs"


def test_without_if_match_a_lost_race_writes_nothing_and_asks_for_a_retry(
    app, session, create, user_id
):
    todo = todos.get(session, user_id, create("mine")["id"])
    _bump_elsewhere(app, todo.id)

    assert todos.apply_changes(session, todo, {"title": "retry me"}, None) is False
    assert session.scalar(select(func.count()).where(Todo.title == "retry me")) == 0
    retried = todos.update(session, user_id, todo.id, {"title": "retry me"}, None)
    assert (retried.title, retried.version) == ("retry me", 3)
