"""What the services accept, black-box against the real stack: strict types, text the database
cannot hold refused alike on SQLite and PostgreSQL while all other text round-trips byte-exact,
pathological JSON and oversized bodies (chunked too) refused fast, validated query parameters,
and Idempotency-Key: one todo per key, another body 422, a retry while the first is in flight 409.
"""

import contextlib
import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from support.api import PublicClient, registered_user
from support.fixtures import BACKENDS
from support.processes import wait_until
from support.stack import Stack
from support.tokens import SigningKey, service_claims

PROBLEM = "application/problem+json"
FAST = 1.0  # seconds: a refusal costs no more than this
BODY_CAPS = {"todos": 64 * 1024, "users": 16 * 1024}
ROUND_TRIP_TITLES = [
    "😀 emoji 👨‍👩‍👧 a family joined by zero-width joiners",
    "עברית مرحبا right to left \u202e override",
    "e\u0301 combining, \u00e9 precomposed: two different strings",
    "\U00010348 \U0001d11e \U0010ffff four-byte characters, the last code point",
    "quotes \"double\" 'single' `back`, a backslash \\ and two \\\\",
    "  spaces around, \t a tab, \n a new line, \r a return  ",
    "\u2028 line and \u2029 paragraph separators, \ufeff a BOM, \u200b zero width",
    "<script>alert(1)</script> Robert'); DROP TABLE todos;--",
    "𝄞" * 500,
]
UNSTORABLE_TITLES = {
    "NUL": r'"a\u0000b"',
    "lone high surrogate": r'"half a pair \ud83d"',
    "lone low surrogate": r'"\ude00"',
    "reversed pair": r'"\ude00\ud83d"',
}


@pytest.fixture(scope="module", params=BACKENDS)
def any_stack(request) -> Stack:
    """The shared stack of each backend."""
    return request.getfixturevalue("stack" if request.param == "sqlite" else "pg_stack")


@pytest.fixture(scope="module")
def any_client(any_stack: Stack) -> Iterator[PublicClient]:
    """One user of the backend's stack, with a Bearer token (tests compare its list, not assume it)."""
    client = registered_user(any_stack.faas_url, bearer=True)[0]
    yield client
    client.http.close()  # a kept-alive connection would hold up the stack's graceful stop


@pytest.fixture(scope="module")
def client(pg_stack: Stack) -> Iterator[PublicClient]:
    """One user of the PostgreSQL stack, with a Bearer token."""
    client = registered_user(pg_stack.faas_url, bearer=True)[0]
    yield client
    client.http.close()


def todos_of(client: PublicClient) -> list[dict]:
    response = client.call("GET", "/api/todos?limit=500")
    assert response.status_code == 200
    return response.json()


def send_json(client: PublicClient, method: str, path: str, body: str | bytes) -> requests.Response:
    """`body` exactly as written (escapes and all), as JSON, with the client's token."""
    return client.call(method, path, data=body, headers={"Content-Type": "application/json"})


def post_json(url: str, body: str) -> requests.Response:
    """POST `body` exactly as written (escapes and all), as JSON, without a login."""
    return requests.post(
        url, data=body.encode(), headers={"Content-Type": "application/json"}, timeout=10
    )


def path_of(url: str) -> str:
    """The path of an absolute url the API gave, to call it through the client's own faas."""
    return urlsplit(url).path


def service_token(stack: Stack, scope: str) -> str:
    """A service token as faas mints it, signed with faas's own key."""
    private_key = load_pem_private_key(Path(stack.env["JWT_PRIVATE_KEY_FILE"]).read_bytes(), None)
    key = SigningKey(private_key)
    jwks = requests.get(f"{stack.faas_url}/.well-known/jwks.json", timeout=5).json()
    key.kid = next(k["kid"] for k in jwks["keys"] if k["x"] == key.public_jwk["x"])
    return key.sign(service_claims(scope, "user-service"), {"typ": "at+jwt"})


