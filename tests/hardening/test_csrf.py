"""CSRF: a state change that rides on the session cookie, login and logout included, passes only
when the browser says it comes from faas's own origin; forms cannot post; no CORS; GET is safe."""

import secrets
from urllib.parse import urlsplit

import pytest
import requests

from hardening.web import assert_problem
from support.api import PASSWORD, PublicClient, new_username, registered_user

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain")
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
)


class Browser:
    """A logged-in user's cookie, sent by hand with exactly the headers a test names."""

    def __init__(self, faas_url: str):
        self.url = faas_url
        self.client, self.username = registered_user(faas_url)
        self.cookie = self.client.cookie()
        todo = self.send("POST", "/api/todos", {"Origin": faas_url}, json={"title": "mine"})
        assert todo.status_code == 201
        self.todo_path = urlsplit(todo.json()["url"]).path

    def send(self, method: str, path: str, headers: dict, **kwargs) -> requests.Response:
        headers = {"Cookie": f"jwtToken={self.cookie}", **headers}
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def state(self) -> tuple[int, list]:
        """What a forged request must not have changed: the session, and the todos."""
        me = self.send("GET", "/api/me", {})
        todos = self.send("GET", "/api/todos", {})
        return me.status_code, [(todo["id"], todo["title"]) for todo in todos.json()]

    def state_changes(self) -> list[tuple[str, str, dict | None]]:
        return [
            ("POST", "/api/todos", {"title": "forged"}),
            ("PATCH", self.todo_path, {"title": "forged"}),
            ("DELETE", self.todo_path, None),
            ("DELETE", "/api/todos", None),
            ("POST", "/api/logout", None),
            ("POST", "/api/login", {"username": self.username, "password": PASSWORD}),
        ]


@pytest.fixture(scope="module")
def browser(pg_stack) -> Browser:
    return Browser(pg_stack.faas_url)


# Requests from anywhere but faas's own origin {url} (or that name no origin at all).
FOREIGN_SENDERS = {
    "foreign origin": {"Origin": "http://evil.example"},
    "null origin": {"Origin": "null"},
    "same host, other port": {"Origin": "http://{host}:{other_port}"},
    "same host, no port": {"Origin": "http://{host}"},
    "other scheme": {"Origin": "https://{host}:{port}"},
    "suffix": {"Origin": "{url}.evil.example"},
    "user info": {"Origin": "http://{host}:{port}@evil.example"},
    "prefix": {"Origin": "http://evil.example/{url}"},
    "trailing slash": {"Origin": "{url}/"},
    "two origins": {"Origin": "{url} http://evil.example"},
    "our origin, cross-site fetch": {"Origin": "{url}", "Sec-Fetch-Site": "cross-site"},
    "foreign referer": {"Referer": "http://evil.example/page"},
    "suffix referer": {"Referer": "{url}.evil.example/page"},
    "our url in a foreign referer": {"Referer": "http://evil.example/?{url}/"},
    "malformed referer": {"Referer": "http://[::1/page"},
    "host header": {"Host": "evil.example", "Origin": "http://evil.example"},
    "neither origin nor referer": {},
}


def foreign(sender: str, url: str) -> dict[str, str]:
    """The headers of FOREIGN_SENDERS[sender], for faas at `url`."""
    address = urlsplit(url)
    names = {"url": url, "host": address.hostname, "port": address.port}
    names["other_port"] = address.port + 1
    return {name: value.format(**names) for name, value in FOREIGN_SENDERS[sender].items()}


@pytest.mark.parametrize("sender", FOREIGN_SENDERS)
def test_cookie_state_changes_not_from_our_origin_are_refused_with_403(browser, sender: str):
    headers = foreign(sender, browser.url)
    before = browser.state()

    for method, path, body in browser.state_changes():
        response = browser.send(method, path, headers, json=body)
        assert_problem(response, 403)
        assert "Set-Cookie" not in response.headers, (method, path)

    assert browser.state() == before and before[0] == 200


