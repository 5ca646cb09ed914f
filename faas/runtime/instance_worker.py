"""One function instance as the platform runs it: the kit's gunicorn worker
(service_kit/serving/worker.py), told by its row in the platform's table (slots.py) when to take
connections, and reporting its load there.

- It takes new connections only while it has room (fewer clients than FC_INSTANCE_CONCURRENCY),
  so the others wait in the accept queue, where the platform sees them and starts an instance.
  Once every instance the platform may run is up and none has room, it takes them anyway: their
  requests wait for a thread here, up to its share of FC_MAX_QUEUED_REQUESTS, and beyond that
  are answered 429. (While another instance has room, a request waiting here would wait for
  nothing.)
- An instance whose initializer failed takes connections only while no instance is ready: it
  answers them 503 (runtime/wsgi.py) instead of leaving them to wait for nothing.
- Released by the platform (idle), it stops taking connections and stops as gthread does.
"""

import contextlib
import json
import math
import socket
import struct
import time

from gunicorn.workers.gthread import ThreadWorker

from runtime import metrics
from runtime.slots import FAILED, READY, RELEASING, Slot, SlotTable
from service_kit.serving.worker import Worker

THROTTLED_BODY = json.dumps(
    {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "every function instance is busy and its queue is full",
    }
).encode()
THROTTLED = (
    b"HTTP/1.1 429 Too Many Requests\r\n"
    b"Content-Type: application/problem+json\r\n"
    b"Retry-After: 1\r\n"
    b"Cache-Control: no-store\r\n"
    b"Connection: close\r\n"
    + f"Content-Length: {len(THROTTLED_BODY)}\r\n\r\n".encode()
    + THROTTLED_BODY
)
TCP_INFO_FORMAT = "8B24I"  # struct tcp_info of linux/tcp.h, as far as needed
LAST_DATA_RECV = 8 + 11  # its tcpi_last_data_recv: milliseconds since data last came in
CHECK_SECONDS = 0.1  # how soon the instance sees a release or a change of the platform


class InstanceWorker(Worker):
    slot: Slot  # set by the platform before the fork (gunicorn.conf.py's pre_fork)
    slots: SlotTable
    concurrency = 1
    queue_share = 0  # requests that may wait for a thread once the platform is at its maximum
    max_instances = 1
    ready = None  # the instance's threading.Event: its initializer has succeeded

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self.alive:
            self.follow_platform()
        super().wait_for_and_dispatch_events(min(timeout, CHECK_SECONDS))

    def follow_platform(self) -> None:
        if self.slot.state == RELEASING:
            self.log.info("Instance released by the platform (pid: %s)", self.pid)
            self.alive = False  # gthread's stop: takes nothing new, finishes what it has
            return
        state = READY if self.ready.is_set() else FAILED
        if self.slot.state != state:
            self.slot.state = state
            self.slot.last_active = time.monotonic()
        self.set_accept_enabled(True)  # re-checked on every turn of the loop

    def set_accept_enabled(self, enabled: bool) -> None:
        ThreadWorker.set_accept_enabled(self, enabled and self.takes_connections())

    def takes_connections(self) -> bool:
        if self.slot.state == FAILED:
            return self.slots.count(READY) == 0
        # A client is one connection: with its request in flight, coming in, or kept alive for
        # the next one (which the client sends here, not to the platform).
        self.slot.clients = self.slot.in_flight + len(self.held) + len(self.keepalived_conns)
        if self.slot.clients < self.concurrency:
            return True
        return self.at_maximum() and not self.room_elsewhere()

    def at_maximum(self) -> bool:
        """Every instance the platform may run is up: no better place will come for a request
        than an instance's queue (or, past its share, a 429)."""
        return self.slots.count(READY) >= self.max_instances

    def room_elsewhere(self) -> bool:
        """A ready instance has room (as of its last turn): the request is better off there."""
        return any(
            slot.state == READY and slot.clients < self.concurrency for slot in self.slots.rows
        )

    def enqueue_req(self, conn) -> None:
        # A new connection may have waited in the accept queue: for as long as its data has.
        conn.waited = 0.0 if conn.parser else accept_queue_seconds(conn.sock)
        super().enqueue_req(conn)

    def dispatch(self, conn) -> None:
        if self.slot.in_flight >= self.concurrency + self.queue_share and self.at_maximum():
            metrics.THROTTLED.inc()
            with contextlib.suppress(OSError):  # a few hundred bytes, never waited on
                conn.sock.send(THROTTLED)
            self.nr_conns -= 1
            conn.close()
            return
        self.slot.in_flight += 1
        self.slot.last_active = conn.dispatched = time.monotonic()
        metrics.QUEUED.inc()
        super().dispatch(conn)

    def handle(self, conn):
        metrics.QUEUED.dec()
        metrics.INSTANCE_WAIT.observe(conn.waited + time.monotonic() - conn.dispatched)
        return super().handle(conn)

    def finish_request(self, conn, fs) -> None:
        self.slot.in_flight -= 1
        self.slot.last_active = time.monotonic()
        super().finish_request(conn, fs)


def configure(worker: InstanceWorker, config, ready) -> None:
    """Gives an instance the FC settings it follows and what says it is initialized."""
    worker.concurrency = config.instance_concurrency
    worker.max_instances = config.max_instances
    worker.queue_share = math.ceil(config.max_queued_requests / config.max_instances)
    worker.ready = ready


def accept_queue_seconds(sock: socket.socket) -> float:
    try:
        info = sock.getsockopt(
            socket.IPPROTO_TCP, socket.TCP_INFO, struct.calcsize(TCP_INFO_FORMAT)
        )
        return struct.unpack(TCP_INFO_FORMAT, info)[LAST_DATA_RECV] / 1000
    except (OSError, struct.error):
        return 0.0
