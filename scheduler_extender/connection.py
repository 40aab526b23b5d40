"""One client connection of the HTTP server: its socket I/O, never blocking, and where it stands."""
from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

from . import http11

HANDSHAKE, IDLE, READING, BUSY, WRITING, LINGER, CLOSED = range(7)
"""HANDSHAKE: TLS not done yet. IDLE: no byte of a next request. READING: a request is arriving. BUSY: it is
being answered. WRITING: the rest of an answer waits for the socket to take it. LINGER: refused while its
body may still come: read and discarded, then closed."""

_READ_SIZE = 256 * 1024


@dataclass(frozen=True)
class Limits:
    read_timeout: float
    """Seconds for a request to arrive whole from its first byte (TLS handshake included), and for an
    answer to be taken."""
    keepalive: float
    """Seconds an idle connection stays open."""
    max_body: int
    max_buffered: int
    """Bytes of request bodies held at once across all connections (http11.BodyBudget)."""
    threads: int
    max_connections: int
    graceful_timeout: float
    """Seconds requests in flight get to finish once the server stops."""


class Connection:
    __slots__ = ("sock", "fd", "peer", "server", "reader", "state", "deadline", "out", "answering", "has_cert",
                 "keep", "linger", "lock")

    def __init__(self, sock: socket.socket, peer: Any, server: Any, reader: http11.RequestReader, state: int,
                 deadline: float) -> None:
        self.sock, self.fd, self.peer, self.server = sock, sock.fileno(), peer, server
        self.reader, self.state, self.deadline = reader, state, deadline
        self.out = memoryview(b"")
        """What is left to write of the answer."""
        self.answering: http11.Request | None = None
        """The request `out` answers: its body's share of the budget is given back once the answer is written,
        since an answer (a /filter echoing its Nodes) can be as large as the body."""
        self.has_cert = False
        """The client presented a certificate the TLS handshake verified."""
        self.keep = self.linger = False
        """After the answer: keep the connection open; or else, linger before closing it."""
        self.lock = threading.Lock()
        """Held by the thread working on the connection; the sweeper only tries it."""

    @classmethod
    def accepted(cls, client: socket.socket, peer: Any, server: Any, ssl_context: ssl.SSLContext | None,
                 limits: Limits, budget: http11.BodyBudget) -> Connection:
        """A connection just accepted: idle (a Go client dials just before it sends, and keeps the
        connection for its next calls), or first of all shaking hands."""
        client.setblocking(False)
        if client.family in (socket.AF_INET, socket.AF_INET6):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, now = http11.RequestReader(limits.max_body, budget), time.monotonic()
        if ssl_context is None:
            return cls(client, peer, server, reader, IDLE, now + limits.keepalive)
        tls = ssl_context.wrap_socket(client, server_side=True, do_handshake_on_connect=False)
        return cls(tls, peer, server, reader, HANDSHAKE, now + limits.read_timeout)

    def expire(self, read_timeout: float) -> str | None:
        """Past its deadline: why it is dropped (None for an idle or lingering one, which is no fault of
        the client's). A request half read is answered 408 first."""
        if self.state == READING:
            self.send_now(http11.error_answer(
                408, f"request not received whole within --read-timeout {read_timeout:g}s"))
            return "read_timeout"
        return {HANDSHAKE: "read_timeout", WRITING: "write_timeout"}.get(self.state)

    @property
    def tls(self) -> bool:
        return isinstance(self.sock, ssl.SSLSocket)

    def handshake(self) -> int:
        """Advance the TLS handshake: 0 when done, else the epoll events to wait for; raises OSError
        (ssl.SSLError among them) when it failed."""
        sock = self.sock
        assert isinstance(sock, ssl.SSLSocket)
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            return 1
        except ssl.SSLWantWriteError:
            return 1 | 4
        self.has_cert = bool(sock.getpeercert())
        return 0

    def receive(self) -> bool:
        """Feed the reader all the socket holds now; False once the client closed or the socket failed."""
        try:
            while True:
                data = self.sock.recv(_READ_SIZE)
                if not data:
                    return False
                self.reader.feed(data)
                if len(data) < _READ_SIZE and not self.tls:  # TLS may hold decrypted bytes epoll cannot see
                    return True
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return True
        except OSError:
            return False

    def send(self) -> bool | None:
        """Write what the socket takes of `out` now: True when all of it is written, False when some is
        left, None when the socket failed."""
        try:
            sent = self.sock.send(self.out)
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            sent = 0
        except OSError:
            return None
        self.out = self.out[sent:]
        return not self.out

    def send_now(self, data: bytes) -> None:
        """Best effort, for short refusals and 100 Continue: what the socket does not take now is dropped."""
        try:
            self.sock.send(data)
        except OSError:
            pass

    def discard(self) -> bool:
        """Read and drop what the client sends; True once it closed (or the socket failed)."""
        try:
            while self.sock.recv(_READ_SIZE):
                pass
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except OSError:
            pass
        return True

    def answered(self) -> None:
        """The answer is written (or never will be): what its request held goes back to the budget."""
        if self.answering is not None:
            self.reader.done(self.answering)
            self.answering = None
        self.out = memoryview(b"")

    def close(self) -> None:
        self.state = CLOSED
        self.sock.close()
        self.answered()
        self.reader.close()
