"""wrk runs against 127.0.0.1 only: keep-alive connections, one thread, a fixed duration."""

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.stats import round_order

REPORT_SCRIPT = Path(__file__).with_name("report.lua")
MARKER = "BENCH-JSON "


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    url: str, connections: int, seconds: float, headers: Mapping[str, str] | None = None
) -> Load:
    """One wrk run of GET url; a run with any failed request or non-2xx answer raises."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"loads go to 127.0.0.1 only, not {url}")
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(REPORT_SCRIPT)]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    finished = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    line = next(line for line in finished.stdout.splitlines() if line.startswith(MARKER))
    report = json.loads(line.removeprefix(MARKER))
    if any(report["errors"].values()) or not report["requests"]:
        raise RuntimeError(f"wrk {url}: {report['requests']} requests, errors {report['errors']}")
    return Load(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p90_ms=report["p90_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
    )


@dataclass(frozen=True)
class Target:
    """One contender of a comparison: a URL and the headers every request carries."""

    url: str
    headers: Mapping[str, str]


def compare(
    targets: Mapping[str, Target], rounds: int, seconds: float, throughput_connections: int = 32
) -> list[dict[str, dict[str, float]]]:
    """Interleaved rounds over `targets`: per round and target, req/s at -c32 and p50 at -c1."""
    for target in targets.values():  # warm-up: pools, caches and JWKS filled, not measured
        run_wrk(target.url, throughput_connections, 1, target.headers)
    results = []
    for index in range(rounds):
        one: dict[str, dict[str, float]] = {name: {} for name in targets}
        for name in round_order(list(targets), index):
            target = targets[name]
            one[name]["rps"] = run_wrk(
                target.url, throughput_connections, seconds, target.headers
            ).throughput
        for name in round_order(list(targets), index):
            target = targets[name]
            one[name]["p50_ms"] = run_wrk(target.url, 1, seconds, target.headers).p50_ms
        results.append(one)
    return results
