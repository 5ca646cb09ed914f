"""The WSGI application gunicorn serves: the function's handler behind its instance's gate.

Importing this module does no I/O and does not import the function: gunicorn.conf.py starts
`application.instance` in each worker (post_worker_init) before the worker accepts requests.
"""

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from runtime import metrics
from runtime.context import request_id_from
from runtime.instance import Instance
from runtime.logs import get_logger

NOT_READY_DETAIL = "function instance is not initialized"
FAILED_DETAIL = "the function failed to handle the request"

log = get_logger()


class Application:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.monotonic()
        method = environ.get("REQUEST_METHOD", "")
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        answered = {"status": 500}

        def start(status: str, headers: list, exc_info: Any = None) -> Callable:
            answered["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        def finish(failed: bool) -> None:
            metrics.IN_FLIGHT.dec()
            seconds = time.monotonic() - started
            metrics.record_invocation(method, answered["status"], seconds, failed)

        metrics.IN_FLIGHT.inc()
        instance = self.instance
        if not instance.ready.is_set():
            try:
                # What the platform answers while an instance is not ready: try again very soon.
                return problem(
                    start,
                    503,
                    NOT_READY_DETAIL,
                    [("X-Request-ID", request_id), ("Retry-After", "1")],
                )
            finally:
                finish(failed=False)
        context = instance.context.for_request(request_id)
        environ["fc.context"] = context
        environ["HTTP_X_REQUEST_ID"] = request_id
        try:
            body = instance.entries.handler(environ, start)
        except Exception:
            log.exception(
                "handler failed",
                extra={"request_id": request_id, "instance_id": context.instance_id},
            )
            try:
                return problem(
                    start,
                    500,
                    FAILED_DETAIL,
                    [("X-Request-ID", request_id)],
                    {"request_id": request_id},
                    exc_info=sys.exc_info(),
                )
            finally:
                finish(failed=True)
        return Body(body, finish, request_id)


class Body:
    """The handler's response body, passed through; the invocation ends when it is closed."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[bool], None], request_id: str):
        self._body = body
        self._finish = finish
        self._request_id = request_id
        self._failed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except Exception:
            self._failed = True
            log.exception("handler failed while streaming", extra={"request_id": self._request_id})
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish(self._failed)


def problem(
    start_response: Callable,
    status: int,
    detail: str,
    headers: list[tuple[str, str]],
    members: dict | None = None,
    exc_info: Any = None,
) -> list[bytes]:
    """An RFC 9457 answer made by the runtime itself; a traceback, if any, stays in the log."""
    title = HTTPStatus(status).phrase
    document = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body = json.dumps({**document, **(members or {})}).encode()
    headers = [
        ("Content-Type", "application/problem+json"),
        ("Content-Length", str(len(body))),
        *headers,
    ]
    # exc_info lets the runtime replace a response the failed handler had already started.
    start_response(f"{status} {title}", headers, exc_info)
    return [body]


application = Application(Instance())
