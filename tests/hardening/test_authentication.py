"""Authentication under attack, black-box through faas: argon2id storage, one answer and one
cost for unknown users and wrong passwords, throttling of the attacker (never of the account's
owner) that holds across instances, decays, cannot be overshot in parallel and ignores what a
client claims its address is unless a trusted proxy says it, and NIST's password policy.

Each client here connects from an address of its own on the loopback network (127.0.0.N), so
faas sees distinct clients exactly as it would on a real network.
"""

import itertools
import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator

import psycopg2
import pytest
from argon2 import extract_parameters
from argon2.low_level import Type
from requests.adapters import HTTPAdapter

from support.api import PASSWORD, PublicClient, new_username
from support.processes import free_port, wait_until
from support.stack import Stack, start_stack

# Small limits, so that reaching them takes a few requests.
LOGIN_FAILURE_LIMIT = 4
CLIENT_LOGIN_FAILURE_LIMIT = 6
CLIENT_REGISTRATION_LIMIT = 3
ACCOUNT_LOGIN_LIMIT = 5
LIMITS = {
    "LOGIN_FAILURE_LIMIT": str(LOGIN_FAILURE_LIMIT),
    "CLIENT_LOGIN_FAILURE_LIMIT": str(CLIENT_LOGIN_FAILURE_LIMIT),
    "CLIENT_REGISTRATION_LIMIT": str(CLIENT_REGISTRATION_LIMIT),
    "ACCOUNT_LOGIN_LIMIT": str(ACCOUNT_LOGIN_LIMIT),
}
PARALLEL = 12
OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME_COST = 19 * 1024, 2
TIMING_ATTEMPTS = 7

_sources = (f"127.0.{n // 250}.{n % 250 + 2}" for n in itertools.count())


