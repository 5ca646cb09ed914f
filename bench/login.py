"""Logins per second through POST /api/token, and the password-hash rate of this machine.

A login is one argon2id verification at user-service plus two HTTP hops and a token; the hash
rate is the same verification (argon2-cffi's PasswordHasher at its defaults, as user-service
uses it) in as many processes as user-service has workers. Their ratio says how much of a
login is the hash, the part that is meant to be slow.
"""

import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import requests
from argon2 import PasswordHasher

from support.api import PASSWORD

_hasher: PasswordHasher | None = None
_hash = ""


def _prepare() -> None:
    global _hasher, _hash
    _hasher = PasswordHasher()
    _hash = _hasher.hash(PASSWORD)


def _verify(count: int) -> None:
    for _ in range(count):
        _hasher.verify(_hash, PASSWORD)


class HashPool:
    """Worker processes that verify argon2id hashes, started and warmed before any timing."""

    def __init__(self, processes: int):
        self.processes = processes
        self.pool = ProcessPoolExecutor(processes, initializer=_prepare)
        list(self.pool.map(_verify, [1] * processes))

    def rate(self, count: int) -> float:
        """Verifications per second over `count` of them, spread over the processes."""
        started = time.perf_counter()
        list(self.pool.map(_verify, [count // self.processes] * self.processes))
        return count // self.processes * self.processes / (time.perf_counter() - started)

    def close(self) -> None:
        self.pool.shutdown()


def login_rate(faas_url: str, username: str, count: int, clients: int) -> float:
    """Logins per second: `count` POST /api/token calls from `clients` concurrent clients."""
    per_client = count // clients

    def log_in(_client: int) -> None:
        with requests.Session() as session:
            for _ in range(per_client):
                answer = session.post(
                    f"{faas_url}/api/token",
                    json={"username": username, "password": PASSWORD},
                    timeout=30,
                )
                if answer.status_code != 200:
                    raise RuntimeError(f"login: {answer.status_code} {answer.text}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as threads:
        list(threads.map(log_in, range(clients)))
    return per_client * clients / (time.perf_counter() - started)
