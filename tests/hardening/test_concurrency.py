"""Concurrency: 50 clients at once on the same todos lose nothing that was acknowledged."""

import random
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.api import PublicClient, registered_user

CLIENTS = 50


@pytest.fixture
def user(pg_stack) -> PublicClient:
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    return client


def clients_of(user: PublicClient) -> list[PublicClient]:
    """CLIENTS clients of the same user, each with its own connections."""
    clients = [PublicClient(user.base, timeout=30) for _ in range(CLIENTS)]
    for client in clients:
        client.token = user.token
    return clients


def run_all(work, clients: list[PublicClient]) -> list:
    """work(client) in every client at once; their results, in client order."""
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            return [result for results in pool.map(work, clients) for result in results]
    finally:
        for client in clients:
            client.http.close()


def create(user: PublicClient, title: str) -> dict:
    response = user.call("POST", "/api/todos", json={"title": title})
    assert response.status_code == 201, response.text
    return response.json()


def test_fifty_clients_editing_the_same_todos_with_if_match_lose_no_acknowledged_update(user):
    todos = [create(user, f"shared {n}") for n in range(3)]

    def edit(client: PublicClient) -> list[tuple[int, int, str, str]]:
        edits = []
        todo = todos[clients.index(client) % len(todos)]
        for attempt in range(2):
            path = f"/api/todos/{todo['id']}"
            etag = client.call("GET", path).headers["ETag"]
            title = f"edit {secrets.token_hex(4)} {attempt}"
            response = client.call("PATCH", path, json={"title": title}, headers={"If-Match": etag})
            edits.append((todo["id"], response.status_code, response.headers.get("ETag"), title))
        return edits

    clients = clients_of(user)
    edits = run_all(edit, clients)

    assert {status for _, status, _, _ in edits} <= {200, 412}
    for todo in todos:
        acknowledged = [(etag, title) for id_, status, etag, title in edits if id_ == todo["id"]]
        acknowledged = [(etag, title) for etag, title in acknowledged if etag is not None]
        # Never empty: were every PATCH of a todo refused, its version never changed, and the
        # If-Match of the first one matched.
        etags = [etag for etag, _ in acknowledged]
        assert len(etags) == len(set(etags)), "two acknowledged updates of one version"
        final = user.call("GET", f"/api/todos/{todo['id']}")
        # The version behind the ETag only grows: the last acknowledged update is the newest one.
        last_etag, last_title = max(acknowledged, key=lambda pair: int(pair[0].strip('W/"')))
        assert (final.headers["ETag"], final.json()["title"]) == (last_etag, last_title)
    assert any(status == 200 for _, status, _, _ in edits)


def test_fifty_concurrent_creates_with_distinct_keys_make_exactly_fifty_todos(user):
    keys = [secrets.token_hex(8) for _ in range(CLIENTS)]

    def create_keyed(client: PublicClient) -> list[tuple[int, int]]:
        key = keys[clients.index(client)]
        headers = {"Idempotency-Key": key}
        response = client.call("POST", "/api/todos", json={"title": key}, headers=headers)
        return [(response.status_code, response.json().get("id"))]

    clients = clients_of(user)
    first = run_all(create_keyed, clients)
    replayed = run_all(create_keyed, clients)

    assert [status for status, _ in first] == [201] * CLIENTS
    listing = user.call("GET", "/api/todos?limit=500").json()
    assert len(listing) == CLIENTS
    assert {todo["title"] for todo in listing} == set(keys)
    # Sent again at once with the same keys: the first results, no new todos.
    assert [todo_id for _, todo_id in replayed] == [todo_id for _, todo_id in first]
    assert len(user.call("GET", "/api/todos?limit=500").json()) == CLIENTS


def test_concurrent_deletes_of_the_same_todos_never_500(user):
    ids = [create(user, f"doomed {n}")["id"] for n in range(10)]

    def delete(client: PublicClient) -> list[int]:
        paths = [f"/api/todos/{todo_id}" for todo_id in random.sample(ids, len(ids))]
        return [client.call("DELETE", path).status_code for path in [*paths, "/api/todos"]]

    statuses = run_all(delete, clients_of(user)[:20])

    assert set(statuses) <= {204, 404}
    assert user.call("GET", "/api/todos").json() == []
