"""The issue's figures from a run's raw measurements: value, target and whether it was met."""

import operator
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import (
    Summary,
    difference,
    metric,
    overhead,
    ratio,
    summarize,
    within_rounds,
)
from bench.wrk import SPREAD_SKEW


@dataclass(frozen=True)
class Figure:
    name: str
    value: Summary | float
    unit: str
    target: str  # as printed; "report" when the issue sets none
    passed: bool | None  # None: reported, no target
    detail: str = ""
    bound: float | None = None  # the target's number, for the chart


def _median(rounds: list[dict[str, dict[str, float]]], name: str, contender: str) -> float:
    return summarize([one[contender] for one in metric(rounds, name)]).median


def targeted(
    name: str, value: Summary, unit: str, compare: Callable, bound: float, detail: str
) -> Figure:
    """A figure whose median must be ≥ (operator.ge) or ≤ (operator.le) bound."""
    sign = "≥" if compare is operator.ge else "≤"
    passed = compare(value.median, bound)
    return Figure(name, value, unit, f"{sign} {bound:g}{unit}", passed, detail, bound)


# The hop's targets, as shares of what todo-service itself takes in the same round (issue 15).
THROUGHPUT_RATIO = 0.80  # faas's req/s at least this share of todo-service's direct req/s
P50_OVERHEAD = 0.15  # faas's p50 at c=1 at most this share above direct's
CPU_RATIO = 0.20  # faas's CPU per proxied request at most this share of todo-service's per page


def proxy_figures(rounds: list) -> list[Figure]:
    rps = metric(rounds, "rps")
    p50 = metric(rounds, "p50_ms")
    cpu = [
        {"faas": one["faas"]["cpu_ms_faas"], "todo-service": one["direct"]["cpu_ms_todo-service"]}
        for one in rounds
    ]
    faas, direct, nginx = (
        f"{_median(rounds, 'rps', who):.0f} req/s, p50 {_median(rounds, 'p50_ms', who):.2f} ms"
        for who in ("faas", "direct", "nginx")
    )
    return [
        targeted(
            "proxy hop: throughput, faas ÷ direct",
            within_rounds(rps, "faas", "direct", ratio),
            "x",
            operator.ge,
            THROUGHPUT_RATIO,
            f"faas {faas}; direct {direct}",
        ),
        targeted(
            "proxy hop: p50 at c=1, (faas - direct) ÷ direct",
            within_rounds(p50, "faas", "direct", overhead),
            "x",
            operator.le,
            P50_OVERHEAD,
            "",
        ),
        Figure(
            "proxy hop: p50 at c=1, faas - direct",
            within_rounds(p50, "faas", "direct", difference),
            " ms",
            "report",
            None,
        ),
        targeted(
            "faas CPU per proxied request ÷ todo-service CPU per page (c=32)",
            within_rounds(cpu, "faas", "todo-service", ratio),
            "x",
            operator.le,
            CPU_RATIO,
            f"faas {summarize([one['faas'] for one in cpu]).median:.2f} ms per proxied request; "
            f"todo-service {summarize([one['todo-service'] for one in cpu]).median:.2f} ms per "
            f"page direct, {_median(rounds, 'cpu_ms_todo-service', 'faas'):.2f} ms behind faas; "
            f"nginx {_median(rounds, 'cpu_ms_nginx', 'nginx'):.2f} ms per request",
        ),
        Figure(
            "reference: throughput, faas ÷ nginx",
            within_rounds(rps, "faas", "nginx", ratio),
            "x",
            "report",
            None,
            f"nginx proxy_pass {nginx}",
        ),
        Figure(
            "reference: p50 at c=1, faas - nginx",
            within_rounds(p50, "faas", "nginx", difference),
            " ms",
            "report",
            None,
        ),
    ]


def table_figures(rounds: list) -> list[Figure]:
    small, large = (
        f"{_median(rounds, 'rps', size):.0f} req/s, p50 {_median(rounds, 'p50_ms', size):.2f} ms"
        for size in ("1k", "1M")
    )
    return [
        targeted(
            "list, 1M ÷ 1k rows: p50 at c=1",
            within_rounds(metric(rounds, "p50_ms"), "1M", "1k", ratio),
            "x",
            operator.le,
            1.15,
            f"1k rows {small}; 1M rows {large}",
        ),
        targeted(
            "list, 1M ÷ 1k rows: throughput",
            within_rounds(metric(rounds, "rps"), "1M", "1k", ratio),
            "x",
            operator.ge,
            0.85,
            "",
        ),
    ]


def login_figures(rounds: list[dict[str, float]], processes: int) -> list[Figure]:
    logins = summarize([one["logins_per_s"] for one in rounds]).median
    hashes = summarize([one["hashes_per_s"] for one in rounds]).median
    return [
        targeted(
            "login: logins/s ÷ argon2 hash rate",
            within_rounds(rounds, "logins_per_s", "hashes_per_s", ratio),
            "x",
            operator.ge,
            0.8,
            f"{logins:.1f} logins/s; {hashes:.1f} verifications/s in {processes} processes",
        )
    ]


def errors_figure(*comparisons: list) -> Figure:
    """Failed requests and non-2xx answers in all measured wrk runs (warm-ups excluded)."""
    errors = sum(
        values["errors"] for rounds in comparisons for one in rounds for values in one.values()
    )
    return Figure("failed or non-2xx requests under load", errors, "", "0", errors == 0, bound=0)


