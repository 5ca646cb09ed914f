"""A microservice's Prometheus metrics: its requests by route, the background refreshes of its
keys and revoked sessions, and the process; served summed over every gunicorn worker."""

import os
import time

from flask import Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from .serving.metrics_files import SettledFilesCollector

# Not the process-wide default registry: under pytest both services' apps live in one
# interpreter beside faas's runtime, whose fc_* metrics are not theirs.
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


def scrape() -> Response:
    """Prometheus text; sums every gunicorn worker when PROMETHEUS_MULTIPROC_DIR is set."""
    registry = REGISTRY
    if folder := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        SettledFilesCollector(registry, folder)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def observe(response: Response) -> Response:
    """Counts and times the request (an after_request hook)."""
    route = request.url_rule.rule if request.url_rule else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "other"
    REQUESTS.labels(method, route, str(response.status_code)).inc()
    LATENCY.labels(method, route).observe(time.perf_counter() - g.request_started)
    return response
