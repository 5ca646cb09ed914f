"""Faults: a service or database that is down or hangs gets a fast, honest answer; only safe calls
are retried; a crash under load loses no acknowledged write; SIGTERM drains."""

import os
import random
import secrets
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import pytest
import requests

from support.api import PublicClient, new_username, registered_user
from support.databases import ADMIN_URL
from support.processes import free_port, wait_until
from support.serving import serve_in_background
from support.stack import start_stack

FAST = 3.0  # seconds: a dependency that is down is answered within this
READ_TIMEOUT = 2.5  # this stack's SERVICE_TIMEOUT_SECONDS
TODO_CALLS = (
    ("GET", "/api/todos", None),
    ("POST", "/api/todos", {"title": "lost"}),
    ("PATCH", "/api/todos/1", {"title": "lost"}),
    ("DELETE", "/api/todos/1", None),
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = {"SERVICE_TIMEOUT_SECONDS": str(READ_TIMEOUT)}
    with start_stack(tmp_path_factory.mktemp("faults"), "postgresql", env) as running:
        yield running


@pytest.fixture(scope="module")
def user(stack) -> PublicClient:
    client, _ = registered_user(stack.faas_url, bearer=True)
    return client


def timed(call, *args, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


def assert_unavailable(response: requests.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert seconds < FAST


@contextmanager
def out_of_service(stack, name: str):
    """The stack's `name` process stopped, its port free for a stand-in; restarted afterwards."""
    stack.stop(name)
    try:
        yield stack.ports[name]
    finally:
        stack.start(name)
        stack.wait_ready(name)


class Dropping:
    """A stand-in on `port` that reads each request, counts it, and closes without an answer."""

    def __init__(self, port: int):
        self.requests: list[tuple[str, str]] = []
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                head = b""
                while b"\r\n\r\n" not in head and (chunk := connection.recv(65536)):
                    head += chunk
                if head:
                    method, path, _ = head.split(b" ", 2)
                    self.requests.append((method.decode(), path.decode()))

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()


class TodosThatTakeTheirTime:
    """A stand-in todo-service: ready at once, answers GET /todos with [] after `delay` s."""

    def __init__(self, delay: float):
        self.received = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if not self.path.startswith("/readyz"):
                    fake.received.set()
                    time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"[]")

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        serve_in_background(self._server)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="class")
def todos_port(stack, user):
    """todo-service stopped for a whole class of tests (one restart), its port free."""
    with out_of_service(stack, "todos") as port:
        yield port


class TestTodoServiceOut:
    """todo-service gone, hanging or dropping connections, while faas stays up."""

    def test_a_stopped_todo_service_gives_503_problem_with_retry_after_fast(self, user, todos_port):
        for method, path, body in TODO_CALLS:
            assert_unavailable(*timed(user.call, method, path, json=body))

    def test_a_hanging_todo_service_gives_504_within_the_read_timeout_while_healthz_stays_fast(
        self, stack, user, todos_port
    ):
        # Accepts connections (the kernel does, into the backlog) and never answers.
        with socket.create_server(("127.0.0.1", todos_port), backlog=64):
            with ThreadPoolExecutor(max_workers=4) as pool:
                hanging = [
                    pool.submit(timed, user.call, method, path, json=body)
                    for method, path, body in TODO_CALLS
                ]
                while not all(call.done() for call in hanging):
                    _, seconds = timed(requests.get, f"{stack.faas_url}/healthz", timeout=5)
                    assert seconds < 1.0
                    time.sleep(0.2)
            for call in hanging:
                response, seconds = call.result()
                assert response.status_code == 504
                assert response.headers["Content-Type"] == "application/problem+json"
                # Not tried again: a second read timeout would double the wait.
                assert READ_TIMEOUT - 0.1 < seconds < 2 * READ_TIMEOUT - 0.5

    def test_only_safe_calls_are_retried(self, user, todos_port):
        dropping = Dropping(todos_port)
        try:
            for method, path, body in TODO_CALLS:
                dropping.requests.clear()
                assert_unavailable(*timed(user.call, method, path, json=body))
                tries = [seen for seen, _ in dropping.requests]
                assert tries == [method] * (len(tries) if method == "GET" else 1)
                assert 1 <= len(tries) <= 2
        finally:
            dropping.close()


@pytest.mark.parametrize("service", ["todos", "users"])
def test_an_unreachable_database_gives_503_problem_with_retry_after_fast(stack, user, service):
    name = stack.env[f"{service.upper()}_DATABASE_URL"].rsplit("/", 1)[1]
    admin = psycopg2.connect(ADMIN_URL, connect_timeout=3)
    admin.autocommit = True
    login = PublicClient(stack.faas_url)
    username = new_username()
    assert login.register(username).status_code == 201
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
        if service == "todos":
            assert_unavailable(*timed(user.call, "GET", "/api/todos"))
            assert_unavailable(*timed(user.call, "POST", "/api/todos", json={"title": "lost"}))
        else:
            assert_unavailable(*timed(login.login, username))  # never a 401
            assert_unavailable(*timed(login.register, new_username()))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    retry = user.call("GET", "/api/todos") if service == "todos" else login.login(username)
    assert retry.status_code == 200


def test_login_during_a_user_service_outage_is_503_never_401(stack):
    client = PublicClient(stack.faas_url)
    username = new_username()
    assert client.register(username).status_code == 201

    with out_of_service(stack, "users") as port:
        assert_unavailable(*timed(client.login, username))
        assert_unavailable(*timed(client.take_token, username))
        assert_unavailable(*timed(client.register, new_username()))
        dropping = Dropping(port)
        try:
            assert_unavailable(*timed(client.login, username))
            assert dropping.requests == [("POST", "/users/authenticate")]  # never repeated
        finally:
            dropping.close()

    assert client.login(username).status_code == 200


def all_todos(client: PublicClient) -> list[dict]:
    """Every todo of the client's user, following the pages' next links."""
    todos, response = [], client.call("GET", "/api/todos?limit=500")
    while True:
        assert response.status_code == 200
        todos += response.json()
        if "next" not in response.links:
            return todos
        response = client.call("GET", response.links["next"]["url"].removeprefix(client.base))


def worker_pids(process) -> list[int]:
    """The gunicorn workers (function instances) of a master process."""
    children = f"/proc/{process.pid}/task/{process.pid}/children"
    with open(children) as listing:
        return [int(pid) for pid in listing.read().split()]


def test_a_faas_instance_and_todo_service_killed_under_load_lose_no_acknowledged_write(stack, user):
    acknowledged: dict[int, str] = {}  # todo id: its last acknowledged title
    unacknowledged: dict[int, set[str]] = {}  # todo id: titles sent since, without an answer
    after_restart = threading.Event()
    acknowledged_after_restart = []
    stop = threading.Event()

    def write(writer: int) -> None:
        client = PublicClient(stack.faas_url, timeout=5)
        client.token = user.token
        mine: list[int] = []  # each writer edits only its own todos: their history is known
        for n in range(1000):
            if stop.is_set():
                break
            title = f"{writer}.{n}"
            try:
                if mine and n % 2:
                    todo_id = random.choice(mine)
                    unacknowledged[todo_id].add(title)
                    path = f"/api/todos/{todo_id}"
                    if client.call("PATCH", path, json={"title": title}).status_code != 200:
                        continue
                else:
                    key = {"Idempotency-Key": secrets.token_hex(8)}
                    response = client.call("POST", "/api/todos", json={"title": title}, headers=key)
                    if response.status_code != 201:
                        continue
                    todo_id = response.json()["id"]
                    mine.append(todo_id)
            except requests.RequestException:
                continue
            acknowledged[todo_id], unacknowledged[todo_id] = title, set()
            if after_restart.is_set():
                acknowledged_after_restart.append(todo_id)
        client.http.close()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for writer in writers:
        writer.start()
    try:
        time.sleep(1)
        os.kill(random.choice(worker_pids(stack.processes["faas"])), signal.SIGKILL)
        time.sleep(1)
        stack.kill("todos")
        stack.start("todos")
        stack.wait_ready("todos")
        after_restart.set()
        wait_until(lambda: acknowledged_after_restart or None, 20, "writes after the restart")
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)

    stored = {todo["id"]: todo["title"] for todo in all_todos(user)}
    assert len(acknowledged) > 10
    for todo_id, title in acknowledged.items():
        # An update that got no answer may have been applied: that is not a lost one.
        assert stored.get(todo_id) in {title, *unacknowledged[todo_id]}, todo_id


