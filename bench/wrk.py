"""wrk runs against 127.0.0.1 only: keep-alive connections, one thread, a fixed duration."""

import json
import statistics
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.procs import cpu_seconds, descendants, tree_cpu_seconds
from bench.stats import round_order

REPORT_SCRIPT = Path(__file__).with_name("report.lua")
MARKER = "BENCH-JSON "
WARM_UP_SECONDS = 2
SPLITS = 4  # throughput runs per measurement, each on new connections
SPLIT_SECONDS = 1  # wrk counts whole seconds only
SPREAD_SKEW = 0.8  # a run whose busiest worker took more of its service's CPU was lopsided


@dataclass(frozen=True)
class Load:
    """What one wrk run measured; errors are failed requests and non-2xx/3xx answers."""

    requests: int
    seconds: float
    p50_ms: float
    errors: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    url: str, connections: int, seconds: int, headers: Mapping[str, str] | None = None
) -> Load:
    """One wrk run of GET url."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"loads go to 127.0.0.1 only, not {url}")
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(REPORT_SCRIPT)]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    finished = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    line = next(line for line in finished.stdout.splitlines() if line.startswith(MARKER))
    report = json.loads(line.removeprefix(MARKER))
    if not report["requests"]:
        raise RuntimeError(f"wrk {url}: no request answered in {seconds} s")
    return Load(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        errors=sum(report["errors"].values()),
    )


@dataclass(frozen=True)
class Target:
    """One contender of a comparison: a URL and the headers every request carries."""

    url: str
    headers: Mapping[str, str]


def _workers_cpu(pids: Mapping[str, int]) -> dict[str, dict[int, float]]:
    """CPU seconds of each worker (every process below the main one) of each watched tree."""
    return {
        name: {worker: cpu_seconds(worker) for worker in descendants(pid)[1:]}
        for name, pid in pids.items()
    }


def worker_skew(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> float:
    """The largest share of a service's worker CPU that one of its workers took (0.5 is even
    for two workers, 1.0 is all on one), over the services with 2+ workers that did work."""
    shares = [0.0]
    for name, workers in after.items():
        used = [spent - before[name].get(worker, 0.0) for worker, spent in workers.items()]
        if len(used) > 1 and sum(used) > 0.05:
            shares.append(max(used) / sum(used))
    return max(shares)


def _run(target: Target, connections: int, pids: Mapping[str, int]) -> dict:
    """One short throughput run on new connections: its load, skew and CPU per watched tree."""
    trees = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    workers = _workers_cpu(pids)
    load = run_wrk(target.url, connections, SPLIT_SECONDS, target.headers)
    return {
        "load": load,
        "skew": worker_skew(workers, _workers_cpu(pids)),
        "cpu": {name: tree_cpu_seconds(pid) - trees[name] for name, pid in pids.items()},
    }


def _throughput(runs: list[dict]) -> dict:
    """req/s, errors and, per watched process tree, its CPU milliseconds per request.

    gunicorn's workers share one listening socket, and often one worker accepts most of a
    burst of new connections, which then wait on that worker's one GIL for the whole run (at
    about half the rate). req/s is the median of the runs whose work was spread over the
    workers (of all runs when none was); every run is kept with its skew, so the lottery
    stays visible.
    """
    loads = [run["load"] for run in runs]
    spread = [run["load"] for run in runs if run["skew"] <= SPREAD_SKEW] or loads
    requests = sum(load.requests for load in loads)
    return {
        "rps": statistics.median(load.throughput for load in spread),
        "runs": [
            {"rps": round(run["load"].throughput, 1), "skew": round(run["skew"], 2)} for run in runs
        ],
        "errors": sum(load.errors for load in loads),
        **{
            f"cpu_ms_{name}": 1000 * sum(run["cpu"][name] for run in runs) / requests
            for name in runs[0]["cpu"]
        },
    }


def compare(
    targets: Mapping[str, Target],
    rounds: int,
    seconds: int,
    pids: Mapping[str, int],
    connections: int = 32,
) -> list[dict[str, dict[str, float]]]:
    """Interleaved rounds over `targets`: per round and target, req/s at -c32 (SPLITS short
    runs, the contenders taking turns, with the CPU each tree in `pids` spent per request)
    and p50 at -c1 (one run); errors of both counted."""
    for target in targets.values():
        # Not measured: fills pools and key caches, one request at a time first. A first burst
        # on cold caches can stall (a service's JWKS fetch waits behind faas's busy threads,
        # which wait on that service): that is no steady state.
        run_wrk(target.url, 1, WARM_UP_SECONDS // 2, target.headers)
        run_wrk(target.url, connections, WARM_UP_SECONDS, target.headers)
    results = []
    for index in range(rounds):
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for turn in range(SPLITS):
            for name in round_order(list(targets), index + turn):
                runs[name].append(_run(targets[name], connections, pids))
        one = {name: _throughput(runs[name]) for name in targets}
        for name in round_order(list(targets), index):
            latency = run_wrk(targets[name].url, 1, seconds, targets[name].headers)
            one[name]["p50_ms"] = latency.p50_ms
            one[name]["errors"] += latency.errors
        results.append(one)
    return results
