"""gateway/upstream.py: the HTTP/1.1 client to the services. Kept-alive connections, each
reused a bounded number of times, so that replicas behind one name (compose --scale) all get a
share of the load; every framing of an answer read exactly; nothing sent that could split a
request."""

import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway.config import Config
from gateway.upstream import REQUESTS_PER_CONNECTION, Upstream
from service_kit.web.errors import Problem
from support.serving import serve_in_background


def test_each_connection_serves_a_bounded_number_of_requests_then_a_new_one_is_made():
    connections: Counter[int] = Counter()

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open between requests

        def do_GET(self):
            connections[self.client_address[1]] += 1  # one client port per TCP connection
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    serve_in_background(server)
    url = f"http://127.0.0.1:{server.server_port}"
    upstream = Upstream("todo-service", url, Config.from_env({}))
    try:
        for _ in range(3 * REQUESTS_PER_CONNECTION):
            assert upstream.request("GET", "/").status == 200
    finally:
        upstream.close()
        server.shutdown()
        server.server_close()

    assert sorted(connections.values()) == [REQUESTS_PER_CONNECTION] * 3, "kept alive, then renewed"


class ScriptedServer(socketserver.ThreadingTCPServer):
    """Answers each request with answer(request bytes) -> bytes; the connection stays open
    unless the answer is None (closed unanswered) or says Connection: close. Keeps every
    request it read, and counts connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer: Callable[[bytes], bytes | None]):
        self.requests: list[bytes] = []
        self.connections = 0

        class Handler(socketserver.StreamRequestHandler):
            def handle(handler) -> None:  # noqa: N805 (the server is `self` here)
                self.connections += 1
                while head := self._read_request(handler.rfile):
                    self.requests.append(head)
                    reply = answer(head)
                    if reply is None:
                        return
                    handler.wfile.write(reply)
                    handler.wfile.flush()
                    if b"Connection: close" in reply:
                        return

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        serve_in_background(self)

    @staticmethod
    def _read_request(rfile) -> bytes:
        head = b""
        while (line := rfile.readline()) not in (b"\r\n", b""):
            head += line
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        return head + b"\r\n" + rfile.read(length) if head else b""


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[bytes], bytes | None]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(answer: Callable[[bytes], bytes | None]) -> ScriptedServer:
        servers.append(ScriptedServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def upstream_of(server: ScriptedServer) -> Upstream:
    return Upstream("todo-service", server.url, Config.from_env({"SERVICE_TIMEOUT_SECONDS": "2"}))


def test_a_chunked_answer_is_read_whole_and_the_connection_kept(scripted):
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        b"3\r\n[1,\r\n2;ext=1\r\n2]\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    server = scripted(lambda _request: chunked)
    upstream = upstream_of(server)

    answers = [upstream.request("GET", "/") for _ in range(2)]

    assert [answer.json() for answer in answers] == [[1, 2], [1, 2]]
    assert server.connections == 1


def test_head_204_and_304_answers_have_no_body_whatever_their_length_says(scripted):
    replies = {
        b"HEAD": b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n",
        b"DELETE": b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        b"GET": b'HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n',
    }
    server = scripted(lambda request: replies[request.split(b" ")[0]])
    upstream = upstream_of(server)

    for method, status in (("HEAD", 200), ("DELETE", 204), ("GET", 304), ("HEAD", 200)):
        answer = upstream.request(method, "/todos")
        assert (answer.status, answer.data) == (status, b"")
    assert server.connections == 1  # each answer ended where it should: the next one was read


def test_an_answer_that_closes_the_connection_is_read_to_its_end_and_not_reused(scripted):
    server = scripted(lambda _request: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
    upstream = upstream_of(server)

    assert upstream.request("GET", "/").data == b"all of it"
    assert upstream.idle_connections == 0


def test_header_fields_are_found_whatever_their_case_and_repeated_ones_are_joined(scripted):
    reply = (
        b'HTTP/1.1 201 Created\r\nlink: <a>\r\nLINK: <b>\r\netag: "7"\r\nContent-Length: 0\r\n\r\n'
    )
    server = scripted(lambda _request: reply)

    answer = upstream_of(server).request("POST", "/todos", b"{}")

    assert answer.headers["ETag"] == '"7"' and "Etag" in answer.headers
    assert answer.headers["Link"] == "<a>, <b>"
    assert answer.headers.get("Location") is None


def test_the_request_carries_the_host_the_headers_and_the_body_with_its_length(scripted):
    server = scripted(lambda _request: b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")

    upstream_of(server).request("POST", "/todos?x=1", b'{"a":1}', {"If-Match": '"3"'})

    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /todos?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.server_address[1]}".encode() in lines
    assert b'If-Match: "3"' in lines and b"Content-Length: 7" in lines
    assert body == b'{"a":1}'


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/todos HTTP/1.1\r\nX-Evil: 1", {}),
        ("/todos", {"If-Match": "1\r\nX-Evil: 1"}),
        ("/todos", {"If-Match": "1\nX-Evil: 1"}),
        ("/todos", {"If-Match": "1\x00"}),
    ],
)
def test_nothing_that_would_split_the_request_is_sent(scripted, path, headers):
    server = scripted(lambda _request: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with pytest.raises(ValueError):
        upstream_of(server).request("GET", path, None, headers)
    assert server.requests == [] and server.connections == 0


def test_a_write_whose_connection_dropped_is_never_sent_again_the_next_goes_on_a_new_one(scripted):
    closing = threading.Event()

    def answer(request: bytes) -> bytes | None:
        if closing.is_set():
            return b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
        closing.set()
        return None  # as a service whose keep-alive timeout has passed: it closes, idle

    server = scripted(answer)
    upstream = upstream_of(server)
    with pytest.raises(Problem):
        upstream.request("POST", "/todos", b"{}")  # the first one is dropped: never sent twice

    assert upstream.request("POST", "/todos", b"{}").status == 201
    assert len(server.requests) == 2


def test_a_kept_alive_connection_closed_while_idle_is_replaced_before_sending(scripted):
    server = scripted(lambda _request: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    upstream = upstream_of(server)
    assert upstream.request("GET", "/").status == 200
    idle = upstream._idle[0]
    idle.sock.shutdown(socket.SHUT_RD)  # as if the service had closed it: the socket reads EOF

    assert upstream.request("POST", "/todos", b"{}").status == 200
    assert upstream.connections_opened == 2 and len(server.requests) == 2


def test_a_malformed_answer_is_a_503(scripted):
    server = scripted(lambda _request: b"SPAM\r\n\r\n")

    with pytest.raises(Problem) as refused:
        upstream_of(server).request("POST", "/todos", b"{}")

    assert refused.value.status == 503
