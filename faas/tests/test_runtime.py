"""The runtime as a real gunicorn process, over real HTTP, one fixture function per edge case."""

import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from runtime.wsgi import MAX_BODY_BYTES
from support.processes import wait_until

NOT_READY = {
    "type": "about:blank",
    "title": "Service Unavailable",
    "status": 503,
    "detail": "function instance is not initialized",
}


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value in Prometheus text (0 when absent, as Prometheus reads it)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def assert_not_ready(response: requests.Response) -> None:
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {**NOT_READY, "request_id": response.headers["X-Request-ID"]}


def test_first_answer_comes_after_the_initializer(start_runtime):
    runtime = start_runtime("ok", OK_INIT_SECONDS="1", FC_FUNCTION_NAME="probe")

    # Sent while the instance is still initialising: the answer waits for the initializer.
    first = runtime.process.wait_http(runtime.url + "/", status=None, timeout=20)

    assert first.status_code == 200
    body = first.json()
    assert body["initialized"] is True
    assert body["function"] == {
        "name": "probe",
        "handler": "index.handler",
        "initializer": "index.initializer",
        "memory": 512,
        "timeout": 60.0,
        "initialization_timeout": 5.0,
        "instance_concurrency": 2,
    }
    [start], [end] = runtime.records("init start"), runtime.records("init end")
    assert end["duration_ms"] >= 1000
    assert start["request_id"] == end["request_id"] == body["init_request_id"]
    assert start["instance_id"] == end["instance_id"] == body["instance_id"]
    assert not runtime.records("init failed")


def test_handler_gets_the_request_id_in_its_context(start_runtime):
    runtime = start_runtime("ok")
    runtime.process.wait_http(runtime.url + "/", timeout=20)

    given = requests.get(runtime.url, headers={"X-Request-ID": "req-42.a_B"}, timeout=5).json()
    assert given["request_id"] == given["header_request_id"] == "req-42.a_B"

    for unsafe in ("two words", "x" * 129, "a\tb"):
        own = requests.get(runtime.url, headers={"X-Request-ID": unsafe}, timeout=5).json()
        assert re.fullmatch(r"[0-9a-f]{32}", own["request_id"])
        assert own["header_request_id"] == own["request_id"]

    first, second = (requests.get(runtime.url, timeout=5).json() for _ in range(2))
    assert first["request_id"] != second["request_id"]
    assert first["instance_id"] == second["instance_id"]
    assert first["init_request_id"] not in (first["request_id"], second["request_id"])


def test_slow_initializer_times_out_and_is_retried_one_run_at_a_time(start_runtime):
    runtime = start_runtime("slow_init", FC_INITIALIZATION_TIMEOUT="1", SLOW_INIT_SECONDS="1.3")

    assert_not_ready(runtime.process.wait_http(runtime.url + "/", status=None, timeout=20))

    runtime.process.wait_log('"init start"', count=3, timeout=20)
    failures = runtime.records("init failed")
    assert failures[0]["reason"] == "timed out after 1 s"
    assert failures[0]["duration_ms"] >= 1000
    assert "two initializer runs at once" not in runtime.process.logs()
    assert_not_ready(requests.get(runtime.url, timeout=5))


def test_stuck_initializer_is_abandoned_for_a_new_instance(start_runtime):
    runtime = start_runtime("slow_init", FC_INITIALIZATION_TIMEOUT="0.5")

    assert_not_ready(runtime.process.wait_http(runtime.url + "/", status=None, timeout=20))

    runtime.process.wait_log("init abandoned", timeout=20)
    runtime.process.wait_log("Booting worker", count=2, timeout=20)
    assert runtime.process.running()


def test_failing_initializer_heals_without_a_restart(start_runtime, tmp_path):
    flag = tmp_path / "ready"
    runtime = start_runtime("failing_init", READY_FLAG_FILE=str(flag))

    assert_not_ready(runtime.process.wait_http(runtime.url + "/", status=None, timeout=20))
    runtime.process.wait_log('"init failed"', timeout=10)
    assert runtime.records("init failed")[0]["reason"] == "RuntimeError: backend not ready yet"

    flag.touch()

    healed = runtime.process.wait_http(runtime.url + "/", timeout=20)
    assert healed.text == "healed"
    assert runtime.process.logs().count("Booting worker") == 1
    metrics = requests.get(runtime.metrics_url, timeout=5).text
    assert metric(metrics, "fc_cold_starts_total") == 1
    assert metric(metrics, "fc_initializer_failures_total") >= 1


