"""The issue's figures from a run's raw measurements: value, target and whether it was met."""

import operator
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import Summary, difference, metric, ratio, summarize, within_rounds


@dataclass(frozen=True)
class Figure:
    name: str
    value: Summary | float
    unit: str
    target: str  # as printed; "report" when the issue sets none
    passed: bool | None  # None: reported, no target
    detail: str = ""
    bound: float | None = None  # the target's number, for the chart


def _target(value: Summary, compare: Callable, bound: float, unit: str) -> tuple[str, bool]:
    sign = "≥" if compare is operator.ge else "≤"
    return f"{sign} {bound:g}{unit}", compare(value.median, bound)


def _median(rounds: list[dict[str, dict[str, float]]], name: str, contender: str) -> float:
    return summarize([one[contender] for one in metric(rounds, name)]).median


def targeted(name: str, value: Summary, unit: str, compare, bound: float, detail: str) -> Figure:
    target, passed = _target(value, compare, bound, unit)
    return Figure(name, value, unit, target, passed, detail, bound)


def proxy_figures(rounds: list) -> list[Figure]:
    rps = metric(rounds, "rps")
    p50 = metric(rounds, "p50_ms")
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
            0.35,
            f"faas {faas}; direct {direct}",
        ),
        targeted(
            "proxy hop: p50 at c=1, faas - direct",
            within_rounds(p50, "faas", "direct", difference),
            " ms",
            operator.le,
            1.0,
            "",
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


def cold_start_figures(one: list[dict], stack: list[dict]) -> list[Figure]:
    def before(starts: list[dict]) -> str:
        statuses: dict[str, int] = {}
        for start in starts:
            for status, count in start["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
        return f"{len(starts)} starts; answers before the first correct one: {answers or 'none'}"

    wrong = sum(start["wrong_lists"] for start in stack)
    return [
        targeted(
            "cold start, one instance",
            summarize([start["seconds"] for start in one]),
            " s",
            operator.le,
            0.6,
            before(one),
        ),
        targeted(
            "cold start, whole stack",
            summarize([start["seconds"] for start in stack]),
            " s",
            operator.le,
            1.0,
            before(stack),
        ),
        Figure(
            "cold start, whole stack: empty or partial 200s", wrong, "", "0", wrong == 0, bound=0
        ),
    ]


def memory_figures(memory: dict[str, dict[str, dict[str, float]]]) -> list[Figure]:
    """RSS after load per service (master and workers summed), with idle and PSS beside it."""
    figures = []
    for name, after in memory["after_load"].items():
        idle = memory["idle"][name]
        figures.append(
            Figure(
                f"memory: {name} ({after['processes']} processes)",
                after["rss_mb"],
                " MiB",
                "report",
                None,
                f"RSS idle {idle['rss_mb']:.0f} MiB, after load {after['rss_mb']:.0f} MiB; "
                f"PSS idle {idle['pss_mb']:.0f} MiB, after load {after['pss_mb']:.0f} MiB",
            )
        )
    return figures


def cpu_figure(phases: list[dict], cpus: int) -> Figure:
    """The share of the machine's CPU capacity other jobs took during the run."""
    other = sum(phase["other_cpu_s"] for phase in phases)
    seconds = sum(phase["seconds"] for phase in phases)
    noisiest = max(phases, key=lambda phase: phase["other_share"])
    return Figure(
        "CPU taken by other processes during the run",
        100 * other / (cpus * seconds),
        " %",
        "report",
        None,
        f"{other:.1f} CPU-s of {cpus} CPUs x {seconds:.0f} s; most in "
        f"{noisiest['phase']}: {100 * noisiest['other_share']:.0f} %",
    )
