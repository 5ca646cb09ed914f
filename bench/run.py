"""`make bench`: the whole system on PostgreSQL, measured against the targets of issue 7.

Every figure comes from one run: compared contenders run in interleaved rounds (the order
reversed each round), a ratio is taken within a round and its median over the rounds is
reported with the spread. Loads come from wrk and go to 127.0.0.1 only.
"""

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import chart, coldstart, costs, figures, profile, report, scaling
from bench.cpu import CpuMonitor
from bench.login import HashPool, login_rate
from bench.procs import CPUS, descendants, rss_mb
from bench.stats import round_order
from bench.sustained import sustained_load
from bench.system import prepare
from bench.wrk import compare
from support.stack import Stack, start_stack

HERE = Path(__file__).resolve().parent
# Above this share of the CPUs taken by other jobs, a run says its figures are not to be trusted.
NOISY_PERCENT = 20
# The services refresh faas's keys this often in the bench (60 s by default), so that the
# sustained run spans several refreshes; its connections are three times faas's 16 threads.
KEY_REFRESH_SECONDS = 10
SUSTAINED_CONNECTIONS = 48
PROFILE_CONNECTIONS, PROFILE_SECONDS = 32, 10


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (at least 3)")
    parser.add_argument("--seconds", type=int, default=3, help="length of a c=1 latency run")
    parser.add_argument(
        "--starts", type=int, default=5, help="rounds of cold starts (reference, one, stack)"
    )
    parser.add_argument("--logins", type=int, default=32, help="logins (and hashes) per round")
    parser.add_argument("--clients", type=int, default=4, help="concurrent login clients")
    parser.add_argument(
        "--sustained",
        type=int,
        default=3 * KEY_REFRESH_SECONDS,
        help="seconds of the sustained run through faas (at least two key refreshes)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile faas under load with py-spy: profile.txt and profile-stacks.txt",
    )
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.json/.png")
    parser.add_argument(
        "--scaling-chart",
        type=Path,
        default=HERE.parent / "docs" / "scaling.png",
        help="the chart of instances following the load, which the README shows",
    )
    return parser.parse_args(argv)


def say(what: str) -> None:
    """Progress on stderr, so a long run shows where it is."""
    print(f"bench: {what}", file=sys.stderr, flush=True)


def memory(processes: dict[str, int]) -> dict[str, dict[str, float]]:
    """RSS and PSS of each named process with its children (a gunicorn master and its workers)."""
    found = {}
    for name, pid in processes.items():
        tree = descendants(pid)
        found[name] = {**rss_mb(tree), "processes": len(tree)}
    return found


def login_rounds(stack: Stack, username: str, args: argparse.Namespace) -> list[dict]:
    """Logins per second vs argon2 verifications per second, interleaved."""
    hashes = HashPool(int(stack.env["WEB_CONCURRENCY"]))
    contenders = {
        "logins_per_s": lambda: login_rate(stack.faas_url, username, args.logins, args.clients),
        "hashes_per_s": lambda: hashes.rate(args.logins),
    }
    try:
        return [
            {kind: contenders[kind]() for kind in round_order(list(contenders), index)}
            for index in range(args.rounds)
        ]
    finally:
        hashes.close()


