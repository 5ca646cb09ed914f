"""gateway/auth.py: cookie or Bearer, our own keys only, live sessions, CSRF, sliding renewal."""

import time
from http.cookies import SimpleCookie

import jwt
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from support.processes import free_port, wait_until
from support.tokens import SigningKey, user_claims
from support.wsgi import WsgiServer
from user_service import create_app as create_user_service

PASSWORD = "correct horse battery staple"
AUDIENCE = ["user-service", "todo-service"]
TODO = {"title": "buy milk"}


def login(client: FlaskClient, account: dict) -> str:
    """Log the client in by cookie; the token it now holds."""
    response = client.post(
        "/api/login", json={"username": account["username"], "password": PASSWORD}
    )
    assert response.status_code == 200, response.json
    return client.get_cookie("jwtToken").value


def cookie_set(response, name: str = "jwtToken") -> str | None:
    """The value the response sets the cookie to; None when it does not touch it."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return SimpleCookie(header)[name].value
    return None


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# Which tokens open the API ------------------------------------------------------------------


def test_a_token_signed_by_another_key_is_refused_and_its_cookie_cleared(
    browser: FlaskClient, account: dict
):
    stranger = SigningKey()
    forged = stranger.sign(user_claims(str(account["id"]), AUDIENCE), {"typ": "at+jwt"})

    as_bearer = browser.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    browser.set_cookie("jwtToken", forged)
    as_cookie = browser.get("/api/me")

    assert as_bearer.status_code == 401 and as_cookie.status_code == 401
    assert cookie_set(as_cookie) == ""


def test_a_token_of_a_previous_key_still_works_after_rotation(
    make_gateway, gateway: Flask, gateway_stack, account: dict
):
    # An instance still on the old key issued this token; the current key's instance takes it.
    old_instance = make_gateway(JWT_PRIVATE_KEY_FILE=str(gateway_stack.previous_key_file))
    issued = old_instance.test_client().post(
        "/api/token", json={"username": account["username"], "password": PASSWORD}
    )
    token = issued.json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    me = gateway.test_client().get("/api/me", headers=headers)
    todos = gateway.test_client().get("/api/todos", headers=headers)

    assert jwt.get_unverified_header(token)["kid"] != gateway.extensions["tokens"].keys.kid
    assert me.status_code == 200 and todos.status_code == 200


def test_a_bearer_header_wins_over_the_cookie(logged_in: FlaskClient, gateway: Flask, bearer: dict):
    malformed = logged_in.get("/api/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    other = logged_in.get("/api/me", headers=bearer)

    assert malformed.status_code == 401
    assert other.status_code == 200


# Sessions: logout is seen everywhere within seconds -----------------------------------------


def test_logout_ends_the_token_as_cookie_and_as_bearer_on_every_instance(
    browser: FlaskClient, make_gateway, account: dict
):
    token = login(browser, account)
    bearer = {"Authorization": f"Bearer {token}"}
    other_instance = make_gateway(SESSION_CHECK_CACHE_SECONDS="1").test_client()
    assert other_instance.get("/api/me", headers=bearer).status_code == 200

    assert browser.post("/api/logout").status_code == 204

    browser.set_cookie("jwtToken", token)
    assert browser.get("/api/me").status_code == 401  # at once on the instance that logged out
    assert browser.get("/api/me", headers=bearer).status_code == 401
    time.sleep(1.1)
    assert other_instance.get("/api/me", headers=bearer).status_code == 401
    assert other_instance.get("/api/todos", headers=bearer).status_code == 401


def test_after_logout_the_token_is_refused_at_todo_service_called_directly(
    gateway: Flask, gateway_stack, bearer: dict
):
    todos = f"{gateway_stack.todo_service.url}/todos"
    assert requests.get(todos, headers=bearer, timeout=5).status_code == 200

    assert gateway.test_client().post("/api/logout", headers=bearer).status_code == 204

    wait_until(
        lambda: requests.get(todos, headers=bearer, timeout=5).status_code == 401 or None,
        timeout=5,
        what="todo-service refusing the logged-out token",
    )


def test_a_bearer_client_can_log_its_own_session_out(gateway: Flask, bearer: dict):
    client = gateway.test_client()

    assert client.post("/api/logout", headers=bearer).status_code == 204
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_session_checks_are_cached_per_instance_for_the_configured_seconds(
    browser: FlaskClient, make_gateway, account: dict
):
    token = login(browser, account)
    bearer = {"Authorization": f"Bearer {token}"}
    caching = make_gateway(SESSION_CHECK_CACHE_SECONDS="60").test_client()
    assert caching.get("/api/me", headers=bearer).status_code == 200

    browser.post("/api/logout")

    # Within its cache time the instance does not ask user-service again.
    assert caching.get("/api/me", headers=bearer).status_code == 200


def test_session_checks_failing_is_503_and_keeps_the_cookie(
    make_gateway, browser_of, account: dict
):
    down = make_gateway(
        USER_SERVICE_URL=f"http://127.0.0.1:{free_port()}", SESSION_CHECK_CACHE_SECONDS="0"
    )
    token = login(browser_of(make_gateway()), account)

    client = down.test_client()
    client.set_cookie("jwtToken", token)
    response = client.get("/api/me")

    assert response.status_code == 503
    assert cookie_set(response) is None


# CSRF ---------------------------------------------------------------------------------------


@pytest.fixture
def without_origin(gateway: Flask, logged_in: FlaskClient) -> FlaskClient:
    """A client holding logged_in's cookie that sends only the headers a test gives it."""
    client = gateway.test_client()
    client.set_cookie("jwtToken", logged_in.get_cookie("jwtToken").value)
    return client


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://localhost"},  # another scheme is another origin
        {"Origin": "http://localhost:8080"},  # and so is another port
        {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
        {"Referer": "http://evil.example/page"},
        {},
    ],
    ids=[
        "foreign",
        "null",
        "other-scheme",
        "other-port",
        "sec-fetch-cross-site",
        "foreign-referer",
        "neither-origin-nor-referer",
    ],
)
def test_cookie_requests_that_change_state_must_come_from_our_origin(
    without_origin: FlaskClient, headers: dict
):
    for method, path in (
        ("POST", "/api/todos"),
        ("DELETE", "/api/todos"),
        ("POST", "/api/logout"),
        ("DELETE", "/api/sessions"),
    ):
        response = without_origin.open(path, method=method, json=TODO, headers=headers)
        assert response.status_code == 403, (method, path)
        assert response.headers["Content-Type"] == "application/problem+json"
    assert without_origin.get("/api/me").status_code == 200  # the logout above was refused


