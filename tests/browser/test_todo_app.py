"""The todo list as the TodoMVC specification describes it, in a real Chromium against the real
stack: every change goes to the server, so a reload or another browser shows the same list.
"""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

COMPLETED = re.compile(r"\bcompleted\b")


def test_adding_trims_titles_ignores_empty_ones_and_counts_what_is_left(open_app, credentials):
    app = open_app(credentials)
    app.add("  Buy milk  ", "Walk the dog", "Write the report")
    expect(app.new_todo).to_have_value("")
    app.new_todo.fill("   ")
    app.new_todo.press("Enter")
    app.expect_titles("Buy milk", "Walk the dog", "Write the report")
    expect(app.count).to_have_text("3 items left")
    expect(app.page.locator(".main")).to_be_visible()
    expect(app.page.locator(".footer")).to_be_visible()
    expect(app.page.locator(".clear-completed")).to_be_hidden()


def test_completing_a_todo_marks_it_and_counts_one_item_left(open_app, credentials):
    app = open_app(credentials)
    app.add("One", "Two")
    app.toggle("One")
    expect(app.item("One")).to_have_class(COMPLETED)
    expect(app.item("Two")).not_to_have_class(COMPLETED)
    expect(app.count).to_have_text("1 item left")
    expect(app.count.locator("strong")).to_have_text("1")


def test_toggle_all_completes_every_todo_then_none(open_app, credentials):
    app = open_app(credentials)
    app.add("One", "Two", "Three")
    app.toggle("Two")
    app.page.locator(".toggle-all + label").click()
    expect(app.page.locator(".todo-list li.completed")).to_have_count(3)
    expect(app.count).to_have_text("0 items left")
    app.page.locator(".toggle-all + label").click()
    expect(app.page.locator(".todo-list li.completed")).to_have_count(0)
    app.reload()
    expect(app.count).to_have_text("3 items left")


def test_double_click_edits_a_todo_and_enter_saves_it_trimmed(open_app, credentials):
    app = open_app(credentials)
    app.add("Buy milk", "Walk the dog")
    app.item("Buy milk").locator("label").dblclick()
    editor = app.page.locator(".todo-list li.editing .edit")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Buy milk")
    editor.fill("  Buy oat milk  ")
    with app.saving("PATCH"):
        editor.press("Enter")
    expect(app.page.locator(".todo-list li.editing")).to_have_count(0)
    app.expect_titles("Buy oat milk", "Walk the dog")
    app.reload()
    app.expect_titles("Buy oat milk", "Walk the dog")


def test_escape_cancels_an_edit(open_app, credentials):
    app = open_app(credentials)
    app.add("Keep me")
    app.item("Keep me").locator("label").dblclick()
    app.page.locator(".todo-list li.editing .edit").fill("Changed my mind")
    app.page.keyboard.press("Escape")
    app.expect_titles("Keep me")
    app.reload()
    app.expect_titles("Keep me")


def test_leaving_the_editor_saves_and_an_emptied_todo_is_deleted(open_app, credentials):
    app = open_app(credentials)
    app.add("Blur me", "Empty me")
    app.item("Blur me").locator("label").dblclick()
    app.page.locator(".todo-list li.editing .edit").fill("Saved on blur")
    with app.saving("PATCH"):
        app.new_todo.click()
    app.item("Empty me").locator("label").dblclick()
    app.page.locator(".todo-list li.editing .edit").fill("   ")
    with app.saving("DELETE"):
        app.page.keyboard.press("Enter")
    app.expect_titles("Saved on blur")
    app.reload()
    app.expect_titles("Saved on blur")


def test_the_destroy_button_deletes_a_todo(open_app, credentials):
    app = open_app(credentials)
    app.add("Stay", "Go away")
    app.item("Go away").hover()
    with app.saving("DELETE"):
        app.item("Go away").get_by_role("button", name="Delete “Go away”").click()
    app.expect_titles("Stay")
    app.reload()
    app.expect_titles("Stay")


def test_each_filter_shows_its_todos_and_marks_its_link_selected(open_app, credentials):
    app = open_app(credentials)
    app.add("Active one", "Done one", "Active two")
    app.toggle("Done one")
    filters = app.page.locator(".filters a")
    for name, href, titles in [
        ("Active", "#/active", ["Active one", "Active two"]),
        ("Completed", "#/completed", ["Done one"]),
        ("All", "#/", ["Active one", "Done one", "Active two"]),
    ]:
        app.page.get_by_role("link", name=name).click()
        expect(app.page).to_have_url(re.compile(re.escape(href) + "$"))
        app.expect_titles(*titles)
        expect(app.count).to_have_text("2 items left")
        expect(app.page.locator(".filters a.selected")).to_have_attribute("href", href)
        expect(filters.and_(app.page.locator(".selected"))).to_have_count(1)
    app.page.goto("/#/completed")
    app.expect_titles("Done one")


def test_clear_completed_removes_only_completed_todos_and_then_hides(open_app, credentials):
    app = open_app(credentials)
    clear = app.page.locator(".clear-completed")
    app.add("First", "Second", "Third")
    expect(clear).to_be_hidden()
    app.toggle("First")
    app.toggle("Third")
    expect(clear).to_be_visible()
    with app.saving("DELETE"):
        clear.click()
    app.expect_titles("Second")
    expect(clear).to_be_hidden()
    app.reload()
    app.expect_titles("Second")


def test_the_list_lives_on_the_server_and_survives_a_reload(open_app, credentials):
    app = open_app(credentials)
    app.add("Alpha", "Beta", "Gamma")
    app.toggle("Beta")
    app.reload()
    app.expect_titles("Alpha", "Beta", "Gamma")
    expect(app.item("Beta")).to_have_class(COMPLETED)
    expect(app.count).to_have_text("2 items left")
    assert app.page.evaluate("localStorage.length") == 0


def test_another_browser_of_the_same_user_sees_the_same_list(open_app, credentials):
    first = open_app(credentials)
    first.add("Shared one", "Shared two")
    first.toggle("Shared two")
    second = open_app(credentials)
    second.expect_titles("Shared one", "Shared two")
    expect(second.item("Shared two")).to_have_class(COMPLETED)
