"""A change the server does not confirm is shown and undone on screen, never silently lost.

Faults are injected on the wire: the browser's real requests are aborted, or their answer lost.
"""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import APIResponse, Request, Response, Route, expect

pytestmark = pytest.mark.browser

COMPLETED = re.compile(r"\bcompleted\b")


def abort(method: str) -> Callable[[Route], None]:
    """A route handler that cuts every `method` request off and lets the others through."""

    def handle(route: Route) -> None:
        if route.request.method == method:
            route.abort()
        else:
            route.continue_()

    return handle


def test_a_toggle_lost_on_the_network_is_reported_and_undone(open_app, credentials):
    app = open_app(credentials)
    app.add("Stays open")
    app.page.route("**/api/todos/*", abort("PATCH"))
    app.item("Stays open").locator(".toggle").click()
    expect(app.alert).to_contain_text("Could not save the change")
    expect(app.item("Stays open")).not_to_have_class(COMPLETED)
    expect(app.item("Stays open").locator(".toggle")).not_to_be_checked()
    expect(app.count).to_have_text("1 item left")
    app.page.unroute("**/api/todos/*")
    app.reload()
    expect(app.item("Stays open")).not_to_have_class(COMPLETED)


def test_a_change_after_a_failed_one_is_still_sent(open_app, credentials):
    app = open_app(credentials)
    app.add("Try twice")
    app.page.route("**/api/todos/*", abort("PATCH"))
    app.item("Try twice").locator(".toggle").click()
    expect(app.alert).to_contain_text("Could not save the change")
    app.page.unroute("**/api/todos/*")
    app.toggle("Try twice")
    expect(app.item("Try twice")).to_have_class(COMPLETED)
    app.reload()
    expect(app.item("Try twice")).to_have_class(COMPLETED)


def test_a_delete_lost_on_the_network_puts_the_todo_back(open_app, credentials):
    app = open_app(credentials)
    app.add("First", "Second", "Third")
    app.page.route("**/api/todos/*", abort("DELETE"))
    app.item("Second").hover()
    app.item("Second").locator(".destroy").click()
    expect(app.alert).to_contain_text("Could not delete “Second”")
    app.expect_titles("First", "Second", "Third")


def test_an_add_lost_on_the_network_is_reported_and_taken_off_the_list(open_app, credentials):
    app = open_app(credentials)
    app.add("Saved")
    app.page.route("**/api/todos", abort("POST"))
    app.new_todo.fill("Never saved")
    app.new_todo.press("Enter")
    expect(app.alert).to_contain_text("Could not add “Never saved”")
    app.expect_titles("Saved")
    app.page.unroute("**/api/todos")
    app.reload()
    app.expect_titles("Saved")


def test_clear_completed_lost_on_the_network_puts_the_todos_back(open_app, credentials):
    app = open_app(credentials)
    app.add("Done", "Open")
    app.toggle("Done")
    app.page.route("**/api/todos?completed=true", abort("DELETE"))
    app.page.locator(".clear-completed").click()
    expect(app.alert).to_contain_text("Could not clear the completed todos")
    app.expect_titles("Done", "Open")
    expect(app.item("Done")).to_have_class(COMPLETED)


def test_an_add_whose_answer_was_lost_is_retried_and_stored_once(open_app, credentials):
    app = open_app(credentials)
    answers: list[APIResponse] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method == "POST" and not answers:
            answers.append(route.fetch())  # the server stores the todo...
            route.abort()  # ...but the page never hears back, so it retries with the same key
        else:
            route.continue_()

    app.page.route("**/api/todos", lose_first_answer)
    app.add("Exactly once")
    assert answers[0].status == 201
    app.page.unroute("**/api/todos")
    app.reload()
    app.expect_titles("Exactly once")


def test_a_todo_changed_in_another_browser_is_reloaded_not_overwritten(open_app, credentials):
    first = open_app(credentials)
    first.add("Original")
    second = open_app(credentials)
    second.item("Original").locator("label").dblclick()
    second.page.locator(".todo-list li.editing .edit").fill("Renamed elsewhere")
    with second.saving("PATCH"):
        second.page.keyboard.press("Enter")
    first.item("Original").locator(".toggle").click()
    expect(first.alert).to_contain_text("changed elsewhere, so the list has been reloaded")
    first.expect_titles("Renamed elsewhere")
    expect(first.item("Renamed elsewhere")).not_to_have_class(COMPLETED)


def is_list_request(request: Request) -> bool:
    return request.method == "GET" and request.url.endswith("/api/todos")


def is_list_answer(response: Response) -> bool:
    return is_list_request(response.request)


def test_a_todo_added_while_the_list_is_on_its_way_stays_on_it(open_app, credentials):
    app = open_app(credentials)
    app.add("Already there")
    late_lists: list[tuple[Route, APIResponse]] = []

    def answer_the_list_late(route: Route) -> None:
        if is_list_request(route.request):
            late_lists.append((route, route.fetch()))  # the server answers before the add...
        else:
            route.continue_()

    app.page.route("**/api/todos", answer_the_list_late)
    app.reload()
    app.add("Typed at once")
    route, answer = late_lists[0]
    with app.page.expect_response(is_list_answer):
        route.fulfill(response=answer)  # ...and the page hears it after
    app.expect_titles("Already there", "Typed at once")
    app.page.unroute("**/api/todos")
    app.reload()
    app.expect_titles("Already there", "Typed at once")


def test_a_todo_the_list_has_before_its_own_answer_arrives_is_shown_once(open_app, credentials):
    app = open_app(credentials)
    app.add("Already there")
    held_lists: list[Route] = []
    held_creates: list[tuple[Route, APIResponse]] = []

    def list_between_create_and_its_answer(route: Route) -> None:
        if is_list_request(route.request):
            held_lists.append(route)
        elif route.request.method == "POST":
            held_creates.append((route, route.fetch()))  # stored on the server...
            held_lists[0].continue_()  # ...so the list the page gets next has it
        else:
            route.continue_()

    app.page.route("**/api/todos", list_between_create_and_its_answer)
    app.reload()
    with app.page.expect_response(is_list_answer):
        app.new_todo.fill("Typed at once")
        app.new_todo.press("Enter")
    route, answer = held_creates[0]
    route.fulfill(response=answer)
    app.expect_all_added()
    app.expect_titles("Already there", "Typed at once")
    app.page.unroute("**/api/todos")
    app.reload()
    app.expect_titles("Already there", "Typed at once")
