"""Draws docs/screenshot.png, the README's picture of the app, from the real system: the three
processes as `make run` starts them (on throwaway SQLite databases) and Debian's Chromium.

Run it with `make screenshot`.
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from browser.screenshot import draw_the_app
from support.chromium import CHROMIUM, CHROMIUM_ARGS
from support.stack import start_stack

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "screenshot.png"


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp_dir,
        start_stack(Path(tmp_dir)) as stack,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        draw_the_app(browser, stack.faas_url, "alice", OUTPUT)
        browser.close()
    print(f"wrote {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
