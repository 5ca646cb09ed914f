"""The platform (runtime/platform.py): instances on demand by the FC rule, over real HTTP."""

import math
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
import requests

from runtime import platform
from runtime.config import Config
from runtime.platform import Platform, releasable, wanted_instances
from runtime.slots import READY, SlotTable
from support.metrics import metric_sum
from support.processes import wait_until

T = TypeVar("T")


def fc_metric(runtime, name: str, **labels: str) -> float:
    return metric_sum(runtime.metrics_url, name, **labels)


def assert_not_ready(answer: requests.Response) -> None:
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["detail"] == "function instance is not initialized"


def wait_for_instances(runtime, count: int, timeout: float = 20) -> None:
    runtime.process.wait_log("metrics listening", timeout=timeout)
    wait_until(
        lambda: True if fc_metric(runtime, "fc_instances") == count else None,
        timeout,
        f"{count} instances",
    )


def in_parallel(count: int, task: Callable[[], T]) -> list[T]:
    """task() run by `count` threads at once; their results."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: task(), range(count)))


class Holders:
    """Requests to the busy function's /hold, each in its own thread, answered once released."""

    def __init__(self, runtime, folder: Path, count: int) -> None:
        self.folder = folder
        self.answers: list[requests.Response] = []
        self.threads = [
            threading.Thread(target=self.hold, args=(runtime.url + "/hold",)) for _ in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def hold(self, url: str) -> None:
        self.answers.append(requests.get(url, timeout=60))

    def held(self) -> int:
        calls = self.folder / "calls"
        return calls.read_text().split().count("/hold") if calls.exists() else 0

    def release(self) -> list[requests.Response]:
        (self.folder / "release").touch()
        for thread in self.threads:
            thread.join()
        return self.answers


@pytest.mark.parametrize(
    ("demand", "wanted"), [(0, 0), (1, 1), (4, 1), (5, 2), (16, 4), (17, 4), (1000, 4)]
)
def test_the_fc_rule_keeps_ceil_demand_over_concurrency_instances_within_bounds(demand, wanted):
    config = Config(min_instances=0, max_instances=4, instance_concurrency=4)

    assert wanted_instances(demand, config) == wanted
    assert wanted_instances(0, Config(min_instances=2, max_instances=4)) == 2


def test_only_instances_idle_long_enough_and_beyond_the_rule_are_released():
    slots = SlotTable(4)
    busy, recent, idle, idlest = (slots.claim() for _ in range(4))
    for slot, last_active in ((busy, 0.0), (recent, 95.0), (idle, 80.0), (idlest, 10.0)):
        slot.state, slot.last_active = READY, last_active
    busy.in_flight = 1

    def released(wanted: int) -> list[float]:
        chosen = releasable(slots.live(), wanted, now=100.0, idle_seconds=10)
        return [slot.last_active for slot in chosen]  # rows are views: compared by content

    assert released(1) == [idlest.last_active, idle.last_active]
    assert released(3) == [idlest.last_active]
    assert released(4) == []


def test_at_zero_instances_a_connection_wakes_the_platform_without_waiting_for_its_tick(
    monkeypatch,
):
    monkeypatch.setattr(platform, "TICK_SECONDS", 60.0)
    at_zero = Platform.__new__(Platform)  # only what its loop's wait uses: no gunicorn app
    at_zero.slots = SlotTable(2)
    at_zero.SIG_QUEUE = queue.SimpleQueue()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        at_zero.LISTENERS = [listener]
        with socket.create_connection(listener.getsockname()):  # queued: nobody accepts it
            started = time.monotonic()
            assert at_zero.wait_for_signals(timeout=60.0) == []
            # The old wait slept the whole tick (here 60 s) before it looked at the queue.
            assert time.monotonic() - started < 30


def test_from_zero_instances_a_request_waits_for_a_new_instance_to_initialize(start_runtime):
    runtime = start_runtime("ok", FC_MIN_INSTANCES="0", FC_MAX_INSTANCES="2", OK_INIT_SECONDS="1")
    runtime.process.wait_log("metrics listening", timeout=20)
    assert fc_metric(runtime, "fc_instances") == 0
    assert "Booting worker" not in runtime.process.logs()

    answer = requests.get(runtime.url + "/", timeout=20)

    assert answer.status_code == 200
    assert answer.json()["initialized"] is True
    wait_for_instances(runtime, 1)
    assert fc_metric(runtime, "fc_instance_starts_total", kind="prewarmed") == 1
    assert fc_metric(runtime, "fc_cold_starts_total") == 1
    # It waited in the accept queue for the whole initializer, and the platform saw it.
    assert fc_metric(runtime, "fc_instance_wait_seconds_sum") >= 0.9
    assert runtime.records("function prewarmed")


def test_the_cold_path_imports_the_function_in_each_instance(start_runtime):
    runtime = start_runtime("ok", FC_MIN_INSTANCES="0", FC_PREWARM="false")
    runtime.process.wait_log("metrics listening", timeout=20)

    assert requests.get(runtime.url + "/", timeout=20).json()["initialized"] is True
    assert fc_metric(runtime, "fc_instance_starts_total", kind="cold") == 1
    assert fc_metric(runtime, "fc_instance_starts_total", kind="prewarmed") == 0
    assert not runtime.records("function prewarmed")


def test_instances_follow_the_load_by_the_fc_rule_and_idle_ones_go_back_to_the_minimum(
    start_runtime, tmp_path
):
    runtime = start_runtime(
        "busy",
        FC_INITIALIZER="",
        FC_MIN_INSTANCES="1",
        FC_MAX_INSTANCES="4",
        FC_INSTANCE_CONCURRENCY="2",
        FC_IDLE_SECONDS="1",
        BUSY_DIR=str(tmp_path),
    )
    wait_for_instances(runtime, 1)

    holders = Holders(runtime, tmp_path, 5)
    try:
        wait_until(lambda: holders.held() == 5 or None, 20, "all 5 requests in a handler")
        wait_for_instances(runtime, math.ceil(5 / 2))
    finally:
        answers = holders.release()
    assert [answer.status_code for answer in answers] == [200] * 5

    wait_for_instances(runtime, 1)
    # Counted until they have exited: by now each released instance has run its pre_stop.
    assert runtime.process.logs().count('"pre_stop end"') == 2
    assert len(runtime.records("instance released")) == 2
    assert len(set((tmp_path / "pre_stop").read_text().split())) == 2
    assert fc_metric(runtime, "fc_instance_starts_total", kind="prewarmed") == 3


def test_sixteen_clients_bring_four_instances_and_idle_brings_zero(start_runtime):
    runtime = start_runtime(
        "ok",
        FC_MIN_INSTANCES="0",
        FC_MAX_INSTANCES="4",
        FC_INSTANCE_CONCURRENCY="4",
        FC_IDLE_SECONDS="1",
        OK_INIT_SECONDS="0.2",
    )
    runtime.process.wait_log("metrics listening", timeout=20)

    def client() -> list[requests.Response]:
        with requests.Session() as session:
            return [session.get(runtime.url + "/", timeout=30) for _ in range(20)]

    answers = [answer for answers in in_parallel(16, client) for answer in answers]

    statuses = [answer.status_code for answer in answers]
    instances = {answer.json()["instance_id"] for answer in answers}
    assert statuses == [200] * 320
    assert 3 <= len(instances) <= 4
    wait_for_instances(runtime, 0)


def test_no_request_reaches_an_instance_before_its_initializer_has_finished(start_runtime):
    runtime = start_runtime(
        "ok",
        FC_MIN_INSTANCES="0",
        FC_MAX_INSTANCES="3",
        FC_INSTANCE_CONCURRENCY="1",
        OK_INIT_SECONDS="1",
    )
    runtime.process.wait_log("metrics listening", timeout=20)

    answers = in_parallel(6, lambda: requests.get(runtime.url + "/", timeout=30).json())

    assert len(answers) == 6
    assert all(answer["initialized"] for answer in answers)
    assert not runtime.records("init failed")


def test_sigterm_drains_every_instance_and_runs_each_pre_stop(start_runtime, tmp_path):
    runtime = start_runtime(
        "busy",
        FC_INITIALIZER="",
        FC_MIN_INSTANCES="0",
        FC_MAX_INSTANCES="3",
        FC_INSTANCE_CONCURRENCY="1",
        DRAIN_SECONDS="0",
        BUSY_DIR=str(tmp_path),
    )
    runtime.process.wait_log("metrics listening", timeout=20)
    holders = Holders(runtime, tmp_path, 3)
    try:
        wait_until(lambda: holders.held() == 3 or None, 20, "3 requests in 3 instances")
        runtime.process.process.send_signal(signal.SIGTERM)
        runtime.process.wait_log("Worker draining", count=3, timeout=10)
    finally:
        answers = holders.release()

    assert [answer.status_code for answer in answers] == [200] * 3
    assert runtime.process.wait(timeout=30) == 0
    assert len(set((tmp_path / "pre_stop").read_text().split())) == 3


def test_at_max_instances_a_request_goes_to_an_instance_with_room_not_behind_a_busy_one(
    start_runtime, tmp_path
):
    runtime = start_runtime(
        "busy",
        FC_INITIALIZER="",
        FC_MIN_INSTANCES="3",
        FC_MAX_INSTANCES="3",
        FC_INSTANCE_CONCURRENCY="1",
        BUSY_DIR=str(tmp_path),
    )
    wait_for_instances(runtime, 3)
    holders = []
    try:
        for held in (1, 2, 3):  # one at a time: each finds the others' instances busy
            holders.append(Holders(runtime, tmp_path, 1))
            wait_until(lambda n=held: holders[-1].held() >= n or None, 20, f"{held} held")
    finally:
        answers = [answer for holder in holders for answer in holder.release()]

    assert [answer.status_code for answer in answers] == [200] * 3


def test_at_max_instances_and_full_requests_queue_then_get_429_with_retry_after(
    start_runtime, tmp_path
):
    runtime = start_runtime(
        "busy",
        FC_INITIALIZER="",
        FC_MAX_INSTANCES="1",
        FC_INSTANCE_CONCURRENCY="1",
        FC_MAX_QUEUED_REQUESTS="1",
        BUSY_DIR=str(tmp_path),
    )
    wait_for_instances(runtime, 1)
    holders = Holders(runtime, tmp_path, 2)  # one in the thread, one queued behind it
    try:
        wait_until(lambda: holders.held() == 1 or None, 20, "the thread held")
        wait_until(
            lambda: fc_metric(runtime, "fc_in_flight_requests") == 1 or None, 20, "one in flight"
        )
        # The other one is with the instance, waiting for its thread.
        wait_until(lambda: fc_metric(runtime, "fc_queued_requests") == 1 or None, 20, "one queued")

        throttled = requests.get(runtime.url + "/other", timeout=10)

        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "1"
        assert throttled.headers["Content-Type"] == "application/problem+json"
        assert throttled.json()["status"] == 429
    finally:
        answers = holders.release()
    assert [answer.status_code for answer in answers] == [200, 200]
    assert fc_metric(runtime, "fc_throttled_requests_total") == 1


def test_an_initializer_that_always_fails_answers_503_with_retry_after_and_the_platform_lives(
    start_runtime, tmp_path
):
    flag = tmp_path / "ready"
    runtime = start_runtime("failing_init", FC_MIN_INSTANCES="0", READY_FLAG_FILE=str(flag))
    runtime.process.wait_log("metrics listening", timeout=20)

    assert_not_ready(requests.get(runtime.url + "/", timeout=20))
    assert_not_ready(requests.get(runtime.url + "/", timeout=20))
    assert runtime.process.running()
    assert fc_metric(runtime, "fc_instances") == 0

    flag.touch()
    assert runtime.process.wait_http(runtime.url + "/", timeout=20).text == "healed"
    wait_for_instances(runtime, 1)


def test_an_initializer_that_times_out_answers_503_in_time_not_a_hang(start_runtime):
    runtime = start_runtime("slow_init", FC_MIN_INSTANCES="0", FC_INITIALIZATION_TIMEOUT="1")
    runtime.process.wait_log("metrics listening", timeout=20)

    assert_not_ready(requests.get(runtime.url + "/", timeout=20))
    assert runtime.process.running()
