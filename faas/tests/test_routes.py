"""gateway/routes.py: the public API, driven through the real user-service and todo-service."""

import json
import logging
import secrets
import time
from http.cookies import SimpleCookie

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway.tokens import load_public_key, thumbprint
from support.processes import free_port, wait_until

PASSWORD = "correct horse battery staple"


def credentials(account: dict, password: str = PASSWORD) -> dict[str, str]:
    return {"username": account["username"], "password": password}


def the_cookie(response: TestResponse, name: str = "jwtToken"):
    """The one Set-Cookie of `name` in the response, as a Morsel (value and attributes)."""
    cookies = [SimpleCookie(h) for h in response.headers.getlist("Set-Cookie") if name in h]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0][name]


def assert_problem(response: TestResponse, status: int) -> dict:
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["status"] == status
    return response.json


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# Accounts -----------------------------------------------------------------------------------


def test_register_answers_201_with_the_user(browser: FlaskClient):
    username = f"New_{secrets.token_hex(4)}"

    response = browser.post("/api/register", json={"username": username, "password": PASSWORD})

    assert response.status_code == 201
    assert set(response.json) == {"id", "username", "created_at"}
    assert response.json["username"] == username.lower()
    assert "Location" not in response.headers  # user-service's internal path stays inside


def test_register_passes_409_for_a_taken_name_and_422_for_invalid_input(
    browser: FlaskClient, account: dict
):
    taken = browser.post("/api/register", json=credentials(account))
    invalid = browser.post("/api/register", json={"username": "x", "password": "short"})

    assert "taken" in assert_problem(taken, 409)["detail"]
    assert_problem(invalid, 422)


@pytest.mark.parametrize("path", ["/api/register", "/api/login", "/api/token"])
def test_credentials_with_other_members_are_refused_with_422(browser: FlaskClient, path: str):
    body = {"username": f"user_{secrets.token_hex(4)}", "password": PASSWORD, "admin": True}

    assert_problem(browser.post(path, json=body), 422)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/register", "application/x-www-form-urlencoded"),
        ("/api/login", "application/x-www-form-urlencoded"),
        ("/api/login", "multipart/form-data; boundary=x"),
        ("/api/token", "text/plain"),
    ],
)
def test_bodies_other_than_json_are_refused_with_415(
    browser: FlaskClient, path: str, content_type: str
):
    response = browser.post(path, data="username=a&password=b", content_type=content_type)

    assert_problem(response, 415)


# Login, token, me, logout -------------------------------------------------------------------


def test_login_sets_an_httponly_lax_cookie_and_never_puts_the_token_in_the_body(
    browser: FlaskClient, account: dict
):
    response = browser.post("/api/login", json=credentials(account))

    assert response.status_code == 200
    assert set(response.json) == {"user", "expires_at"}
    assert response.json["user"]["username"] == account["username"]
    cookie = the_cookie(response)
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["secure"] and not cookie["domain"]
    assert 890 <= int(cookie["max-age"]) <= 900
    assert cookie.value not in response.get_data(as_text=True)
    claims = claims_of(cookie.value)
    assert claims["sub"] == str(account["id"]) and claims["username"] == account["username"]
    expires_at = response.json["expires_at"]
    assert expires_at.endswith("Z")
    assert time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(claims["exp"])) in expires_at


def test_with_cookie_secure_the_cookie_is_a_secure_host_cookie(
    make_gateway, browser_of, account: dict
):
    secure = make_gateway(COOKIE_SECURE="true", PUBLIC_URL="https://localhost")
    client = browser_of(secure, "https://localhost")

    response = client.post("/api/login", json=credentials(account), base_url="https://localhost")
    me = client.get("/api/me", base_url="https://localhost")

    cookie = the_cookie(response, "__Host-jwtToken")
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
    assert not cookie["domain"]
    assert "jwtToken=" not in response.headers["Set-Cookie"].replace("__Host-jwtToken=", "")
    assert me.status_code == 200 and me.json["username"] == account["username"]


def test_each_login_gets_a_fresh_token_and_session(browser: FlaskClient, account: dict):
    first = claims_of(the_cookie(browser.post("/api/login", json=credentials(account))).value)
    second = claims_of(the_cookie(browser.post("/api/login", json=credentials(account))).value)

    assert first["jti"] != second["jti"]
    assert first["sid"] != second["sid"]


