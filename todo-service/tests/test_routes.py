"""Each endpoint of the todo API, as faas calls it: answers, headers, order, deletion."""

from datetime import UTC, datetime

TODO_KEYS = {"id", "title", "completed", "order", "url", "created_at", "updated_at"}


def _when(timestamp: str) -> datetime:
    assert timestamp.endswith("Z"), timestamp
    return datetime.fromisoformat(timestamp)


def test_create_todo_answers_201_with_the_todo_its_location_and_etag(client, auth):
    response = client.post("/todos", json={"title": "Buy milk"}, headers=auth)

    assert response.status_code == 201
    todo = response.json
    assert set(todo) == TODO_KEYS
    assert (todo["title"], todo["completed"]) == ("Buy milk", False)
    assert todo["url"] == f"http://localhost/todos/{todo['id']}"
    assert response.headers["Location"] == todo["url"]
    assert response.headers["ETag"] == '"1"'
    assert _when(todo["created_at"]) == _when(todo["updated_at"])
    assert abs((datetime.now(UTC) - _when(todo["created_at"])).total_seconds()) < 60


def test_create_todo_keeps_the_given_completed_and_order(create):
    todo = create("done already", completed=True, order=-7)

    assert (todo["completed"], todo["order"]) == (True, -7)


def test_get_todo_answers_the_todo_with_its_etag(client, auth, create):
    created = create("read me")

    response = client.get(f"/todos/{created['id']}", headers=auth)

    assert response.status_code == 200
    assert response.json == created
    assert response.headers["ETag"] == '"1"'


def test_list_todos_answers_the_callers_todos_as_an_array_in_order(client, auth, create):
    todos = [create(f"todo {n}") for n in range(3)]

    response = client.get("/todos", headers=auth)

    assert response.status_code == 200
    assert response.json == todos
    assert "Link" not in response.headers


def test_list_todos_filters_by_completed(client, auth, create):
    done, open_ = create("done", completed=True), create("open")

    assert client.get("/todos?completed=true", headers=auth).json == [done]
    assert client.get("/todos?completed=false", headers=auth).json == [open_]


def test_list_todos_of_a_user_without_todos_is_an_empty_array(client, auth):
    response = client.get("/todos", headers=auth)

    assert (response.status_code, response.json) == (200, [])


def test_update_todo_changes_only_the_given_fields_and_bumps_the_etag(client, auth, create):
    created = create("write tests", order=5)

    response = client.patch(f"/todos/{created['id']}", json={"completed": True}, headers=auth)

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    updated = response.json
    assert updated["completed"] is True
    assert {k: updated[k] for k in ("id", "title", "order", "url", "created_at")} == {
        k: created[k] for k in ("id", "title", "order", "url", "created_at")
    }
    assert _when(updated["updated_at"]) > _when(created["updated_at"])
    assert client.get(f"/todos/{created['id']}", headers=auth).json == updated


def test_update_todo_changes_title_completed_and_order_at_once(client, auth, create):
    created = create("old")

    response = client.patch(
        f"/todos/{created['id']}",
        json={"title": "new", "completed": True, "order": 42},
        headers=auth,
    )

    assert (response.json["title"], response.json["completed"], response.json["order"]) == (
        "new",
        True,
        42,
    )


def test_a_change_to_the_same_values_keeps_the_etag_and_updated_at(client, auth, create):
    created = create("as is", completed=False)

    response = client.patch(
        f"/todos/{created['id']}", json={"title": "as is", "completed": False}, headers=auth
    )

    assert (response.status_code, response.headers["ETag"]) == (200, '"1"')
    assert response.json == created


def test_delete_todo_answers_204_and_the_todo_is_gone(client, auth, create):
    todo = create("short-lived")

    response = client.delete(f"/todos/{todo['id']}", headers=auth)

    assert (response.status_code, response.data) == (204, b"")
    assert client.get(f"/todos/{todo['id']}", headers=auth).status_code == 404
    assert client.delete(f"/todos/{todo['id']}", headers=auth).status_code == 404


def test_delete_todos_deletes_all_of_the_callers_todos(client, auth, create):
    create("open"), create("done", completed=True)

    response = client.delete("/todos", headers=auth)

    assert response.status_code == 204
    assert client.get("/todos", headers=auth).json == []


def test_delete_todos_with_completed_false_deletes_all_too(client, auth, create):
    create("open"), create("done", completed=True)

    assert client.delete("/todos?completed=false", headers=auth).status_code == 204
    assert client.get("/todos", headers=auth).json == []


def test_delete_todos_with_completed_true_deletes_only_the_completed(client, auth, create):
    create("done", completed=True)
    kept = create("open")

    assert client.delete("/todos?completed=true", headers=auth).status_code == 204
    assert client.get("/todos", headers=auth).json == [kept]


def test_delete_todos_with_a_bad_completed_is_422_and_deletes_nothing(client, auth, create):
    todo = create("kept")

    response = client.delete("/todos?completed=yes", headers=auth)

    assert (response.status_code, response.mimetype) == (422, "application/problem+json")
    assert client.get("/todos", headers=auth).json == [todo]


def test_a_new_todo_without_order_goes_to_the_end(client, auth, create):
    first = create("first", order=100)
    before_first = create("before first", order=-3)
    last = create("last")

    assert last["order"] == 101
    assert client.get("/todos", headers=auth).json == [before_first, first, last]


def test_the_first_todo_of_a_user_gets_order_1(create):
    assert create("first")["order"] == 1


def test_patching_order_reorders_the_list(client, auth, create):
    a, b, c = create("a"), create("b"), create("c")

    client.patch(f"/todos/{c['id']}", json={"order": 0}, headers=auth)

    assert [t["id"] for t in client.get("/todos", headers=auth).json] == [c["id"], a["id"], b["id"]]


def test_todos_of_equal_order_are_listed_by_id(client, auth, create):
    ids = [create(f"same {n}", order=3)["id"] for n in range(3)]

    assert [t["id"] for t in client.get("/todos", headers=auth).json] == sorted(ids)


def test_no_order_left_after_the_last_todo_is_409(client, auth, create):
    create("at the very end", order=2**31 - 1)

    response = client.post("/todos", json={"title": "after it"}, headers=auth)

    assert (response.status_code, response.mimetype) == (409, "application/problem+json")


def test_an_unknown_or_out_of_range_todo_id_is_404(client, auth):
    for path in ("/todos/2147483647", "/todos/99999999999999999999", "/todos/0", "/todos/abc"):
        response = client.get(path, headers=auth)
        assert (response.status_code, response.mimetype) == (404, "application/problem+json")


def test_a_method_the_route_does_not_allow_is_405_with_allow(client, auth, create):
    todo = create()

    response = client.put(f"/todos/{todo['id']}", json={"title": "x"}, headers=auth)

    assert (response.status_code, response.mimetype) == (405, "application/problem+json")
    assert "PATCH" in response.headers["Allow"]
