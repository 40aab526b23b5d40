"""HTTP/1.1 requests read whole from bytes as they arrive, and answers written as one buffer.

Requests are parsed by llhttp (Node's parser, fuzzed and kept up by its maintainers) through httptools. The
serving worker feeds a `RequestReader` whatever a connection delivered and gets back a complete `Request`
only once its body is all there, so no thread ever waits on a client still sending. On top of llhttp this
adds what RFC 9112/9110 require and llhttp leaves to its caller: exactly one Host, a Transfer-Encoding of
`chunked` alone, versions 1.0 and 1.1 only, limits on the head and the body, and a cap on the body bytes
held across all connections (`BodyBudget`). What a reader refuses is a `FramingError` carrying the status to
answer before the connection is closed.

A body is held once: one bytearray, allocated at its announced length and filled in place as it arrives
(a chunked one grows), which the handlers decode directly.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus

import httptools
import orjson

MAX_HEAD_BYTES = 64 * 1024
"""Request line and headers at most: kube-scheduler sends a few hundred bytes."""
MAX_HEADERS = 100
RETRY_AFTER_SECONDS = 1
"""What a 503 for a full body budget tells the client: bodies in flight are answered within milliseconds."""


class FramingError(ValueError):
    """Not an HTTP/1.x request we can read, or one we cannot hold now; `status` is what to answer before
    closing."""

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


@dataclass(frozen=True, slots=True)
class Request:
    head: Head
    body: bytearray
    too_large: bool = False
    """The body is over the limit: none of it is kept, and the connection is closed after the answer."""
    held: int = 0
    """Bytes of the body budget this request holds until it is answered."""

    @property
    def keep_alive(self) -> bool:
        return self.head.keep_alive and not self.too_large


class BodyBudget:
    """Bytes of request bodies held at once across every connection of the worker, at most `limit`: past
    it a new request is refused 503 rather than taking memory the pod does not have."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if self._held + size > self.limit:
                return False
            self._held += size
            return True

    def give(self, size: int) -> None:
        with self._lock:
            self._held -= size

    @property
    def held(self) -> int:
        return self._held