def sustained_figures(sustained: dict, connections: int, refresh_seconds: int) -> list[Figure]:
    """The long run through faas: failures against 0, and the JWKS's latency meanwhile."""
    load = sustained["load"]
    seconds = load["seconds"]
    failed = load["errors"] + len(sustained["jwks_failures"])
    jwks = sorted(sustained["jwks_ms"])
    p99 = jwks[min(len(jwks) - 1, int(0.99 * len(jwks)))] if jwks else float("nan")
    return [
        Figure(
            f"sustained c={connections}: failed or non-2xx requests",
            failed,
            "",
            "0",
            failed == 0,
            f"{load['requests']} requests in {seconds:.0f} s "
            f"({load['requests'] / seconds:.0f} req/s) while the services refreshed their keys "
            f"every {refresh_seconds} s; JWKS failures: {sustained['jwks_failures'] or 'none'}",
            bound=0,
        ),
        Figure(
            "JWKS p99 while faas is saturated",
            p99,
            " ms",
            "report",
            None,
            f"{len(jwks)} fetches; p50 {jwks[len(jwks) // 2] if jwks else float('nan'):.2f} ms",
        ),
    ]


def lopsided_figure(*comparisons: list) -> Figure:
    """Throughput runs in which one worker of a service did most of its work (see wrk.py)."""
    runs = [
        run
        for rounds in comparisons
        for one in rounds
        for values in one.values()
        for run in values["runs"]
    ]
    lopsided = sum(run["skew"] > SPREAD_SKEW for run in runs)
    return Figure(
        "throughput runs with one worker doing most of the work",
        lopsided,
        f" of {len(runs)}",
        "report",
        None,
        "left out of the req/s medians wherever the same measurement had runs spread evenly",
    )


# Cold starts as multiples of the reference's (reference_app.py) in the same round, with bounds
# that the code of issue 15 meets on the 2-core development machine (one instance about 0.8x,
# the whole stack 2.3x to 2.8x: three processes' imports, 3.3 CPU-s against the reference's
# 0.7, share two cores), and so on any machine with more of them; the absolute times are
# reported.
ONE_INSTANCE_RATIO = 1.0
WHOLE_STACK_RATIO = 3.0


def cold_start_figures(rounds: list[dict[str, dict]]) -> list[Figure]:
    def before(kind: str) -> str:
        starts = [one[kind] for one in rounds]
        statuses: dict[str, int] = {}
        for start in starts:
            for status, count in start["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
        cpu = summarize([start["cpu_seconds"] for start in starts]).median
        return (
            f"{len(starts)} starts, {cpu:.2f} CPU-s each (median); "
            f"answers before the first correct one: {answers or 'none'}"
        )

    seconds = [{kind: start["seconds"] for kind, start in one.items()} for one in rounds]
    wrong = sum(one["stack"]["wrong_lists"] for one in rounds)
    return [
        targeted(
            "cold start, one instance ÷ reference",
            within_rounds(seconds, "one", "reference", ratio),
            "x",
            operator.le,
            ONE_INSTANCE_RATIO,
            "",
        ),
        targeted(
            "cold start, whole stack ÷ reference",
            within_rounds(seconds, "stack", "reference", ratio),
            "x",
            operator.le,
            WHOLE_STACK_RATIO,
            "",
        ),
        Figure(
            "cold start, reference (Flask + SQLAlchemy + psycopg2, gunicorn)",
            summarize([one["reference"] for one in seconds]),
            " s",
            "report",
            None,
            before("reference"),
        ),
        Figure(
            "cold start, one instance",
            summarize([one["one"] for one in seconds]),
            " s",
            "report",
            None,
            before("one"),
        ),
        Figure(
            "cold start, whole stack",
            summarize([one["stack"] for one in seconds]),
            " s",
            "report",
            None,
            before("stack"),
        ),
        Figure(
            "cold start, whole stack: empty or partial 200s", wrong, "", "0", wrong == 0, bound=0
        ),
    ]


def scaling_figures(from_zero: list[dict], step: dict, during_proxy: list) -> list[Figure]:
    """Issue 13: starts from zero instances, a step in load followed, instances under load."""
    prewarmed = summarize([start["prewarmed"] for start in from_zero])
    cold = summarize([start["cold"] for start in from_zero])
    counts = [instances for _, instances in during_proxy] or [0.0]
    to_wanted = step["to_wanted_s"]
    return [
        Figure(
            "from zero instances: first correct list, prewarmed", prewarmed, " s", "report", None
        ),
        Figure("from zero instances: first correct list, cold", cold, " s", "report", None),
        targeted(
            "from zero instances: prewarmed ÷ cold",
            within_rounds(from_zero, "prewarmed", "cold", ratio),
            "x",
            operator.le,
            0.25,
            f"{len(from_zero)} starts of each, interleaved",
        ),
        Figure(
            f"step to c={step['connections']}: instances reach the rule's {step['wanted']}",
            to_wanted if to_wanted is not None else float("inf"),
            " s",
            "≤ 1 s",
            to_wanted is not None and to_wanted <= 1.0,
            f"{step['requests']} requests, {step['errors']} failed",
            1.0,
        ),
        Figure(
            "step: failed requests (none may fail while instances start)",
            step["errors"],
            "",
            "0",
            step["errors"] == 0,
            bound=0,
        ),
        Figure(
            "step: back to zero instances after the load",
            step["to_zero_s"],
            " s",
            "report",
            None,
            f"FC_IDLE_SECONDS={step['idle_seconds']}",
        ),
        Figure(
            "instances during the proxy runs (c=32 and c=1)",
            summarize(counts),
            "",
            "report",
            None,
            f"{min(counts):g} to {max(counts):g}, by the FC rule at concurrency 8",
        ),
    ]