def test_wrong_password_and_unknown_user_get_the_same_401(browser: FlaskClient, account: dict):
    wrong = browser.post("/api/login", json=credentials(account, "wrong password!"))
    unknown = browser.post("/api/login", json={"username": "nobody_here", "password": PASSWORD})

    for response in (wrong, unknown):
        assert "Set-Cookie" not in response.headers
    first, second = assert_problem(wrong, 401), assert_problem(unknown, 401)
    assert {**first, "request_id": None} == {**second, "request_id": None}


def test_a_throttled_login_gets_429_with_retry_after(browser: FlaskClient, account: dict):
    for _ in range(5):
        browser.post("/api/login", json=credentials(account, "wrong password!"))

    response = browser.post("/api/login", json=credentials(account))

    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1


def test_token_answers_a_bearer_token_and_sets_no_cookie(gateway: Flask, account: dict):
    response = gateway.test_client().post("/api/token", json=credentials(account))

    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"
    assert 890 <= response.json["expires_in"] <= 900
    assert claims_of(response.json["access_token"])["sub"] == str(account["id"])
    assert "Set-Cookie" not in response.headers


def test_me_answers_the_current_user_by_cookie_or_bearer(
    logged_in: FlaskClient, gateway: Flask, bearer: dict, account: dict
):
    expected = {"id": account["id"], "username": account["username"]}

    assert logged_in.get("/api/me").json == expected
    assert gateway.test_client().get("/api/me", headers=bearer).json == expected


def test_me_without_a_token_is_401(browser: FlaskClient):
    assert_problem(browser.get("/api/me"), 401)


def test_logout_answers_204_clears_the_cookie_and_ends_the_session(logged_in: FlaskClient):
    token = logged_in.get_cookie("jwtToken").value

    response = logged_in.post("/api/logout")

    assert response.status_code == 204 and "Content-Type" not in response.headers
    cleared = the_cookie(response)
    assert cleared.value == "" and cleared["max-age"] == "0"
    assert logged_in.get_cookie("jwtToken") is None
    logged_in.set_cookie("jwtToken", token)
    assert_problem(logged_in.get("/api/me"), 401)


def test_logout_without_a_session_still_answers_204(browser: FlaskClient):
    assert browser.post("/api/logout").status_code == 204


def test_ending_all_sessions_ends_each_of_the_users_and_clears_the_cookie(
    logged_in: FlaskClient, gateway: Flask, bearer: dict, account: dict
):
    cookie = logged_in.get_cookie("jwtToken").value
    someone = f"user_{secrets.token_hex(5)}"
    assert (
        logged_in.post("/api/register", json=credentials({"username": someone})).status_code == 201
    )
    bystander = gateway.test_client().post("/api/token", json=credentials({"username": someone}))
    others = [{"Authorization": f"Bearer {cookie}"}, bearer]

    response = logged_in.delete("/api/sessions")

    assert response.status_code == 204 and "Content-Type" not in response.headers
    cleared = the_cookie(response)
    assert cleared.value == "" and cleared["max-age"] == "0"

    # Other instances (and this one, for the sessions it checked) may trust a check briefly.
    def all_ended():
        answers = [gateway.test_client().get("/api/me", headers=h).status_code for h in others]
        return True if answers == [401, 401] else None

    wait_until(all_ended, timeout=5, what="every session of the user ended")
    bystander_token = {"Authorization": f"Bearer {bystander.json['access_token']}"}
    assert gateway.test_client().get("/api/me", headers=bystander_token).status_code == 200


def test_ending_all_sessions_without_a_working_token_is_401(gateway: Flask, bearer: dict):
    client = gateway.test_client()
    assert client.post("/api/logout", headers=bearer).status_code == 204

    assert_problem(client.delete("/api/sessions"), 401)
    assert_problem(client.delete("/api/sessions", headers=bearer), 401)


# Failures of user-service -------------------------------------------------------------------


def test_login_while_user_service_is_down_is_503_never_401(make_gateway, account: dict):
    app = make_gateway(USER_SERVICE_URL=f"http://127.0.0.1:{free_port()}")

    started = time.monotonic()
    response = app.test_client().post("/api/login", json=credentials(account))

    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "1"
    assert time.monotonic() - started < 2


