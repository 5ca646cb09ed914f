"""/healthz, /readyz and /metrics. Mirrored in both microservices: tests/test_shape.py keeps the copies identical."""

import logging
import os
import time
from functools import cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import text

from . import db
from .errors import Problem
from .metrics_files import SettledFilesCollector

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# Each service's copy has its own registry: under pytest both copies live in one interpreter,
# and the process-wide default registry would refuse a second http_requests_total.
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
REQUESTS = Counter(
    "http_requests_total", "Requests answered.", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "http_request_duration_seconds", "Request latency.", ["method", "route"], registry=REGISTRY
)

# Methods outside this set share one label value, so a client cannot grow the label set.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

bp = Blueprint("health", __name__)


@cache
def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive; says nothing of its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the database answers and its schema is at the latest migration; 503 otherwise,
    and 503 from SIGTERM on (gunicorn.conf.py sets "draining"): requests are still served while
    load balancers stop sending new ones."""
    if current_app.extensions.get("draining"):
        raise Problem(503, "shutting down", {"Retry-After": "1"})
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:
        raise Problem(503, "database unreachable", {"Retry-After": "1"}) from error
    if current != head_revision():
        raise Problem(503, f"schema at {current}, expected {head_revision()}", {"Retry-After": "1"})
    return jsonify(status="ready", revision=current)


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text; sums every gunicorn worker when PROMETHEUS_MULTIPROC_DIR is set."""
    registry = REGISTRY
    if folder := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        SettledFilesCollector(registry, folder)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _observe(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "other"
    REQUESTS.labels(method, route, str(response.status_code)).inc()
    LATENCY.labels(method, route).observe(time.perf_counter() - g.request_started)
    return response


def init_app(app: Flask) -> None:
    # /readyz opens an alembic MigrationContext per call; its INFO lines are noise there.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    app.register_blueprint(bp)
    app.after_request(_observe)
