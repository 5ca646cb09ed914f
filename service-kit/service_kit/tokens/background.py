"""The background thread that keeps a worker's keys (keys.py) and revoked sessions
(revocations.py) fresh: one per process, since gunicorn forks its workers after the app is made
and a thread does not survive a fork."""

import os
import threading
from collections.abc import Callable


class PerProcessThread:
    """A daemon thread running `target`, started at most once in each process."""

    def __init__(self, target: Callable[[], None], name: str):
        self._target = target
        self._name = name
        self._lock = threading.Lock()
        self._started_in: int | None = None  # the pid whose thread runs

    def start(self) -> None:
        """Start the thread in this process, unless it runs here already."""
        with self._lock:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()
        threading.Thread(target=self._target, name=self._name, daemon=True).start()
