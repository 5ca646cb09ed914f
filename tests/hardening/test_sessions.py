"""Sessions: the cookie's attributes in both COOKIE_SECURE modes, a fresh token per login, logout
that revokes, and sliding renewal that stops at the session's absolute limit."""

import time
from collections.abc import Iterator
from http.cookies import SimpleCookie

import jwt
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


def secure_login(stack: Stack) -> tuple[requests.Response, str]:
    """A new user logged in by cookie on the COOKIE_SECURE stack; the login answer and origin."""
    origin = stack.faas_url.replace("http://", "https://")  # its PUBLIC_URL, by default
    username = new_username()
    body = {"username": username, "password": PASSWORD}
    headers = {"Origin": origin}
    url = stack.faas_url
    assert requests.post(f"{url}/api/register", json=body, timeout=10).status_code == 201
    response = requests.post(f"{url}/api/login", json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response, origin


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
