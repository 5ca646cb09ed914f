"""Fixture function: records that its initializer ran, echoes what the runtime gave the handler."""

import json
import os
import time

state = {"initialized": False}


def initializer(context):
    # Slow enough that a request sent at start-up would see an unfinished init, were it served.
    time.sleep(float(os.environ.get("OK_INIT_SECONDS", "0")))
    state["initialized"] = True
    state["init_request_id"] = context.request_id


def handler(environ, start_response):
    context = environ["fc.context"]
    function = context.function
    body = json.dumps(
        {
            "initialized": state["initialized"],
            "init_request_id": state.get("init_request_id"),
            "request_id": context.request_id,
            "header_request_id": environ.get("HTTP_X_REQUEST_ID"),
            "instance_id": context.instance_id,
            "pid": os.getpid(),
            "path": environ.get("PATH_INFO"),
            "content_length": environ.get("CONTENT_LENGTH"),
            "body_bytes": len(environ["wsgi.input"].read()),
            "function": {
                "name": function.name,
                "handler": function.handler,
                "initializer": function.initializer,
                "memory": function.memory,
                "timeout": function.timeout,
                "initialization_timeout": function.initialization_timeout,
                "instance_concurrency": function.instance_concurrency,
            },
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def pre_stop(context):
    with open(os.environ["PRE_STOP_MARKER"], "a") as marker:
        marker.write(f"{os.getpid()} {context.instance_id}\n")