@pytest.mark.parametrize(
    ("function", "env", "named"),
    [
        ("missing_handler", {}, "cannot load FC_HANDLER 'index.handler'"),
        ("ok", {"FC_HANDLER": "nowhere.handler"}, "importing 'nowhere' failed"),
        ("ok", {"FC_PRE_STOP": "index.stop"}, "cannot load FC_PRE_STOP 'index.stop'"),
    ],
)
def test_missing_entry_is_named_and_the_instance_does_not_serve(
    start_runtime, function, env, named
):
    runtime = start_runtime(function, **env)

    assert_not_ready(runtime.process.wait_http(runtime.url + "/", status=None, timeout=20))

    [record] = runtime.records("entry not loaded")
    assert named in record["reason"]
    assert not runtime.records("init start")


def test_raising_handler_answers_500_without_the_traceback(start_runtime):
    runtime = start_runtime("raising_handler")
    runtime.process.wait_http(runtime.metrics_url, timeout=20)

    response = requests.get(runtime.url, headers={"X-Request-ID": "req-500"}, timeout=20)

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "the function failed to handle the request",
        "request_id": "req-500",
    }
    assert "secret" not in response.text and "Traceback" not in response.text
    [failure] = runtime.records("handler failed")
    assert failure["request_id"] == "req-500"
    assert "ValueError: secret internal detail" in failure["traceback"]
    metrics = requests.get(runtime.metrics_url, timeout=5).text
    assert metric(metrics, "fc_invocation_errors_total") == 1
    assert metric(metrics, "fc_invocations_total", method="GET", status="5xx") == 1


def test_metrics_count_instances_and_invocations_on_their_own_port(start_runtime):
    runtime = start_runtime("ok", FC_MIN_INSTANCES="2", FC_MAX_INSTANCES="2")
    runtime.process.wait_log('"init end"', count=2, timeout=20)

    for _ in range(3):
        assert requests.get(runtime.url + "/", timeout=5).status_code == 200
    assert requests.post(runtime.url + "/", data=b"{}", timeout=5).status_code == 200
    public = requests.get(runtime.url + "/metrics", timeout=5)

    assert public.json()["path"] == "/metrics"  # the function's own route, not the runtime's
    metrics = requests.get(runtime.metrics_url, timeout=5).text
    assert metric(metrics, "fc_cold_starts_total") == 2
    assert metric(metrics, "fc_invocations_total", method="GET", status="2xx") == 4
    assert metric(metrics, "fc_invocations_total", method="POST", status="2xx") == 1
    assert metric(metrics, "fc_invocation_duration_seconds_count") == 5
    assert metric(metrics, "fc_initializer_duration_seconds_count") == 2
    assert metric(metrics, "fc_invocation_errors_total") == 0
    assert metric(metrics, "fc_in_flight_requests") == 0


def test_sigterm_runs_pre_stop_in_every_instance(start_runtime, tmp_path):
    marker = tmp_path / "pre_stop"
    # Without PROMETHEUS_MULTIPROC_DIR the runtime makes (and removes) its own.
    runtime = start_runtime(
        "ok",
        FC_MIN_INSTANCES="2",
        FC_MAX_INSTANCES="2",
        PRE_STOP_MARKER=str(marker),
        PROMETHEUS_MULTIPROC_DIR=None,
    )
    runtime.process.wait_log('"init end"', count=2, timeout=20)
    [listening] = runtime.records("metrics listening")

    assert runtime.process.stop(timeout=20) == 0

    pids = {line.split()[0] for line in marker.read_text().splitlines()}
    assert len(pids) == 2
    assert len(runtime.records("pre_stop end")) == 2
    assert not Path(listening["multiproc_dir"]).exists()


def test_sigterm_during_a_slow_initializer_stops_the_instance_without_waiting_for_it(
    start_runtime,
):
    # An initializer waiting for services that are stopping too must not hold the instance past
    # gunicorn's graceful timeout (15 s here): then it is killed, and so may the platform be,
    # before its clean-up.
    runtime = start_runtime(
        "slow_init",
        FC_INITIALIZATION_TIMEOUT="600",
        DRAIN_SECONDS="0",
        PROMETHEUS_MULTIPROC_DIR=None,
    )
    runtime.process.wait_log('"init start"', timeout=20)
    [listening] = runtime.records("metrics listening")

    runtime.process.process.send_signal(signal.SIGTERM)

    assert runtime.process.wait(timeout=10) == 0
    assert runtime.records("init abandoned, the instance is stopping")
    assert not runtime.records("pre_stop start")  # it never served: nothing to release
    assert not Path(listening["multiproc_dir"]).exists()


