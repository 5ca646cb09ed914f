"""Prometheus metrics of the instances, summed across workers (prometheus_client multiprocess mode).

PROMETHEUS_MULTIPROC_DIR must be set before this module is first imported (gunicorn.conf.py
does it): every worker writes its values there, and the master serves their sum.
"""

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

from service_kit.serving.metrics_files import SettledFilesCollector

# Methods outside this set share one label value, so a client cannot grow the label set.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

COLD_STARTS = Counter("fc_cold_starts_total", "Instances whose initializer succeeded.")
# Set by the platform (the master) alone.
INSTANCES = Gauge(
    "fc_instances",
    "Instances alive and initialized, released ones until they have exited.",
    multiprocess_mode="livesum",
)
INSTANCE_STARTS = Counter(
    "fc_instance_starts_total",
    "Instances started: forked from the prewarmed platform, or cold (importing the function).",
    ["kind"],
)
INSTANCE_WAIT = Histogram(
    "fc_instance_wait_seconds",
    "Time a request waited for an instance with room: in the accept queue, then for a thread.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
QUEUED = Gauge(
    "fc_queued_requests",
    "Requests an instance has taken that wait for one of its threads.",
    multiprocess_mode="livesum",
)
THROTTLED = Counter(
    "fc_throttled_requests_total", "Requests refused with 429: every instance up, full and queued."
)
INITIALIZER_DURATION = Histogram(
    "fc_initializer_duration_seconds",
    "Duration of initializer runs, failed ones included.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
INITIALIZER_FAILURES = Counter(
    "fc_initializer_failures_total", "Initializer runs that raised or timed out."
)
INVOCATIONS = Counter(
    "fc_invocations_total",
    "Requests answered, the 503s of instances not initialized included.",
    ["method", "status"],
)
INVOCATION_DURATION = Histogram(
    "fc_invocation_duration_seconds", "Time from request to the end of the response body."
)
INVOCATION_ERRORS = Counter(
    "fc_invocation_errors_total", "Requests whose handler raised or that answered 5xx."
)
IN_FLIGHT = Gauge(
    "fc_in_flight_requests", "Requests being served right now.", multiprocess_mode="livesum"
)


def record_invocation(method: str, status: int, seconds: float, failed: bool) -> None:
    """Count one answered request; `failed` when the handler raised."""
    method = method if method in KNOWN_METHODS else "other"
    INVOCATIONS.labels(method=method, status=f"{status // 100}xx").inc()
    INVOCATION_DURATION.observe(seconds)
    if failed or status >= 500:
        INVOCATION_ERRORS.inc()


def serve(host: str, port: int):
    """Serve the sum of all workers' metrics on host:port from this process (the master)."""
    registry = CollectorRegistry()
    SettledFilesCollector(registry, os.environ["PROMETHEUS_MULTIPROC_DIR"])
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def forget_process(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay: they are history)."""
    multiprocess.mark_process_dead(pid)
