"""Slow clients: bodies that never come, answers never read, clients that never close and idle
connections by the thousand hold no thread, so /healthz keeps answering within a second at faas
and at each service."""

import contextlib
import http.client
import itertools
import json
import select
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from support.api import registered_user
from support.processes import wait_until
from support.stack import Stack, start_stack

BODY_TIMEOUT = 3.0  # this stack's REQUEST_BODY_TIMEOUT
SEND_TIMEOUT = 3.0  # this stack's RESPONSE_SEND_TIMEOUT
STALLED = 40  # more than the threads of any server: faas 8, each service 4 (one worker each)
IDLE = 1100  # more than gthread's worker_connections (1000)
THREADS = 8  # faas's, FC_INSTANCE_CONCURRENCY
LARGE = 64 * 1024 * 1024  # far more than the socket buffers of both ends hold
BODY_ROUTES = {"faas": "/api/todos", "users": "/users", "todos": "/todos"}


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory) -> Iterator[Stack]:
    static = tmp_path_factory.mktemp("static")
    with open(static / "large.bin", "wb") as large:
        large.truncate(LARGE)  # sparse: costs no disk
    env = {
        # One worker per server: with two, gunicorn's accept is often lopsided, and an attack
        # could leave the worker that serves the probe untouched.
        "FC_MIN_INSTANCES": "1",
        "FC_MAX_INSTANCES": "1",
        "WEB_CONCURRENCY": "1",
        "REQUEST_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "RESPONSE_SEND_TIMEOUT": str(SEND_TIMEOUT),
        "STATIC_DIR": str(static),
    }
    with start_stack(tmp_path_factory.mktemp("slow"), "postgresql", env) as running:
        yield running


@pytest.fixture(scope="module")
def bearer(slow_stack) -> str:
    client, _ = registered_user(slow_stack.faas_url, bearer=True)
    return f"Bearer {client.token}"


def promising(path: str) -> bytes:
    """A head that promises a body."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    return (head + "Content-Length: 100\r\n\r\n").encode()


@contextlib.contextmanager
def stalled(port: int, request: bytes) -> Iterator[list[socket.socket]]:
    """STALLED connections that each send `request`, then nothing, and do not close."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(STALLED)]
    try:
        for sock in sockets:
            sock.sendall(request)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def probe_until_answered(url: str, sockets: list[socket.socket], timeout: float) -> dict:
    """Probes /healthz (each answered within a second) until every socket has an answer;
    {socket: (time.monotonic() when it came, its first bytes)}."""
    answers: dict[socket.socket, tuple[float, bytes]] = {}
    slowest = 0.0

    def every_one_answered() -> bool | None:
        nonlocal slowest
        slowest = max(slowest, healthz_in_a_second(url))
        for sock in [sock for sock in sockets if sock not in answers and readable(sock)]:
            answers[sock] = (time.monotonic(), sock.recv(200))
        return len(answers) == len(sockets) or None

    wait_until(every_one_answered, timeout, "an answer on every connection", interval=0.2)
    print(f"{url}: /healthz took {slowest:.3f} s at most")
    return answers


def connect_to_faas(stack: Stack) -> socket.socket:
    return socket.create_connection(("127.0.0.1", stack.ports["faas"]), timeout=5)


def readable(sock: socket.socket) -> bool:
    poll = select.poll()  # select() takes no descriptor over 1023
    poll.register(sock, select.POLLIN)
    return poll.poll(0) != []


