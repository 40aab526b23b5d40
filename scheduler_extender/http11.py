"""HTTP/1.1 requests read whole from bytes as they arrive, and answers written as one buffer. Pure.

The serving worker feeds a `RequestReader` whatever a connection delivered and gets back a complete
`Request` only once its body is all there, so no thread ever waits on a client still sending. What a
reader refuses (a request line or headers that are not HTTP/1.x, chunk framing that is wrong) is a
`FramingError` carrying the status to answer before the connection is closed.
"""
from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import orjson

MAX_HEAD_BYTES = 64 * 1024
"""Request line and headers at most: kube-scheduler sends a few hundred bytes."""
MAX_HEADERS = 100
_CHUNK_LINE_MAX = 1024


class FramingError(ValueError):
    """Not an HTTP/1.x request we can read; `status` is what to answer before closing."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class Head:
    """What a request's line and headers say."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    """Names lower-cased, in the order sent."""
    keep_alive: bool
    content_length: int | None
    chunked: bool
    expect_continue: bool


@dataclass(frozen=True, slots=True)
class Request:
    head: Head
    body: bytes
    too_large: bool = False
    """The body is over the limit: `body` holds what was read (at most limit + 1 bytes), never all of it."""

    @property
    def keep_alive(self) -> bool:
        return self.head.keep_alive and not self.too_large


class RequestReader:
    """One connection's requests, in order: `feed` bytes, `next_request` when one is whole."""

    def __init__(self, max_body: int) -> None:
        self._buf = bytearray()
        self._scanned = 0
        """Bytes of `_buf` already searched for the end of the headers: a client sending them a byte at a
        time must not make every byte rescan all the others."""
        self._head: Head | None = None
        self._body = bytearray()
        self._chunk_left = -1
        """Chunked bodies: bytes left of the current chunk (-1: a size line is next, -2: trailers are next)."""
        self._max_body = max_body
        self.continue_wanted = False
        """The current request sent `Expect: 100-continue` and its body has not started: answer 100 first."""

    @property
    def started(self) -> bool:
        """Some bytes of a request have arrived (the read timeout runs from here)."""
        return bool(self._buf) or self._head is not None

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_request(self) -> Request | None:
        """The next whole request, or None until more bytes arrive. Raises FramingError."""
        head = self._head
        if head is None:
            end = self._buf.find(b"\r\n\r\n", max(0, self._scanned - 3))
            if end < 0 or end > MAX_HEAD_BYTES:
                self._scanned = len(self._buf)
                if len(self._buf) > MAX_HEAD_BYTES:
                    raise FramingError(431, f"request line and headers over {MAX_HEAD_BYTES} bytes")
                return None
            head = self._head = _parse_head(bytes(self._buf[:end]))
            del self._buf[:end + 4]
            self._scanned = 0
            length = head.content_length
            if length is not None and length > self._max_body:
                return self._finish(head, b"", too_large=True)
            self.continue_wanted = head.expect_continue and not self._buf and (head.chunked or bool(length))
        if head.chunked:
            return self._chunked(head)
        length = head.content_length or 0
        if len(self._buf) < length:
            return None
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return self._finish(head, body)

    def _chunked(self, head: Head) -> Request | None:
        buf, body = self._buf, self._body
        while True:
            if self._chunk_left > 0:
                take = min(self._chunk_left, len(buf))
                body += buf[:take]
                del buf[:take]
                self._chunk_left -= take
                if len(body) > self._max_body:
                    return self._finish(head, bytes(body[:self._max_body + 1]), too_large=True)
                if self._chunk_left:
                    return None
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                if len(buf) > _CHUNK_LINE_MAX:
                    raise FramingError(400, "chunk size line too long")
                return None
            line = bytes(buf[:line_end])
            del buf[:line_end + 2]
            if self._chunk_left == 0:  # the CRLF closing a chunk's data
                if line:
                    raise FramingError(400, "chunk data not followed by CRLF")
                self._chunk_left = -1
            elif self._chunk_left == -2:  # trailers, until an empty line
                if not line:
                    return self._finish(head, bytes(body))
            else:
                size = line.split(b";", 1)[0].strip()
                if not size or len(size) > 16 or size.strip(b"0123456789abcdefABCDEF"):
                    raise FramingError(400, f"bad chunk size {size[:20]!r}")
                self._chunk_left = int(size, 16) or -2

    def _finish(self, head: Head, body: bytes, *, too_large: bool = False) -> Request:
        self._head, self._body, self._chunk_left = None, bytearray(), -1
        self.continue_wanted = False
        return Request(head, body, too_large)


def _parse_head(raw: bytes) -> Head:
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise FramingError(400, f"bad request line {lines[0][:100]!r}")
    method, target, version = (p.decode("latin-1") for p in parts)
    if target.startswith(("http://", "https://")):  # absolute-form (RFC 9112 3.2.2): keep path and query
        target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise FramingError(505 if version.startswith("HTTP/") else 400, f"unsupported version {version[:20]!r}")
    if len(lines) - 1 > MAX_HEADERS:
        raise FramingError(431, f"more than {MAX_HEADERS} headers")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or b" " in name:
            raise FramingError(400, f"bad header line {line[:100]!r}")
        headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
    return _framing(method, target, version, headers)


def _framing(method: str, target: str, version: str, headers: list[tuple[str, str]]) -> Head:
    """How the body is delimited and whether the connection stays open (RFC 9112 6 and 9.3)."""
    lengths = {value for name, value in headers if name == "content-length"}
    codings = [value.lower() for name, value in headers if name == "transfer-encoding"]
    connection = {token.strip().lower() for name, value in headers if name == "connection"
                  for token in value.split(",")}
    if codings and lengths:
        raise FramingError(400, "both Transfer-Encoding and Content-Length")
    if codings and [c.strip() for c in ",".join(codings).split(",")] != ["chunked"]:
        raise FramingError(501, f"unsupported Transfer-Encoding {', '.join(codings)[:50]!r}")
    length = None
    if lengths:
        if len(lengths) > 1 or not next(iter(lengths)).isdigit():
            raise FramingError(400, f"bad Content-Length {', '.join(lengths)[:50]!r}")
        length = int(next(iter(lengths)))
    keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    expect = any(name == "expect" and value.lower() == "100-continue" for name, value in headers)
    return Head(method, target, version, headers, keep_alive, length, bool(codings), expect)


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def answer(status: int, body: bytes, *, keep_alive: bool) -> bytes:
    """A JSON answer, status line, headers and body in one buffer, so it goes out in one write."""
    close = "" if keep_alive else "Connection: close\r\n"
    head = (f"HTTP/1.1 {status} {_PHRASES.get(status, 'Unknown')}\r\nContent-Type: application/json\r\n{close}"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


def error_answer(status: int, reason: str) -> bytes:
    """A refusal the worker makes itself (framing, timeouts): JSON like every other error, then close."""
    return answer(status, orjson.dumps({"Error": reason}), keep_alive=False)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