class RequestReader:
    """One connection's requests, in order: `feed` bytes, `next_request` while one is whole. llhttp calls
    the `on_*` methods as it parses."""

    def __init__(self, max_body: int, budget: BodyBudget) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._max_body, self._budget = max_body, budget
        self._ready: deque[Request] = deque()
        self._error: FramingError | None = None
        """Why the connection can carry no further request; raised once the requests before it are taken."""
        self._in_head = False
        self._head_bytes = 0
        """Bytes fed since the current head began (at most one read more than it holds)."""
        self._url = bytearray()
        self._headers: list[tuple[str, str]] = []
        self._head: Head | None = None
        self._body = bytearray()
        self._filled = 0
        self._length: int | None = None
        self._held = 0
        self.continue_wanted = False
        """The current request sent `Expect: 100-continue` and its body has not started: answer 100 first."""

    @property
    def started(self) -> bool:
        """Some bytes of a request not yet whole have arrived (the read timeout runs from here)."""
        return self._in_head or self._head is not None

    def feed(self, data: bytes | memoryview) -> None:
        """Parse what arrived. A refusal is raised by `next_request`, after the requests before it; what
        escapes here is a bug of ours in a callback."""
        if self._error is not None:
            return
        if self._head is None:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # whole; we speak no other protocol, so nothing follows it
            self._error = FramingError(400, "no request may follow one asking to upgrade the connection")
        except httptools.HttpParserInvalidMethodError:
            self._error = FramingError(501, "method not implemented")
        except httptools.HttpParserCallbackError as err:
            if self._error is None:  # not one of our refusals
                raise err.__context__ or err from None
        except httptools.HttpParserError as err:
            self._error = FramingError(400, str(err))
        if self._error is None and self._in_head and self._head_bytes > MAX_HEAD_BYTES:
            self._error = FramingError(431, f"request line and headers over {MAX_HEAD_BYTES} bytes")

    def next_request(self) -> Request | None:
        """The next whole request, or None until more bytes arrive. Raises FramingError."""
        if self._ready:
            return self._ready.popleft()
        if self._error is not None:
            self._release()
            raise self._error
        return None

    def done(self, request: Request) -> None:
        """`request` is answered: its body's bytes go back to the budget."""
        self._budget.give(request.held)

    def close(self) -> None:
        """The connection is closed: whatever it held goes back to the budget."""
        while self._ready:
            self.done(self._ready.popleft())
        self._release()

    def _release(self) -> None:
        self._budget.give(self._held)
        self._held, self._body = 0, bytearray()

    def _refuse(self, status: int, reason: str) -> FramingError:
        self._error = FramingError(status, reason)
        return self._error

    # --- llhttp's callbacks ---

    def on_message_begin(self) -> None:
        self._in_head = True
        self._url.clear()
        self._headers = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._head is not None:
            return  # a trailer: nothing we use
        if len(self._headers) >= MAX_HEADERS:
            raise self._refuse(431, f"more than {MAX_HEADERS} headers")
        self._headers.append((name.decode("latin-1").lower(), value.decode("latin-1").strip(" \t")))

    def on_headers_complete(self) -> None:
        version = self._parser.get_http_version()
        if version not in ("1.1", "1.0"):
            raise self._refuse(505, f"unsupported version HTTP/{version}")
        method = self._parser.get_method().decode("ascii")
        headers = self._headers
        hosts = sum(name == "host" for name, _ in headers)
        if hosts > 1 or (hosts == 0 and version == "1.1"):
            raise self._refuse(400, f"{hosts} Host headers; a request has exactly one")
        codings = [token.strip(" \t").lower() for name, value in headers if name == "transfer-encoding"
                   for token in value.split(",")]
        if codings and codings != ["chunked"]:
            raise self._refuse(501, f"unsupported Transfer-Encoding {', '.join(codings)[:50]!r}")
        if method == "CONNECT":
            raise self._refuse(501, "CONNECT: this is not a proxy")
        length = next((int(value) for name, value in headers if name == "content-length"), None)
        head = Head(method, _origin_form(self._url.decode("latin-1")), f"HTTP/{version}", headers,
                    self._parser.should_keep_alive())
        self._in_head, self._head, self._length, self._filled = False, head, length, 0
        if (length or 0) > self._max_body:
            self._ready.append(Request(head, bytearray(), too_large=True))
            raise self._refuse(413, "body over the limit")  # stops the parser: the answer is the 413 before it
        if length and not self._budget.take(length):
            raise self._refuse(503, "too many request bodies held at once; retry shortly")
        self._held, self._body = length or 0, bytearray(length or 0)
        self.continue_wanted = bool(length or codings) and any(
            name == "expect" and value.lower() == "100-continue" for name, value in headers)

    def on_body(self, body: bytes) -> None:
        self.continue_wanted = False
        size = len(body)
        if self._length is not None:
            self._body[self._filled:self._filled + size] = body  # in place: the bytearray has the announced size
            self._filled += size
            return
        if len(self._body) + size > self._max_body:
            assert self._head is not None
            self._release()
            self._ready.append(Request(self._head, bytearray(), too_large=True))
            raise self._refuse(413, "body over the limit")
        if not self._budget.take(size):
            raise self._refuse(503, "too many request bodies held at once; retry shortly")
        self._held += size
        self._body += body

    def on_message_complete(self) -> None:
        head = self._head
        assert head is not None
        self._ready.append(Request(head, self._body, held=self._held))
        self._head, self._body, self._held, self._head_bytes = None, bytearray(), 0, 0
        self.continue_wanted = False


def _origin_form(target: str) -> str:
    """The path and query of an absolute-form target (RFC 9112 3.2.2), other forms as they are."""
    if target.startswith(("http://", "https://")):
        return "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    return target


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def connection_header(version: str, keep_alive: bool) -> str:
    """What an answer says of the connection: closing it, or, to an HTTP/1.0 client, keeping it open (RFC
    9112 9.3: it otherwise expects the close)."""
    if not keep_alive:
        return "Connection: close\r\n"
    return "Connection: keep-alive\r\n" if version == "HTTP/1.0" else ""


def answer(status: int, body: bytes, *, keep_alive: bool, version: str = "HTTP/1.1", extra: str = "") -> bytes:
    """A JSON answer, status line, headers and body in one buffer, so it goes out in one write."""
    head = (f"HTTP/1.1 {status} {_PHRASES.get(status, 'Unknown')}\r\nContent-Type: application/json\r\n"
            f"{connection_header(version, keep_alive)}{extra}Content-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


def error_answer(status: int, reason: str) -> bytes:
    """A refusal the worker makes itself (framing, timeouts, a full budget): JSON like every other error,
    then close."""
    extra = f"Retry-After: {RETRY_AFTER_SECONDS}\r\n" if status == 503 else ""
    return answer(status, orjson.dumps({"Error": reason}), keep_alive=False, extra=extra)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
