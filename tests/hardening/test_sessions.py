"""Sessions: the cookie's attributes in both COOKIE_SECURE modes, a fresh token per login, logout
that revokes (at faas and at each service called directly), ending all of a user's sessions,
sliding renewal of cookie logins only, that stops at the session's absolute limit, and expired
sessions deleted."""

import time
from collections.abc import Iterator
from contextlib import closing
from http.cookies import SimpleCookie

import jwt
import psycopg2
import pytest
import requests

from support.api import PASSWORD, PublicClient, new_username, registered_user
from support.processes import wait_until
from support.stack import Stack, start_stack

TOKEN_SECONDS = 4
SESSION_SECONDS = 8


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def set_cookies(response: requests.Response) -> dict:
    """The response's Set-Cookie headers as Morsels by name (each must be set once)."""
    headers = response.raw.headers.getlist("Set-Cookie")
    cookies = {}
    for header in headers:
        [(name, morsel)] = SimpleCookie(header).items()
        assert name not in cookies, headers
        cookies[name] = morsel
    return cookies


def assert_session_cookie(morsel, secure: bool) -> None:
    assert morsel["httponly"] is True and morsel["samesite"] == "Lax"
    assert morsel["path"] == "/" and morsel["domain"] == ""
    assert bool(morsel["secure"]) is secure


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory) -> Iterator[Stack]:
    """A stack behind TLS (COOKIE_SECURE, tests speak plain http to it and send the Secure cookie
    back by hand) with short lifetimes: tokens of TOKEN_SECONDS, sessions of SESSION_SECONDS."""
    env = {
        "COOKIE_SECURE": "true",
        "JWT_TTL_SECONDS": str(TOKEN_SECONDS),
        "SESSION_MAX_SECONDS": str(SESSION_SECONDS),
        "DRAIN_SECONDS": "0",  # nothing balances load onto it: it may stop at once
    }
    with start_stack(tmp_path_factory.mktemp("secure"), "postgresql", env) as stack:
        yield stack


def secure_origin(stack: Stack) -> str:
    return stack.faas_url.replace("http://", "https://")  # its PUBLIC_URL, by default


def secure_login(stack: Stack, username: str | None = None) -> tuple[requests.Response, str]:
    """A user (a new one by default) logged in by cookie on the COOKIE_SECURE stack; the login
    answer and origin."""
    origin = secure_origin(stack)
    url = stack.faas_url
    body = {"username": username or new_username(), "password": PASSWORD}
    if username is None:
        assert requests.post(f"{url}/api/register", json=body, timeout=10).status_code == 201
    response = requests.post(f"{url}/api/login", json=body, headers={"Origin": origin}, timeout=10)
    assert response.status_code == 200, response.text
    return response, origin


def with_cookie(stack: Stack, token: str, name: str = "__Host-jwtToken") -> requests.Response:
    """GET /api/me with `token` as the session cookie (sent by hand: the stack speaks plain http)."""
    headers = {"Cookie": f"{name}={token}", "Origin": secure_origin(stack)}
    return requests.get(f"{stack.faas_url}/api/me", headers=headers, timeout=10)


def direct_calls(stack: Stack, token: str) -> dict[str, int]:
    """The status of `token` as Bearer at each service called directly, and at faas."""
    sub = claims_of(token)["sub"]
    urls = {
        "todo-service": f"{stack.todo_service_url}/todos",
        "user-service": f"{stack.user_service_url}/users/{sub}",
        "faas": f"{stack.faas_url}/api/me",
    }
    headers = {"Authorization": f"Bearer {token}"}
    return {
        name: requests.get(url, headers=headers, timeout=10).status_code
        for name, url in urls.items()
    }


def refused_everywhere(stack: Stack, *tokens: str) -> bool | None:
    """True once every token is refused (401) everywhere, a few times in a row: each service
    runs two workers, each with its own view of the revoked sessions, and faas two instances."""
    for _ in range(3):
        for token in tokens:
            if set(direct_calls(stack, token).values()) != {401}:
                return None
    return True


