"""The targets as ratios within one run: each figure compares contenders of the same round."""

import pytest

from bench.figures import cold_start_figures, proxy_figures
from bench.stats import overhead


def contender(rps: float, p50_ms: float, faas: float, todos: float, nginx: float) -> dict:
    """What a round measured of one contender: every watched process's CPU ms per request."""
    cpu = {"cpu_ms_faas": faas, "cpu_ms_todo-service": todos, "cpu_ms_nginx": nginx}
    return {"rps": rps, "p50_ms": p50_ms, **cpu}


def proxy_round(faas_rps: float, faas_p50: float, faas_cpu: float, scale: float = 1.0) -> dict:
    """One round in which direct answers 1000 req/s, p50 2 ms, 2 ms of CPU per page, all times
    `scale` (a slower or busier machine makes every contender slower alike)."""
    page = 2.0 * scale
    return {
        "direct": contender(1000 / scale, 2.0 * scale, 0.0, page, 0.0),
        "nginx": contender(950 / scale, 2.1 * scale, 0.0, page, 0.1 * scale),
        "faas": contender(faas_rps / scale, faas_p50 * scale, faas_cpu * scale, page, 0.0),
    }


def by_name(figures: list) -> dict:
    return {figure.name: figure for figure in figures}


def test_the_p50_overhead_is_the_share_added_to_direct():
    assert overhead(2.3, 2.0) == pytest.approx(0.15)


def test_a_hop_within_every_ratio_passes_on_a_fast_and_on_a_slow_machine():
    fast = [proxy_round(850, 2.2, 0.3) for _ in range(3)]
    slow = [proxy_round(850, 2.2, 0.3, scale=3.0) for _ in range(3)]

    for rounds in (fast, slow):
        figures = by_name(proxy_figures(rounds))
        assert figures["proxy hop: throughput, faas ÷ direct"].passed
        assert figures["proxy hop: p50 at c=1, (faas - direct) ÷ direct"].passed
        assert figures["faas CPU per proxied request ÷ todo-service CPU per page (c=32)"].passed
    # The absolute difference grows with the machine's slowness; it is only reported.
    slow_difference = by_name(proxy_figures(slow))["proxy hop: p50 at c=1, faas - direct"]
    assert slow_difference.passed is None and slow_difference.value.median == pytest.approx(0.6)


def test_each_proxy_ratio_misses_when_faas_passes_its_bound():
    figures = by_name(proxy_figures([proxy_round(700, 2.5, 0.5) for _ in range(3)]))

    throughput = figures["proxy hop: throughput, faas ÷ direct"]
    assert throughput.value.median == pytest.approx(0.7) and throughput.passed is False
    p50 = figures["proxy hop: p50 at c=1, (faas - direct) ÷ direct"]
    assert p50.value.median == pytest.approx(0.25) and p50.passed is False
    cpu = figures["faas CPU per proxied request ÷ todo-service CPU per page (c=32)"]
    assert cpu.value.median == pytest.approx(0.25) and cpu.passed is False


def test_the_cpu_ratio_compares_faas_with_todo_service_direct_in_the_same_round():
    # Round 2 ran on a busier machine: both sides cost twice as much, the ratio holds.
    rounds = [proxy_round(900, 2.1, 0.3), proxy_round(900, 2.1, 0.3, scale=2.0)]

    cpu = by_name(proxy_figures(rounds))[
        "faas CPU per proxied request ÷ todo-service CPU per page (c=32)"
    ]
    assert cpu.value.rounds == pytest.approx((0.15, 0.15))


def start(seconds: float, wrong_lists: int = 0) -> dict:
    return {
        "seconds": seconds,
        "statuses": {"503": 2},
        "wrong_lists": wrong_lists,
        "cpu_seconds": 0.1,
    }


def test_cold_starts_are_ratios_to_the_reference_started_in_the_same_round():
    # The machine is three times slower in round 2: every start is, the ratios hold.
    rounds = [
        {"reference": start(0.4), "one": start(0.3), "stack": start(0.8)},
        {"reference": start(1.2), "one": start(0.9), "stack": start(2.4)},
    ]

    figures = by_name(cold_start_figures(rounds))

    one = figures["cold start, one instance ÷ reference"]
    stack = figures["cold start, whole stack ÷ reference"]
    assert one.value.rounds == pytest.approx((0.75, 0.75)) and one.passed
    assert stack.value.rounds == pytest.approx((2.0, 2.0)) and stack.passed
    assert figures["cold start, whole stack"].passed is None  # absolute: reported only
    assert figures["cold start, whole stack"].value.median == pytest.approx(1.6)


def test_a_cold_start_far_slower_than_the_reference_misses_and_wrong_lists_count():
    rounds = [{"reference": start(0.4), "one": start(0.6), "stack": start(1.6, wrong_lists=1)}]

    figures = by_name(cold_start_figures(rounds))

    assert figures["cold start, one instance ÷ reference"].passed is False
    assert figures["cold start, whole stack ÷ reference"].passed is False
    assert figures["cold start, whole stack: empty or partial 200s"].value == 1