def closed(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (nothing is expected on it otherwise)."""
    try:
        return readable(sock) and sock.recv(1) == b""
    except ConnectionResetError:
        return True


def healthz_in_a_second(url: str) -> float:
    """/healthz answers 200 within a second; how long it took."""
    started = time.monotonic()
    assert requests.get(f"{url}/healthz", timeout=1).status_code == 200
    elapsed = time.monotonic() - started
    assert elapsed < 1, elapsed
    return elapsed


def answer_to(sock: socket.socket, pieces: list[bytes], pause: float = 0.3) -> bytes:
    """What the server answers to `pieces` sent `pause` apart, until it closes the connection."""
    for piece in pieces:
        sock.sendall(piece)
        time.sleep(pause)  # the slow client itself, not a wait for the server
    received = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def post_head(path: str, authorization: str, framing: str) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += f"Authorization: {authorization}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    return head.encode()


@pytest.mark.parametrize("name", ["faas", "users", "todos"])
def test_bodies_that_never_come_hold_no_thread_and_get_408_at_the_deadline(slow_stack, name):
    started = time.monotonic()
    with stalled(slow_stack.ports[name], promising(BODY_ROUTES[name])) as sockets:
        answers = probe_until_answered(slow_stack.url(name), sockets, BODY_TIMEOUT + 10)

    assert all(answer.startswith(b"HTTP/1.1 408 ") for _, answer in answers.values())
    assert min(at for at, _ in answers.values()) - started >= BODY_TIMEOUT


@pytest.mark.parametrize("name", ["faas", "users", "todos"])
def test_clients_that_neither_read_nor_close_after_their_answer_hold_nothing(slow_stack, name):
    # The server closes each connection after its answer, and waits a moment for the client
    # to close too; these clients never do.
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with stalled(slow_stack.ports[name], request) as sockets:
        answers = probe_until_answered(slow_stack.url(name), sockets, 10)

    assert all(answer.startswith(b"HTTP/1.1 200 ") for _, answer in answers.values())


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_sent_in_pieces_within_the_deadline_is_served_while_others_stall(
    slow_stack, bearer, framing
):
    body = json.dumps({"title": f"sent in pieces, {framing}"}).encode()
    if framing == "chunked":
        head = post_head("/api/todos", bearer, "Transfer-Encoding: chunked")
        # Chunks cut anywhere, their size lines too; an extension and a trailer on the way.
        encoded = b"%x;piece=1\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n" % (
            10,
            body[:10],
            len(body) - 10,
            body[10:],
        )
    else:
        head = post_head("/api/todos", bearer, f"Content-Length: {len(body)}")
        encoded = body
    cuts = [0, 3, 11, 12, 20, len(encoded)]
    pieces = [head[:30], head[30:]] + [encoded[a:b] for a, b in itertools.pairwise(cuts)]

    with (
        stalled(slow_stack.ports["faas"], promising("/api/todos")),
        connect_to_faas(slow_stack) as sock,
    ):
        answer = answer_to(sock, pieces)

    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["title"] == json.loads(body)["title"]


def test_expect_100_continue_is_answered_before_the_body_while_others_stall(slow_stack, bearer):
    body = json.dumps({"title": "after 100 Continue"}).encode()
    head = post_head("/api/todos", bearer, f"Content-Length: {len(body)}\r\nExpect: 100-continue")

    with (
        stalled(slow_stack.ports["faas"], promising("/api/todos")),
        connect_to_faas(slow_stack) as sock,
    ):
        sock.sendall(head)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += sock.recv(1)
        answer = answer_to(sock, [body], pause=0)

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]  # and no second 100 before it


def test_clients_that_stop_reading_a_large_answer_free_their_threads(slow_stack):
    readers = []
    try:
        for _ in range(THREADS + 4):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", slow_stack.ports["faas"]))
            sock.sendall(b"GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            readers.append(sock)

        # Each thread gives up within SEND_TIMEOUT: the answers take two rounds of the threads.
        response = requests.get(f"{slow_stack.faas_url}/healthz", timeout=3 * SEND_TIMEOUT + 5)
        assert response.status_code == 200
        assert requests.get(f"{slow_stack.faas_url}/readyz", timeout=5).status_code == 200

        received = []
        for sock in readers:
            sock.settimeout(SEND_TIMEOUT + 10)
            received.append(0)
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(1024 * 1024):
                    received[-1] += len(chunk)
        # The first round's answers were cut and their connections closed; the later ones go on
        # once read.
        assert len([size for size in received if 0 < size < LARGE]) >= THREADS
    finally:
        for sock in readers:
            sock.close()


@pytest.mark.parametrize("name", ["faas", "users", "todos"])
def test_idle_connections_are_capped_oldest_first_so_new_clients_are_served(slow_stack, name):
    port = slow_stack.ports[name]
    idle = []
    try:
        for _ in range(IDLE):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))

        healthz_in_a_second(slow_stack.url(name))

        wait_until(lambda: closed(idle[0]) or None, 5, "the oldest idle connection closed")
        assert not closed(idle[-1])
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("name", ["users", "todos"])  # faas keeps a connection alive for 2 s only
def test_kept_alive_idle_connections_count_toward_the_cap_oldest_first(slow_stack, name):
    kept = []
    try:
        for _ in range(300):  # more than the 256 connections a worker holds
            connection = http.client.HTTPConnection("127.0.0.1", slow_stack.ports[name], timeout=5)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()  # the connection is then free for the next request
            assert response.status == 200
            kept.append(connection)

        wait_until(lambda: closed(kept[0].sock) or None, 5, "the oldest connection closed")
        kept[-1].request("GET", "/healthz")
        assert kept[-1].getresponse().status == 200
    finally:
        for connection in kept:
            connection.close()
