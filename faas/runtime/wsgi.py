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
DRAINING_DETAIL = "function instance is shutting down"
TOO_LARGE_DETAIL = "the request body is larger than the platform allows"
# The platform's payload limit; the function's own cap (the gateway's is 64 KiB) may be lower.
MAX_BODY_BYTES = 1024 * 1024
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
        refusal = self.refusal(environ)
        if refusal:
            status, detail = refusal
            # Only a 503 (not ready, draining) is worth trying again, and very soon.
            retry = [("Retry-After", "1")] if status == 503 else []
            try:
                return problem(
                    start,
                    status,
                    detail,
                    [("X-Request-ID", request_id), *retry],
                    {"request_id": request_id},
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

    def refusal(self, environ: dict) -> tuple[int, str] | None:
        """What the runtime answers itself, as the platform would: 503 while the instance is not
        initialized, 503 to its /readyz while it drains (so that load balancers look elsewhere
        while requests are still served), 413 to a body over the platform's limit."""
        if not self.instance.ready.is_set():
            return 503, NOT_READY_DETAIL
        if self.instance.draining.is_set() and environ.get("PATH_INFO") == "/readyz":
            return 503, DRAINING_DETAIL
        # gunicorn has checked it is digits; the worker gives chunked bodies one too.
        if int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            return 413, TOO_LARGE_DETAIL
        return None


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
        # As on every answer of the function (gateway/security.py): an error is never sniffed
        # as something else, and never cached.
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),
        *headers,
    ]
    # exc_info lets the runtime replace a response the failed handler had already started.
    start_response(f"{status} {title}", headers, exc_info)
    return [body]


application = Application(Instance())