def test_a_cookie_less_login_from_another_site_is_refused_and_sets_no_cookie(browser):
    body = {"username": browser.username, "password": PASSWORD}

    for sender in FOREIGN_SENDERS:
        headers = foreign(sender, browser.url)
        if not headers:
            continue  # an API client's login (below)
        response = requests.post(f"{browser.url}/api/login", json=body, headers=headers, timeout=10)
        assert_problem(response, 403)
        assert "Set-Cookie" not in response.headers

    ours = requests.post(
        f"{browser.url}/api/login", json=body, headers={"Origin": browser.url}, timeout=10
    )
    api_client = requests.post(f"{browser.url}/api/login", json=body, timeout=10)
    assert ours.status_code == 200 and api_client.status_code == 200


def test_cookie_state_changes_from_our_origin_pass_by_origin_or_referer(browser):
    by_origin = browser.send("POST", "/api/todos", {"Origin": browser.url}, json={"title": "o"})
    same_site = {"Origin": browser.url, "Sec-Fetch-Site": "same-origin"}
    by_fetch = browser.send("POST", "/api/todos", same_site, json={"title": "f"})
    referer = {"Referer": f"{browser.url}/?filter=all"}
    by_referer = browser.send("POST", "/api/todos", referer, json={"title": "r"})

    assert [r.status_code for r in (by_origin, by_fetch, by_referer)] == [201, 201, 201]


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_form_content_types_get_415_on_every_json_endpoint(browser, content_type: str):
    same_origin = {"Origin": browser.url, "Content-Type": content_type}
    before = browser.state()
    endpoints = [(m, p) for m, p, _ in browser.state_changes()]
    endpoints += [("POST", "/api/register"), ("POST", "/api/token")]

    for method, path in endpoints:
        body = f"username={new_username()}&password={PASSWORD}"
        response = browser.send(method, path, same_origin, data=body)
        assert_problem(response, 415)
        anonymous = requests.request(
            method, browser.url + path, data=body, headers=same_origin, timeout=10
        )
        assert_problem(anonymous, 415)

    assert browser.state() == before


@pytest.mark.parametrize("path", ["/api/me", "/api/todos", "/api/login", "/api/todos/1", "/"])
@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_no_cors_for_foreign_origins_not_even_on_preflight(browser, path: str, origin: str):
    preflight = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
    }
    answers = [
        browser.send("OPTIONS", path, preflight),
        browser.send("GET", path, {"Origin": origin}),
        browser.send("POST", path, {"Origin": origin}, json={}),
    ]

    for answer in answers:
        assert not [name for name in CORS_HEADERS if name in answer.headers], answer.headers


def test_get_never_changes_state(browser):
    before = browser.state()
    username = new_username()
    credentials = {"username": username, "password": PASSWORD}
    for path in ("/api/logout", "/api/login", "/api/register", "/api/token"):
        for method in ("GET", "HEAD"):
            response = browser.send(method, path, {"Origin": browser.url}, params=credentials)
            assert response.status_code == 405, (method, path)
            assert "Set-Cookie" not in response.headers
            if method == "GET":
                assert_problem(response, 405)
                assert "POST" in response.headers["Allow"]
    overrides = {"X-HTTP-Method-Override": "POST", "X-Method-Override": "DELETE"}
    listed = browser.send(
        "GET", "/api/todos?title=get&_method=POST", overrides, json={"title": "get"}
    )

    assert listed.status_code == 200
    assert browser.state() == before and before[0] == 200
    assert PublicClient(browser.url).login(username).status_code == 401  # never registered


def test_a_bearer_request_needs_no_origin(pg_stack):
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    headers = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    client.http.headers.pop("Origin")

    response = client.call(
        "POST", "/api/todos", json={"title": secrets.token_hex(4)}, headers=headers
    )

    assert response.status_code == 201
