"""The page itself: served safely, self-contained, usable from the keyboard and at phone width.

The screenshots land in test-artifacts/ for a person to judge the look.
"""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
STRICT_REFERRERS = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}


def test_the_page_is_served_with_strict_security_headers(open_app):
    app = open_app()
    headers = app.page.reload().headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in STRICT_REFERRERS


def test_the_page_loads_nothing_from_another_origin(open_app, credentials, stack):
    app = open_app()
    requested: list[str] = []
    app.page.on("request", lambda request: requested.append(request.url))
    app.page.reload()
    app.log_in(*credentials)
    app.add("Local only")
    assert requested
    assert all(url.startswith(stack.faas_url + "/") for url in requested), requested


def focus_is_visible(app) -> bool:
    style = app.page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    return style[0] != "none" and style[1] != "0px"


def test_the_whole_list_works_from_the_keyboard_with_a_visible_focus(open_app, credentials):
    app = open_app(credentials)
    keyboard = app.page.keyboard
    expect(app.new_todo).to_be_focused()
    keyboard.type("Typed in")
    keyboard.press("Enter")
    app.expect_all_added()
    keyboard.press("Tab")
    expect(app.page.locator(".toggle-all")).to_be_focused()
    keyboard.press("Tab")
    expect(app.item("Typed in").locator(".toggle")).to_be_focused()
    assert focus_is_visible(app)
    with app.saving("PATCH"):
        keyboard.press("Space")
    expect(app.count).to_have_text("0 items left")
    keyboard.press("Tab")
    expect(app.item("Typed in").locator("label")).to_be_focused()
    assert focus_is_visible(app)
    keyboard.press("Enter")
    expect(app.page.locator(".todo-list li.editing .edit")).to_be_focused()
    keyboard.press("End")
    keyboard.type(" and edited")
    with app.saving("PATCH"):
        keyboard.press("Enter")
    app.expect_titles("Typed in and edited")
    keyboard.press("Tab")
    destroy = app.page.get_by_role("button", name="Delete “Typed in and edited”")
    expect(destroy).to_be_focused()
    assert focus_is_visible(app)
    with app.saving("DELETE"):
        keyboard.press("Enter")
    expect(app.items).to_have_count(0)
    expect(app.new_todo).to_be_focused()


def test_the_list_fits_a_phone_screen(open_app, credentials, artifacts):
    app = open_app(credentials, viewport=PHONE, is_mobile=True, has_touch=True)
    app.add("Call the plumber", "Pick up a parcel from the post office before six", "Water plants")
    app.toggle("Water plants")
    assert app.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Touch screens cannot hover, so the delete buttons must show without it.
    opacity = (
        app.item("Call the plumber")
        .locator(".destroy")
        .evaluate("button => getComputedStyle(button).opacity")
    )
    assert float(opacity) > 0.5
    app.page.screenshot(
        path=artifacts / "todo-list-phone.png", full_page=True, animations="disabled"
    )


def test_the_login_view_fits_a_phone_screen(open_app, artifacts):
    app = open_app(viewport=PHONE, is_mobile=True, has_touch=True)
    app.fill_credentials("someone", "wrong password")
    app.log_in_button.click()
    expect(app.alert).to_be_visible()
    assert app.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    app.page.screenshot(path=artifacts / "login-phone.png", full_page=True, animations="disabled")


def test_the_logged_in_list_is_a_centred_column_at_desktop_width(open_app, credentials, artifacts):
    app = open_app(credentials)
    app.add("Buy oat milk", "Walk the dog", "Write the quarterly report", "Book dentist")
    app.toggle("Walk the dog")
    app.page.mouse.move(0, 0)  # no hover effect in the picture
    box = app.page.locator(".todoapp").bounding_box()
    assert box["width"] <= 550
    assert abs(box["x"] + box["width"] / 2 - 1280 / 2) < 20
    app.page.screenshot(path=artifacts / "todo-list.png", full_page=True, animations="disabled")


OLD_TEMPLATE_IDS = (
    "todoapp",
    "new-todo",
    "main",
    "toggle-all",
    "todo-list",
    "footer",
    "todo-count",
    "filters",
    "clear-completed",
)
STANDARD_CLASSES = (
    ".todoapp",
    ".header",
    ".new-todo",
    ".main",
    ".toggle-all",
    ".todo-list",
    ".footer",
    ".todo-count",
    ".filters",
    ".clear-completed",
)


def test_the_page_has_the_current_todomvc_classes_and_none_of_the_old_template_ids(open_app):
    app = open_app()
    for old_id in OLD_TEMPLATE_IDS:
        expect(app.page.locator(f"#{old_id}")).to_have_count(0)
    for selector in STANDARD_CLASSES:
        expect(app.page.locator(selector)).to_have_count(1)
    expect(app.page.get_by_label("New todo")).to_have_class("new-todo")
