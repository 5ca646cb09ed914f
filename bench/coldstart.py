"""Cold starts: from launching processes to the first correct list answer, and every answer
before it. A 503 while starting is right ("not ready"); a 200 with any other list is the bug
the initializer exists to prevent, and is counted.

Each round starts the reference (reference_app.py: Flask, SQLAlchemy and psycopg2 under
gunicorn, to its first database-backed answer), one faas instance and the whole stack, in
turns; their times are compared within the round."""

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.procs import tree_cpu_seconds
from bench.stats import round_order
from support.processes import ServiceProcess, free_port
from support.stack import ROOT, VENV_BIN, Stack

# Far more than any start takes; a start that hangs fails the run instead of stalling it.
START_TIMEOUT_SECONDS = 60


@dataclass
class Start:
    """One cold start: seconds to the first correct answer, and what came before it."""

    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)  # answers before it, by status
    wrong_lists: int = 0  # 200s whose list was not the stored one: empty or partial
    cpu_seconds: float = 0.0  # what the started processes spent until then


def titles(answer: requests.Response) -> list[str]:
    return [todo["title"] for todo in answer.json()]


def check_list(url: str, token: str, expected: list[str]) -> None:
    """GET url answers exactly the expected page: a load on anything else would measure nothing."""
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if answer.status_code != 200 or titles(answer) != expected:
        raise RuntimeError(f"GET {url}: {answer.status_code} {answer.text[:300]}")


def first_correct_list(url: str, token: str, expected: list[str], started: float) -> Start:
    """Poll GET url until it answers the expected titles; seconds since `started`."""
    start = Start()
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() - started < START_TIMEOUT_SECONDS:
        try:
            answer = requests.get(url, headers=headers, timeout=10)
        except requests.ConnectionError:
            time.sleep(0.005)  # not listening yet
            continue
        if answer.status_code == 200:
            if titles(answer) == expected:
                start.seconds = time.monotonic() - started
                return start
            start.wrong_lists += 1
        start.statuses[answer.status_code] += 1
        time.sleep(0.005)
    raise TimeoutError(f"{url}: no correct list within {START_TIMEOUT_SECONDS} s: {start}")


def one_instance(stack: Stack, token: str, expected: list[str], log_dir: Path) -> Start:
    """A new faas with one instance, launched while the services (and faas) run."""
    port = free_port()
    started = time.monotonic()
    process = stack.launch(
        "faas",
        port,
        log_dir / f"cold-faas-{port}.log",
        env={"FC_MIN_INSTANCES": "1", "FC_MAX_INSTANCES": "1", "METRICS_PORT": str(free_port())},
    )
    try:
        start = first_correct_list(f"http://127.0.0.1:{port}/api/todos", token, expected, started)
        start.cpu_seconds = tree_cpu_seconds(process.pid)
        return start
    finally:
        process.stop()


def whole_stack(stack: Stack, token: str, expected: list[str]) -> Start:
    """All three processes stopped, then started at once, with their data in place."""
    stack.stop()
    started = time.monotonic()
    stack.start()
    start = first_correct_list(f"{stack.faas_url}/api/todos", token, expected, started)
    start.cpu_seconds = sum(tree_cpu_seconds(process.pid) for process in stack.processes.values())
    stack.wait_ready()  # every process fully up before the next stop
    return start


def reference(database_url: str, owner: str, expected: list[str], log_dir: Path) -> Start:
    """The reference app launched, to its first answer with the owner's page from the database."""
    port = free_port()
    started = time.monotonic()
    command = [str(VENV_BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    process = ServiceProcess(
        [*command, "bench.reference_app:app"],
        cwd=ROOT,
        env={"DATABASE_URL": database_url, "OWNER_ID": owner},
        log_path=log_dir / f"cold-reference-{port}.log",
    ).start()
    try:
        start = first_correct_list(f"http://127.0.0.1:{port}/todos", "", expected, started)
        start.cpu_seconds = tree_cpu_seconds(process.pid)
        return start
    finally:
        process.stop()


def start_rounds(
    stack: Stack, token: str, owner: str, expected: list[str], log_dir: Path, rounds: int
) -> list[dict[str, Start]]:
    """`rounds` of the three starts, taking turns: {"reference", "one", "stack"} per round."""
    starts = {
        "reference": lambda: reference(stack.env["TODOS_DATABASE_URL"], owner, expected, log_dir),
        "one": lambda: one_instance(stack, token, expected, log_dir),
        "stack": lambda: whole_stack(stack, token, expected),
    }
    return [
        {kind: starts[kind]() for kind in round_order(list(starts), index)}
        for index in range(rounds)
    ]
