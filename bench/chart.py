"""bench/results.png: the figures against their targets, and the raw measurements behind them."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server or in CI

import matplotlib.pyplot as plt

from bench.figures import Figure
from bench.stats import Summary, metric


def _ratios(axes, figures: list[Figure]) -> None:
    shown = [f for f in figures if f.unit == "x"]
    names = [f.name for f in shown]
    medians = [f.value.median for f in shown]
    errors = [
        [f.value.median - f.value.low for f in shown],
        [f.value.high - f.value.median for f in shown],
    ]
    colors = [{True: "tab:green", False: "tab:red", None: "tab:gray"}[f.passed] for f in shown]
    axes.barh(names, medians, xerr=errors, color=colors, capsize=3)
    for row, figure in enumerate(shown):
        if figure.bound is not None:
            axes.plot([figure.bound] * 2, [row - 0.4, row + 0.4], color="black", linewidth=2)
    axes.invert_yaxis()
    axes.set_title("ratios: median, spread over rounds; black = target")


def _contenders(axes, rounds: list, name: str, label: str) -> None:
    values = metric(rounds, name)
    for contender in values[0]:
        series = [one[contender] for one in values]
        axes.plot(range(1, len(series) + 1), series, marker="o", label=contender)
    axes.set_xticks(range(1, len(values) + 1))
    axes.set_xlabel("round")
    axes.set_ylabel(label)
    axes.legend()


def _cold_starts(axes, rounds: list[dict[str, dict]]) -> None:
    """Absolute seconds of every start; their bounds are ratios, in the ratio panel."""
    kinds = (("reference", "reference app"), ("one", "one instance"), ("stack", "whole stack"))
    for row, (kind, _) in enumerate(kinds):
        seconds = [one[kind]["seconds"] for one in rounds]
        axes.scatter(seconds, [row] * len(seconds))
    axes.set_yticks(range(len(kinds)), [label for _, label in kinds])
    axes.set_xlabel("seconds to the first correct list")
    axes.set_title("cold starts")


def _memory(axes, memory: dict) -> None:
    """RSS as asked, and PSS beside it: summed RSS counts pages a master shares with its
    forked workers once per process, PSS shares them out."""
    names = list(memory["idle"])
    bars = [(size, when) for size in ("rss_mb", "pss_mb") for when in ("idle", "after_load")]
    width = 0.8 / len(bars)
    for offset, (size, when) in enumerate(bars):
        heights = [memory[when][name][size] for name in names]
        positions = [index - 0.4 + width * (offset + 0.5) for index in range(len(names))]
        label = f"{size.removesuffix('_mb').upper()} {when.replace('_', ' ')}"
        axes.bar(positions, heights, width=width, label=label)
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel("MiB, all processes of the service")
    axes.legend()
    axes.set_title("memory")


def write_chart(path: Path, figures: list[Figure], raw: dict) -> None:
    fig, grid = plt.subplots(3, 2, figsize=(14, 13))
    _ratios(grid[0][0], [f for f in figures if isinstance(f.value, Summary)])
    _cold_starts(grid[0][1], raw["cold_rounds"])
    _contenders(grid[1][0], raw["proxy_rounds"], "rps", "req/s at c=32")
    grid[1][0].set_title("GET the 20-todo page: throughput")
    _contenders(grid[1][1], raw["proxy_rounds"], "p50_ms", "p50 ms at c=1")
    grid[1][1].set_title("GET the 20-todo page: latency")
    _contenders(grid[2][0], raw["table_rounds"], "p50_ms", "p50 ms at c=1")
    grid[2][0].set_title("todo-service list with 1k vs 1M rows in the table")
    _memory(grid[2][1], raw["memory"])
    fig.suptitle("make bench, " + raw["run"]["started_at"])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_scaling_chart(path: Path, step: dict) -> None:
    """Instances following a step in load (docs/scaling.png, shown by the README)."""
    fig, axes = plt.subplots(figsize=(8, 3.2))
    times = [t for t, _ in step["samples"]]
    axes.step(times, [n for _, n in step["samples"]], where="post", label="fc_instances")
    axes.axvspan(step["load_start"], step["load_end"], alpha=0.15, color="tab:orange")
    axes.axhline(step["wanted"], linestyle=":", color="grey")
    axes.text(step["load_start"], step["wanted"] + 0.1, f"{step['connections']} clients")
    axes.set_xlabel("seconds")
    axes.set_ylabel("instances")
    axes.set_ylim(0, step["wanted"] + 1)
    axes.set_title(
        f"FC rule: ceil(in flight / {step['connections'] // step['wanted']}), "
        f"idle instances released after {step['idle_seconds']} s"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
