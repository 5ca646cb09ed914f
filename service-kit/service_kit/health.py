"""A microservice's /healthz, /readyz and /metrics: alive, ready (its database answers at the
latest migration of its own migrations folder), and its metrics."""

import logging
from functools import cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text

from . import db, metrics
from .web.errors import Problem

bp = Blueprint("health", __name__)


@cache
def head_revision(migrations_dir: Path) -> str | None:
    return ScriptDirectory(str(migrations_dir)).get_current_head()


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive; says nothing of its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the database answers and its schema is at the latest migration; 503 otherwise,
    and 503 from SIGTERM on (the gunicorn settings set "draining"): requests are still served
    while load balancers stop sending new ones."""
    if current_app.extensions.get("draining"):
        raise Problem(503, "shutting down", {"Retry-After": "1"})
    try:
        with db.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:
        raise Problem(503, "database unreachable", {"Retry-After": "1"}) from error
    head = head_revision(current_app.extensions["migrations_dir"])
    if current != head:
        raise Problem(503, f"schema at {current}, expected {head}", {"Retry-After": "1"})
    return jsonify(status="ready", revision=current)


@bp.get("/metrics")
def serve_metrics() -> Response:
    """Prometheus text (metrics.py)."""
    return metrics.scrape()


def init_app(app: Flask, migrations_dir: Path) -> None:
    """Serve health and metrics; `migrations_dir` is the service's Alembic folder, whose head
    revision /readyz waits for."""
    # /readyz opens an alembic MigrationContext per call; its INFO lines are noise there.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    app.extensions["migrations_dir"] = migrations_dir
    app.register_blueprint(bp)
    app.after_request(metrics.observe)
