"""/healthz, /readyz and /metrics. Mirrored in both microservices: tests/test_shape.py keeps the copies identical."""

import glob
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
    multiprocess,
)
from sqlalchemy import text

from . import db
from .errors import Problem

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


class SettledFilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's sum of every process's files, without the files still empty: a
    process creates its file before it sizes it, and one read in that moment failed the whole
    scrape (prometheus/client_python#1199), here whenever a worker started."""

    def __init__(self, registry: CollectorRegistry, folder: str) -> None:
        self.folder = folder
        super().__init__(registry, folder)

    def collect(self):
        files = [path for path in glob.glob(os.path.join(self.folder, "*.db")) if _sized(path)]
        return self.merge(files, accumulate=True)


def _sized(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:  # a live gauge's file, removed as its process died
        return False


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
