"""Answers rendered once per instance, right after its initializer, for the event loop to send.

Some GETs have the same answer for every client for the life of an instance: faas's JWKS, which
the services fetch while faas may be saturated with requests that wait on those very services.
The platform calls the handler once for each such path (FC_PRERENDERED_PATHS) and the worker
sends the rendered answer from its event loop (service_kit/serving/worker.py), without taking a
request thread.
Only a complete 200 without cookies is kept; anything else is served by the handler as usual.
"""

import io
import sys
from collections.abc import Callable, Iterable

from runtime.context import Context

# Headers made per answer (Date, Connection) or per request (X-Request-ID): never kept.
PER_ANSWER_HEADERS = frozenset({"date", "connection", "content-length", "x-request-id"})

Answer = Callable[[str], bytes]  # the HTTP date -> the whole answer


def prerender(
    handler: Callable, context: Context, paths: Iterable[str], host: str, port: int
) -> dict[bytes, Answer]:
    """The fixed answers by request line, for each of `paths` the handler answers 200."""
    answers = {}
    for path in paths:
        answer = _render(handler, context, path, host, port)
        if answer is not None:
            for version in (b"HTTP/1.1", b"HTTP/1.0"):
                answers[b"GET " + path.encode() + b" " + version] = answer
    return answers


def _render(handler: Callable, context: Context, path: str, host: str, port: int) -> Answer | None:
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": f"{host}:{port}",
        "HTTP_X_REQUEST_ID": context.request_id,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "fc.context": context,
    }
    started: list = []
    body_parts = handler(
        environ, lambda status, headers, exc_info=None: started.extend([status, headers])
    )
    try:
        body = b"".join(body_parts)
    finally:
        if hasattr(body_parts, "close"):
            body_parts.close()
    status, headers = started
    names = {name.lower() for name, _ in headers}
    if not status.startswith("200 ") or "set-cookie" in names:
        return None
    kept = "".join(
        f"{name}: {value}\r\n" for name, value in headers if name.lower() not in PER_ANSWER_HEADERS
    )
    head = f"HTTP/1.1 {status}\r\n{kept}Content-Length: {len(body)}\r\nConnection: close\r\n"
    return lambda date: f"{head}Date: {date}\r\n\r\n".encode("latin-1") + body