def test_the_origin_checked_is_public_urls_never_the_requests_host(without_origin: FlaskClient):
    evil = "http://evil.example"
    token = without_origin.get_cookie("jwtToken").value
    without_origin.set_cookie("jwtToken", token, domain="evil.example")

    response = without_origin.post("/api/todos", json=TODO, headers={"Origin": evil}, base_url=evil)

    assert response.status_code == 403


def test_same_origin_requests_pass_by_origin_or_by_referer(without_origin: FlaskClient):
    by_origin = without_origin.post("/api/todos", json=TODO, headers={"Origin": "http://localhost"})
    by_referer = without_origin.post(
        "/api/todos", json=TODO, headers={"Referer": "http://localhost/todos?x=1"}
    )

    assert by_origin.status_code == 201
    assert by_referer.status_code == 201


def test_bearer_requests_need_no_csrf_check(gateway: Flask, bearer: dict):
    response = gateway.test_client().post(
        "/api/todos",
        json=TODO,
        headers={**bearer, "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 201


def test_a_cross_site_login_is_refused_but_an_api_client_login_is_not(
    gateway: Flask, account: dict
):
    body = {"username": account["username"], "password": PASSWORD}
    client = gateway.test_client()

    forged = client.post("/api/login", json=body, headers={"Origin": "http://evil.example"})
    cross = client.post("/api/login", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    plain = client.post("/api/login", json=body)

    assert forged.status_code == 403 and cross.status_code == 403
    assert cookie_set(forged) is None
    assert plain.status_code == 200


# Sliding renewal ----------------------------------------------------------------------------


def test_a_cookie_past_half_its_life_is_renewed_with_a_new_jti_and_the_same_session(
    make_gateway, browser_of, account: dict
):
    client = browser_of(make_gateway(JWT_TTL_SECONDS="4"))
    first = claims_of(login(client, account))

    young = client.get("/api/me")
    time.sleep(2.2)
    old = client.get("/api/me")

    assert cookie_set(young) is None
    renewed = claims_of(cookie_set(old))
    assert renewed["jti"] != first["jti"] and renewed["sid"] == first["sid"]
    assert renewed["exp"] > first["exp"]
    assert client.get("/api/me").status_code == 200


def test_a_token_from_api_token_sent_as_the_cookie_is_never_renewed(
    make_gateway, browser_of, account: dict
):
    app = make_gateway(JWT_TTL_SECONDS="4")
    api_token = app.test_client().post(
        "/api/token", json={"username": account["username"], "password": PASSWORD}
    )
    as_cookie = browser_of(app)
    as_cookie.set_cookie("jwtToken", api_token.json["access_token"])
    browser = browser_of(app)
    login(browser, account)  # later than the API token: renewed before it would be
    api_answers = []

    def login_renewed():
        api_answers.append(as_cookie.get("/api/me"))
        return True if cookie_set(browser.get("/api/me")) else None

    wait_until(login_renewed, timeout=4, what="the cookie login renewed", interval=0.2)
    api_answers.append(as_cookie.get("/api/me"))

    assert [answer.status_code for answer in api_answers] == [200] * len(api_answers)
    assert [cookie_set(answer) for answer in api_answers] == [None] * len(api_answers)


def test_two_session_cookies_are_refused_and_neither_is_cleared(
    logged_in: FlaskClient, gateway: Flask, bearer: dict
):
    token = logged_in.get_cookie("jwtToken").value
    other = bearer["Authorization"].removeprefix("Bearer ")
    client = gateway.test_client(use_cookies=False)  # sends the Cookie header as given

    for pair in ((token, other), (other, token), (token, "junk"), (token, token)):
        cookies = f"jwtToken={pair[0]}; jwtToken={pair[1]}"
        response = client.get("/api/me", headers={"Cookie": cookies})
        assert (response.status_code, response.mimetype) == (401, "application/problem+json")
        assert response.json["detail"] == "more than one session cookie was sent"
        assert cookie_set(response) is None
    assert client.get("/api/me", headers={"Cookie": f"jwtToken={token}"}).status_code == 200
    # A Bearer header wins over the cookie: the cookies are not read at all.
    assert client.get("/api/me", headers={**bearer, "Cookie": cookies}).status_code == 200


def test_bearer_tokens_are_never_renewed(make_gateway, account: dict):
    app = make_gateway(JWT_TTL_SECONDS="2")
    issued = app.test_client().post(
        "/api/token", json={"username": account["username"], "password": PASSWORD}
    )
    time.sleep(1.1)

    response = app.test_client().get(
        "/api/me", headers={"Authorization": f"Bearer {issued.json['access_token']}"}
    )

    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_renewal_never_passes_the_sessions_absolute_end(
    make_gateway, browser_of, gateway_stack, account: dict
):
    short_sessions = WsgiServer(
        create_user_service(
            {
                "DATABASE_URL": gateway_stack.users_database_url,
                "JWKS_URL": f"{gateway_stack.faas.url}/.well-known/jwks.json",
                "SESSION_MAX_SECONDS": "3",
            }
        )
    )
    try:
        app = make_gateway(USER_SERVICE_URL=short_sessions.url, JWT_TTL_SECONDS="60")
        client = browser_of(app)
        first = claims_of(login(client, account))
        logged_in = time.time()  # the session began before: its end is at most 3 s from here
        time.sleep(1.7)
        later = client.get("/api/me")
    finally:
        short_sessions.close()

    assert first["exp"] <= logged_in + 3  # capped by the session, not the 60 s lifetime
    assert later.status_code == 200 and cookie_set(later) is None
