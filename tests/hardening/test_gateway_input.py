"""Input at the gateway: every error a problem with a request id and no internals, JSON checked
strictly, pathological JSON refused fast, bodies capped (chunked too), todo queries validated."""

import json
import time
from collections.abc import Iterator

import pytest

from hardening.web import assert_problem, extra_faas, raw
from support.api import PASSWORD, new_username, registered_user
from support.wsgi import WsgiServer

CAP = 64 * 1024  # faas's MAX_CONTENT_LENGTH
PLATFORM_CAP = 1024 * 1024  # the runtime's own limit (faas/runtime/wsgi.py)
PATHOLOGICAL = {
    "10,000-deep array": b"[" * 10_000 + b"]" * 10_000,
    "10,000-deep object": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "5,000-digit number": b'{"title": "x", "order": ' + b"9" * 5000 + b"}",
    "1e400": b'{"title": "x", "order": 1e400, "username": 1e400, "password": 1e400}',
    "-1e400": b'{"title": "x", "order": -1e400, "username": "abc", "password": -1e400}',
    "NaN": b'{"title": NaN, "order": NaN, "username": NaN, "password": NaN}',
    "1 MB string": b'{"title": "' + b"x" * 1_000_000 + b'"}',
}


@pytest.fixture(scope="module")
def json_endpoints(pg_stack) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, headers) of every endpoint that takes a JSON body, ready to be called."""
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    bearer = {"Authorization": f"Bearer {client.token}"}
    todo = client.call("POST", "/api/todos", json={"title": "input"}).json()
    anonymous = [("POST", path, {}) for path in ("/api/register", "/api/login", "/api/token")]
    return [
        *anonymous,
        ("POST", "/api/todos", bearer),
        ("PATCH", f"/api/todos/{todo['id']}", bearer),
    ]


def send(url: str, method: str, path: str, headers: dict, body: bytes, **options):
    return raw(url, method, path, {"Content-Type": "application/json", **headers}, body, **options)


def test_every_error_is_a_problem_with_a_request_id_and_no_internals(pg_stack, json_endpoints):
    url = pg_stack.faas_url
    bearer = json_endpoints[-1][2]
    taken = new_username()
    credentials = json.dumps({"username": taken, "password": PASSWORD}).encode()
    assert send(url, "POST", "/api/register", {}, credentials).status_code == 201
    cases = [
        (400, send(url, "POST", "/api/login", {}, b'{"username": ')),
        (401, raw(url, "GET", "/api/me", {"Authorization": "Bearer not.a.token"})),
        (403, send(url, "POST", "/api/login", {"Origin": "http://evil.example"}, b"{}")),
        (404, raw(url, "GET", "/nothing/here.js")),
        (404, raw(url, "GET", "/api/todos/999999999", bearer)),  # todo-service's, relayed
        (405, raw(url, "DELETE", "/api/me")),
        (409, send(url, "POST", "/api/register", {}, credentials)),  # user-service's, relayed
        (413, send(url, "POST", "/api/login", {}, b" " * (CAP + 1))),
        (415, raw(url, "POST", "/api/login", {"Content-Type": "text/plain"}, b"{}")),
        (422, send(url, "POST", "/api/login", {}, b"[]")),
        (422, raw(url, "GET", "/api/todos?limit=x", bearer)),
    ]
    for status, answer in cases:
        assert_problem(answer, status)


def broken_user_service(environ, start_response):
    """Ready, but answers a login with half a JSON document: a fault faas has no answer for."""
    body = b'{"status": "ready"}' if environ["PATH_INFO"] == "/readyz" else b'{"user": {"id'
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@pytest.fixture(scope="module")
def failing_faas(pg_stack, tmp_path_factory) -> Iterator[tuple]:
    with WsgiServer(broken_user_service) as user_service:
        log_dir = tmp_path_factory.mktemp("failing-faas")
        with extra_faas(pg_stack, log_dir, USER_SERVICE_URL=user_service.url) as started:
            yield started


def test_an_unexpected_error_is_a_500_problem_and_its_traceback_stays_in_the_log(failing_faas):
    url, process = failing_faas
    body = json.dumps({"username": "someone", "password": PASSWORD}).encode()

    answer = send(url, "POST", "/api/login", {}, body)

    problem = assert_problem(answer, 500)
    assert "JSON" not in answer.content.decode() and "Expecting" not in answer.content.decode()
    log = process.wait_log(problem["request_id"], timeout=5)
    logged = [line for line in log.splitlines() if problem["request_id"] in line]
    assert any("Traceback" in line for line in logged)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"title": ', "application/json", 400),
        (b"{'title': 'x'}", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"title": "x"}', "text/plain", 415),
        (b'{"title": "x"}', "application/jsonp", 415),
        (b'{"title": "x"}', None, 415),
        (b"[]", "application/json", 422),
        (b'"title"', "application/json", 422),
        (b"null", "application/json", 422),
        (b"42", "application/json", 422),
    ],
)
def test_malformed_json_is_400_another_type_415_and_not_an_object_422(
    pg_stack, json_endpoints, body: bytes, content_type: str | None, status: int
):
    for method, path, headers in json_endpoints:
        typed = {**headers, **({"Content-Type": content_type} if content_type else {})}
        assert_problem(raw(pg_stack.faas_url, method, path, typed, body), status)


@pytest.mark.parametrize("case", PATHOLOGICAL)
def test_pathological_json_is_refused_fast_and_never_a_500(pg_stack, json_endpoints, case: str):
    for method, path, headers in json_endpoints:
        started = time.monotonic()
        answer = send(pg_stack.faas_url, method, path, headers, PATHOLOGICAL[case])
        elapsed = time.monotonic() - started

        assert answer.status_code in (400, 413, 422), (method, path, answer.content[:200])
        assert_problem(answer, answer.status_code)
        assert elapsed < 1.5, (method, path, elapsed)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bodies_over_64_kib_are_refused_with_413(pg_stack, json_endpoints, chunked: bool):
    over = b'{"title": "' + b"x" * CAP + b'"}'
    for method, path, headers in [*json_endpoints, ("POST", "/api/logout", {})]:
        answer = send(pg_stack.faas_url, method, path, headers, over, chunked=chunked)
        assert_problem(answer, 413)
    method, path, headers = json_endpoints[3]  # POST /api/todos
    within = b'{"title": "' + b"x" * (CAP - 100) + b'"}'
    answer = send(pg_stack.faas_url, method, path, headers, within, chunked=chunked)
    assert answer.status_code == 422  # read and judged by todo-service: a title too long


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bodies_over_the_platform_limit_are_413_problems(pg_stack, chunked: bool):
    body = b"x" * (PLATFORM_CAP + 1)
    answer = send(pg_stack.faas_url, "POST", "/api/login", {}, body, chunked=chunked)

    assert_problem(answer, 413)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=1e3",
        "limit=-1",
        "limit=%00",
        "completed=yes",
        "completed=",
        "after=garbage",
    ],
)
def test_todo_queries_are_validated_and_their_422_relayed(pg_stack, json_endpoints, query: str):
    url, bearer = pg_stack.faas_url, json_endpoints[-1][2]
    before = raw(url, "GET", "/api/todos", bearer).json()

    listed = raw(url, "GET", f"/api/todos?{query}", bearer)
    # DELETE takes `completed` only (any other parameter means nothing to it).
    deleted = raw(url, "DELETE", f"/api/todos?{query}", bearer) if "completed" in query else None

    assert_problem(listed, 422)
    if deleted is not None:
        assert_problem(deleted, 422)
    assert raw(url, "GET", "/api/todos", bearer).json() == before
