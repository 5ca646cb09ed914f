"""The browser login flow against a faas that scales to zero between the user's steps."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from browser.app_page import PASSWORD, unique_username
from support.metrics import metric_sum
from support.processes import wait_until
from support.stack import Stack, start_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """This module's own stack (open_app and api use it): no instance kept when idle."""
    env = {"FC_MIN_INSTANCES": "0", "FC_IDLE_SECONDS": "1"}
    with start_stack(tmp_path_factory.mktemp("scale-to-zero"), "sqlite", env) as running:
        yield running


def wait_for_zero_instances(stack: Stack) -> None:
    wait_until(
        lambda: metric_sum(stack.metrics_url, "fc_instances") == 0 or None, 30, "zero instances"
    )


def test_a_user_registers_adds_todos_and_finds_them_after_faas_scaled_to_zero(stack, open_app):
    wait_for_zero_instances(stack)
    app = open_app()  # the page itself comes from a new instance
    username = unique_username()
    app.fill_credentials(username, PASSWORD)
    app.create_account_button.click()
    expect(app.page.locator("#account-name")).to_have_text(username)
    app.add("first", "second")
    app.expect_saved()

    wait_for_zero_instances(stack)
    app.reload()

    expect(app.page.locator("#account-name")).to_have_text(username)
    app.expect_titles("first", "second")
    app.toggle("first")
    app.expect_saved()

    wait_for_zero_instances(stack)
    app.log_out_button.click()
    app.expect_login_view()
    app.log_in(username)
    app.expect_titles("first", "second")
    expect(app.item("first")).to_have_class("completed")
