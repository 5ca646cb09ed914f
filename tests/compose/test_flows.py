"""The two ways in through faas's published port: the browser app in Chromium (cookie session)
and the API with a Bearer token; every state change reaches PostgreSQL."""

import pytest
from compose.project import REPORT, ComposeProject, memory
from playwright.sync_api import expect

from browser.app_page import unique_username
from support.api import PublicClient

pytestmark = pytest.mark.browser


def test_a_user_registers_logs_in_adds_completes_edits_deletes_and_logs_out(
    open_app, project: ComposeProject
):
    app = open_app()
    username = unique_username()
    app.fill_credentials(username, "correct horse battery staple")
    app.create_account_button.click()
    expect(app.page.locator("#account-name")).to_have_text(username)
    app.log_out_button.click()
    app.expect_login_view()

    app.log_in(username)
    app.add("Buy milk", "Walk the dog")
    app.toggle("Buy milk")
    expect(app.count).to_have_text("1 item left")
    app.item("Walk the dog").locator("label").dblclick()
    with app.saving("PATCH"):
        app.page.locator(".todo-list li.editing .edit").fill("Walk the cat")
        app.page.locator(".todo-list li.editing .edit").press("Enter")
    with app.saving("DELETE"):
        app.item("Buy milk").hover()
        app.item("Buy milk").locator(".destroy").click()
    app.reload()
    app.expect_titles("Walk the cat")

    app.log_out_button.click()
    app.expect_login_view()
    app.page.reload()
    app.expect_login_view()
    REPORT["memory after the browser flow"] = memory(project)


def test_an_api_client_works_with_a_bearer_token(bearer: PublicClient):
    created = bearer.call("POST", "/api/todos", json={"title": "buy milk"})
    assert created.status_code == 201, created.text
    todo = created.json()
    assert created.headers["Location"] == todo["url"]
    assert todo["url"].startswith(f"{bearer.base}/api/todos/")

    changed = bearer.call(
        "PATCH",
        f"/api/todos/{todo['id']}",
        json={"completed": True},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200 and changed.json()["completed"] is True
    listed = bearer.call("GET", "/api/todos?completed=true")
    assert [t["id"] for t in listed.json()] == [todo["id"]]
    assert bearer.call("DELETE", f"/api/todos/{todo['id']}").status_code == 204
    assert bearer.call("GET", f"/api/todos/{todo['id']}").status_code == 404
    anonymous = PublicClient(bearer.base)
    assert anonymous.call("GET", "/api/todos").status_code == 401