def test_sigterm_on_faas_turns_readyz_503_first_and_lets_the_in_flight_request_finish(stack, user):
    todos = TodosThatTakeTheirTime(delay=2.0)
    port = free_port()
    env = {
        "TODO_SERVICE_URL": todos.url,
        "DRAIN_SECONDS": "1",
        "FC_MIN_INSTANCES": "1",
        "FC_MAX_INSTANCES": "1",
    }
    env["METRICS_PORT"] = str(free_port())
    faas = stack.launch("faas", port, stack.tmp_dir / "draining-faas.log", env)
    url = f"http://127.0.0.1:{port}"
    try:
        faas.wait_http(f"{url}/readyz", timeout=30)
        probe = requests.Session()  # a kept-alive connection, as a load balancer holds one
        assert probe.get(f"{url}/readyz", timeout=5).status_code == 200
        with ThreadPoolExecutor(max_workers=1) as pool:
            bearer = {"Authorization": f"Bearer {user.token}"}
            slow = pool.submit(requests.get, f"{url}/api/todos", headers=bearer, timeout=10)
            assert todos.received.wait(timeout=5)
            faas.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            draining = probe.get(f"{url}/readyz", timeout=5)
            assert draining.status_code == 503
            assert draining.headers["Content-Type"] == "application/problem+json"
            assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
            assert not slow.done()  # still in flight after the drain began
            assert slow.result().status_code == 200
        assert faas.wait(timeout=20) == 0
    finally:
        faas.stop()
        todos.close()


