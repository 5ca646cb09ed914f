"""One function instance (one gunicorn worker): its entries, its initializer, its pre_stop.

The instance serves only once its initializer has succeeded. A failed or timed-out initializer
is retried in the background with a bounded backoff, one run at a time, so the instance heals
without a restart by hand. A run that stays stuck long after its timeout cannot be stopped
(Python threads cannot be killed), so the instance then asks gunicorn for a fresh worker.
"""

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from runtime import metrics
from runtime.config import Config
from runtime.context import Context, instance_context, new_request_id
from runtime.loader import Entries, EntryError, load_entries
from runtime.logs import get_logger
from runtime.prerender import Answer, prerender

RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 5.0
# How soon an instance told to stop gives up waiting for its initializer.
STOP_CHECK_SECONDS = 0.1

log = get_logger()


class Instance:
    def __init__(self) -> None:
        self.context: Context | None = None
        self.entries: Entries | None = None
        self.ready = threading.Event()
        self.draining = threading.Event()  # set at SIGTERM: the runtime's /readyz answers 503
        # Answers the worker's event loop sends itself, rendered after each initializer run.
        self.fixed_answers: dict[bytes, Answer] = {}
        self._config: Config | None = None
        self._stopping = threading.Event()
        self._running: threading.Thread | None = None  # the latest initializer run, if unfinished

    def start(self, config: Config) -> None:
        """Load the entries and run the initializer once; the worker accepts requests after this.

        On failure the retries go on in the background while the instance answers 503.
        """
        self._config = config
        self.context = instance_context(config)
        try:
            self.entries = load_entries(config)
        except EntryError as error:
            # Not retried: a missing entry needs new code, which means a new deployment.
            log.error(
                "entry not loaded",
                extra={"instance_id": self.context.instance_id, "reason": str(error)},
            )
            return
        if not self._initialize() and not self.draining.is_set():
            threading.Thread(target=self._retry, name="fc-init-retry", daemon=True).start()

    def stop(self) -> None:
        """Run pre_stop once, bounded; errors are logged, not raised (the worker is exiting)."""
        if self._stopping.is_set() or self.context is None:
            return
        self._stopping.set()
        if not self.ready.is_set() or self.entries is None or self.entries.pre_stop is None:
            return
        context = self.context.for_request(new_request_id())
        fields = {"instance_id": context.instance_id, "request_id": context.request_id}
        log.info("pre_stop start", extra=fields)
        run = Run(self.entries.pre_stop, context, self._config.pre_stop_timeout, "fc-pre-stop")
        fields["duration_ms"] = run.duration_ms
        if run.failure:
            log.error(
                "pre_stop failed", extra={**fields, "reason": run.failure}, exc_info=run.error
            )
        else:
            log.info("pre_stop end", extra=fields)

    def _initialize(self) -> bool:
        """One initializer run, bounded by the initialization timeout; True when it succeeded."""
        context = self.context.for_request(new_request_id())
        fields = {"instance_id": context.instance_id, "request_id": context.request_id}
        log.info("init start", extra=fields)
        if self.entries.initializer is not None:
            timeout = self._config.initialization_timeout
            # Told to stop (SIGTERM), the instance stops waiting: its initializer may wait for
            # services that are stopping too, longer than gunicorn waits before it kills.
            run = Run(self.entries.initializer, context, timeout, "fc-initializer", self.draining)
            metrics.INITIALIZER_DURATION.observe(run.seconds)
            fields["duration_ms"] = run.duration_ms
            self._running = run.thread if run.timed_out else None
            if run.interrupted:
                log.info("init abandoned, the instance is stopping", extra=fields)
                return False
            if run.failure:
                metrics.INITIALIZER_FAILURES.inc()
                log.error(
                    "init failed", extra={**fields, "reason": run.failure}, exc_info=run.error
                )
                return False
        else:
            fields["duration_ms"] = 0.0
        log.info("init end", extra=fields)
        self._prerender()
        metrics.COLD_STARTS.inc()
        self.ready.set()
        return True

    def _prerender(self) -> None:
        config = self._config
        context = self.context.for_request(new_request_id())
        try:
            answers = prerender(
                self.entries.handler, context, config.prerendered_paths, config.host, config.port
            )
        except Exception:
            # The handler still answers those paths itself; only the shortcut is lost.
            log.exception("prerender failed", extra={"instance_id": context.instance_id})
            answers = {}
        self.fixed_answers.clear()
        self.fixed_answers.update(answers)

    def _retry(self) -> None:
        delay = RETRY_FIRST_DELAY
        while not self._stopping.is_set():
            stuck = self._running
            if stuck is not None:
                # Never two initializer runs at once: wait for the timed-out one to finish.
                stuck.join(self._config.initialization_timeout)
                if stuck.is_alive():
                    self._abandon()
                    return
            if self._stopping.wait(delay) or self._initialize():
                return
            delay = min(delay * 2, RETRY_MAX_DELAY)

    def _abandon(self) -> None:
        timeout = self._config.initialization_timeout
        reason = f"initializer still running {timeout:g} s after it timed out"
        log.error(
            "init abandoned, replacing the instance",
            extra={"instance_id": self.context.instance_id, "reason": reason},
        )
        # SIGTERM is gunicorn's graceful stop: the worker exits and the arbiter starts a new one.
        os.kill(os.getpid(), signal.SIGTERM)


class Run:
    """One run of entry(context) in its own thread, waited for at most `timeout` seconds, and
    no longer once `interrupt` is set."""

    def __init__(
        self,
        entry: Callable[[Context], Any],
        context: Context,
        timeout: float,
        name: str,
        interrupt: threading.Event | None = None,
    ) -> None:
        errors: list[BaseException] = []

        def run() -> None:
            try:
                entry(context)
            except BaseException as error:  # a SystemExit in the function is its failure too
                errors.append(error)

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        started = time.monotonic()
        self.thread.start()
        deadline = started + timeout
        self.interrupted = False
        while self.thread.is_alive() and (remaining := deadline - time.monotonic()) > 0:
            if interrupt is not None and interrupt.is_set():
                self.interrupted = True
                break
            self.thread.join(min(remaining, STOP_CHECK_SECONDS) if interrupt else remaining)
        self.seconds = time.monotonic() - started
        self.duration_ms = round(self.seconds * 1000, 1)
        self.timed_out = self.thread.is_alive()
        # A timed-out run has failed already: whatever it raises later is nobody's answer.
        self.error = None if self.timed_out or not errors else errors[0]
        if self.interrupted:
            self.failure: str | None = "the instance is stopping"
        elif self.timed_out:
            self.failure = f"timed out after {timeout:g} s"
        elif self.error is not None:
            self.failure = f"{type(self.error).__name__}: {self.error}"
        else:
            self.failure = None
