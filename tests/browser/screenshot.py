"""The README's picture of the app (docs/screenshot.png): a new user's list in Chromium, drawn
by scripts/screenshot.py from the real stack and checked by tests/browser/test_screenshot.py."""

from pathlib import Path

from playwright.sync_api import Browser, expect

from browser.app_page import PASSWORD, AppPage

VIEWPORT = {"width": 760, "height": 560}
TITLES = ("Buy oat milk", "Walk the dog", "Write the quarterly report")
COMPLETED_TITLE = "Walk the dog"


def draw_the_app(browser: Browser, faas_url: str, username: str, path: Path) -> None:
    """Registers `username` through the page, adds TITLES, completes one, saves a PNG at path."""
    context = browser.new_context(base_url=faas_url, viewport=VIEWPORT)
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto("/")
        app = AppPage(context, page)
        app.fill_credentials(username, PASSWORD)
        app.create_account_button.click()
        expect(page.locator(".todoapp")).to_be_visible()
        app.add(*TITLES)
        app.toggle(COMPLETED_TITLE)
        app.expect_saved()
        page.mouse.move(0, 0)  # no hover effect in the picture
        page.locator(".new-todo").blur()  # nor a focus ring
        page.screenshot(path=path, full_page=True, animations="disabled")
    finally:
        context.close()
