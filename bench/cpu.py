"""CPU seconds of the run, per phase: ours, and what the rest of the machine took meanwhile.

"Ours" is this process and every process it started (the stack, wrk, nginx, the hash pool),
plus the PostgreSQL backends serving our databases (the server is the machine's, not ours).
Everything else the CPUs did meanwhile was another job's: it is reported so that a noisy run
shows itself.
"""

import os
import threading
import time
from pathlib import Path

from bench.procs import CPUS, cpu_seconds, machine_busy_seconds, tree_cpu_seconds


def _postgres_backends(databases: tuple[str, ...]) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to one of `databases`."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry.name}/cmdline").read_bytes().decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError):
            continue
        words = title.split()  # "postgres: <user> <database> <client> <state>"
        if len(words) > 2 and words[0] == "postgres:" and words[2] in databases:
            found[int(entry.name)] = cpu_seconds(int(entry.name), children=False)
    return found


class CpuMonitor:
    """CPU seconds of the machine, of ours and of the rest, per named phase of the run.

    Backends are sampled every `interval` seconds, since an exited one leaves no trace; the
    process tree is read at each mark, as reaped children add up in their parents' stat.
    """

    def __init__(self, databases: tuple[str, ...], interval: float = 0.5):
        self.databases = databases
        self.interval = interval
        self.phases: list[dict[str, float | str]] = []
        # pid: (CPU seconds when first seen, when last seen); a backend that exists already
        # counts from now, a later one from its start.
        self._backends = {pid: (used, used) for pid, used in _postgres_backends(databases).items()}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="cpu-monitor", daemon=True)
        self._last = self._snapshot()

    def start(self) -> "CpuMonitor":
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._read_backends()

    def _read_backends(self) -> None:
        seen = _postgres_backends(self.databases)
        with self._lock:
            for pid, used in seen.items():
                self._backends[pid] = (self._backends.get(pid, (0.0, 0.0))[0], used)

    def _snapshot(self) -> dict[str, float]:
        tree = tree_cpu_seconds(os.getpid())
        with self._lock:
            backends = sum(last - first for first, last in self._backends.values())
        return {"at": time.monotonic(), "busy": machine_busy_seconds(), "ours": tree + backends}

    def mark(self, phase: str) -> None:
        """Close the phase that ran since the previous mark, naming it `phase`."""
        self._read_backends()
        now = self._snapshot()
        seconds = now["at"] - self._last["at"]
        other = max(now["busy"] - self._last["busy"] - (now["ours"] - self._last["ours"]), 0.0)
        self.phases.append(
            {
                "phase": phase,
                "seconds": round(seconds, 2),
                "machine_cpu_s": round(now["busy"] - self._last["busy"], 2),
                "ours_cpu_s": round(now["ours"] - self._last["ours"], 2),
                "other_cpu_s": round(other, 2),
                "other_share": round(other / (CPUS * seconds), 3),
            }
        )
        self._last = now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
