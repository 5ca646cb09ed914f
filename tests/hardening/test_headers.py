"""Security headers on every answer of faas, and a public address no client can steer."""

import re
from collections.abc import Iterator

import pytest

from hardening.web import Answer, extra_faas, raw
from support.api import PASSWORD, new_username, registered_user

HSTS = "max-age=63072000; includeSubDomains"
EVIL = "evil.example"
SPOOFED = {
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "666",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-Server": EVIL,
    "Forwarded": f"host={EVIL};proto=https",
    "X-Original-URL": f"http://{EVIL}/",
}
JSON = {"Content-Type": "application/json"}
# Where this faas is reached in test_public_url_*: behind a TLS proxy, under a path.
PUBLIC_URL = "https://todos.example:8443/app"


@pytest.fixture(scope="module")
def bearer(pg_stack) -> dict[str, str]:
    client, _ = registered_user(pg_stack.faas_url, bearer=True)
    return {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def cookie(pg_stack) -> dict[str, str]:
    """The headers of a browser logged in by cookie, as the page's own requests carry them."""
    client, _ = registered_user(pg_stack.faas_url)
    return {"Cookie": f"jwtToken={client.cookie()}", "Origin": pg_stack.faas_url}


@pytest.fixture(scope="module")
def answers(pg_stack, bearer, cookie) -> dict[str, tuple[str, Answer]]:
    """One answer of each kind faas gives, by name: (path, answer)."""
    url = pg_stack.faas_url
    created = raw(url, "POST", "/api/todos", bearer, b'{"title": "headers"}')
    todo = created.json()["url"].removeprefix(url)
    login = "/api/login"
    requests = {
        "page": ("GET", "/", {}, None),
        "page HEAD": ("HEAD", "/", {}, None),
        "script": ("GET", "/js/app.js", {}, None),
        "style": ("GET", "/app.css", {}, None),
        "image": ("GET", "/favicon.svg", {}, None),
        "jwks": ("GET", "/.well-known/jwks.json", {}, None),
        "openapi": ("GET", "/openapi.json", {}, None),
        "health": ("GET", "/healthz", {}, None),
        "ready": ("GET", "/readyz", {}, None),
        "json": ("GET", "/api/todos", bearer, None),
        "json by cookie": ("GET", "/api/todos", cookie, None),
        "me by cookie": ("GET", "/api/me", cookie, None),
        "created by cookie": ("POST", "/api/todos", {**cookie, **JSON}, b'{"title": "c"}'),
        "post elsewhere by cookie": ("POST", "/x", cookie, None),
        "no content": ("DELETE", todo, bearer, None),
        "options": ("OPTIONS", "/api/todos", {"Origin": f"http://{EVIL}"}, None),
        "400": ("POST", login, {"Content-Type": "application/json"}, b"{"),
        "401": ("GET", "/api/me", {}, None),
        "403": ("POST", login, {"Origin": f"http://{EVIL}"}, b"{}"),
        "404": ("GET", "/missing.js", {}, None),
        "404 api": ("GET", "/api/missing", {}, None),
        "405": ("GET", "/api/logout", {}, None),
        "413": ("POST", login, {"Content-Type": "application/json"}, b" " * (64 * 1024 + 1)),
        "415": ("POST", login, {"Content-Type": "text/plain"}, b"{}"),
        "422": ("GET", "/api/todos?limit=0", bearer, None),
    }
    found = {"created": ("/api/todos", created)}
    for name, (method, path, headers, body) in requests.items():
        found[name] = (path, raw(url, method, path, headers, body))
    return found


def test_every_answer_of_faas_has_nosniff(answers):
    statuses = {answer.status_code for _, answer in answers.values()}
    assert {200, 201, 204, 400, 401, 403, 404, 405, 413, 415, 422} <= statuses
    for name, (_, answer) in answers.items():
        assert answer.headers["X-Content-Type-Options"] == "nosniff", name


def test_every_api_answer_is_no_store_errors_included(answers):
    api = {name: answer for name, (path, answer) in answers.items() if path.startswith("/api/")}
    assert len(api) >= 12
    for name, answer in api.items():
        assert answer.headers["Cache-Control"] == "no-store", name


def test_the_page_has_a_strict_csp_no_framing_and_a_referrer_policy(answers):
    _, page = answers["page"]

    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe" not in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")


def test_the_page_allows_no_plugins(answers):
    policy = answers["page"][1].headers["Content-Security-Policy"]

    assert "object-src 'none'" in policy.split("; ")


def test_every_api_answer_and_every_state_change_varies_on_the_cookie(answers):
    varying = {
        name: answer
        for name, (path, answer) in answers.items()
        if path.startswith("/api/") or name == "post elsewhere by cookie"
    }
    assert {"json by cookie", "me by cookie", "created by cookie", "401"} <= set(varying)
    assert answers["json by cookie"][1].status_code == 200
    assert answers["created by cookie"][1].status_code == 201
    for name, answer in varying.items():
        vary = {value.strip().lower() for value in (answer.headers["Vary"] or "").split(",")}
        assert "cookie" in vary, name


