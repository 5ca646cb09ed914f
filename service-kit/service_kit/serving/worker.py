"""The gunicorn worker of all three parts (faas's instances, both microservices): gthread,
changed in six ways.

1. A thread gets a connection only once its whole request is here. gunicorn's gthread hands a
   connection to a thread as soon as it is readable, and the thread reads the head and the body
   with blocking reads: a few dozen clients that trickle them hold every thread, and nothing else
   (not even /healthz) is served. Here the event loop reads both without blocking, as far as
   framing.py says: the head within `head_timeout` and HEAD_LIMIT (else 408, 431), the body
   within `body_timeout` after it (else 408), with `100 Continue` sent by the loop. A body over
   `body_limit` is not read: the app answers 413 and the connection closes.
2. Slow readers: a thread writes with `send_timeout` on the socket, so a client that stops
   reading frees it; a closing connection lingers in the poller, and the loop holds a bounded
   number of connections (connections.py).
3. SIGTERM drains first: `on_drain()` runs at once (readiness answers 503), the worker keeps
   serving for `drain_seconds`, then stops the way gthread does (in-flight requests finish).
4. The app gets a chunked body with a Content-Length: werkzeug silently cuts a chunked body at
   MAX_CONTENT_LENGTH, where a Content-Length over it is a 413. At most `body_limit` + 1 bytes
   are read, so a body over the limit still shows as one.
5. Answers that are the same for every client (`fixed_answers`, by request line: faas's JWKS)
   are sent by the event loop itself, with no thread: they come back even while every thread
   is busy. Such a connection is closed after its answer.
6. The heartbeat to the arbiter (a utime() of a file) goes at most once a second, where gthread
   beats on every turn of its loop, thousands of times a second under load: the arbiter needs
   one within its `timeout` (30 s or more).

Plain HTTP/1.1 only: TLS ends before gunicorn.
"""

import contextlib
import io
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import formatdate

from .connections import HoldingWorker, bare_answer, receive
from .framing import HEAD_LIMIT, expects_continue, has_body, head_end, request_body, request_line

TOO_LARGE = bare_answer("431 Request Header Fields Too Large")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
HEARTBEAT_SECONDS = 1.0


class Worker(HoldingWorker):
    head_timeout = 10.0
    body_timeout = 10.0
    send_timeout = 30.0
    drain_seconds = 0.0
    body_limit = 1024 * 1024

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Request line (b"GET /path HTTP/1.1") -> the whole answer, made at each use (its Date).
        self.fixed_answers: Mapping[bytes, Callable[[str], bytes]] = {}
        self.draining = False
        self.next_heartbeat = 0.0

    def notify(self) -> None:
        now = time.monotonic()
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + HEARTBEAT_SECONDS
            super().notify()

    def on_drain(self) -> None:
        """Runs once, at SIGTERM; the gunicorn settings set what turns readiness to 503."""

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
        conn.received = bytearray(conn.parser.unreader.take_buffered() if conn.parser else b"")
        conn.body = None  # until the head is in
        conn.deadline = time.monotonic() + self.head_timeout
        self.buffered += len(conn.received)
        self.hold(conn, self.read_request)
        self.advance(conn, 0)  # what was read ahead may hold a request already
        if conn.is_held:
            # Read what has come (a kept-alive client's next request made its socket readable)
            # now, not a turn of the loop later.
            self.read_request(conn)
        self.wait_for_more(conn)

    def read_request(self, conn, _sock=None) -> None:
        data = receive(conn, HEAD_LIMIT)
        if data is None:
            return
        if not data:
            self.close_held(conn)
            return
        conn.received += data
        self.buffered += len(data)
        self.advance(conn, len(conn.received) - len(data))
        self.make_room()

    def advance(self, conn, seen: int) -> None:
        """Hands the request to a thread, answers it, or waits, as the bytes received allow."""
        if conn.body is None:
            end = head_end(conn.received, seen)
            if end > HEAD_LIMIT or (end < 0 and len(conn.received) > HEAD_LIMIT):
                self.close_held(conn, TOO_LARGE)
                return
            if end < 0:
                return
            head = bytes(conn.received[:end])
            answer = self.fixed_answers.get(request_line(head))
            if answer is not None and not has_body(head):
                # A few hundred bytes: the socket's buffer takes them whole, unless the client has
                # left earlier answers unread, and then it gets a cut answer: no wait on it here.
                self.close_held(conn, answer(formatdate(usegmt=True)))
                return
            conn.body = request_body(head, self.body_limit)
            conn.deadline = time.monotonic() + self.body_timeout
            if not conn.body.received(conn.received) and expects_continue(head):
                with contextlib.suppress(OSError):  # as above: 25 bytes, never waited on
                    conn.sock.send(CONTINUE)
        if conn.body.too_large:
            self.close_held(conn, TOO_LARGE)
        elif conn.body.received(conn.received):
            self.release(conn)
            self.dispatch(conn)

    def dispatch(self, conn) -> None:
        """Hands a whole request to the thread pool (faas's instances first decide if they can)."""
        super().enqueue_req(conn)

    def handle(self, conn):
        # In the thread: what the event loop read goes back in front of gunicorn's parser.
        conn.init()
        conn.parser.unreader.unread(conn.received)
        conn.received = bytearray()  # the parser holds its own copy
        return super().handle(conn)

    def handle_request(self, req, conn):
        req._expected_100_continue = False  # the loop has sent 100 Continue, or none is due
        if not conn.body.whole:
            req.must_close = True  # the rest of the body is never read
        # sendall's timeout bounds each whole call (since Python 3.5), sendfile's each wait.
        conn.sock.settimeout(self.send_timeout)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:
            self.log.debug("Closing a connection whose client stopped reading its answer")
            return False

    def handle_error(self, req, client, addr, exc) -> None:
        client.settimeout(self.send_timeout)  # gunicorn's own refusals (400 ...) are answers too
        super().handle_error(req, client, addr, exc)

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
