"""What processes cost, read from /proc: their tree, CPU seconds and memory."""

import os
from collections.abc import Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses


def _processes() -> dict[int, int]:
    """Every live pid and its parent."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
    return parents


def descendants(root: int, parents: dict[int, int] | None = None) -> list[int]:
    """root and every live process below it."""
    parents = _processes() if parents is None else parents
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU seconds of pid, with those of the children it has reaped (they are gone from /proc)."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 of stat; fields[] starts at field 3.
    used = fields[11:15] if children else fields[11:13]
    return sum(int(value) for value in used) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent running anything (user, nice, system), from /proc/stat."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    return sum(int(value) for value in first[1:4]) / TICKS


def rss_mb(pids: Iterable[int]) -> dict[str, float]:
    """Summed resident and proportional set sizes (MiB) of pids; PSS shares forked pages fairly."""
    sizes = {"rss_mb": 0.0, "pss_mb": 0.0}
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in lines:
            name, _, value = line.partition(":")
            if name in ("Rss", "Pss"):
                sizes[f"{name.lower()}_mb"] += int(value.split()[0]) / 1024
    return sizes


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of root and every live process below it, with those they have reaped."""
    return sum(cpu_seconds(pid) for pid in descendants(root))
