"""X-Request-ID in and out, one JSON log line per request, in every part."""

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if getattr(record, "request_id", None):
            line["request_id"] = record.request_id
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging() -> None:
    """One JSON line per record on stderr; idempotent, so app factories may call it again."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def request_id_from(incoming: str) -> str:
    """The caller's request id when it is a sane one, else a new one."""
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _take_request_id() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))
    g.request_started = time.perf_counter()


def log_request(
    response: Response, method: str, route: str, request_id: str, started: float
) -> Response:
    """The request's id on its response, and its log line; `started` is a perf_counter()."""
    response.headers[REQUEST_ID_HEADER] = request_id
    # Every answer says what it is and nothing may guess otherwise (faas also sets it itself).
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # The route, not the path: query strings, headers and some paths (a session id) carry
    # secrets that never reach the log.
    fields = {
        "method": method,
        "route": route,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    logging.getLogger("request").info("request", extra={"fields": fields, "request_id": request_id})
    return response


def _log_request(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule else "unmatched"
    return log_request(response, request.method, route, g.request_id, g.request_started)


def init_app(app: Flask) -> None:
    configure_logging()
    app.before_request(_take_request_id)
    app.after_request(_log_request)
