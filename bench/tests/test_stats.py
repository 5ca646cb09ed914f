"""The statistics of interleaved rounds: order, ratios within rounds, median and spread."""

import pytest

from bench.stats import difference, metric, ratio, round_order, summarize, within_rounds


def test_every_other_round_runs_the_contenders_in_reverse_order():
    assert [round_order(["a", "b", "c"], index) for index in range(3)] == [
        ["a", "b", "c"],
        ["c", "b", "a"],
        ["a", "b", "c"],
    ]


def test_a_summary_is_the_median_with_the_lowest_and_highest_round():
    summary = summarize([3.0, 1.0, 2.0, 10.0])
    assert (summary.median, summary.low, summary.high) == (2.5, 1.0, 10.0)
    assert summary.rounds == (3.0, 1.0, 2.0, 10.0)


def test_a_summary_of_nothing_is_refused():
    with pytest.raises(ValueError, match="no values"):
        summarize([])


def test_ratios_are_taken_within_each_round_before_the_median():
    # The machine slows down in round 2: both sides drop, their ratio holds.
    rounds = [
        {"faas": 50.0, "direct": 100.0},
        {"faas": 30.0, "direct": 50.0},
        {"faas": 60.0, "direct": 100.0},
    ]
    summary = within_rounds(rounds, "faas", "direct", ratio)
    assert summary.rounds == (0.5, 0.6, 0.6)
    assert (summary.median, summary.low, summary.high) == (0.6, 0.5, 0.6)
    # Not the ratio of the medians (50 / 100), which mixes rounds the machine ran differently.


def test_differences_are_taken_within_each_round():
    rounds = [
        {"faas": 3.0, "direct": 2.0},
        {"faas": 6.0, "direct": 4.5},
        {"faas": 2.5, "direct": 2.0},
    ]
    assert within_rounds(rounds, "faas", "direct", difference).rounds == (1.0, 1.5, 0.5)


def test_metric_picks_one_measurement_of_every_contender_per_round():
    rounds = [{"a": {"rps": 1.0, "p50_ms": 9.0}, "b": {"rps": 2.0, "p50_ms": 8.0}}]
    assert metric(rounds, "rps") == [{"a": 1.0, "b": 2.0}]
