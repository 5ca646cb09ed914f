"""Pure statistics of interleaved rounds: the order of a round, ratios within rounds, medians.

A round runs every contender once; the next round runs them in reverse order, so that a drift
of the machine (another job starting, a cache warming) favours no one. A ratio is taken within
one round, where both sides saw the same machine, and the median over rounds is reported with
its spread (the lowest and highest round).
"""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def round_order(names: Sequence[T], round_index: int) -> list[T]:
    """The contenders in the order round `round_index` (from 0) runs them: reversed every other."""
    return list(names) if round_index % 2 == 0 else list(reversed(names))


@dataclass(frozen=True)
class Summary:
    """The median of per-round values and their spread."""

    median: float
    low: float
    high: float
    rounds: tuple[float, ...]


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        raise ValueError("no values to summarize")
    return Summary(statistics.median(values), min(values), max(values), tuple(values))


def within_rounds(
    rounds: Sequence[dict[str, float]], a: str, b: str, combine: Callable[[float, float], float]
) -> Summary:
    """combine(round[a], round[b]) in every round, summarized over the rounds."""
    return summarize([combine(one[a], one[b]) for one in rounds])


def ratio(a: float, b: float) -> float:
    return a / b


def difference(a: float, b: float) -> float:
    return a - b


def overhead(a: float, b: float) -> float:
    """What a adds to b, as a share of b: 0.15 is 15 % more."""
    return (a - b) / b


def metric(rounds: Sequence[dict[str, dict[str, float]]], name: str) -> list[dict[str, float]]:
    """From rounds of {contender: {metric: value}}, the rounds of one metric: {contender: value}."""
    return [{contender: values[name] for contender, values in one.items()} for one in rounds]