def test_answers_the_same_for_everyone_do_not_vary_on_the_cookie(answers):
    for name in ("page", "script", "style", "image", "jwks", "openapi", "health"):
        assert "cookie" not in (answers[name][1].headers["Vary"] or "").lower(), name


def test_answers_that_are_not_the_page_may_not_run_anything_or_be_framed(answers):
    for name in ("json", "jwks", "401", "404", "script", "image"):
        policy = answers[name][1].headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, name


def test_no_hsts_without_cookie_secure(answers):
    for name, (_, answer) in answers.items():
        assert answer.headers["Strict-Transport-Security"] is None, name


@pytest.fixture(scope="module")
def secure_faas(pg_stack, tmp_path_factory) -> Iterator[str]:
    """A faas behind TLS (COOKIE_SECURE) at PUBLIC_URL; tests reach it over plain http."""
    log_dir = tmp_path_factory.mktemp("secure-faas")
    with extra_faas(pg_stack, log_dir, COOKIE_SECURE="true", PUBLIC_URL=PUBLIC_URL) as (url, _):
        yield url


def test_hsts_on_every_answer_with_cookie_secure(secure_faas):
    for method, path in [("GET", "/"), ("GET", "/api/me"), ("GET", "/healthz"), ("POST", "/x")]:
        answer = raw(secure_faas, method, path)
        assert answer.headers["Strict-Transport-Security"] == HSTS, path


def test_public_url_makes_the_todo_urls(secure_faas, bearer):
    for title in ("one", "two"):
        body = f'{{"title": "{title}"}}'.encode()
        created = raw(secure_faas, "POST", "/api/todos", {**bearer, **SPOOFED}, body)
        assert created.status_code == 201
        location = created.headers["Location"]
        assert location == f"{PUBLIC_URL}/api/todos/{created.json()['id']}"
        assert created.json()["url"] == location
    page = raw(secure_faas, "GET", "/api/todos?limit=1", {**bearer, **SPOOFED})
    assert page.headers["Link"].startswith(f"<{PUBLIC_URL}/api/todos?")


def test_public_url_is_the_only_origin_the_csrf_check_accepts(pg_stack, secure_faas):
    username = new_username()
    body = f'{{"username": "{username}", "password": "{PASSWORD}"}}'.encode()
    json_type = {"Content-Type": "application/json"}
    assert raw(pg_stack.faas_url, "POST", "/api/register", json_type, body).status_code == 201

    def login(origin: str, host: str | None = None) -> int:
        headers = {**json_type, "Origin": origin, **({"Host": host} if host else {})}
        return raw(secure_faas, "POST", "/api/login", headers, body).status_code

    assert login("https://todos.example:8443") == 200
    assert login(secure_faas) == 403  # where it really listens is not where browsers see it
    assert login("http://todos.example:8443", host="todos.example:8443") == 403
    assert login(f"http://{EVIL}", host=EVIL) == 403


def test_client_sent_host_and_forwarded_headers_never_steer_urls(pg_stack, bearer):
    url = pg_stack.faas_url
    spoofed = {**bearer, **SPOOFED, "Host": EVIL}

    for title in ("one", "two"):
        created = raw(url, "POST", "/api/todos", spoofed, f'{{"title": "{title}"}}'.encode())
        assert created.status_code == 201
        assert created.headers["Location"] == f"{url}/api/todos/{created.json()['id']}"
        assert created.json()["url"] == created.headers["Location"]
    listed = raw(url, "GET", "/api/todos?limit=1", spoofed)
    assert listed.headers["Link"].startswith(f"<{url}/api/todos?")
    assert listed.json()[0]["url"].startswith(f"{url}/api/todos/")


@pytest.mark.parametrize(
    "target", ["/", "/missing", "/api/missing", "//api/me", "/js//app.js", "/api/todos/", "//x/y"]
)
def test_no_answer_reflects_a_client_sent_host(pg_stack, target: str):
    answer = raw(pg_stack.faas_url, "GET", target, {**SPOOFED, "Host": EVIL})

    assert not 300 <= answer.status_code < 400
    assert EVIL not in str(answer.headers) and EVIL.encode() not in answer.content


@pytest.mark.parametrize("name", ["faas", "users", "todos"])
def test_no_service_names_its_version(pg_stack, name: str):
    for target in ("/healthz", "/missing"):
        answer = raw(pg_stack.url(name), "GET", target)
        server = answer.headers["Server"] or ""
        assert not re.search(r"[\d/]", server), server
        assert answer.headers["X-Powered-By"] is None
