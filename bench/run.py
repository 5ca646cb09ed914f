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

from bench import chart, coldstart, figures, report
from bench.cpu import CpuMonitor
from bench.data import bench_user, database_name, seed_todos, todos_database
from bench.login import HashPool, login_rate
from bench.nginx import start_nginx
from bench.procs import CPUS, descendants, rss_mb
from bench.stats import round_order
from bench.wrk import Target, compare
from support.processes import free_port
from support.stack import Stack, start_stack

HERE = Path(__file__).resolve().parent
SMALL_TABLE, LARGE_TABLE = 1_000, 1_000_000


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (at least 3)")
    parser.add_argument("--seconds", type=float, default=3, help="length of one wrk run")
    parser.add_argument("--starts", type=int, default=5, help="cold starts of each kind")
    parser.add_argument("--logins", type=int, default=32, help="logins (and hashes) per round")
    parser.add_argument("--clients", type=int, default=4, help="concurrent login clients")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.json/.png")
    return parser.parse_args(argv)


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
    try:
        rounds = []
        for index in range(args.rounds):
            one = {}
            for kind in round_order(["logins_per_s", "hashes_per_s"], index):
                one[kind] = (
                    login_rate(stack.faas_url, username, args.logins, args.clients)
                    if kind == "logins_per_s"
                    else hashes.rate(args.logins)
                )
            rounds.append(one)
        return rounds
    finally:
        hashes.close()


def measure(stack: Stack, tmp: Path, cleanup: ExitStack, args: argparse.Namespace) -> dict:
    """Seed, then every measurement of the issue, in one run; the raw results."""
    username, owner, token = bench_user(stack.faas_url)
    expected = seed_todos(stack.env["TODOS_DATABASE_URL"], owner, SMALL_TABLE)
    large_url = cleanup.enter_context(todos_database())
    seeding = time.monotonic()
    seed_todos(large_url, owner, LARGE_TABLE)
    seed_seconds = time.monotonic() - seeding
    large_port = free_port()
    large = stack.launch(
        "todos", large_port, tmp / "todos-1M.log", env={"TODOS_DATABASE_URL": large_url}
    )
    cleanup.callback(large.stop)
    nginx, nginx_url = start_nginx(tmp / "nginx", f"127.0.0.1:{stack.ports['todos']}")
    cleanup.callback(nginx.stop)
    large.wait_http(f"http://127.0.0.1:{large_port}/readyz")

    bearer = {"Authorization": f"Bearer {token}"}
    proxy = {
        "faas": Target(f"{stack.faas_url}/api/todos", bearer),
        "direct": Target(f"{stack.todo_service_url}/todos", bearer),
        "nginx": Target(f"{nginx_url}/api/todos", bearer),
    }
    tables = {"1k": proxy["direct"], "1M": Target(f"http://127.0.0.1:{large_port}/todos", bearer)}
    for target in [*proxy.values(), tables["1M"]]:
        coldstart.check_list(target.url, token, expected)

    databases = tuple(
        database_name(url)
        for url in (stack.env["USERS_DATABASE_URL"], stack.env["TODOS_DATABASE_URL"], large_url)
    )
    monitor = CpuMonitor(databases).start()
    cleanup.callback(monitor.stop)
    services = {"faas": "faas", "user-service": "users", "todo-service": "todos"}
    pids = {name: stack.processes[key].pid for name, key in services.items()} | {"nginx": nginx.pid}
    raw = {"memory": {"idle": memory(pids)}}
    raw["proxy_rounds"] = compare(proxy, args.rounds, args.seconds)
    monitor.mark("proxy hop")
    raw["table_rounds"] = compare(tables, args.rounds, args.seconds)
    monitor.mark("list vs table size")
    raw["login_rounds"] = login_rounds(stack, username, args)
    monitor.mark("login")
    raw["memory"]["after_load"] = memory(pids)
    raw["cold_one"] = [
        asdict(coldstart.one_instance(stack, token, expected, tmp)) for _ in range(args.starts)
    ]
    monitor.mark("cold start, one instance")
    raw["cold_stack"] = [
        asdict(coldstart.whole_stack(stack, token, expected)) for _ in range(args.starts)
    ]
    monitor.mark("cold start, whole stack")
    raw["cpu_phases"] = monitor.phases
    raw["seed_seconds"] = round(seed_seconds, 2)
    return raw


def all_figures(raw: dict, hash_processes: int) -> list[figures.Figure]:
    return [
        *figures.proxy_figures(raw["proxy_rounds"]),
        *figures.table_figures(raw["table_rounds"]),
        *figures.cold_start_figures(raw["cold_one"], raw["cold_stack"]),
        *figures.login_figures(raw["login_rounds"], hash_processes),
        *figures.memory_figures(raw["memory"]),
        figures.cpu_figure(raw["cpu_phases"], CPUS),
    ]


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing or args.rounds < 3:
        sys.exit(f"needs wrk and nginx (scripts/bench.sh installs them) and 3+ rounds: {missing}")
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, ExitStack() as cleanup:
        stack = cleanup.enter_context(start_stack(Path(tmp), "postgresql"))
        raw = measure(stack, Path(tmp), cleanup, args)
        hash_processes = int(stack.env["WEB_CONCURRENCY"])
    raw["run"] = {
        "started_at": started_at,
        "duration_s": round(time.monotonic() - began, 1),
        "cpus": CPUS,
        "settings": {name: value for name, value in vars(args).items() if name != "out"},
    }
    results = all_figures(raw, hash_processes)
    print(report.table(results))
    print(
        f"\nwhole run: {raw['run']['seconds']:.0f} s; seeding 1,000,000 rows: "
        f"{raw['seed_seconds']:.1f} s"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_json(args.out / "results.json", results, raw)
    chart.write_chart(args.out / "results.png", results, raw)
    print(f"wrote {args.out / 'results.json'} and {args.out / 'results.png'}")
    return 0
