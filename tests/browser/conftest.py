"""Debian's Chromium, driven by Playwright, against the real three-process stack.

Fixtures: `open_app` (a new browser context, like a separate browser, on the app's page, in the
session's Chromium of tests/support/chromium.py), `api` (the public API over plain HTTP),
`credentials` (a new user).
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import APIRequestContext, Browser, BrowserContext, Playwright

from browser.app_page import DESKTOP, PASSWORD, AppPage, unique_username
from support.stack import stack  # noqa: F401  (the real processes, started once per session)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def open_app(browser: Browser, stack) -> Iterator[Callable[..., AppPage]]:  # noqa: F811
    """open_app(credentials=None, **context_options) → a fresh context (its own cookies) on the
    app's page, logged in when credentials are given.

    Each context records uncaught script errors and CSP violations; any of them fails the test.
    """
    opened: list[tuple[BrowserContext, list[str]]] = []

    def open_one(credentials: tuple[str, str] | None = None, **options) -> AppPage:
        context = browser.new_context(base_url=stack.faas_url, **{"viewport": DESKTOP, **options})
        context.set_default_timeout(10_000)
        problems: list[str] = []
        opened.append((context, problems))
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto("/")
        app = AppPage(context, page)
        if credentials:
            app.log_in(*credentials)
        return app

    yield open_one
    for context, problems in opened:
        context.close()
        assert not problems, problems


@pytest.fixture
def api(playwright: Playwright, stack) -> Iterator[APIRequestContext]:  # noqa: F811
    """The public API over plain HTTP, as a non-browser client sees it (no cookies shared)."""
    request = playwright.request.new_context(
        base_url=stack.faas_url, extra_http_headers={"Origin": stack.faas_url}
    )
    yield request
    request.dispose()


@pytest.fixture
def credentials(api: APIRequestContext) -> tuple[str, str]:
    """A new user, registered through the public API."""
    username = unique_username()
    response = api.post("/api/register", data={"username": username, "password": PASSWORD})
    assert response.status == 201, response.text()
    return username, PASSWORD


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
