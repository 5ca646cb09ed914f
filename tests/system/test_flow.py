"""The whole public flow, with the browser's cookie and with an API client's Bearer token."""

import time

import pytest
import requests

from support.api import PublicClient, new_username, registered_user

SESSION_CACHE_SECONDS = 2  # faas's default SESSION_CHECK_CACHE_SECONDS


def walk_the_todo_api(client: PublicClient) -> None:
    created = client.call("POST", "/api/todos", json={"title": "buy milk"})
    assert created.status_code == 201, created.text
    todo = created.json()
    assert created.headers["Location"] == todo["url"]
    assert todo["url"] == f"{client.base}/api/todos/{todo['id']}"

    listed = client.call("GET", "/api/todos")
    assert [item["title"] for item in listed.json()] == ["buy milk"]

    patched = client.call(
        "PATCH",
        f"/api/todos/{todo['id']}",
        json={"completed": True},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert patched.status_code == 200 and patched.json()["completed"] is True

    assert client.call("DELETE", f"/api/todos/{todo['id']}").status_code == 204
    assert client.call("GET", "/api/todos").json() == []


@pytest.mark.parametrize("bearer", [False, True], ids=["cookie", "bearer"])
def test_a_user_registers_logs_in_manages_todos_and_logs_out(system_stack, bearer):
    client, username = registered_user(system_stack.faas_url, bearer=bearer)
    me = client.call("GET", "/api/me")
    assert me.status_code == 200 and me.json()["username"] == username

    walk_the_todo_api(client)

    assert client.call("POST", "/api/logout").status_code == 204
    assert client.cookie() is None


def test_login_sets_an_http_only_cookie_and_never_returns_the_token(system_stack):
    client = PublicClient(system_stack.faas_url)
    username = new_username()
    client.register(username)
    response = client.login(username)
    assert response.status_code == 200
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith("jwtToken=")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    assert "Domain" not in set_cookie
    assert client.cookie() not in response.text
    assert set(response.json()) == {"user", "expires_at"}


def test_api_clients_get_a_bearer_token_and_no_cookie(system_stack):
    client = PublicClient(system_stack.faas_url)
    username = new_username()
    client.register(username)
    response = client.take_token(username)
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer" and response.json()["expires_in"] > 0
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("replay_as", ["cookie", "bearer"])
def test_after_logout_the_old_token_is_refused_on_every_instance(system_stack, replay_as):
    client, _ = registered_user(system_stack.faas_url)
    token = client.cookie()
    assert client.call("POST", "/api/logout").status_code == 204
    time.sleep(SESSION_CACHE_SECONDS + 0.5)

    # A fresh connection per request spreads them over both faas instances (workers).
    for _ in range(12):
        if replay_as == "cookie":
            response = requests.get(
                f"{system_stack.faas_url}/api/todos",
                cookies={"jwtToken": token},
                headers={"Connection": "close"},
                timeout=5,
            )
        else:
            response = requests.get(
                f"{system_stack.faas_url}/api/todos",
                headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                timeout=5,
            )
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/problem+json"


def test_unknown_user_and_wrong_password_answer_the_same(system_stack):
    client, username = registered_user(system_stack.faas_url)
    wrong_password = client.login(username, "not the password at all")
    unknown_user = client.login(new_username("nobody"), "not the password at all")
    assert wrong_password.status_code == unknown_user.status_code == 401

    def without_request_id(response):
        return {k: v for k, v in response.json().items() if k != "request_id"}

    assert without_request_id(wrong_password) == without_request_id(unknown_user)


def test_a_cross_site_origin_on_a_cookie_authenticated_post_is_refused(system_stack):
    client, _ = registered_user(system_stack.faas_url)
    response = client.call(
        "POST",
        "/api/todos",
        json={"title": "forged"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert client.call("GET", "/api/todos").json() == []


def test_another_users_todo_answers_404_like_a_missing_one(system_stack):
    alice, _ = registered_user(system_stack.faas_url)
    bob, _ = registered_user(system_stack.faas_url, bearer=True)
    todo = alice.call("POST", "/api/todos", json={"title": "alice's"}).json()
    assert bob.call("GET", f"/api/todos/{todo['id']}").status_code == 404
    assert bob.call("DELETE", f"/api/todos/{todo['id']}").status_code == 404
    assert bob.call("GET", f"/api/todos/{todo['id'] + 10**6}").status_code == 404
    assert alice.call("GET", f"/api/todos/{todo['id']}").status_code == 200