def test_sigterm_on_todo_service_turns_readyz_503_first_and_lets_the_in_flight_request_finish(
    stack, user
):
    todo = user.call("POST", "/api/todos", json={"title": "before SIGTERM"}).json()
    port = free_port()
    log = stack.tmp_dir / "draining-todos.log"
    todos = stack.launch("todos", port, log, {"DRAIN_SECONDS": "1"})
    url = f"http://127.0.0.1:{port}"
    database = stack.env["TODOS_DATABASE_URL"].replace("+psycopg2", "")
    locker = psycopg2.connect(database, connect_timeout=3)
    try:
        todos.wait_http(f"{url}/readyz", timeout=30)
        probe = requests.Session()
        assert probe.get(f"{url}/readyz", timeout=5).status_code == 200
        with ThreadPoolExecutor(max_workers=1) as pool, locker.cursor() as cursor:
            # The row stays locked, so the PATCH below is in flight for as long as we want.
            cursor.execute("SELECT id FROM todos WHERE id = %s FOR UPDATE", (todo["id"],))
            slow = pool.submit(
                requests.patch,
                f"{url}/todos/{todo['id']}",
                json={"title": "after SIGTERM"},
                headers={"Authorization": f"Bearer {user.token}"},
                timeout=10,
            )
            wait_until(lambda: waiting_for_a_lock(database) or None, 20, "the PATCH waiting")
            todos.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            draining = probe.get(f"{url}/readyz", timeout=5)
            assert draining.status_code == 503
            assert draining.headers["Content-Type"] == "application/problem+json"
            time.sleep(1.2)  # past the drain: in-flight requests still finish
            locker.commit()
            assert slow.result().status_code == 200
        assert todos.wait(timeout=20) == 0
    finally:
        locker.close()
        todos.stop()
    assert user.call("GET", f"/api/todos/{todo['id']}").json()["title"] == "after SIGTERM"


def waiting_for_a_lock(database: str) -> bool:
    # A connection of its own for each look: within one transaction (the locker's, say)
    # pg_stat_activity is a snapshot taken at its first read, and would never change.
    with psycopg2.connect(database, connect_timeout=3) as observer, observer.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        waiting = cursor.fetchone()[0] > 0
    observer.close()
    return waiting
