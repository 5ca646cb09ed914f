"""The run's figures as a printed table, as bench/results.json and as a README table."""

import json
from dataclasses import asdict
from pathlib import Path

from bench.figures import Figure
from bench.stats import Summary

MARKS = {True: "pass", False: "MISS", None: "-"}


def measured(figure: Figure) -> str:
    """The median with the spread over rounds, or a single value."""
    value = figure.value
    if isinstance(value, Summary):
        digits = 3 if max(abs(value.low), abs(value.high)) < 10 else 0
        return (
            f"{value.median:.{digits}f}{figure.unit} "
            f"[{value.low:.{digits}f}, {value.high:.{digits}f}]"
        )
    if isinstance(value, int) or value >= 10:
        return f"{value:.0f}{figure.unit}"
    return f"{value:.2f}{figure.unit}"


def table(figures: list[Figure]) -> str:
    """A plain-text table: figure, median (spread), target, mark."""
    rows = [("figure", "measured: median [lowest, highest round]", "target", "")]
    rows += [(f.name, measured(f), f.target, MARKS[f.passed]) for f in figures]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    details = [f"  {f.name}: {f.detail}" for f in figures if f.detail]
    return "\n".join([*lines, "", *details])


def markdown_table(figures: list[Figure]) -> str:
    lines = [
        "| figure | measured: median [lowest, highest round] | target | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {f.name} | {measured(f)} | {f.target} | {MARKS[f.passed]} |" for f in figures]
    return "\n".join(lines)


def write_json(path: Path, figures: list[Figure], raw: dict) -> None:
    body = {"figures": [asdict(figure) for figure in figures], "raw": raw}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