class FromAddress(HTTPAdapter):
    """Connects from `source`, a loopback address of the client's own."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


_clients: list[PublicClient] = []


def client_at(faas_url: str, source: str | None = None) -> PublicClient:
    """A client of `faas_url` connecting from `source`, or from an address no other client has."""
    client = PublicClient(faas_url)
    client.http.mount("http://", FromAddress(source or next(_sources)))
    _clients.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    # Kept-alive connections left open would hold up the servers' graceful stop.
    yield
    while _clients:
        _clients.pop().http.close()


def spoofed() -> dict[str, str]:
    """An X-Forwarded-For a client makes up, new every time."""
    return {"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250) + 1}"}


def credentials(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": username, "password": password}


@pytest.fixture(scope="module")
def auth_stack(tmp_path_factory) -> Iterator[Stack]:
    with start_stack(tmp_path_factory.mktemp("authentication"), "postgresql", LIMITS) as stack:
        yield stack


@pytest.fixture(scope="module")
def second_faas(auth_stack: Stack, tmp_path_factory) -> Iterator[str]:
    """Another faas (its own instances) in front of the same services: its URL."""
    port = free_port()
    process = auth_stack.launch(
        "faas",
        port,
        tmp_path_factory.mktemp("second-faas") / "faas.log",
        env={"METRICS_PORT": str(free_port())},
    )
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture
def faas_urls(auth_stack: Stack, second_faas: str) -> list[str]:
    return [auth_stack.faas_url, second_faas]


def new_account(faas_url: str, password: str = PASSWORD) -> str:
    """A newly registered username (registered from an address of its own)."""
    username = new_username("auth")
    response = client_at(faas_url).register(username, password)
    assert response.status_code == 201, response.text
    return username


def without_request_id(response) -> dict:
    return {k: v for k, v in response.json().items() if k != "request_id"}


def test_a_password_is_stored_as_argon2id_at_or_above_owasps_minimum(auth_stack):
    username = new_account(auth_stack.faas_url)
    url = auth_stack.env["USERS_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    with psycopg2.connect(url, connect_timeout=3) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT password_hash FROM users WHERE username = %s", (username,))
        (stored,) = cursor.fetchone()
    connection.close()
    assert PASSWORD not in stored
    params = extract_parameters(stored)
    assert params.type is Type.ID
    assert params.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert params.time_cost >= OWASP_MIN_TIME_COST
    assert params.parallelism >= 1


@pytest.mark.parametrize("path", ["/api/login", "/api/token"])
def test_unknown_users_and_wrong_passwords_get_the_same_answer(auth_stack, path):
    username = new_account(auth_stack.faas_url)
    client = client_at(auth_stack.faas_url)
    answers = [
        client.call("POST", path, json=credentials(username, PASSWORD + "!")),
        client.call("POST", path, json=credentials(new_username("nobody"))),
        client.call("POST", path, json=credentials("x", "short")),
    ]
    assert [answer.status_code for answer in answers] == [401] * 3
    assert {answer.headers["Content-Type"] for answer in answers} == {"application/problem+json"}
    assert without_request_id(answers[0]) == without_request_id(answers[1])
    assert without_request_id(answers[0]) == without_request_id(answers[2])


def test_unknown_users_and_wrong_passwords_take_comparable_time(auth_stack):
    # Wrong passwords spread over accounts (none reaches its lock); every attempt from a client
    # of its own (none reaches the per-client limit): each one does the full work.
    accounts = [new_account(auth_stack.faas_url) for _ in range(3)]
    durations: dict[str, list[float]] = {"unknown": [], "wrong": []}
    for attempt in range(TIMING_ATTEMPTS):
        for kind in ("unknown", "wrong"):
            name = new_username("nobody") if kind == "unknown" else accounts[attempt % 3]
            client = client_at(auth_stack.faas_url)
            started = time.perf_counter()
            response = client.login(name, "not the password at all")
            durations[kind].append(time.perf_counter() - started)
            assert response.status_code == 401
    ratio = statistics.median(durations["unknown"]) / statistics.median(durations["wrong"])
    assert 0.5 <= ratio <= 2.0, durations


def test_an_attacker_failing_through_two_instances_cannot_lock_the_owner_out(faas_urls):
    username, attacker = new_account(faas_urls[0]), next(_sources)
    for attempt in range(LOGIN_FAILURE_LIMIT):
        client = client_at(faas_urls[attempt % 2], attacker)
        response = client.call(
            "POST",
            "/api/login",
            json=credentials(username, f"wrong password {attempt}"),
            headers=spoofed(),
        )
        assert response.status_code == 401
    for faas_url in faas_urls:
        throttled = client_at(faas_url, attacker).call(
            "POST", "/api/login", json=credentials(username), headers=spoofed()
        )
        assert throttled.status_code == 429, throttled.text
        assert throttled.headers["Content-Type"] == "application/problem+json"
        assert int(throttled.headers["Retry-After"]) >= 1
        # The owner, from an address of their own, is not the attacker.
        assert client_at(faas_url).login(username).status_code == 200


def test_known_and_unknown_usernames_are_throttled_alike(auth_stack):
    known, unknown = new_account(auth_stack.faas_url), new_username("nobody")
    answers: dict[str, list] = {known: [], unknown: []}
    for name, found in answers.items():
        client = client_at(auth_stack.faas_url)
        for _ in range(LOGIN_FAILURE_LIMIT + 1):
            found.append(client.login(name, "not the password at all"))
    statuses = [[answer.status_code for answer in found] for found in answers.values()]
    assert statuses[0] == statuses[1] == [401] * LOGIN_FAILURE_LIMIT + [429]
    assert without_request_id(answers[known][-1]) == without_request_id(answers[unknown][-1])


def test_a_client_failing_on_many_names_never_loses_a_right_password_through_that_alone(
    faas_urls,
):
    username, source = new_account(faas_urls[0]), next(_sources)
    for attempt in range(CLIENT_LOGIN_FAILURE_LIMIT):
        client = client_at(faas_urls[attempt % 2], source)
        unknown = credentials(new_username("nobody"))
        assert client.call("POST", "/api/login", json=unknown, headers=spoofed()).status_code == 401
    # Past its limit, the client gets one failure per name, whatever address it claims ...
    name = credentials(new_username("nobody"))
    for faas_url in faas_urls:
        answer = client_at(faas_url, source).call(
            "POST", "/api/login", json=name, headers=spoofed()
        )
        assert answer.status_code == (401 if faas_url == faas_urls[0] else 429), answer.text
    assert 1 <= int(answer.headers["Retry-After"]) <= 900
    # ... and a name it has not failed on still opens with the right password.
    assert client_at(faas_urls[1], source).login(username).status_code == 200


def test_parallel_failures_never_overshoot_the_limit(auth_stack):
    username, source = new_account(auth_stack.faas_url), next(_sources)
    start, statuses = threading.Barrier(PARALLEL), Counter()

    def fail() -> None:
        client = client_at(auth_stack.faas_url, source)
        start.wait(timeout=10)
        statuses[client.login(username, "wrong password").status_code] += 1

    threads = [threading.Thread(target=fail) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(statuses) <= {401, 429} and statuses[401] <= LOGIN_FAILURE_LIMIT, statuses
    # Attempts refused while others ran are not failures: one after another, the client gets
    # exactly the rest of its limit.
    client = client_at(auth_stack.faas_url, source)
    while (answer := client.login(username, "wrong password").status_code) == 401:
        statuses[401] += 1
    assert (answer, statuses[401]) == (429, LOGIN_FAILURE_LIMIT)


def test_logins_to_one_account_are_limited(auth_stack):
    username = new_account(auth_stack.faas_url)
    for _ in range(ACCOUNT_LOGIN_LIMIT):
        assert client_at(auth_stack.faas_url).login(username).status_code == 200
    refused = client_at(auth_stack.faas_url).login(username)
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1


def test_registrations_of_one_client_are_limited_across_instances(faas_urls):
    source = next(_sources)
    for attempt in range(CLIENT_REGISTRATION_LIMIT):
        client = client_at(faas_urls[attempt % 2], source)
        response = client.call(
            "POST", "/api/register", json=credentials(new_username()), headers=spoofed()
        )
        assert response.status_code == 201
    for faas_url in faas_urls:
        refused = client_at(faas_url, source).call(
            "POST", "/api/register", json=credentials(new_username()), headers=spoofed()
        )
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert client_at(faas_urls[1]).register(new_username()).status_code == 201


@pytest.mark.parametrize(
    ("password", "refused_because"),
    [
        ("7 chars", "8 to 128 characters"),
        ("🔑" * 7, "8 to 128 characters"),  # 28 bytes, 7 characters
        ("𝄞" * 129, "8 to 128 characters"),
        ("trustno1", "most commonly used"),
        ("Password1", "most commonly used"),
        ("iloveyou", "most commonly used"),
    ],
)
def test_register_refuses_a_password_the_policy_forbids_with_a_clear_422(
    auth_stack, password, refused_because
):
    response = client_at(auth_stack.faas_url).register(new_username(), password)
    assert response.status_code == 422
    assert refused_because in response.json()["detail"]


@pytest.mark.parametrize(
    ("password", "near_miss"),
    [
        ("🔑" * 8, "🔑" * 7),  # 8 code points
        ("𝄞" * 128, "𝄞" * 127),  # 128 code points, 512 bytes
        ("password1 ", "password1"),  # a trailing space makes another, uncommon password
        ("  two  spaces  ", "two spaces"),  # never trimmed nor collapsed
        ("e\u0301" * 4, "\u00e9" * 4),  # never normalised: NFD is not NFC
        ("quote\"back\\slash'", 'quote"back\\slash'),
    ],
)
def test_any_password_of_8_to_128_characters_works_exactly_as_typed(
    auth_stack, password, near_miss
):
    username = new_account(auth_stack.faas_url, password)
    client = client_at(auth_stack.faas_url)
    assert client.login(username, near_miss).status_code == 401
    assert client.login(username, password).status_code == 200


@pytest.fixture(scope="module")
def proxied_stack(tmp_path_factory) -> Iterator[Stack]:
    """A stack behind one trusted reverse proxy, whose failures leave their window quickly."""
    env = {**LIMITS, "TRUSTED_PROXIES": "1", "LOGIN_FAILURE_WINDOW_SECONDS": "6"}
    with start_stack(tmp_path_factory.mktemp("proxied"), "postgresql", env) as stack:
        yield stack


def through_proxy(stack: Stack, client: str) -> PublicClient:
    """A client behind the trusted proxy, which names it in X-Forwarded-For."""
    proxied = PublicClient(stack.faas_url)
    proxied.http.headers["X-Forwarded-For"] = client
    _clients.append(proxied)
    return proxied


def test_failures_decay_with_time(proxied_stack):
    username, client = new_account(proxied_stack.faas_url), through_proxy(proxied_stack, "10.0.1.1")
    for _ in range(LOGIN_FAILURE_LIMIT):
        assert client.login(username, "wrong password").status_code == 401
    assert client.login(username).status_code == 429
    wait_until(lambda: client.login(username).status_code == 200 or None, 30, "the decay")


def test_behind_a_trusted_proxy_clients_are_told_apart(proxied_stack):
    crowd = [through_proxy(proxied_stack, f"10.0.2.{n}") for n in (1, 2)]
    for _ in range(CLIENT_REGISTRATION_LIMIT):
        assert crowd[0].register(new_username()).status_code == 201
    assert crowd[0].register(new_username()).status_code == 429
    assert crowd[1].register(new_username()).status_code == 201
    username = new_account(proxied_stack.faas_url)
    for _ in range(LOGIN_FAILURE_LIMIT):
        assert crowd[0].login(username, "wrong password").status_code == 401
    assert crowd[0].login(username).status_code == 429
    assert crowd[1].login(username).status_code == 200
