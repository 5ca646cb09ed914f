"""The gunicorn settings and hooks of every microservice; each service's gunicorn.conf.py takes
them all (`from service_kit.serving.gunicorn_settings import *`), makes its metrics folder
(metrics_dir.use_own_metrics_dir) and adds its app and port.

The worker (worker.py) is gthread that reads whole requests in its event loop, sends answers
under a deadline, drains on SIGTERM (/readyz 503 for DRAIN_SECONDS while requests are still
served) and gives the app chunked bodies with a Content-Length, so its cap holds.
"""

import math
import os
from functools import partial

from .metrics_dir import remove_own_metrics_dir

__all__ = [
    "accesslog",
    "child_exit",
    "control_socket_disable",
    "graceful_timeout",
    "keepalive",
    "on_exit",
    "post_worker_init",
    "preload_app",
    "threads",
    "timeout",
    "worker_class",
    "workers",
]

DRAIN_SECONDS = float(os.environ.get("DRAIN_SECONDS") or 2)
REQUEST_HEAD_TIMEOUT = float(os.environ.get("REQUEST_HEAD_TIMEOUT") or 10)
REQUEST_BODY_TIMEOUT = float(os.environ.get("REQUEST_BODY_TIMEOUT") or 10)
RESPONSE_SEND_TIMEOUT = float(os.environ.get("RESPONSE_SEND_TIMEOUT") or 30)

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 4
timeout = 30
graceful_timeout = math.ceil(DRAIN_SECONDS) + 10  # from SIGTERM: the drain, then in-flight requests
keepalive = 30
accesslog = None  # the app writes one JSON line per request itself
control_socket_disable = True  # one fixed path per host would clash between gunicorns
worker_class = "service_kit.serving.worker.Worker"
# The app is imported once, in the master, and the workers fork with it loaded: a start pays
# one import (about 0.45 CPU-s) instead of one per worker. create_app() does no I/O (the engine
# and the JWKS client connect on first use), so no connection is shared across the fork.
preload_app = True


def post_worker_init(worker) -> None:
    from service_kit.tokens.auth import start_fetching

    app = worker.inner_wsgi
    start_fetching(app)  # each worker loads faas's keys and the revoked sessions in the background
    worker.head_timeout = REQUEST_HEAD_TIMEOUT
    worker.body_timeout = REQUEST_BODY_TIMEOUT
    worker.send_timeout = RESPONSE_SEND_TIMEOUT
    worker.drain_seconds = DRAIN_SECONDS
    worker.body_limit = app.config["MAX_CONTENT_LENGTH"]  # one byte more is the app's 413
    # health.py's /readyz answers 503 from SIGTERM on.
    worker.on_drain = partial(app.extensions.__setitem__, "draining", True)


def child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess  # only after PROMETHEUS_MULTIPROC_DIR is set

    multiprocess.mark_process_dead(worker.pid)


def on_exit(_server) -> None:
    remove_own_metrics_dir()
