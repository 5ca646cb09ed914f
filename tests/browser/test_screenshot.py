"""The script that draws the README's screenshot keeps working as the page changes."""

import struct

import pytest

from browser.app_page import unique_username
from browser.screenshot import VIEWPORT, draw_the_app

pytestmark = pytest.mark.browser
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_readme_screenshot_is_drawn_from_the_running_app(browser, stack, tmp_path):
    picture = tmp_path / "screenshot.png"

    draw_the_app(browser, stack.faas_url, unique_username(), picture)

    data = picture.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    assert width == VIEWPORT["width"] and height >= VIEWPORT["height"]
