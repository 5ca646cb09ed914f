"""Problem details (RFC 9457) for every error of every part."""

import logging
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
UNEXPECTED_DETAIL = "An unexpected error occurred."


class Problem(Exception):
    """An error the client can act on; rendered as application/problem+json."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def problem_document(status: int, detail: str, request_id: str | None) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }


def problem_response(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = problem_document(status, detail, g.get("request_id"))
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def json_object(source: Request = request) -> dict[str, Any]:
    """The body of `source` (this request) as a JSON object: 415 if not JSON, 400 if malformed,
    422 if not an object."""
    if source.mimetype != "application/json":
        raise Problem(415, "the body must be application/json")
    data = source.get_data(cache=True)
    # werkzeug cuts a streamed (chunked) body at MAX_CONTENT_LENGTH without a word: one that
    # reached the cap may have held more, so it is too large rather than malformed JSON.
    limit = source.max_content_length
    if source.content_length is None and limit is not None and len(data) >= limit:
        raise RequestEntityTooLarge()
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as error:
        # RecursionError: pathologically deep nesting; ValueError also covers over-long integers.
        raise Problem(400, "the body is not valid JSON") from error
    if not isinstance(body, dict):
        raise Problem(422, "the body must be a JSON object")
    return body


def _handle_problem(error: Problem) -> Response:
    return problem_response(error.status, error.detail, error.headers)


def _handle_http_exception(error: HTTPException) -> Response:
    headers = {k: v for k, v in error.get_headers() if k.lower() in ("allow", "retry-after")}
    return problem_response(error.code or 500, error.description or "", headers)


def unexpected_error(error: Exception) -> Response:
    # The traceback goes to the log with the request id; the client gets a fixed detail.
    log.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return problem_response(500, UNEXPECTED_DETAIL)


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, _handle_problem)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, unexpected_error)
