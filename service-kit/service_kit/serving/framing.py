"""How much of a request the event loop holds before a thread may parse it: the head, then the
body as gunicorn will frame it (RFC 9112 section 6).

Framing that gunicorn refuses goes to a thread at once, and its parser answers 400 from the
bytes already here. Framing it accepts must be read here to its end, so that the thread never
waits on the client.
"""

import re

HEAD_LIMIT = 64 * 1024
# gunicorn's limit_request_field_size, which bounds a chunk-size line too: a longer one is refused.
SIZE_LINE_LIMIT = 8190
# gunicorn's Body asks its reader for 1 KiB at least: reading body_limit + 1 bytes of a chunked
# body may take up to 1023 more, and they must all be here.
CHUNKED_SLACK = 1024
CODINGS_BEFORE_CHUNKED = {b"gzip", b"deflate", b"compress", b"identity"}
HEX = re.compile(rb"[0-9A-Fa-f]+")


def head_end(received: bytearray, seen: int) -> int:
    """Where the head ends in `received` (after its blank line), or -1; bytes before `seen` were
    looked at already. A bare LF ends it too: gunicorn's parser then refuses the request."""
    start = max(seen - 3, 0)
    ends = [i + len(end) for end in (b"\r\n\r\n", b"\n\n") if (i := received.find(end, start)) >= 0]
    return min(ends, default=-1)


def request_line(head: bytes) -> bytes:
    return head[: head.find(b"\n")].rstrip(b"\r")


def has_body(head: bytes) -> bool:
    """Whether the head announces a body, or is framed in a way only gunicorn's parser judges."""
    fields = header_fields(head)
    return fields is None or any(
        name in (b"content-length", b"transfer-encoding") for name, _ in fields
    )


def header_fields(head: bytes) -> list[tuple[bytes, bytes]] | None:
    """(lowercase name, value) of each field; None for a bare LF or an obs-fold (gunicorn
    refuses both)."""
    lines = head.split(b"\r\n")
    if any(b"\n" in line for line in lines):
        return None
    fields = []
    for line in filter(None, lines[1:]):
        if line[:1] in (b" ", b"\t"):
            return None
        name, _, value = line.partition(b":")
        fields.append((name.lower(), value.strip(b" \t")))
    return fields


def expects_continue(head: bytes) -> bool:
    """An HTTP/1.1 client that waits for 100 Continue before it sends the body (RFC 9110 10.1.1)."""
    expect = [value.lower() for name, value in header_fields(head) or () if name == b"expect"]
    return request_line(head).endswith(b" HTTP/1.1") and expect == [b"100-continue"]


def request_body(head: bytes, limit: int) -> "Length | ChunkedBody":
    """What to wait for after `head` (its blank line included) before a thread takes it."""
    end = len(head)
    unread = Length(end, whole=False)  # refused from the head, by gunicorn or as over the limit
    fields = header_fields(head)
    if fields is None:
        return unread
    lengths = [value for name, value in fields if name == b"content-length"]
    codings = [
        coding.strip(b" \t").lower()
        for name, value in fields
        if name == b"transfer-encoding"
        for coding in value.split(b",")
    ]
    if codings:
        chunked = codings[-1] == b"chunked" and set(codings[:-1]) <= CODINGS_BEFORE_CHUNKED
        if chunked and not lengths and request_line(head).endswith(b" HTTP/1.1"):
            return ChunkedBody(end, limit)
        return unread
    if not lengths:
        return Length(end)
    if len(lengths) > 1 or not lengths[0].isdigit():
        return unread
    length = int(lengths[0])
    return Length(end + length) if length <= limit else unread


class Length:
    """A body that ends at `end` in the bytes received (no body: the end of the head)."""

    too_large = False

    def __init__(self, end: int, whole: bool = True):
        self.end = end
        self.whole = whole  # False: the body is not read, and the connection ends with the answer

    def received(self, received: bytearray) -> bool:
        return len(received) >= self.end


class ChunkedBody:
    """Where a chunked body ends (RFC 9112 7.1), found as its bytes arrive, each looked at once.
    It reads the framing as gunicorn's ChunkedReader does, and stops where that one refuses it
    or once the payload is over the limit (the app then answers 413)."""

    def __init__(self, start: int, limit: int):
        self.at = start  # where the next chunk-size line, chunk or trailer section begins
        self.chunk = -1  # the size of the chunk at `at`; -1: a chunk-size line is next
        self.payload = 0  # the bytes of the chunks before `at`
        self.cap = limit + CHUNKED_SLACK
        self.whole = False
        self.too_large = False  # a trailer section over HEAD_LIMIT: the loop answers 431

    def received(self, received: bytearray) -> bool:
        """Whether a thread can take the request now without waiting on the client."""
        while self.chunk != 0:
            if self.chunk < 0:
                eol = received.find(b"\r\n", self.at)
                if eol < 0:
                    return len(received) - self.at > SIZE_LINE_LIMIT
                size = chunk_size(bytes(received[self.at : eol]))
                if size is None:
                    return True
                self.at, self.chunk = eol + 2, size
                continue
            have = min(len(received) - self.at, self.chunk)
            if self.payload + have >= self.cap:
                return True
            end = self.at + self.chunk
            if len(received) < end + 2:
                return False
            if received[end : end + 2] != b"\r\n":
                return True
            self.payload, self.at, self.chunk = self.payload + self.chunk, end + 2, -1
        # The last chunk: a trailer section, which may be empty, ends the body.
        self.whole = (
            received.startswith(b"\r\n", self.at) or received.find(b"\r\n\r\n", self.at) >= 0
        )
        self.too_large = not self.whole and len(received) - self.at > HEAD_LIMIT
        return self.whole or self.too_large


def chunk_size(line: bytes) -> int | None:
    """A chunk-size line's size; None where gunicorn refuses it. Extensions are not checked: one
    gunicorn refuses only makes the loop wait for more before it hands the request over."""
    size, semicolon, _ = line.partition(b";")
    if semicolon:
        size = size.rstrip(b" \t")
    return int(size, 16) if HEX.fullmatch(size) else None
