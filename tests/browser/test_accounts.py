"""Logging in, registering and logging out in a real Chromium against the real stack.

Every test starts from the login page in a fresh browser context with a user of its own.
"""

import re

import pytest
from playwright.sync_api import Route, expect

from browser.app_page import PASSWORD, unique_username

pytestmark = pytest.mark.browser

EXPIRED = "Your session has expired. Please log in again."


def test_a_new_user_creates_an_account_and_lands_on_an_empty_list(open_app):
    app = open_app()
    username = unique_username()
    app.fill_credentials(username, PASSWORD)
    app.create_account_button.click()
    expect(app.page.locator("#account-name")).to_have_text(username)
    expect(app.log_out_button).to_be_visible()
    expect(app.new_todo).to_be_focused()
    expect(app.new_todo).to_have_attribute("placeholder", "What needs to be done?")
    expect(app.page.locator(".main")).to_be_hidden()
    expect(app.page.locator(".footer")).to_be_hidden()


def test_a_registered_user_logs_in_with_labelled_fields(open_app, credentials):
    app = open_app()
    expect(app.page.get_by_label("Username")).to_have_attribute("name", "username")
    expect(app.page.get_by_label("Password")).to_have_attribute("name", "password")
    app.log_in(*credentials)
    expect(app.alert).to_have_count(0)


def test_a_wrong_password_says_so_and_stays_on_the_login_view(open_app, credentials):
    app = open_app()
    app.fill_credentials(credentials[0], "not the password")
    app.log_in_button.click()
    expect(app.alert).to_have_text("Wrong username or password.")
    app.expect_login_view()


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(open_app):
    app = open_app()
    app.fill_credentials(unique_username(), PASSWORD)
    app.log_in_button.click()
    expect(app.alert).to_have_text("Wrong username or password.")


def test_a_taken_username_says_so(open_app, credentials):
    app = open_app()
    app.fill_credentials(credentials[0].upper(), PASSWORD)
    app.create_account_button.click()
    expect(app.alert).to_have_text("That username is already taken. Please choose another one.")
    app.expect_login_view()


def test_invalid_input_shows_the_servers_own_detail(open_app, api):
    username = unique_username()
    answer = api.post("/api/register", data={"username": username, "password": "x"})
    assert answer.status == 422
    app = open_app()
    app.fill_credentials(username, "x")
    app.create_account_button.click()
    expect(app.alert).to_have_text(answer.json()["detail"])


def test_repeated_failures_are_throttled_and_the_message_says_when_to_retry(
    open_app, api, credentials
):
    username, password = credentials
    for _ in range(20):
        status = api.post(
            "/api/login", data={"username": username, "password": "a wrong password"}
        ).status
        if status == 429:
            break
        assert status == 401
    assert status == 429, "the login was never throttled"
    app = open_app()
    app.fill_credentials(username, password)
    app.log_in_button.click()
    expect(app.alert).to_have_text(
        re.compile(r"^Too many failed attempts\. Please try again in \d+ (second|minute)s?\.$")
    )
    app.expect_login_view()


def test_both_buttons_are_disabled_while_the_login_is_in_flight(open_app, credentials):
    app = open_app()
    held: list[Route] = []  # the real login request, held on the wire until the buttons are checked
    app.page.route("**/api/login", lambda route: held.append(route))
    app.fill_credentials(*credentials)
    app.log_in_button.click()
    expect(app.log_in_button).to_be_disabled()
    expect(app.create_account_button).to_be_disabled()
    for _ in range(250):
        if held:
            break
        app.page.wait_for_timeout(20)
    assert held, "the login request never left the page"
    held[0].continue_()
    expect(app.page.locator("#account-name")).to_have_text(credentials[0])
    app.page.unroute("**/api/login")


def test_logging_out_returns_to_the_login_view_and_leaves_no_todo_behind(open_app, credentials):
    app = open_app(credentials)
    app.add("Private thought")
    app.log_out_button.click()
    app.expect_login_view()
    expect(app.alert).to_have_count(0)
    expect(app.items).to_have_count(0)
    expect(app.page.locator("body")).not_to_contain_text("Private thought")
    app.reload()
    app.expect_login_view()


def test_a_second_user_sees_none_of_the_first_users_todos(open_app, credentials, api):
    first = open_app(credentials)
    first.add("Mine alone", "Also mine")
    second_user = unique_username()
    assert api.post("/api/register", data={"username": second_user, "password": PASSWORD}).ok
    second = open_app()
    second.log_in(second_user)
    expect(second.page.locator(".main")).to_be_hidden()
    expect(second.items).to_have_count(0)
    # The same browser, after the first user logs out, shows the second user nothing stale either.
    first.log_out_button.click()
    first.log_in(second_user)
    expect(first.items).to_have_count(0)
    expect(first.page.locator("body")).not_to_contain_text("Mine alone")


def test_a_session_ended_elsewhere_returns_to_login_with_a_message(
    browser, open_app, credentials, stack
):
    app = open_app(credentials)
    app.add("Before the logout")
    # The same session in another browser (its cookie copied) logs out: the server revokes it.
    elsewhere = browser.new_context(
        base_url=stack.faas_url, storage_state=app.context.storage_state()
    )
    assert elsewhere.request.post("/api/logout", headers={"Origin": stack.faas_url}).status == 204
    elsewhere.close()
    # Revocation reaches every faas instance within seconds; wait until this cookie is refused.
    for _ in range(100):
        if app.context.request.get("/api/me").status == 401:
            break
        app.page.wait_for_timeout(100)
    else:
        pytest.fail("the revoked session was still accepted after 10 s")
    app.new_todo.fill("After the logout")
    app.new_todo.press("Enter")
    expect(app.alert).to_have_text(EXPIRED)
    app.expect_login_view()
    expect(app.items).to_have_count(0)
    expect(app.page.locator("body")).not_to_contain_text("Before the logout")
    app.log_in(*credentials)
    app.expect_titles("Before the logout")
