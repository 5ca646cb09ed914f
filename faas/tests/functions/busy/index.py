"""Fixture function: /hold keeps its thread until BUSY_DIR/release exists; /fixed and /cookie
answer the same to everyone, /cookie with a cookie; each call is counted in BUSY_DIR/calls."""

import os
import time
from pathlib import Path

HOLD_LIMIT_SECONDS = 30


def handler(environ, start_response):
    folder = Path(os.environ["BUSY_DIR"])
    path = environ["PATH_INFO"]
    with open(folder / "calls", "a") as calls:
        calls.write(f"{path}\n")
    if path == "/hold":
        (folder / "holding").touch()
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while not (folder / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    headers = [("Content-Type", "text/plain"), ("Cache-Control", "public, max-age=60")]
    if path == "/cookie":
        headers.append(("Set-Cookie", "seen=1"))
    start_response("200 OK", headers)
    return [path.encode()]


def pre_stop(context):
    with open(Path(os.environ["BUSY_DIR"]) / "pre_stop", "a") as stopped:
        stopped.write(f"{os.getpid()}\n")
