"""What every request passes and every response carries: the body cap, CSRF, JSON-only bodies,
and the security headers. The checks take the request and the settings, so that the todo proxy
(todo_proxy.py), which answers before Flask, passes the very same ones."""

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.wrappers import Request, Response

from service_kit.web.errors import Problem

from .config import Config

# Login bodies and todos are a few hundred bytes; anything far larger is refused (413) unread.
MAX_CONTENT_LENGTH = 64 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATH = "/api/login"
# The browser app's page: its own scripts and styles only, no plugins, never framed.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Everything else (JSON, scripts, images) is never a document: nothing may run or frame it.
RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks


def settings() -> Config:
    return current_app.config["SETTINGS"]


def cap_body(request: Request, limit: int) -> None:
    # Refused before anything reads it, on every route, whether its view reads a body or not.
    # A chunked body has a length too: the runtime's worker reads it up to its own limit first.
    if (request.content_length or 0) > limit:
        raise Problem(413, "the request body is too large")


def _sender_origin(request: Request) -> str | None:
    """The origin the browser says the request comes from: Origin, else Referer's origin."""
    origin = request.headers.get("Origin")
    if origin is not None or not request.referrer:
        return origin
    try:
        referrer = urlsplit(request.referrer)
    except ValueError:
        return "invalid"  # a malformed Referer names no origin, and certainly not ours
    return f"{referrer.scheme}://{referrer.netloc}"


def check_csrf(request: Request, config: Config) -> None:
    # A Bearer header cannot be sent cross-site without a CORS preflight, which faas never grants.
    if request.method in SAFE_METHODS or "Authorization" in request.headers:
        return
    has_cookie = config.cookie_name in request.cookies
    # Login without a cookie is checked too: a forged login would sign the victim in as the attacker.
    if not has_cookie and request.path != LOGIN_PATH:
        return
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise Problem(403, "cross-site requests are refused")
    origin = _sender_origin(request)
    # Browsers always send Origin on a POST; a cookie-less login without one is no browser's.
    if origin is None and not has_cookie:
        return
    # Exactly PUBLIC_URL's origin: never the request's Host, which the sender chooses.
    if origin != config.public_origin:
        raise Problem(403, "the request must come from this site (Origin or Referer)")


def require_json_body(request: Request) -> None:
    # JSON bodies only: this also stops the content types a cross-site form can send.
    if request.method in SAFE_METHODS or not request.path.startswith("/api/"):
        return
    has_body = request.content_length or "Transfer-Encoding" in request.headers
    if (has_body or request.content_type) and request.mimetype != "application/json":
        raise Problem(415, "the body must be application/json")


def add_security_headers(response: Response, request: Request, config: Config) -> Response:
    """The headers every answer of faas carries, the todo proxy's included."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        headers["Content-Security-Policy"] = PAGE_POLICY
        headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers without CSP 2
    else:
        headers["Content-Security-Policy"] = RESOURCE_POLICY
    # same-origin, not no-referrer: our own requests keep Referer for the CSRF check, while
    # other sites learn nothing.
    headers["Referrer-Policy"] = "same-origin"
    if request.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    # The cookie may say who is calling (any /api/ answer) and decides the CSRF check (any
    # state-changing request): no cache may give one browser's answer to another.
    if request.path.startswith("/api/") or request.method not in SAFE_METHODS:
        response.vary.add("Cookie")
    if config.cookie_secure:
        # COOKIE_SECURE means TLS in front: browsers then never try plain http again.
        headers["Strict-Transport-Security"] = HSTS
    return response


def _check_request() -> None:
    cap_body(request, current_app.config["MAX_CONTENT_LENGTH"])
    check_csrf(request, settings())
    require_json_body(request)


def init_app(app: Flask) -> None:
    app.before_request(_check_request)
    app.after_request(lambda response: add_security_headers(response, request, settings()))
