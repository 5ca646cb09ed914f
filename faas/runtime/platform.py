"""The platform: gunicorn's master, starting and releasing instances by Function Compute's rule.

From the function's folder:
    python -m runtime.platform -c runtime/gunicorn.conf.py runtime.wsgi:application

Every tick the platform counts the demand, the requests in flight in its instances plus the
connections waiting in the listening socket's accept queue (which no instance has taken, because
none has room), and keeps ceil(demand / FC_INSTANCE_CONCURRENCY) instances, within
FC_MIN_INSTANCES and FC_MAX_INSTANCES. A new instance takes waiting requests only once its
initializer has succeeded. An instance beyond that number which has served nothing for
FC_IDLE_SECONDS is released: it stops taking connections, finishes what it has, runs pre_stop.

With FC_PREWARM (the default) the platform imports the function once, before it forks any
instance, so an instance costs a fork and the initializer, not Python's imports.
"""

import math
import os
import select
import time

from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.arbiter import Arbiter

from runtime.config import Config
from runtime.loader import EntryError, load_entries
from runtime.logs import get_logger
from runtime.slots import READY, RELEASING, Slot, SlotTable

TICK_SECONDS = 0.02  # how often the rule is applied: a request waits at most this for a start

log = get_logger()


def wanted_instances(demand: int, config: Config) -> int:
    """The FC rule: enough instances for every request at instance concurrency, within bounds."""
    needed = math.ceil(demand / config.instance_concurrency)
    return max(config.min_instances, min(config.max_instances, needed))


def releasable(live: list[Slot], wanted: int, now: float, idle_seconds: float) -> list[Slot]:
    """The instances beyond `wanted` that have been idle long enough, the longest idle first."""
    idle = [slot for slot in live if slot.idle_for(now) >= idle_seconds]
    idle.sort(key=lambda slot: slot.idle_for(now), reverse=True)
    return idle[: max(0, len(live) - wanted)]


class Platform(Arbiter):
    def __init__(self, app) -> None:
        super().__init__(app)
        self.config = Config.from_env(os.environ)  # gunicorn.conf.py has checked it already
        # Releasing instances keep their row until they have exited: room for a full set more.
        self.slots = SlotTable(2 * self.config.max_instances)
        self.claimed: Slot | None = None
        self.start_kind = "cold"
        # Imported only now: gunicorn.conf.py has set PROMETHEUS_MULTIPROC_DIR, which
        # prometheus_client reads once, when first imported.
        from runtime import metrics

        self.metrics = metrics

    def prewarm(self) -> None:
        """Import the function here, in the master, so that every fork starts with it loaded.
        (gunicorn.conf.py's when_ready: the platform is ready once it is done.)"""
        if not self.config.prewarm:
            return
        started = time.monotonic()
        try:
            load_entries(self.config)
        except EntryError as error:
            # Each instance loads the entries again and answers 503 naming the missing one.
            log.error("function not prewarmed", extra={"reason": str(error)})
            return
        self.start_kind = "prewarmed"
        log.info("function prewarmed", extra={"duration_ms": _ms(time.monotonic() - started)})

    def wait_for_signals(self, timeout: float = 1.0) -> list:
        timeout = min(timeout, TICK_SECONDS)
        # At zero instances the tick is spent watching the listening sockets: the first request
        # starts an instance as soon as it comes, not at the next tick.
        if self.slots.empty() and self.watch_listeners(timeout):
            timeout = 0.0
        return super().wait_for_signals(timeout=timeout)

    def watch_listeners(self, timeout: float) -> bool:
        """Waits up to `timeout` for a connection to queue on a listening socket; False when the
        sockets cannot be watched (closed by a stop or a reload)."""
        try:
            select.select(self.LISTENERS, [], [], timeout)
        except (OSError, ValueError):
            return False
        return True

    def manage_workers(self) -> None:
        now = time.monotonic()
        self.slots.forget_exited(self.WORKERS)
        live = self.slots.live()
        demand = self.slots.in_flight() + self.backlog()
        wanted = wanted_instances(demand, self.config)
        for _ in range(wanted - len(live)):
            if not self.spawn_worker():
                break
        for slot in releasable(live, wanted, now, self.config.idle_seconds):
            log.info(
                "instance released",
                extra={"pid": slot.pid, "idle_seconds": round(slot.idle_for(now), 1)},
            )
            slot.state = RELEASING  # the instance sees it within a tick and stops itself
        # A released instance counts until it has exited: its connections are closed by then.
        self.metrics.INSTANCES.set(self.slots.count(READY) + self.slots.count(RELEASING))

    def spawn_worker(self) -> int | None:
        """Starts an instance in a row of its own (gunicorn's own spawns, as on HUP, too); None
        when every row is held by an instance still finishing its release."""
        slot = self.slots.claim()
        if slot is None:
            return None
        self.claimed = slot  # gunicorn.conf.py's pre_fork hands it to the new worker
        slot.pid = super().spawn_worker()
        self.num_workers = len(self.WORKERS)
        self.metrics.INSTANCE_STARTS.labels(kind=self.start_kind).inc()
        return slot.pid

    def backlog(self) -> int:
        """Connections no instance has accepted yet (Linux reads it off the listening socket)."""
        return sum(max(listener.get_backlog(), 0) for listener in self.LISTENERS)


class PlatformApplication(WSGIApplication):
    """gunicorn's command line, run by the Platform instead of gunicorn's own Arbiter."""

    def run(self) -> None:
        Platform(self).run()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def main() -> None:
    PlatformApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="runtime.platform").run()


if __name__ == "__main__":
    main()
