"""gateway/proxy.py: /api/todos forwarded to the real todo-service; its failures fast and honest."""

import secrets
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support.processes import free_port, wait_until
from support.serving import serve_in_background
from support.wsgi import WsgiServer

PASSWORD = "correct horse battery staple"


def create(client: FlaskClient, title: str, **headers: str):
    response = client.post("/api/todos", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.json
    return response


def path_of(url: str) -> str:
    return url.removeprefix("http://localhost")


def test_a_created_todo_has_public_urls_under_api_todos(logged_in: FlaskClient):
    response = create(logged_in, "buy milk")

    todo = response.json
    assert response.headers["Location"] == f"http://localhost/api/todos/{todo['id']}"
    assert todo["url"] == response.headers["Location"]
    assert response.headers["ETag"]
    assert response.headers["Content-Type"] == "application/json"
    assert logged_in.get(path_of(todo["url"])).json == todo


def test_client_sent_forwarding_headers_are_never_passed_on(logged_in: FlaskClient):
    spoofed = {
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Prefix": "/elsewhere",
        "X-Forwarded-Port": "8443",
    }

    response = create(logged_in, "spoof", **spoofed)

    assert response.json["url"].startswith("http://localhost/api/todos/")


def test_urls_are_built_from_public_url_never_from_the_requests_host(make_gateway, bearer: dict):
    app = make_gateway(PUBLIC_URL="https://todos.example:8443/app")

    response = app.test_client().post(
        "/api/todos", json={"title": "public"}, headers=bearer, base_url="http://evil.example"
    )

    assert response.status_code == 201
    assert (
        response.headers["Location"]
        == f"https://todos.example:8443/app/api/todos/{response.json['id']}"
    )
    assert response.json["url"] == response.headers["Location"]


def test_the_list_pages_with_a_public_next_link(logged_in: FlaskClient):
    for title in ("one", "two", "three"):
        create(logged_in, title)

    first = logged_in.get("/api/todos?limit=2")
    link = first.headers["Link"]
    next_url = link[link.index("<") + 1 : link.index(">")]
    second = logged_in.get(path_of(next_url))

    assert [todo["title"] for todo in first.json] == ["one", "two"]
    assert next_url.startswith("http://localhost/api/todos?") and 'rel="next"' in link
    assert [todo["title"] for todo in second.json] == ["three"]
    assert "Link" not in second.headers


def test_query_filters_and_delete_all_completed_pass_through(logged_in: FlaskClient):
    done = create(logged_in, "done").json
    create(logged_in, "open")
    logged_in.patch(path_of(done["url"]), json={"completed": True})

    completed = logged_in.get("/api/todos?completed=true").json
    cleared = logged_in.delete("/api/todos?completed=true")

    assert [todo["title"] for todo in completed] == ["done"]
    assert cleared.status_code == 204
    assert [todo["title"] for todo in logged_in.get("/api/todos").json] == ["open"]


def test_patch_with_a_stale_if_match_gets_412(logged_in: FlaskClient):
    created = create(logged_in, "draft")
    url = path_of(created.json["url"])
    stale = created.headers["ETag"]

    changed = logged_in.patch(url, json={"title": "final"}, headers={"If-Match": stale})
    conflict = logged_in.patch(url, json={"title": "lost"}, headers={"If-Match": stale})

    assert changed.status_code == 200 and changed.headers["ETag"] != stale
    assert conflict.status_code == 412
    assert conflict.headers["Content-Type"] == "application/problem+json"
    assert logged_in.get(url).json["title"] == "final"


def test_an_idempotency_key_makes_a_retry_return_the_first_todo(logged_in: FlaskClient):
    key = secrets.token_hex(8)

    first = create(logged_in, "once", **{"Idempotency-Key": key})
    retry = create(logged_in, "once", **{"Idempotency-Key": key})

    assert retry.json["id"] == first.json["id"]
    assert retry.headers["Location"] == first.headers["Location"]
    assert [todo["title"] for todo in logged_in.get("/api/todos").json] == ["once"]


def test_delete_answers_204_and_the_todo_is_gone(logged_in: FlaskClient):
    url = path_of(create(logged_in, "temporary").json["url"])

    deleted = logged_in.delete(url)

    assert deleted.status_code == 204 and deleted.data == b""
    assert "Content-Type" not in deleted.headers
    assert logged_in.get(url).status_code == 404


def test_another_users_todo_is_404_and_the_request_id_travels(
    logged_in: FlaskClient, gateway: Flask, bearer: dict
):
    mine = path_of(create(logged_in, "private").json["url"])
    # `bearer` is the same account: make a second one.
    stranger = gateway.test_client()
    username = f"other_{secrets.token_hex(4)}"
    stranger.post("/api/register", json={"username": username, "password": PASSWORD})
    token = stranger.post("/api/token", json={"username": username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json['access_token']}", "X-Request-ID": "trace-42"}

    response = stranger.get(mine, headers=headers)

    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-42"
    assert response.json["request_id"] == "trace-42"  # as todo-service logged it


def test_a_todo_body_must_be_json(gateway: Flask, bearer: dict):
    response = gateway.test_client().post(
        "/api/todos",
        data="title=x",
        headers=bearer,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert response.headers["Content-Type"] == "application/problem+json"


class KeepAliveTodos(ThreadingHTTPServer):
    """A todo-service that keeps connections open (werkzeug's test server closes each one) and
    counts the TCP connections its requests came on."""

    daemon_threads = True

    def __init__(self):
        self.connections: Counter[int] = Counter()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(handler) -> None:  # noqa: N805 (the server is `self` here)
                self.connections[handler.client_address[1]] += 1  # a client port per connection
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", "2")
                handler.end_headers()
                handler.wfile.write(b"[]")

            def log_message(self, *_args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        serve_in_background(self)


def test_todo_calls_reuse_one_kept_alive_connection(make_gateway, bearer: dict):
    server = KeepAliveTodos()
    try:
        app = make_gateway(TODO_SERVICE_URL=f"http://127.0.0.1:{server.server_address[1]}")
        client = app.test_client()
        for _ in range(5):
            assert client.get("/api/todos", headers=bearer).status_code == 200
    finally:
        server.shutdown()
        server.server_close()

    assert list(server.connections.values()) == [5]
    assert app.extensions["services"].todo.connections_opened == 1


def test_todo_services_401_for_a_session_revoked_meanwhile_reaches_the_client_as_it_is(
    make_gateway, gateway: Flask, account: dict
):
    # An instance that trusts its session checks for a minute: todo-service knows better sooner.
    trusting = make_gateway(SESSION_CHECK_CACHE_SECONDS="60").test_client()
    issued = trusting.post(
        "/api/token", json={"username": account["username"], "password": PASSWORD}
    )
    bearer = {"Authorization": f"Bearer {issued.json['access_token']}"}
    assert gateway.test_client().post("/api/logout", headers=bearer).status_code == 204

    def refused():
        response = trusting.get("/api/todos", headers=bearer)
        return response if response.status_code == 401 else None

    response = wait_until(refused, timeout=5, what="todo-service refusing the revoked session")
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert trusting.get("/api/me", headers=bearer).status_code == 200  # its own check, cached


# todo-service down, hanging, or dropping connections ----------------------------------------


def test_todo_service_down_gives_a_fast_503_problem(make_gateway, bearer: dict):
    app = make_gateway(TODO_SERVICE_URL=f"http://127.0.0.1:{free_port()}")

    started = time.monotonic()
    response = app.test_client().get("/api/todos", headers=bearer)

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert "todo-service" in response.json["detail"]
    assert time.monotonic() - started < 2


@pytest.fixture
def hanging_service() -> Iterator[WsgiServer]:
    """An HTTP server that accepts requests and never answers (until the test ends)."""
    release = threading.Event()

    def hang(_environ, start_response):
        release.wait(10)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"[]"]

    with WsgiServer(hang) as server:
        yield server
        release.set()


def test_a_hanging_todo_service_gives_504_after_the_read_timeout(
    make_gateway, hanging_service: WsgiServer, bearer: dict
):
    app = make_gateway(TODO_SERVICE_URL=hanging_service.url, SERVICE_TIMEOUT_SECONDS="1")

    started = time.monotonic()
    response = app.test_client().get("/api/todos", headers=bearer)

    assert response.status_code == 504
    assert response.headers["Content-Type"] == "application/problem+json"
    assert 1 <= time.monotonic() - started < 1.9  # one read timeout: a timeout is never retried


class DroppingServer(socketserver.ThreadingTCPServer):
    """Reads each request, then closes the connection without answering; counts requests."""

    daemon_threads = True

    def __init__(self):
        self.requests_seen = 0

        class Handler(socketserver.BaseRequestHandler):
            def handle(handler) -> None:  # noqa: N805 (the server is `self` here)
                handler.request.settimeout(2)
                try:
                    handler.request.recv(65536)
                except OSError:
                    return
                self.requests_seen += 1
                handler.request.shutdown(socket.SHUT_RDWR)

        super().__init__(("127.0.0.1", 0), Handler)
        serve_in_background(self)


@pytest.mark.parametrize(
    ("method", "path", "attempts"),
    [("GET", "/api/todos/1", 2), ("POST", "/api/todos", 1), ("PATCH", "/api/todos/1", 1)],
)
def test_only_reads_are_sent_again_after_a_dropped_connection(
    make_gateway, bearer: dict, method: str, path: str, attempts: int
):
    server = DroppingServer()
    body = None if method == "GET" else {"title": "x"}
    try:
        app = make_gateway(TODO_SERVICE_URL=f"http://127.0.0.1:{server.server_address[1]}")
        response = app.test_client().open(path, method=method, json=body, headers=bearer)
    finally:
        server.shutdown()
        server.server_close()

    assert response.status_code == 503
    assert server.requests_seen == attempts