@pytest.fixture(scope="module")
def direct(pg_stack: Stack, client: PublicClient) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Straight to each service, past faas: (its URL, a create path, headers that authorize it)."""
    return {
        "todos": (pg_stack.todo_service_url, "/todos", {"Authorization": f"Bearer {client.token}"}),
        "users": (
            pg_stack.user_service_url,
            "/users",
            {"Authorization": f"Bearer {service_token(pg_stack, 'users:create')}"},
        ),
    }


def assert_problem(response: requests.Response, status: int) -> None:
    assert (response.status_code, response.headers["Content-Type"]) == (status, PROBLEM), (
        response.text
    )
    assert response.json()["request_id"]


@pytest.mark.parametrize("title", UNSTORABLE_TITLES.values(), ids=UNSTORABLE_TITLES.keys())
def test_text_the_database_cannot_hold_is_422_alike_on_each_backend(any_stack, any_client, title):
    todo = any_client.call("POST", "/api/todos", json={"title": "kept"}).json()
    before = todos_of(any_client)
    body = f'{{"title": {title}}}'
    for method, path in (("POST", "/api/todos"), ("PATCH", path_of(todo["url"]))):
        response = send_json(any_client, method, path, body)
        assert_problem(response, 422)
    assert todos_of(any_client) == before
    for credentials in (
        f'{{"username": {title}, "password": "long enough"}}',
        f'{{"username": "someone", "password": "long enough {title[1:]}}}',
    ):
        assert_problem(post_json(f"{any_stack.faas_url}/api/register", credentials), 422)


def test_every_other_text_round_trips_byte_exact_through_faas(any_client):
    for title in ROUND_TRIP_TITLES:
        response = any_client.call("POST", "/api/todos", json={"title": title})
        assert response.status_code == 201, (title, response.text)
        todo_id, location = response.json()["id"], path_of(response.headers["Location"])
        read = any_client.call("GET", location).json()["title"]
        assert read.encode("utf-8") == title.encode("utf-8")
        changed = any_client.call("PATCH", location, json={"title": title[::-1]}).json()["title"]
        assert changed.encode("utf-8") == title[::-1].encode("utf-8")
        listed = [todo["title"] for todo in todos_of(any_client) if todo["id"] == todo_id]
        assert [t.encode("utf-8") for t in listed] == [title[::-1].encode("utf-8")]


WRONG_TODO_BODIES = [
    '{"title": "t", "completed": "true"}',
    '{"title": "t", "completed": 1}',
    '{"title": "t", "completed": null}',
    '{"title": "t", "order": true}',
    '{"title": "t", "order": 1.0}',
    '{"title": "t", "order": "3"}',
    '{"title": "t", "order": 2147483648}',
    '{"title": "t", "order": -2147483649}',
    '{"title": "t", "order": 1e400}',
    '{"title": "t", "order": NaN}',
    '{"title": 5}',
    '{"title": ["t"]}',
    '{"title": true}',
    '{"title": "t", "owner_id": "1"}',
]


@pytest.mark.parametrize("body", WRONG_TODO_BODIES)
def test_a_todo_of_the_wrong_types_is_422_on_create_and_change(client, body):
    todo = client.call("POST", "/api/todos", json={"title": "kept"}).json()
    before = todos_of(client)
    changes = body.replace('"title": "t", ', "")
    assert_problem(send_json(client, "POST", "/api/todos", body), 422)
    assert_problem(send_json(client, "PATCH", path_of(todo["url"]), changes), 422)
    assert todos_of(client) == before


@pytest.mark.parametrize("path", ["/api/register", "/api/login", "/api/token"])
@pytest.mark.parametrize(
    "credentials",
    [
        {"username": 123, "password": "long enough"},
        {"username": True, "password": "long enough"},
        {"username": "someone", "password": 12345678},
        {"username": "someone", "password": True},
        {"username": "someone", "password": ["long enough"]},
        {"username": "someone", "password": None},
    ],
    ids=repr,
)
def test_credentials_of_the_wrong_types_are_422(pg_stack, path, credentials):
    assert_problem(post_json(pg_stack.faas_url + path, json.dumps(credentials)), 422)


def _deep(depth: int) -> str:
    return '{"title": ' + "[" * depth + "]" * depth + "}"


PATHOLOGICAL_JSON = {
    "deep arrays": _deep(7000),
    "deep objects": '{"title": ' + '{"a":' * 2500 + "1" + "}" * 2500 + "}",
    "a 5000-digit number": '{"title": "t", "order": ' + "9" * 5000 + "}",
    "a 4000-digit number": '{"title": "t", "order": ' + "9" * 4000 + "}",
    "a huge exponent": '{"title": "t", "order": 1e999999999}',
    "Infinity": '{"title": "t", "completed": -Infinity}',
}


@pytest.mark.parametrize("service", ["todos", "users"])
@pytest.mark.parametrize("body", PATHOLOGICAL_JSON.values(), ids=PATHOLOGICAL_JSON.keys())
def test_pathological_json_is_refused_fast_by_each_service(direct, service, body):
    url, path, headers = direct[service]
    if service == "users":
        body = body.replace('"title"', '"username"').replace('"order"', '"password"')
    started = time.perf_counter()
    response = requests.post(
        url + path, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=5
    )
    assert time.perf_counter() - started < FAST
    assert response.status_code in (400, 422), response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert requests.get(f"{url}/healthz", timeout=2).status_code == 200


QUERIES = [
    "limit=0",
    "limit=501",
    "limit=-1",
    "limit=abc",
    "limit=1.5",
    "limit=",
    "limit=%2B5",
    "limit=%D9%A5",  # ARABIC-INDIC DIGIT FIVE: a digit to str.isdigit, not to us
    "completed=yes",
    "completed=1",
    "completed=TRUE",
    "completed=",
    "after=garbage",
    "after=AAAA",
    "after=%00",
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_bad_query_parameter_is_422(client, query):
    client.call("POST", "/api/todos", json={"title": "kept", "completed": True})
    before = todos_of(client)
    assert_problem(client.call("GET", f"/api/todos?{query}"), 422)
    if query.startswith("completed"):
        assert_problem(client.call("DELETE", f"/api/todos?{query}"), 422)
    assert todos_of(client) == before


def _post_directly(url: str, path: str, headers: dict[str, str], body, chunked: bool):
    """POST straight to a service with http.client: (status, Content-Type) of its answer."""
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
    try:
        # The service may answer and close before it read everything: that is the point.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(
                "POST",
                path,
                body=body,
                headers={**headers, "Content-Type": "application/json"},
                encode_chunked=chunked,
            )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type")
    finally:
        connection.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("service", ["todos", "users"])
def test_a_body_over_the_cap_is_413_straight_to_each_service(direct, service, chunked):
    url, path, headers = direct[service]
    body = json.dumps({"title": "x" * BODY_CAPS[service]}).encode()
    chunks = (body[i : i + 4096] for i in range(0, len(body), 4096))
    answer = _post_directly(url, path, headers, chunks if chunked else body, chunked)
    assert answer == (413, PROBLEM)
    assert requests.get(f"{url}/healthz", timeout=2).status_code == 200


def test_a_chunked_body_under_the_cap_is_read_whole(direct):
    url, path, headers = direct["todos"]
    body = json.dumps({"title": "chunked " + "x" * 400}).encode()
    chunks = (body[i : i + 100] for i in range(0, len(body), 100))
    assert _post_directly(url, path, headers, chunks, chunked=True)[0] == 201


@pytest.mark.parametrize("service", ["todos", "users"])
def test_unknown_paths_and_methods_are_problems_straight_from_each_service(direct, service):
    url, path, headers = direct[service]
    missing = requests.get(f"{url}/no-such-path", headers=headers, timeout=5)
    assert_problem(missing, 404)
    not_allowed = requests.put(f"{url}{path}", headers=headers, timeout=5)
    assert_problem(not_allowed, 405)
    assert "POST" in not_allowed.headers["Allow"]
    form = requests.post(f"{url}{path}", data={"title": "t"}, headers=headers, timeout=5)
    assert_problem(form, 415)


def test_the_same_idempotency_key_with_another_body_is_422(client):
    key = {"Idempotency-Key": "one key"}
    first = client.call("POST", "/api/todos", json={"title": "first"}, headers=key)
    other = client.call("POST", "/api/todos", json={"title": "other"}, headers=key)
    again = client.call("POST", "/api/todos", json={"title": "first"}, headers=key)
    assert first.status_code == 201
    assert_problem(other, 422)
    assert (again.status_code, again.json()) == (201, first.json())
    assert [todo["title"] for todo in todos_of(client)].count("first") == 1


def _waiting_inserts(pg_stack: Stack) -> int:
    url = pg_stack.env["TODOS_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    with psycopg2.connect(url, connect_timeout=3) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'todos'::regclass"
        )
        (count,) = cursor.fetchone()
    connection.close()
    return count


def test_a_create_while_the_first_with_its_key_is_in_flight_is_409(pg_stack, client):
    key, body = {"Idempotency-Key": "slow"}, {"title": "slow"}
    url = pg_stack.env["TODOS_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    blocker = psycopg2.connect(url, connect_timeout=3)
    with ThreadPoolExecutor(1) as pool:
        try:
            with blocker.cursor() as cursor:
                cursor.execute("LOCK TABLE todos IN SHARE MODE")  # inserts wait: the first is slow
            first = pool.submit(client.call, "POST", "/api/todos", json=body, headers=key)
            wait_until(lambda: _waiting_inserts(pg_stack) or None, 20, "the first insert waiting")
            during = requests.post(
                f"{pg_stack.faas_url}/api/todos",
                json=body,
                headers={**key, "Authorization": f"Bearer {client.token}"},
                timeout=5,
            )
        finally:
            blocker.rollback()
            blocker.close()
        first = first.result(timeout=10)
    assert_problem(during, 409)
    assert during.headers["Retry-After"] == "1"
    assert first.status_code == 201
    after = client.call("POST", "/api/todos", json=body, headers=key)
    assert (after.status_code, after.json()) == (201, first.json())
    assert [todo["title"] for todo in todos_of(client)].count("slow") == 1


def test_concurrent_creates_with_one_key_make_one_todo_and_never_fail(pg_stack, client):
    rounds, racers = 12, 3
    headers = {"Authorization": f"Bearer {client.token}"}

    def create(n: int) -> tuple[int, int | None]:
        response = requests.post(
            f"{pg_stack.faas_url}/api/todos",
            json={"title": f"round {n}"},
            headers={**headers, "Idempotency-Key": f"round {n}"},
            timeout=10,
        )
        return response.status_code, response.json().get("id")

    with ThreadPoolExecutor(racers) as pool:
        for n in range(rounds):
            answers = list(pool.map(create, [n] * racers, timeout=30))
            assert {status for status, _ in answers} <= {201, 409}, answers
            assert len({todo_id for status, todo_id in answers if status == 201}) == 1, answers
    titles = [todo["title"] for todo in todos_of(client) if todo["title"].startswith("round ")]
    assert sorted(titles) == sorted(f"round {n}" for n in range(rounds))