def test_bad_setting_stops_the_start_by_name(start_runtime):
    runtime = start_runtime("ok", FC_MAX_INSTANCES="none")

    assert runtime.process.wait(timeout=20) != 0
    assert "FC_MAX_INSTANCES='none'" in runtime.process.logs()


def test_sigterm_turns_readyz_503_while_the_instance_still_serves_then_stops(start_runtime):
    runtime = start_runtime("ok", DRAIN_SECONDS="1.5")
    runtime.process.wait_http(runtime.url + "/", timeout=20)
    probe = requests.Session()  # a kept-alive connection, as a load balancer holds one
    assert probe.get(runtime.url + "/readyz", timeout=5).json()["path"] == "/readyz"

    runtime.process.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)

    draining = probe.get(runtime.url + "/readyz", timeout=5)
    assert draining.status_code == 503
    assert draining.json()["detail"] == "function instance is shutting down"
    assert draining.headers["Retry-After"] == "1"
    assert requests.get(runtime.url + "/", timeout=5).json()["path"] == "/"
    started = time.monotonic()
    assert runtime.process.wait(timeout=20) == 0
    assert time.monotonic() - started > 0.5  # it served the rest of DRAIN_SECONDS first


def test_clients_trickling_their_headers_hold_no_thread_and_are_cut_at_the_head_timeout(
    start_runtime,
):
    runtime = start_runtime("ok", REQUEST_HEAD_TIMEOUT="1.5")
    runtime.process.wait_http(runtime.url + "/", timeout=20)
    port = int(runtime.url.rsplit(":", 1)[1])
    # Five times the instance's threads, each sending its head a byte at a time.
    trickling = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(10)]
    for sock in trickling:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    for _ in range(3):
        for sock in trickling:
            sock.send(b"X")
        started = time.monotonic()
        assert requests.get(runtime.url + "/", timeout=5).status_code == 200
        assert time.monotonic() - started < 1.0
        time.sleep(0.5)

    for sock in trickling:
        with sock:
            assert sock.recv(200).startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_a_head_over_64_kib_is_refused_with_431(start_runtime):
    runtime = start_runtime("ok")
    runtime.process.wait_http(runtime.url + "/", timeout=20)
    port = int(runtime.url.rsplit(":", 1)[1])

    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 70_000)
        assert sock.recv(200).startswith(b"HTTP/1.1 431 ")


def test_a_chunked_body_reaches_the_function_with_a_content_length_up_to_the_limit(
    start_runtime,
):
    runtime = start_runtime("ok")
    runtime.process.wait_http(runtime.url + "/", timeout=20)

    def chunked(size: int) -> requests.Response:
        pieces = (b"x" * 1024 for _ in range(size // 1024))  # a generator: sent chunked
        return requests.post(runtime.url + "/", data=pieces, timeout=20)

    small = chunked(10 * 1024).json()
    assert (small["content_length"], small["body_bytes"]) == (str(10 * 1024), 10 * 1024)
    over = chunked(MAX_BODY_BYTES + 1024)
    assert over.status_code == 413
    assert over.headers["Content-Type"] == "application/problem+json"
    declared = requests.post(runtime.url + "/", data=b"x" * (MAX_BODY_BYTES + 1), timeout=20)
    assert declared.status_code == 413


def test_a_prerendered_path_is_answered_while_every_request_thread_is_busy(start_runtime, tmp_path):
    runtime = start_runtime(
        "busy",
        FC_INSTANCE_CONCURRENCY="1",
        FC_INITIALIZER="",
        FC_PRERENDERED_PATHS="/fixed,/cookie",
        BUSY_DIR=str(tmp_path),
    )
    runtime.process.wait_http(runtime.url + "/fixed", timeout=20)
    holder = threading.Thread(
        target=requests.get, args=(runtime.url + "/hold",), kwargs={"timeout": 60}
    )
    holder.start()
    try:
        wait_until(lambda: (tmp_path / "holding").exists() or None, 20, "the one thread held")

        fixed = requests.get(runtime.url + "/fixed", timeout=10)

        assert holder.is_alive(), "the held request ended first"
        assert (fixed.status_code, fixed.text) == (200, "/fixed")
        assert fixed.headers["Cache-Control"] == "public, max-age=60"
        assert fixed.headers["Connection"] == "close"
        assert fixed.headers["Date"]
    finally:
        (tmp_path / "release").touch()
        holder.join()
    # Rendered once at start; /cookie, which sets a cookie, is the handler's on every request.
    assert requests.get(runtime.url + "/cookie", timeout=10).headers["Set-Cookie"] == "seen=1"
    calls = (tmp_path / "calls").read_text().split()
    assert (calls.count("/fixed"), calls.count("/cookie")) == (1, 2)
