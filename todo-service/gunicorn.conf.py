"""gunicorn settings: the one start command for the Procfile, the Dockerfile and compose."""

import os
import tempfile

# Workers share metrics through files; the directory must exist before any worker imports the app.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="todo-service-metrics-"))

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8002')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
timeout = 30
graceful_timeout = 10
keepalive = 30
accesslog = None  # the app writes one JSON line per request itself
control_socket_disable = True  # one fixed path per host would clash between gunicorns
wsgi_app = "todo_service:create_app()"


def child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess  # only after PROMETHEUS_MULTIPROC_DIR is set

    multiprocess.mark_process_dead(worker.pid)
