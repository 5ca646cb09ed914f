"""gthread whose event loop holds the connections that need no thread: requests still coming in,
and closes that linger.

Each held connection has a deadline (`conn.deadline`), and the loop holds at most IDLE_LIMIT of
them, kept-alive idle ones included, and BUFFER_LIMIT bytes: beyond, the oldest close. A new
client is then always taken, where gthread would stop accepting at worker_connections (1000),
which slow or idle clients fill.
"""

import contextlib
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from functools import partial

from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, ThreadWorker

# Per worker. Real clients send a request in one go, so few wait at once; 256 stays well below
# worker_connections, and BUFFER_LIMIT (16 bodies of faas's 1 MiB) bounds their memory.
IDLE_LIMIT = 256
BUFFER_LIMIT = 16 * 1024 * 1024
LINGER_SECONDS, LINGER_LIMIT = 2.0, 64 * 1024  # as gunicorn's close_graceful


def bare_answer(status: str) -> bytes:
    """A whole response sent by the event loop itself, before any request could be parsed."""
    return f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode()


TIMED_OUT = bare_answer("408 Request Timeout")


def receive(conn, limit: int) -> bytes | None:
    """Up to `limit` bytes the client has sent; b"" once it has closed (or its socket failed),
    None while nothing has come (the socket is non-blocking)."""
    try:
        return conn.sock.recv(limit)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


class HoldingWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.held = deque()  # oldest first
        self.buffered = 0  # the bytes in `conn.received` of the connections held
        self.next_expiry = 0.0

    def hold(self, conn, on_readable: Callable) -> None:
        """Keeps `conn` in the event loop, which calls `on_readable(conn)` whenever it has more
        bytes, once wait_for_more() has put it in the poller, until release()."""
        conn.sock.setblocking(False)
        conn.on_readable = partial(on_readable, conn)
        conn.is_held, conn.is_polled = True, False
        self.held.append(conn)
        self.make_room()

    def wait_for_more(self, conn) -> None:
        if conn.is_held and not conn.is_polled:
            self.poller.register(conn.sock, selectors.EVENT_READ, conn.on_readable)
            conn.is_polled = True

    def release(self, conn) -> None:
        self.held.remove(conn)
        conn.is_held = False
        if conn.is_polled:
            self.poller.unregister(conn.sock)
        self.buffered -= len(conn.received)

    def close_held(self, conn, answer: bytes = b"") -> None:
        # A client that is gone or not reading gets no answer: there is nothing more to tell it.
        self.release(conn)
        with contextlib.suppress(OSError):
            if answer:
                conn.sock.send(answer)
        self.nr_conns -= 1
        conn.close()

    def make_room(self) -> None:
        """Closes the oldest connections beyond IDLE_LIMIT or BUFFER_LIMIT: kept-alive idle ones
        first (nothing is in flight on them), then held ones, never the newest."""
        while self.keepalived_conns and len(self.keepalived_conns) + len(self.held) > IDLE_LIMIT:
            idle = self.keepalived_conns.popleft()
            self.poller.unregister(idle.sock)
            self.nr_conns -= 1
            idle.close()
        while len(self.held) > 1 and (len(self.held) > IDLE_LIMIT or self.buffered > BUFFER_LIMIT):
            self.close_held(self.held[0])

    def murder_pending(self) -> None:
        # Called by gthread's loop after each wait for events (a second at most), and while it
        # stops. The deadlines differ (head, body, linger), so all are looked at, 4 times a second.
        super().murder_pending()
        now = time.monotonic()
        if not self.alive:
            # A stopping worker waits for unfinished requests only as long as gthread lingers.
            for conn in self.held:
                conn.deadline = min(conn.deadline, now + STOP_KEEPALIVE_LINGER)
        elif now < self.next_expiry:
            return
        self.next_expiry = now + 0.25
        for conn in [conn for conn in self.held if conn.deadline <= now]:
            self.close_held(conn, TIMED_OUT if conn.received else b"")

    def finish_request(self, conn, fs) -> None:
        # gthread lingers on a connection it closes with a blocking read, in the event loop:
        # clients that neither read nor close would stall it for 2 s each.
        if fs.cancelled() or fs.exception() is not None or fs.result():
            super().finish_request(conn, fs)
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.nr_conns -= 1
            conn.close()
            return
        # RFC 9112 9.6: read until the client closes too, so that a request it is still sending
        # does not turn the close into a reset that loses the answer.
        conn.received = bytearray()
        conn.deadline = time.monotonic() + LINGER_SECONDS
        conn.drained = 0
        self.hold(conn, self.drain)
        self.wait_for_more(conn)

    def drain(self, conn, _sock=None) -> None:
        data = receive(conn, LINGER_LIMIT)
        if data is None:
            return
        conn.drained += len(data)
        if not data or conn.drained >= LINGER_LIMIT:
            self.close_held(conn)
