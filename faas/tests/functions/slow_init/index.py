"""Fixture function: an initializer that takes longer than its timeout, and reports overlaps."""

import os
import time

running = []


def initializer(context):
    # The runtime must never start a run while a timed-out one is still going.
    if running:
        raise RuntimeError("two initializer runs at once")
    running.append(context.request_id)
    try:
        time.sleep(float(os.environ.get("SLOW_INIT_SECONDS", "3600")))
    finally:
        running.remove(context.request_id)


def handler(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"served without a finished initializer"]