def measure(stack: Stack, tmp: Path, cleanup: ExitStack, args: argparse.Namespace) -> dict:
    """Every measurement of the issue, in one run; the raw results."""
    say("seeding 1,000 and 1,000,000 todos")
    system = prepare(stack, tmp, cleanup)
    monitor = CpuMonitor(system.databases).start()
    cleanup.callback(monitor.stop)
    raw = {"memory": {"idle": memory(system.pids)}, "seed_seconds": system.seed_seconds}
    say(f"proxy hop: todo-service direct, through nginx, through faas; {args.rounds} rounds")
    with scaling.InstanceSampler(stack.metrics_url) as instances:
        raw["proxy_rounds"] = compare(system.proxy, args.rounds, args.seconds, system.pids)
    raw["instances_during_proxy"] = instances.samples
    monitor.mark("proxy hop")
    say(f"sustained: c={SUSTAINED_CONNECTIONS} through faas for {args.sustained} s, JWKS sampled")
    raw["sustained"] = sustained_load(
        system.proxy["faas"],
        f"{stack.faas_url}/.well-known/jwks.json",
        SUSTAINED_CONNECTIONS,
        args.sustained,
    )
    monitor.mark("sustained load")
    say("list cost: 1,000 vs 1,000,000 rows")
    pids = {"1k": system.pids["todo-service"], "1M": system.large_table_pid}
    raw["table_rounds"] = compare(system.tables, args.rounds, args.seconds, pids)
    monitor.mark("list vs table size")
    say("logins vs argon2 hash rate")
    raw["login_rounds"] = login_rounds(stack, system.username, args)
    monitor.mark("login")
    raw["memory"]["after_load"] = memory(system.pids)
    say(f"cold starts: {args.starts} rounds of the reference, one instance, the whole stack")
    raw["cold_rounds"] = [
        {kind: asdict(start) for kind, start in one.items()}
        for one in coldstart.start_rounds(
            stack, system.token, system.owner, system.expected, tmp, args.starts
        )
    ]
    monitor.mark("cold starts")
    say(f"scaling: {args.starts} starts from zero instances of each kind, a step in load")
    raw["from_zero"] = scaling.from_zero_rounds(
        stack, system.token, system.expected, tmp, args.starts
    )
    raw["step"] = scaling.step(stack, system.token, tmp)
    monitor.mark("scaling")
    if args.profile:
        say(f"profile: py-spy on faas, c={PROFILE_CONNECTIONS} for {PROFILE_SECONDS} s")
        # The whole-stack starts have started a new faas: its pid is the stack's, not system's.
        written = profile.profile_faas(
            stack.processes["faas"].pid,
            system.proxy["faas"],
            PROFILE_CONNECTIONS,
            PROFILE_SECONDS,
            args.out,
        )
        say(f"wrote {written} and the collapsed stacks beside it")
        monitor.mark("profile")
    raw["cpu_phases"] = monitor.phases
    return raw


def all_figures(raw: dict, hash_processes: int) -> list[figures.Figure]:
    return [
        *figures.proxy_figures(raw["proxy_rounds"]),
        *figures.table_figures(raw["table_rounds"]),
        figures.errors_figure(raw["proxy_rounds"], raw["table_rounds"]),
        *figures.sustained_figures(raw["sustained"], SUSTAINED_CONNECTIONS, KEY_REFRESH_SECONDS),
        figures.lopsided_figure(raw["proxy_rounds"], raw["table_rounds"]),
        *figures.cold_start_figures(raw["cold_rounds"]),
        *figures.scaling_figures(raw["from_zero"], raw["step"], raw["instances_during_proxy"]),
        *figures.login_figures(raw["login_rounds"], hash_processes),
        *costs.memory_figures(raw["memory"]),
        costs.cpu_figure(raw["cpu_phases"], CPUS),
    ]


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: scripts/bench.sh (make bench) installs them")
    if args.rounds < 3:
        sys.exit("--rounds: at least 3, so that a median over rounds means something")
    if args.sustained < 2 * KEY_REFRESH_SECONDS:
        sys.exit(f"--sustained: at least {2 * KEY_REFRESH_SECONDS} s, two key refreshes")
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, ExitStack() as cleanup:
        say("starting the stack on PostgreSQL")
        env = {
            "JWKS_REFRESH_SECONDS": str(KEY_REFRESH_SECONDS),
            # faas scales as `make run` has it, from one instance up to four.
            "FC_MIN_INSTANCES": "1",
            "FC_MAX_INSTANCES": "4",
            # Logins are measured at the default's cost (the test stacks use a cheaper one).
            "PASSWORD_HASH_PROFILE": "rfc9106-low-memory",
        }
        stack = cleanup.enter_context(start_stack(Path(tmp), "postgresql", env))
        raw = measure(stack, Path(tmp), cleanup, args)
        hash_processes = int(stack.env["WEB_CONCURRENCY"])
    raw["run"] = {
        "started_at": started_at,
        "duration_s": round(time.monotonic() - began, 1),
        "cpus": CPUS,
        "settings": {
            name: value
            for name, value in vars(args).items()
            if name not in ("out", "scaling_chart")
        },
    }
    results = all_figures(raw, hash_processes)
    print(report.table(results))
    noise = costs.other_percent(raw["cpu_phases"], CPUS)
    if noise > NOISY_PERCENT:
        print(
            f"\nWARNING: other processes took {noise:.0f} % of the CPUs during this run; "
            "its figures are unreliable: run it again on a quiet machine."
        )
    print(
        f"\nwhole run: {raw['run']['duration_s']:.0f} s; seeding 1,000,000 rows: "
        f"{raw['seed_seconds']:.1f} s"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_json(args.out / "results.json", results, raw)
    chart.write_chart(args.out / "results.png", results, raw)
    chart.write_scaling_chart(args.scaling_chart, raw["step"])
    print(f"wrote {args.out / 'results.json'}, {args.out / 'results.png'}, {args.scaling_chart}")
    print("\nfor the README:\n" + report.markdown_table(results))
    return 0
