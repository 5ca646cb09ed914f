"""Tokens, session ids and passwords never reach a log line or a URL.

One flow through the public API (cookie and Bearer clients, failures included) and direct calls
to both services, then every log of the stack's processes is searched for what the flow used.
"""

import secrets
import time
from collections.abc import Iterator

import jwt
import pytest
import requests

from support.api import PublicClient, new_username, registered_user

URL_HEADERS = ("Location", "Content-Location", "Link", "Refresh")


class Flow:
    """Every response of the flow, and every secret it used."""

    def __init__(self, stack):
        self.stack = stack
        self.request_id = f"secrets-{secrets.token_hex(8)}"
        self.responses: list[requests.Response] = []
        self.secrets: dict[str, str] = {}

    def record(self, response: requests.Response) -> requests.Response:
        self.responses.append(response)
        return response

    def call(self, client: PublicClient, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-Request-ID": self.request_id, **kwargs.pop("headers", {})}
        return self.record(client.call(method, path, headers=headers, **kwargs))

    def keep_token(self, name: str, token: str) -> None:
        """The token, its payload and signature (each leaks it), and its session id."""
        _header, payload, signature = token.split(".")
        claims = jwt.decode(token, options={"verify_signature": False})
        self.secrets |= {
            f"{name} token": token,
            f"{name} token payload": payload,
            f"{name} token signature": signature,
            f"{name} session id": claims["sid"],
        }

    def run_as_browser(self) -> None:
        client, password = PublicClient(self.stack.faas_url), f"pw {secrets.token_hex(8)} one"
        username = new_username("logs")
        self.secrets["browser password"] = password
        assert self.call(client, "POST", "/api/register", json=credentials(username, password))
        wrong = f"pw {secrets.token_hex(8)} wrong"
        self.secrets["wrong password"] = wrong
        assert (
            self.call(client, "POST", "/api/login", json=credentials(username, wrong)).status_code
            == 401
        )
        assert self.call(client, "POST", "/api/login", json=credentials(username, password)).ok
        self.keep_token("cookie", client.cookie())
        self.crud(client)
        cookie = client.cookie()
        assert self.call(client, "POST", "/api/logout").status_code == 204
        client.http.cookies.set("jwtToken", cookie)  # the old cookie, replayed
        assert self.call(client, "GET", "/api/me").status_code == 401

    def run_as_api_client(self) -> None:
        client, password = PublicClient(self.stack.faas_url), f"pw {secrets.token_hex(8)} two"
        username = new_username("logs")
        self.secrets["API client password"] = password
        assert self.call(client, "POST", "/api/register", json=credentials(username, password))
        response = self.call(client, "POST", "/api/token", json=credentials(username, password))
        client.token = response.json()["access_token"]
        self.keep_token("bearer", client.token)
        self.crud(client)
        user_id = self.call(client, "GET", "/api/me").json()["id"]
        direct = {"Authorization": f"Bearer {client.token}", "X-Request-ID": self.request_id}
        for url in (
            f"{self.stack.todo_service_url}/todos?limit=1",
            f"{self.stack.user_service_url}/users/{user_id}",
        ):
            assert self.record(requests.get(url, headers=direct, timeout=5)).ok
        assert self.call(client, "POST", "/api/logout").status_code == 204
        assert self.call(client, "GET", "/api/todos").status_code == 401

    def crud(self, client: PublicClient) -> None:
        for title in ("first", "second"):
            assert self.call(client, "POST", "/api/todos", json={"title": title}).status_code == 201
        page = self.call(client, "GET", "/api/todos?limit=1")
        assert "next" in page.links, page.headers
        todo = page.json()[0]
        path = f"/api/todos/{todo['id']}"
        assert self.call(client, "PATCH", path, json={"completed": True}).ok
        assert self.call(client, "GET", path).ok
        assert self.call(client, "DELETE", path).status_code == 204
        assert self.call(client, "GET", "/api/me").ok


def todo_urls(response: requests.Response) -> list[str]:
    """The url fields of the todos in a JSON answer (a token is in /api/token's body by design)."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return []
    body = response.json()
    todos = body if isinstance(body, list) else [body]
    return [todo["url"] for todo in todos if isinstance(todo, dict) and "url" in todo]


def credentials(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


@pytest.fixture(scope="module")
def flow(pg_stack) -> Iterator[Flow]:
    done = Flow(pg_stack)
    done.run_as_browser()
    done.run_as_api_client()
    time.sleep(0.5)  # the last log lines reach the files
    yield done


@pytest.mark.parametrize("process", ["faas", "users", "todos"])
def test_no_log_line_holds_a_token_session_id_or_password(flow, process):
    logs = flow.stack.logs(process)
    assert flow.request_id in logs, "the flow's requests are not in this log: wrong file?"
    leaked = [name for name, secret in flow.secrets.items() if secret in logs]
    assert leaked == []


def test_no_response_puts_a_token_or_session_id_in_a_url(flow):
    secret_values = [
        value for name, value in flow.secrets.items() if "token" in name or "session" in name
    ]
    places = []
    for response in flow.responses:
        places += [response.url, *(response.headers.get(name, "") for name in URL_HEADERS)]
        places += todo_urls(response)
    assert any("/api/todos/" in place for place in places), "no todo url was seen"
    assert [value for value in secret_values if any(value in place for place in places)] == []


def test_a_token_in_the_query_string_is_never_accepted(pg_stack):
    # Accepting one would invite clients to put tokens in URLs, where logs and Referers keep them.
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    user_id = client.call("GET", "/api/me").json()["id"]
    urls = [
        f"{pg_stack.faas_url}/api/todos",
        f"{pg_stack.todo_service_url}/todos",
        f"{pg_stack.user_service_url}/users/{user_id}",
    ]
    answers = {
        (url, name): requests.get(url, params={name: client.token}, timeout=5).status_code
        for url in urls
        for name in ("access_token", "token", "jwt", "jwtToken")
    }
    assert answers == {key: 401 for key in answers}
