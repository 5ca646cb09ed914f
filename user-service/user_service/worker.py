"""The gunicorn worker: gthread, changed in four ways. Mirrored in every service (faas/runtime,
user_service, todo_service): tests/test_shape.py keeps the copies identical.

1. A thread gets a connection only once its request head is complete. gunicorn's gthread hands
   a connection to a thread as soon as it is readable, and the thread then reads the head with
   blocking reads: a few dozen clients that trickle their headers hold every thread, and nothing
   else (not even /healthz) is served. Here the event loop reads heads without blocking, and
   closes a connection whose head is not complete within `head_timeout` (408) or is larger than
   HEAD_LIMIT (431). Bodies are still read by the thread, as in gthread.
2. SIGTERM drains first: `on_drain()` runs at once (readiness answers 503), the worker keeps
   serving for `drain_seconds`, then stops the way gthread does (in-flight requests finish).
3. The app gets a chunked body with a Content-Length: werkzeug silently cuts a chunked body at
   MAX_CONTENT_LENGTH, where a Content-Length over it is a 413. At most `body_limit` + 1 bytes
   are read, so a body over the limit still shows as one.
4. Answers that are the same for every client (`fixed_answers`, by request line: faas's JWKS)
   are sent by the event loop itself, with no thread: they come back even while every thread
   is busy. Such a connection is closed after its answer.

Plain HTTP/1.1 only: TLS ends before gunicorn.
"""

import contextlib
import io
import selectors
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from email.utils import formatdate
from functools import partial

from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, ThreadWorker

HEAD_LIMIT = 64 * 1024


def bare_answer(status: str) -> bytes:
    """A whole response sent by the event loop itself, before any request could be parsed."""
    return f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode()


TIMED_OUT = bare_answer("408 Request Timeout")
TOO_LARGE = bare_answer("431 Request Header Fields Too Large")


def request_line(head: bytearray) -> bytes:
    return bytes(head[: head.find(b"\n")]).rstrip(b"\r")


def has_body(head: bytearray) -> bool:
    lowered = head.lower()
    return b"\ncontent-length:" in lowered or b"\ntransfer-encoding:" in lowered


def head_complete(head: bytearray, seen: int) -> bool:
    """Whether the head ends within `head` (bytes before `seen` were checked already). A bare
    LF ends it too: gunicorn's parser then refuses the request rather than wait for more."""
    start = max(seen - 3, 0)
    return head.find(b"\r\n\r\n", start) >= 0 or head.find(b"\n\n", start) >= 0


class Worker(ThreadWorker):
    head_timeout = 10.0
    drain_seconds = 0.0
    body_limit = 1024 * 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Request line (b"GET /path HTTP/1.1") -> the whole answer, made at each use (its Date).
        self.fixed_answers: Mapping[bytes, Callable[[str], bytes]] = {}
        self.heads = deque()  # connections whose head is still coming, oldest first
        self.draining = False

    def on_drain(self) -> None:
        """Runs once, at SIGTERM; gunicorn.conf.py sets what turns readiness to 503."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.inner_wsgi = self.wsgi
        self.wsgi = self.with_known_length

    def with_known_length(self, environ, start_response):
        # werkzeug ignores a Content-Length next to chunked: the body is no longer chunked here.
        if "CONTENT_LENGTH" not in environ and environ.pop("HTTP_TRANSFER_ENCODING", None):
            body = environ["wsgi.input"].read(self.body_limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.inner_wsgi(environ, start_response)

    def enqueue_req(self, conn) -> None:
        # gthread's only way into the thread pool (new, kept-alive and pipelined connections).
        conn.head = bytearray(conn.parser.unreader.take_buffered() if conn.parser else b"")
        if head_complete(conn.head, 0):
            self.dispatch(conn)
            return
        conn.head_deadline = time.monotonic() + self.head_timeout
        conn.sock.setblocking(False)
        self.heads.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.read_head, conn))
        self.read_head(conn)  # a kept-alive connection is readable already

    def read_head(self, conn, _sock=None) -> None:
        try:
            data = conn.sock.recv(HEAD_LIMIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        seen = len(conn.head)
        conn.head += data
        too_large = len(conn.head) > HEAD_LIMIT
        if data and not too_large and not head_complete(conn.head, seen):
            return
        self.heads.remove(conn)
        self.poller.unregister(conn.sock)
        if data and not too_large:
            self.dispatch(conn)
        else:
            self.close_head(conn, TOO_LARGE if too_large else b"")

    def dispatch(self, conn) -> None:
        """A complete head: a fixed answer from here, or the request to a thread."""
        answer = self.fixed_answers.get(request_line(conn.head))
        if answer is None or has_body(conn.head):
            super().enqueue_req(conn)
            return
        conn.sock.setblocking(False)
        # A few hundred bytes: the socket's buffer takes them whole, unless the client has left
        # earlier answers unread, and then it gets a cut answer: the loop never waits on it.
        self.close_head(conn, answer(formatdate(usegmt=True)))

    def handle(self, conn):
        # In the thread: the head the event loop read goes back in front of gunicorn's parser.
        conn.init()
        conn.parser.unreader.unread(bytes(conn.head))
        return super().handle(conn)

    def murder_pending(self) -> None:
        # Called by gthread's loop about once a second, and while it stops.
        super().murder_pending()
        now = time.monotonic()
        if not self.alive:
            # A stopping worker waits for unfinished heads only as long as gthread lingers.
            for conn in self.heads:
                conn.head_deadline = min(conn.head_deadline, now + STOP_KEEPALIVE_LINGER)
        while self.heads and self.heads[0].head_deadline <= now:
            conn = self.heads.popleft()
            self.poller.unregister(conn.sock)
            self.close_head(conn, TIMED_OUT if conn.head else b"")

    def close_head(self, conn, answer: bytes) -> None:
        # A client that is gone or not reading gets no answer: there is nothing more to tell it.
        with contextlib.suppress(OSError):
            if answer:
                conn.sock.send(answer)
        self.nr_conns -= 1
        conn.close()

    def handle_exit(self, sig, frame) -> None:
        # SIGTERM, the arbiter's graceful stop: drain first, then gthread's own stop.
        if self.draining:
            return
        self.draining = True
        self.log.info("Worker draining for %gs (pid: %s)", self.drain_seconds, self.pid)
        self.on_drain()
        stop = threading.Timer(self.drain_seconds, super().handle_exit, (sig, frame))
        stop.daemon = True
        stop.start()
