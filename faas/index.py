"""The function, in the shape of an Alibaba Cloud Function Compute Python function.

Entries: `index.initializer` (once per instance, before it serves), `index.handler` (WSGI) and
`index.pre_stop`. Importing this module does no I/O: the app, its signing key and its
connections are made by the initializer.
"""

import json
import os
import time

_app = None  # the instance's gateway app, made by the initializer


def initializer(context) -> None:
    """Build the app (signing key, connection pools) and wait, within the initialization timeout,
    until both services are ready; raise, naming the service, when they are not."""
    # Imported here rather than at the top: importing index must do no I/O, and importing the
    # gateway is most of an instance's start, which the platform counts as the initializer's.
    from gateway import close, create_app, wait_until_ready

    global _app
    started = time.monotonic()
    app = create_app({**os.environ, "FC_FUNCTION_NAME": context.function.name})
    timeout = (
        getattr(context.function, "initialization_timeout", None)
        or app.config["SETTINGS"].initialization_timeout
    )
    # A margin, so that our error naming the service comes before the platform's own timeout.
    budget = timeout - (time.monotonic() - started) - min(1.0, timeout / 5)
    try:
        wait_until_ready(app, max(budget, 0.1))
    except BaseException:
        close(app)
        raise
    previous, _app = _app, app
    if previous is not None:
        close(previous)


def handler(environ, start_response):
    """The WSGI entry: every request goes to the app the initializer made."""
    if _app is None:
        # The platform runs the initializer first; answer "not ready", never a wrong 200.
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "the function instance is not initialized",
            }
        ).encode()
        headers = [("Content-Type", "application/problem+json"), ("Retry-After", "1")]
        start_response("503 Service Unavailable", headers)
        return [body]
    return _app(environ, start_response)


def pre_stop(context) -> None:
    """Close the connection pools before the instance stops."""
    if _app is not None:
        from gateway import close

        close(_app)
