"""The page object: knows the app's markup, so the tests read as what a user does and sees."""

import re
import secrets

from playwright.sync_api import BrowserContext, Locator, Page, expect

PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 800}


def unique_username() -> str:
    return f"user-{secrets.token_hex(5)}"


class AppPage:
    """One browser context showing the app; every action goes through the page like a user's."""

    def __init__(self, context: BrowserContext, page: Page):
        self.context = context
        self.page = page
        self.alert = page.get_by_role("alert")
        self.new_todo = page.locator(".new-todo")
        self.items = page.locator(".todo-list li")
        self.count = page.locator(".todo-count")
        self.username = page.locator("input[name=username]")
        self.password = page.locator("input[name=password]")
        self.log_in_button = page.get_by_role("button", name="Log in")
        self.create_account_button = page.get_by_role("button", name="Create account")
        self.log_out_button = page.get_by_role("button", name="Log out")

    def fill_credentials(self, username: str, password: str) -> None:
        self.username.fill(username)
        self.password.fill(password)

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        self.fill_credentials(username, password)
        self.log_in_button.click()
        expect(self.page.locator(".todoapp")).to_be_visible()
        expect(self.page.locator("#account-name")).to_have_text(username)

    def add(self, *titles: str) -> None:
        for title in titles:
            self.new_todo.fill(title)
            self.new_todo.press("Enter")
        self.expect_all_added()

    def expect_all_added(self) -> None:
        """Waits until the server has confirmed every new todo (each then has its id)."""
        expect(self.page.locator(".todo-list li.pending")).to_have_count(0)

    def expect_saved(self) -> None:
        """Waits until the server has answered every change (the list is no longer aria-busy)."""
        expect(self.page.locator(".todoapp")).to_have_attribute("aria-busy", "false")

    def reload(self) -> None:
        """Reloads the page once every change has reached the server, as a user would."""
        self.expect_saved()
        self.page.reload()

    def item(self, title: str) -> Locator:
        return self.items.filter(
            has=self.page.locator("label", has_text=re.compile(f"^{re.escape(title)}$"))
        )

    def saving(self, method: str):
        """Waits, on leaving the block, for the server's answer to the app's next `method` call."""
        return self.page.expect_response(
            lambda response: "/api/todos" in response.url and response.request.method == method
        )

    def toggle(self, title: str) -> None:
        with self.saving("PATCH"):
            self.item(title).locator(".toggle").click()

    def expect_titles(self, *titles: str) -> None:
        expect(self.items.locator("label")).to_have_text(list(titles))

    def expect_login_view(self) -> None:
        expect(self.log_in_button).to_be_visible()
        expect(self.page.locator(".todoapp")).to_be_hidden()