def test_login_is_503_when_user_service_refuses_our_service_token(
    make_gateway, account: dict, tmp_path
):
    # A key user-service has never seen in the JWKS: the failure is ours, not a wrong password.
    app = make_gateway(JWT_PRIVATE_KEY_FILE=str(tmp_path / "unknown-key.pem"))

    response = app.test_client().post("/api/login", json=credentials(account))

    assert_problem(response, 503)


# Keys, the browser app, headers -------------------------------------------------------------


def test_jwks_publishes_public_keys_with_kid_use_and_alg(gateway: Flask, gateway_stack):
    response = gateway.test_client().get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert "max-age=60" in response.headers["Cache-Control"]
    keys = response.json["keys"]
    for key in keys:
        assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}  # never "d"
        assert (key["kty"], key["crv"], key["use"], key["alg"]) == (
            "OKP",
            "Ed25519",
            "sig",
            "EdDSA",
        )
    current = load_public_key(gateway_stack.key_file)
    previous = load_public_key(gateway_stack.previous_key_file)
    assert [key["kid"] for key in keys] == [thumbprint(current), thumbprint(previous)]
    assert jwt.PyJWKSet.from_json(json.dumps(response.json)).keys[0].key_id == thumbprint(current)


def test_the_signing_key_is_generated_once_and_reused(make_gateway, tmp_path):
    key_file = tmp_path / "fresh" / "key.pem"

    first = make_gateway(JWT_PRIVATE_KEY_FILE=str(key_file))
    second = make_gateway(JWT_PRIVATE_KEY_FILE=str(key_file))

    jwks = [app.test_client().get("/.well-known/jwks.json").json for app in (first, second)]
    assert jwks[0] == jwks[1]
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_the_browser_app_is_served_with_strict_security_headers(browser: FlaskClient):
    response = browser.get("/")

    assert response.status_code == 200 and b"<title>todos</title>" in response.data
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_are_served_and_anything_else_is_a_404_problem(browser: FlaskClient):
    asset = browser.get("/app.js")

    assert asset.status_code == 200 and asset.mimetype in (
        "text/javascript",
        "application/javascript",
    )
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/missing.js", "/../conftest.py", "/api/unknown", "/static/app.js"):
        assert_problem(browser.get(path), 404)


def test_dotfiles_and_paths_out_of_the_static_folder_are_never_served(
    browser: FlaskClient, gateway_stack
):
    (gateway_stack.tmp_dir / "static" / ".env").write_text("SECRET=1")
    (gateway_stack.tmp_dir / "outside.txt").write_text("outside")

    for path in ("/.env", "/%2eenv", "/../outside.txt", "/%2e%2e/outside.txt", "//etc/passwd"):
        response = browser.get(path)
        assert_problem(response, 404)
        assert b"SECRET" not in response.data and b"outside" not in response.data


def test_a_post_only_api_route_answers_get_with_405(browser: FlaskClient):
    response = browser.get("/api/logout")

    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_a_body_over_the_cap_is_413_even_where_no_view_reads_it(browser: FlaskClient):
    response = browser.post(
        "/api/logout", data=b" " * (64 * 1024 + 1), content_type="application/json"
    )

    assert_problem(response, 413)


def test_hsts_is_sent_only_with_cookie_secure(make_gateway, browser: FlaskClient):
    secure = make_gateway(COOKIE_SECURE="true", PUBLIC_URL="https://localhost").test_client()

    assert "Strict-Transport-Security" not in browser.get("/").headers
    for path in ("/", "/api/me", "/missing"):
        hsts = secure.get(path, base_url="https://localhost").headers["Strict-Transport-Security"]
        assert hsts == "max-age=63072000; includeSubDomains"


def test_api_answers_are_never_cached(logged_in: FlaskClient):
    for path in ("/api/me", "/api/todos"):
        response = logged_in.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_tokens_and_passwords_never_reach_the_log(
    browser: FlaskClient, account: dict, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.DEBUG):
        response = browser.post("/api/login", json=credentials(account))
        browser.get("/api/todos?limit=5")
    token = the_cookie(response).value

    logged = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert logged
    assert token not in logged and PASSWORD not in logged
