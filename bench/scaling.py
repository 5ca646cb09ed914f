"""faas's platform at work: the first answer from zero instances (prewarmed and cold), instances
following a step in load, and the instances seen during other runs. Each measurement launches a
faas of its own beside the bench's stack (its services stay up)."""

import threading
import time
from dataclasses import asdict
from pathlib import Path

import requests

from bench.coldstart import first_correct_list
from bench.stats import round_order
from bench.wrk import run_wrk
from support.metrics import metric_sum
from support.processes import ServiceProcess, free_port, wait_until
from support.stack import Stack

STEP_CONNECTIONS = 16
STEP_CONCURRENCY = 4  # so that the step asks the FC rule for its maximum, 16 / 4 = 4 instances
STEP_SECONDS = 6
STEP_IDLE_SECONDS = 3
SAMPLE_SECONDS = 0.05


class InstanceSampler:
    """fc_instances read every SAMPLE_SECONDS in a thread: [(seconds since start, instances)]."""

    def __init__(self, metrics_url: str) -> None:
        self.metrics_url = metrics_url
        self.started = time.monotonic()
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "InstanceSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> float:
        return time.monotonic() - self.started

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            instances = metric_sum(self.metrics_url, "fc_instances")
            self.samples.append((round(self.now(), 3), instances))

    def first(self, after: float, condition) -> float | None:
        """Seconds from `after` to the first sample meeting condition(instances), or None."""
        return next((t - after for t, n in self.samples if t >= after and condition(n)), None)


def launch_faas(
    stack: Stack, log_dir: Path, env: dict[str, str]
) -> tuple[ServiceProcess, str, str]:
    """A faas of its own, ready (imported, metrics served) with no instance yet when min is 0."""
    port, metrics_port = free_port(), free_port()
    process = stack.launch(
        "faas",
        port,
        log_dir / f"scaling-faas-{port}.log",
        env={"METRICS_PORT": str(metrics_port), **env},
    )
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    wait_until(lambda: _answers(metrics_url), 60, "the platform's metrics")
    return process, f"http://127.0.0.1:{port}", metrics_url


def _answers(url: str) -> bool | None:
    try:
        return requests.get(url, timeout=2).ok or None
    except requests.ConnectionError:
        return None


def from_zero(stack: Stack, token: str, expected: list[str], log_dir: Path, kind: str) -> dict:
    """From a platform with zero instances, the first correct list (one new instance)."""
    prewarm = "true" if kind == "prewarmed" else "false"
    env = {"FC_MIN_INSTANCES": "0", "FC_PREWARM": prewarm}
    process, url, metrics_url = launch_faas(stack, log_dir, env)
    try:
        if metric_sum(metrics_url, "fc_instances") != 0:
            raise RuntimeError("the platform started an instance before any request")
        return asdict(first_correct_list(f"{url}/api/todos", token, expected, time.monotonic()))
    finally:
        process.stop()


def from_zero_rounds(
    stack: Stack, token: str, expected: list[str], log_dir: Path, starts: int
) -> list[dict]:
    """`starts` starts of each kind, interleaved, as {kind: seconds} per round."""
    return [
        {
            kind: from_zero(stack, token, expected, log_dir, kind)["seconds"]
            for kind in round_order(["prewarmed", "cold"], index)
        }
        for index in range(starts)
    ]


def step(stack: Stack, token: str, log_dir: Path) -> dict:
    """STEP_CONNECTIONS clients at once on an idle platform (zero instances), for STEP_SECONDS,
    then nothing: when the instances reach the rule's number, and when they are back to zero."""
    env = {
        "FC_MIN_INSTANCES": "0",
        "FC_MAX_INSTANCES": str(STEP_CONNECTIONS // STEP_CONCURRENCY),
        "FC_INSTANCE_CONCURRENCY": str(STEP_CONCURRENCY),
        "FC_IDLE_SECONDS": str(STEP_IDLE_SECONDS),
    }
    wanted = STEP_CONNECTIONS // STEP_CONCURRENCY
    process, url, metrics_url = launch_faas(stack, log_dir, env)
    try:
        with InstanceSampler(metrics_url) as sampler:
            time.sleep(0.5)  # a flat start on the chart
            load_start = sampler.now()
            load = run_wrk(
                f"{url}/api/todos",
                STEP_CONNECTIONS,
                STEP_SECONDS,
                {"Authorization": f"Bearer {token}"},
            )
            load_end = sampler.now()
            wait_until(
                lambda: sampler.first(load_end, lambda n: n == 0) is not None or None,
                STEP_IDLE_SECONDS + 30,
                "back to zero instances",
            )
        return {
            "connections": STEP_CONNECTIONS,
            "wanted": wanted,
            "load_start": load_start,
            "load_end": load_end,
            "to_wanted_s": sampler.first(load_start, lambda n: n >= wanted),
            "to_zero_s": sampler.first(load_end, lambda n: n == 0),
            "idle_seconds": STEP_IDLE_SECONDS,
            "requests": load.requests,
            "errors": load.errors,
            "samples": sampler.samples,
        }
    finally:
        process.stop()
