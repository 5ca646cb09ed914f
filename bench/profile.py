"""`python -m bench --profile`: where faas's time goes on the proxied request.

py-spy samples faas's processes (the gunicorn master and its instances, from outside, so that
gunicorn's and the runtime's share shows too) while wrk loads GET /api/todos through faas,
taking only the thread that holds the GIL in each sample: where the CPU goes. It
writes the samples as collapsed stacks (`frame;frame;... count`, one stack a line: open them in
speedscope or flamegraph.pl) and a summary: the share of samples in which each function was
running (self) and in which it was on the stack (total).
"""

import re
import subprocess
from collections import Counter
from pathlib import Path

from bench.wrk import Target, run_wrk
from support.stack import VENV_BIN

SAMPLES_PER_SECOND = 250
SHOWN = 30  # functions per list in the summary
# py-spy starts sampling within a second; the load runs inside its window.
SPY_MARGIN_SECONDS = 2
_LINE_NUMBER = re.compile(r":\d+\)$")


def function_shares(stacks: list[str]) -> tuple[Counter, Counter, int]:
    """From collapsed stacks, the samples per function running (self) and on the stack (total),
    and the samples in all; a function is its name and file, whatever line was running."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in stacks:
        frames, _, count = line.rstrip().rpartition(" ")
        if not frames or not count.isdigit():
            continue
        functions = [_LINE_NUMBER.sub(")", frame) for frame in frames.split(";")]
        samples += int(count)
        own[functions[-1]] += int(count)
        for function in set(functions):
            total[function] += int(count)
    return own, total, samples


def summary(stacks: list[str]) -> str:
    own, total, samples = function_shares(stacks)
    lines = [f"{samples} samples of the thread holding the GIL in faas's processes, under load"]
    for title, counts in (("self", own), ("total (on the stack)", total)):
        lines += ["", f"{title}:"]
        lines += [
            f"{100 * count / samples:6.1f} %  {function}"
            for function, count in counts.most_common(SHOWN)
        ]
    return "\n".join(lines) + "\n"


def profile_faas(faas_pid: int, target: Target, connections: int, seconds: int, out: Path) -> Path:
    """Profile faas (`faas_pid`, its gunicorn master) under `seconds` of wrk load on `target`;
    writes out/profile-stacks.txt and out/profile.txt, and returns the latter."""
    out.mkdir(parents=True, exist_ok=True)
    stacks = out / "profile-stacks.txt"
    spy = subprocess.Popen(
        [
            str(VENV_BIN / "py-spy"),
            "record",
            "--pid",
            str(faas_pid),
            "--subprocesses",
            # Only the thread holding the GIL: where faas spends CPU, not where its threads wait
            # (py-spy counts a thread blocked in recv() as active).
            "--gil",
            "--rate",
            str(SAMPLES_PER_SECOND),
            "--duration",
            str(seconds + SPY_MARGIN_SECONDS),
            "--format",
            "raw",
            "--output",
            str(stacks),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_wrk(target.url, connections, seconds, target.headers)
    _, errors = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed (it needs ptrace: run as root): {errors.strip()}")
    written = out / "profile.txt"
    written.write_text(summary(stacks.read_text().splitlines()))
    return written
