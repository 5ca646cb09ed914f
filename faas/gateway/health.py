"""/healthz and /readyz. No /metrics here: the runtime serves those on its own internal port."""

import logging
import time

from flask import Blueprint, Flask, Response, current_app, jsonify

from service_kit.web.errors import Problem

from .upstream import Services, Timeout, Upstream

# A readiness probe must answer quickly even when a service hangs.
PROBE_TIMEOUT = Timeout(connect=1, read=2)

NOT_READY = "not ready"

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def _why_not_ready(upstream: Upstream, timeout: Timeout) -> str | None:
    """None when the service's /readyz answers 200; else why not, naming the service."""
    try:
        status = upstream.request("GET", "/readyz", timeout=timeout).status
    except Problem as problem:
        return problem.detail
    if status != 200:
        return f"{upstream.name} is not ready (its /readyz answered {status})"
    return None


def not_ready(services: Services, timeout: Timeout = PROBE_TIMEOUT) -> list[str]:
    """Why the services are not ready (each names its service); empty when both answer 200."""
    reasons = (_why_not_ready(upstream, timeout) for upstream in (services.user, services.todo))
    return [reason for reason in reasons if reason]


def wait_until_ready(app: Flask, seconds: float) -> None:
    """Return once each service has answered ready and mark the app initialised; RuntimeError
    naming the services never ready when `seconds` have passed. A service that answered ready is
    not asked again: a last probe cut short by the deadline must not blame it."""
    deadline = time.monotonic() + seconds
    services = app.extensions["services"]
    waiting = [services.user, services.todo]
    pause = 0.05
    while True:
        remaining = deadline - time.monotonic()
        probe = Timeout(connect=max(0.05, min(1, remaining)), read=max(0.05, min(2, remaining)))
        reasons = {upstream.name: _why_not_ready(upstream, probe) for upstream in waiting}
        waiting = [upstream for upstream in waiting if reasons[upstream.name]]
        if not waiting:
            app.extensions["initialized"] = True
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            why = "; ".join(reason for reason in reasons.values() if reason)
            raise RuntimeError(f"not ready after {seconds:g} s: {why}")
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 1.0)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive; says nothing of its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the initializer has finished and both services are ready; 503 otherwise. The
    port is public: the answer says ready or not, and why goes to the log, for operators."""
    if not current_app.extensions.get("initialized"):
        raise Problem(503, NOT_READY, {"Retry-After": "1"})
    reasons = not_ready(current_app.extensions["services"])
    if reasons:
        log.warning("not ready", extra={"fields": {"reasons": reasons}})
        raise Problem(503, NOT_READY, {"Retry-After": "1"})
    return jsonify(status="ready")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
