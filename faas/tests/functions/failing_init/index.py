"""Fixture function: an initializer that fails until the file named by READY_FLAG_FILE exists."""

import os


def initializer(context):
    if not os.path.exists(os.environ["READY_FLAG_FILE"]):
        raise RuntimeError("backend not ready yet")


def handler(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"healed"]
