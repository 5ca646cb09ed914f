"""gunicorn settings of the local FaaS runtime; the hooks only delegate to the runtime package.

From the function's folder:
    python -m runtime.platform -c runtime/gunicorn.conf.py runtime.wsgi:application
One worker is one function instance, its threads are the instance concurrency; the platform
(runtime/platform.py, gunicorn's master) starts and releases instances by the FC rule.
"""

import math
import os
import sys
from pathlib import Path

# gunicorn runs this file by path, before it puts the current folder on sys.path.
CODE_ROOT = str(Path(__file__).resolve().parent.parent)
if CODE_ROOT not in sys.path:
    sys.path.insert(0, CODE_ROOT)

from runtime.config import Config  # noqa: E402
from service_kit.serving.metrics_dir import remove_own_metrics_dir, use_own_metrics_dir  # noqa: E402

# Read once, in the master: a bad value stops gunicorn before any worker starts.
fc_config = Config.from_env(os.environ)

# prometheus_client chooses multiprocess mode when first imported, so the folder comes first.
use_own_metrics_dir("fc")

from runtime import metrics  # noqa: E402
from runtime.instance_worker import InstanceWorker, configure  # noqa: E402
from runtime.logs import get_logger  # noqa: E402
from runtime.wsgi import MAX_BODY_BYTES, application  # noqa: E402

bind = f"{fc_config.host}:{fc_config.port}"
workers = fc_config.min_instances  # where the platform starts; it follows the load from there
worker_class = InstanceWorker  # the kit's gthread, taking connections as the platform allows
threads = fc_config.instance_concurrency
proc_name = fc_config.function_name
# A worker sends no heartbeat while its initializer runs: the arbiter must not kill it then.
timeout = int(fc_config.initialization_timeout) + 30
# From SIGTERM: the drain, then in-flight requests and pre_stop; the arbiter kills what is left.
graceful_timeout = math.ceil(fc_config.drain_seconds + fc_config.pre_stop_timeout) + 10
# gunicorn's control socket has one default path per user: several servers on one host (the
# three services of `make run`, parallel tests) would take it from each other.
control_socket_disable = True

metrics_server = None


def when_ready(server):
    global metrics_server
    server.prewarm()
    metrics_server = metrics.serve(fc_config.host, fc_config.metrics_port)
    get_logger().info(
        "metrics listening",
        extra={
            "url": f"http://{fc_config.host}:{fc_config.metrics_port}/metrics",
            "multiproc_dir": os.environ["PROMETHEUS_MULTIPROC_DIR"],
        },
    )


def post_fork(server, worker):
    # Only the master serves metrics; a worker must not keep the port open after it.
    if metrics_server is not None:
        metrics_server.socket.close()


def pre_fork(server, worker):
    # The platform has claimed this instance's row in its table; the fork shares the table.
    worker.slot, worker.slots = server.claimed, server.slots


def post_worker_init(worker):
    worker.head_timeout = fc_config.request_head_timeout
    worker.body_timeout = fc_config.request_body_timeout
    worker.send_timeout = fc_config.response_send_timeout
    worker.drain_seconds = fc_config.drain_seconds
    worker.body_limit = MAX_BODY_BYTES  # a chunked body over it shows as MAX_BODY_BYTES + 1
    worker.on_drain = application.instance.draining.set
    worker.fixed_answers = application.instance.fixed_answers  # filled by each initializer run
    configure(worker, fc_config, application.instance.ready)
    application.instance.start(fc_config)


def worker_exit(server, worker):
    application.instance.stop()


def child_exit(server, worker):
    metrics.forget_process(worker.pid)


def on_exit(server):
    remove_own_metrics_dir()
