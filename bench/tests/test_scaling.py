"""The scaling figures and the sampler behind them, on recorded samples."""

from bench.figures import scaling_figures
from bench.scaling import InstanceSampler

STEP = {
    "connections": 16,
    "wanted": 4,
    "to_zero_s": 3.1,
    "idle_seconds": 3,
    "requests": 900,
    "errors": 0,
}


def figure(figures, start: str):
    return next(f for f in figures if f.name.startswith(start))


def test_prewarmed_starts_are_compared_with_cold_ones_round_by_round():
    rounds = [
        {"prewarmed": 0.1, "cold": 0.5},
        {"prewarmed": 0.2, "cold": 0.5},
        {"prewarmed": 0.3, "cold": 0.6},
    ]

    ratio = figure(
        scaling_figures(rounds, {**STEP, "to_wanted_s": 0.4}, []), "from zero instances: prewarmed"
    )

    assert ratio.value.median == 0.4
    assert ratio.passed is False  # the target is 0.25


def test_a_step_never_followed_to_the_rules_number_fails():
    rounds = [{"prewarmed": 0.1, "cold": 0.5}]

    step = figure(scaling_figures(rounds, {**STEP, "to_wanted_s": None}, []), "step to c=16")

    assert step.passed is False


def test_the_sampler_finds_the_first_sample_after_a_moment_that_meets_a_condition():
    sampler = InstanceSampler("http://127.0.0.1:1/metrics")
    sampler.samples = [(0.0, 0), (1.0, 2), (1.5, 4), (5.0, 4), (8.0, 0)]

    assert sampler.first(0.5, lambda n: n >= 4) == 1.0
    assert sampler.first(5.0, lambda n: n == 0) == 3.0
    assert sampler.first(9.0, lambda n: n == 0) is None