def users_scalar(stack: Stack, query: str, *parameters):
    """The one value `query` answers, read from the stack's users database."""
    url = stack.env["USERS_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    with (
        closing(psycopg2.connect(url, connect_timeout=3)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(query, parameters)
        return cursor.fetchone()[0]


def test_the_cookie_is_httponly_lax_host_wide_and_not_secure_by_default(pg_stack):
    client = PublicClient(pg_stack.faas_url)
    username = new_username()
    client.register(username)

    response = client.login(username)

    cookies = set_cookies(response)
    assert list(cookies) == ["jwtToken"]
    assert_session_cookie(cookies["jwtToken"], secure=False)
    assert 0 < int(cookies["jwtToken"]["max-age"]) <= 900
    assert cookies["jwtToken"].value not in response.text  # never in a body


def test_with_cookie_secure_the_cookie_is_secure_and_host_prefixed(secure_stack):
    response, origin = secure_login(secure_stack)

    cookies = set_cookies(response)
    assert list(cookies) == ["__Host-jwtToken"]
    assert_session_cookie(cookies["__Host-jwtToken"], secure=True)
    token = cookies["__Host-jwtToken"].value
    me = f"{secure_stack.faas_url}/api/me"
    sent_back = requests.get(me, headers={"Cookie": f"__Host-jwtToken={token}"}, timeout=10)
    # Only the prefixed name counts: a jwtToken cookie may have been set by a sibling host.
    unprefixed = requests.get(me, headers={"Cookie": f"jwtToken={token}"}, timeout=10)
    assert sent_back.status_code == 200 and unprefixed.status_code == 401
    logout = requests.post(
        f"{secure_stack.faas_url}/api/logout",
        headers={"Cookie": f"__Host-jwtToken={token}", "Origin": origin},
        timeout=10,
    )
    cleared = set_cookies(logout)["__Host-jwtToken"]
    assert cleared.value == "" and cleared["max-age"] == "0"
    assert_session_cookie(cleared, secure=True)  # a browser drops it only with the same ones


def test_every_login_issues_a_fresh_token_and_session(pg_stack):
    client, username = registered_user(pg_stack.faas_url)
    first = client.cookie()

    assert client.login(username).status_code == 200
    second = client.cookie()

    assert first != second
    assert claims_of(first)["jti"] != claims_of(second)["jti"]
    assert claims_of(first)["sid"] != claims_of(second)["sid"]


def test_logout_revokes_the_session_for_cookie_and_bearer_on_every_instance(pg_stack):
    client, _ = registered_user(pg_stack.faas_url)
    token = client.cookie()
    me = f"{pg_stack.faas_url}/api/me"
    as_cookie = {"Cookie": f"jwtToken={token}"}
    as_bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(me, headers=as_bearer, timeout=10).status_code == 200

    logout = client.call("POST", "/api/logout")

    assert logout.status_code == 204 and set_cookies(logout)["jwtToken"]["max-age"] == "0"

    def refused() -> bool | None:
        # Several requests in a row: faas runs two instances, each caching checks briefly.
        answers = [requests.get(me, headers=h, timeout=10) for h in (as_cookie, as_bearer) * 3]
        return True if all(a.status_code == 401 for a in answers) else None

    wait_until(refused, timeout=5, what="the revoked token refused everywhere", interval=0.2)


def test_sliding_renewal_stops_at_the_sessions_absolute_limit(secure_stack):
    response, origin = secure_login(secure_stack)
    token = set_cookies(response)["__Host-jwtToken"].value
    first = claims_of(token)
    session_end = first["iat"] + SESSION_SECONDS
    renewed, refused_at = [], None

    # Active every 0.4 s, well within each token's life, until refused or clearly past the end.
    while time.time() < session_end + 3:
        answer = requests.get(
            f"{secure_stack.faas_url}/api/me",
            headers={"Cookie": f"__Host-jwtToken={token}", "Origin": origin},
            timeout=10,
        )
        if answer.status_code != 200:
            refused_at = time.time()
            break
        if "__Host-jwtToken" in set_cookies(answer):
            token = set_cookies(answer)["__Host-jwtToken"].value
            renewed.append(claims_of(token))
        time.sleep(0.4)

    assert renewed, "an active session's cookie was never renewed"
    assert all(c["sid"] == first["sid"] and c["jti"] != first["jti"] for c in renewed)
    assert renewed[0]["exp"] > first["exp"]  # renewal did extend the session's token
    assert max(c["exp"] for c in renewed) <= session_end + 1  # never past the absolute limit
    assert refused_at is not None, "the session outlived its absolute limit"
    assert session_end - 1 <= refused_at <= session_end + 3
    assert answer.status_code == 401


def test_after_logout_a_token_is_refused_directly_at_each_service_within_seconds(pg_stack):
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    assert direct_calls(pg_stack, client.token) == {
        "todo-service": 200,
        "user-service": 200,
        "faas": 200,
    }

    assert client.call("POST", "/api/logout").status_code == 204

    wait_until(
        lambda: refused_everywhere(pg_stack, client.token),
        timeout=5,
        what="the logged-out token refused at every service",
        interval=0.2,
    )
    answer = requests.get(
        f"{pg_stack.todo_service_url}/todos",
        headers={"Authorization": f"Bearer {client.token}"},
        timeout=10,
    )
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_user_can_end_all_of_their_sessions(pg_stack):
    browser, username = registered_user(pg_stack.faas_url)
    api, laptop = PublicClient(pg_stack.faas_url), PublicClient(pg_stack.faas_url)
    assert api.take_token(username).status_code == 200
    assert laptop.take_token(username).status_code == 200
    bystander, _ = registered_user(pg_stack.faas_url, bearer=True)
    tokens = [browser.cookie(), api.token, laptop.token]
    assert all(set(direct_calls(pg_stack, token).values()) == {200} for token in tokens)

    ended = api.call("DELETE", "/api/sessions")

    assert ended.status_code == 204
    wait_until(
        lambda: refused_everywhere(pg_stack, *tokens),
        timeout=5,
        what="every session of the user refused everywhere",
        interval=0.2,
    )
    assert browser.call("GET", "/api/me").status_code == 401  # the cookie too
    assert set(direct_calls(pg_stack, bystander.token).values()) == {200}


def test_ending_all_sessions_needs_a_working_token(pg_stack):
    anonymous = requests.delete(f"{pg_stack.faas_url}/api/sessions", timeout=10)
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    assert client.call("POST", "/api/logout").status_code == 204
    logged_out = client.call("DELETE", "/api/sessions")

    assert anonymous.status_code == 401 and logged_out.status_code == 401
    assert anonymous.headers["Content-Type"] == "application/problem+json"


def test_an_api_token_sent_as_the_cookie_is_never_renewed(secure_stack):
    # The API token is taken first, so it is always the older of the two.
    username = new_username()
    body = {"username": username, "password": PASSWORD}
    url = secure_stack.faas_url
    assert requests.post(f"{url}/api/register", json=body, timeout=10).status_code == 201
    api_token = requests.post(f"{url}/api/token", json=body, timeout=10).json()["access_token"]
    login, _ = secure_login(secure_stack, username)
    cookie_token = set_cookies(login)["__Host-jwtToken"].value
    api_answers = []

    def cookie_login_renewed() -> bool | None:
        api_answers.append(with_cookie(secure_stack, api_token))
        return True if set_cookies(with_cookie(secure_stack, cookie_token)) else None

    # The cookie login is renewed once past half its life; by then the API token is older still.
    wait_until(cookie_login_renewed, timeout=TOKEN_SECONDS, what="the login renewed", interval=0.2)
    api_answers.append(with_cookie(secure_stack, api_token))

    assert [answer.status_code for answer in api_answers] == [200] * len(api_answers)
    assert [set_cookies(answer) for answer in api_answers] == [{}] * len(api_answers)


def test_two_session_cookies_in_one_request_are_refused(pg_stack):
    client, _ = registered_user(pg_stack.faas_url)
    other, _ = registered_user(pg_stack.faas_url)
    mine, theirs = client.cookie(), other.cookie()
    me = f"{pg_stack.faas_url}/api/me"

    pairs = ([mine, theirs], [theirs, mine], [mine, "junk"], ["junk", mine], [mine, mine])
    for case, cookies in enumerate(pairs):
        header = "; ".join(f"jwtToken={value}" for value in cookies)
        for method, path in (("GET", "/api/me"), ("GET", "/api/todos"), ("POST", "/api/todos")):
            answer = requests.request(
                method,
                pg_stack.faas_url + path,
                headers={"Cookie": header, "Origin": pg_stack.faas_url},
                json={"title": "whose list?"} if method == "POST" else None,
                timeout=10,
            )
            assert answer.status_code == 401, (case, method, path)
            assert answer.headers["Content-Type"] == "application/problem+json"
    assert requests.get(me, headers={"Cookie": f"jwtToken={mine}"}, timeout=10).status_code == 200
    assert client.call("GET", "/api/todos").json() == []


def test_expired_sessions_are_deleted_when_a_session_starts(secure_stack):
    tokens = [set_cookies(secure_login(secure_stack)[0])["__Host-jwtToken"].value for _ in range(2)]
    sids = [claims_of(token)["sid"] for token in tokens]
    counted = "SELECT count(*) FROM sessions WHERE id = ANY(%s)"
    assert users_scalar(secure_stack, counted, sids) == 2

    # Both are past their absolute end once faas refuses the later one for it.
    wait_until(
        lambda: with_cookie(secure_stack, tokens[-1]).status_code == 401 or None,
        timeout=SESSION_SECONDS + 2,
        what="the sessions ended",
        interval=0.2,
    )
    secure_login(secure_stack)

    assert users_scalar(secure_stack, counted, sids) == 0
    expired = "SELECT count(*) FROM sessions WHERE expires_at <= now()"
    assert users_scalar(secure_stack, expired) == 0
