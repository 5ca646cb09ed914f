"""How far the event loop reads a request, checked against gunicorn's own parser: it holds every
request gunicorn accepts to its last byte, and hands over early only what gunicorn refuses."""

import pytest
from gunicorn.config import Config
from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser

from service_kit.serving.framing import (
    CHUNKED_SLACK,
    HEAD_LIMIT,
    SIZE_LINE_LIMIT,
    ChunkedBody,
    expects_continue,
    head_end,
    request_body,
)

LIMIT = 1000
NEXT = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"  # pipelined behind: never part of the body
CHUNKED_HEAD = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
CHUNKED = {  # name: (the body as sent, its payload)
    "one chunk": (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
    "several chunks": (b"5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n", b"hello world!"),
    "upper-case hex, leading zeros": (b"00A\r\n0123456789\r\n000\r\n\r\n", b"0123456789"),
    "extensions": (b'3;name=value ; q="a;b"\r\nabc\r\n0;last\r\n\r\n', b"abc"),
    "trailers": (b"3\r\nabc\r\n0\r\nX-One: 1\r\nX-Two: 2\r\n\r\n", b"abc"),
    "empty": (b"0\r\n\r\n", b""),
    "CRLFs in the payload": (b"4\r\n\r\n\r\n\r\n0\r\n\r\n", b"\r\n\r\n"),
}


def gunicorn_reads(data: bytes) -> bytes:
    """The body gunicorn reads from `data`, the whole of which it is given; it must then find
    NEXT as the next request."""
    parser = RequestParser(Config(), iter([data]), ("127.0.0.1", 1))
    body = next(parser).body.read()
    assert next(parser).path == "/next"
    return body


def fed_bytewise(data: bytes, start: int) -> int | None:
    """The length of the first prefix of `data` after which the body says the thread may take
    the request (None: never), fed one byte at a time as a slow client sends it."""
    body = request_body(data[:start], LIMIT)
    for end in range(start, len(data) + 1):
        if body.received(bytearray(data[:end])):
            return end
    return None


@pytest.mark.parametrize("name", sorted(CHUNKED))
def test_a_chunked_body_is_held_to_its_last_byte_as_gunicorn_reads_it(name):
    sent, payload = CHUNKED[name]
    request = CHUNKED_HEAD + sent

    assert fed_bytewise(request + NEXT, len(CHUNKED_HEAD)) == len(request)
    body = request_body(CHUNKED_HEAD, LIMIT)
    assert body.received(bytearray(request + NEXT)) and body.whole
    assert gunicorn_reads(request + NEXT) == payload


def test_a_content_length_body_is_held_to_its_last_byte():
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:  5 \r\n\r\n"

    assert fed_bytewise(head + b"hello" + NEXT, len(head)) == len(head) + 5
    assert gunicorn_reads(head + b"hello" + NEXT) == b"hello"


@pytest.mark.parametrize(
    "fields", [b"", b"Content-Length: 0\r\n", b"Content-length: 0\r\nExpect: 100-continue\r\n"]
)
def test_a_request_without_a_body_goes_at_once(fields):
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"

    body = request_body(head, LIMIT)

    assert body.received(bytearray(head)) and body.whole


@pytest.mark.parametrize(
    "fields",
    [
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Content-Length: 5\r\nContent-Length: 5\r\n",
        b"Content-Length: 5, 5\r\n",
        b"Content-Length: +5\r\n",
        b"Content-Length: \r\n",
        b"Transfer-Encoding: chunked, identity\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip\r\n",
        b"Transfer-Encoding: chunked,\r\n",
        b"X-Folded: a\r\n b\r\nContent-Length: 5\r\n",
        b"X-Bare: a\nContent-Length: 5\r\n",
    ],
)
def test_framing_gunicorn_refuses_goes_at_once_and_is_refused_from_the_head(fields):
    head = b"POST / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"

    body = request_body(head, LIMIT)

    assert body.received(bytearray(head)) and not body.whole
    with pytest.raises(Exception) as refused:  # gunicorn has one class per refusal
        next(RequestParser(Config(), iter([head]), ("127.0.0.1", 1)))
    assert not isinstance(refused.value, NoMoreData)


def test_chunked_needs_http_1_1():
    head = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"

    assert not request_body(head, LIMIT).whole


@pytest.mark.parametrize(
    "chunks",
    [
        b"5\r\nhello\r\nz\r\n",  # a size that is not hex
        b"5\r\nhelloXY",  # no CRLF after the chunk
        b" 5\r\nhello\r\n0\r\n\r\n",  # space before the size
        b"5" * (SIZE_LINE_LIMIT + 1),  # a size line with no end
    ],
)
def test_a_chunked_body_gunicorn_refuses_goes_where_it_does_and_is_refused(chunks):
    data = CHUNKED_HEAD + chunks
    body = request_body(CHUNKED_HEAD, LIMIT)

    assert body.received(bytearray(data)) and not body.whole
    with pytest.raises(Exception) as refused:
        next(RequestParser(Config(), iter([data]), ("127.0.0.1", 1))).body.read()
    assert not isinstance(refused.value, NoMoreData)  # refused from what is here, no wait


@pytest.mark.parametrize("limit", [LIMIT, 1024 * 1024])  # faas's runtime: the app reads it in two
def test_a_chunked_body_over_the_limit_goes_with_all_the_app_reads_of_it(limit):
    chunk = b"1000\r\n" + b"x" * 4096 + b"\r\n"
    data = CHUNKED_HEAD + chunk * (limit // 4096 + 2)  # never ended
    body = request_body(CHUNKED_HEAD, limit)

    end = next(end for end in range(len(CHUNKED_HEAD), len(data), 64) if body.received(data[:end]))

    assert not body.whole
    full, rest = divmod(limit + CHUNKED_SLACK, 4096)
    assert end - 64 < len(CHUNKED_HEAD) + full * len(chunk) + len(b"1000\r\n") + rest <= end
    # The app reads limit + 1 bytes: gunicorn's parser finds them in what is here.
    parser = RequestParser(Config(), iter([data[:end]]), ("127.0.0.1", 1))
    assert len(next(parser).body.read(limit + 1)) == limit + 1


def test_a_content_length_over_the_limit_goes_at_once_unread():
    head = b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1)

    body = request_body(head, LIMIT)

    assert body.received(bytearray(head)) and not body.whole


def test_a_trailer_section_over_the_head_limit_is_too_large():
    body = ChunkedBody(0, LIMIT)

    assert not body.received(bytearray(b"0\r\nX-Big: " + b"a" * (HEAD_LIMIT - 100)))
    assert body.received(bytearray(b"0\r\nX-Big: " + b"a" * HEAD_LIMIT))
    assert body.too_large and not body.whole


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"POST / HTTP/1.1\r\nExpect: 100-Continue \r\n\r\n", True),
        (b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", False),  # RFC 9110: ignored
        (b"POST / HTTP/1.1\r\nX-Expect: 100-continue\r\n\r\n", False),
    ],
)
def test_expects_continue(head, expected):
    assert expects_continue(head) is expected


def test_the_head_ends_at_its_blank_line_or_a_bare_lf_one_looked_at_once():
    assert head_end(bytearray(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), 0) == 24
    assert head_end(bytearray(b"GET / HTTP/1.1\nA: b\n\nbody"), 0) == 21
    assert head_end(bytearray(b"GET / HTTP/1.1\r\nA: b\r\n\r"), 0) == -1
    assert head_end(bytearray(b"GET / HTTP/1.1\r\nA: b\r\n\r\n"), 23) == 24
