"""The HTTP/1.1 server: requests are read whole before any thread is given one.

gunicorn's threaded worker reads each request in a pool thread, so a few clients that send half a request
and stall hold every thread and no scheduling call is answered. Here one event-loop thread accepts, does
the TLS handshakes, reads with non-blocking sockets and drops what has not arrived whole within the read
timeout (answering 408); only a complete request goes to a pool thread, which answers it with one write.
What does not fit in the socket buffer is written by the loop, so a client that does not read its answer
costs no thread either. Idle keep-alive connections stay open for `keepalive` seconds.

What a request is answered with is answers.py's business: the app's direct handler for a scheduling call,
else the WSGI app.
"""
from __future__ import annotations

import errno
import logging
import os
import queue
import select
import socket
import ssl
import threading
import time
from collections import deque
from typing import Callable

from . import answers, http11
from .connection import BUSY, CLOSED, HANDSHAKE, IDLE, LINGER, READING, WRITING, Connection, Limits

log = logging.getLogger(__name__)


_IN = select.EPOLLIN | select.EPOLLONESHOT
_OUT = select.EPOLLOUT | select.EPOLLONESHOT
_CLOSE = -1
LINGER_SECONDS = 2.0
"""After refusing a request whose body may still be arriving: read and discard this long before closing,
so the client reads the refusal rather than a reset."""


class Server:
    def __init__(self, listeners: list[socket.socket], app: answers.WsgiApp, limits: Limits, *,
                 ssl_context: ssl.SSLContext | None, wake: tuple[int, int]) -> None:
        """`wake`: a non-blocking pipe; the loop wakes when a byte is written to its write end (signals
        too, if it is the signal wake-up fd)."""
        self.listeners = {listener.fileno(): listener for listener in listeners}
        self.app, self.limits, self.ssl_context, self.wake = app, limits, ssl_context, wake
        self.routes = answers.routes_of(app)
        self.epoll = select.epoll()
        self.conns: dict[int, Connection] = {}
        self.work: queue.SimpleQueue[tuple[Connection, http11.Request] | None] = queue.SimpleQueue()
        self.back: deque[tuple[Connection, int]] = deque()
        self.loop_thread = threading.get_ident()
        self.stopping = False

    def serve(self, running: Callable[[], bool], beat: Callable[[], None]) -> None:
        """Serve until `running()` turns false, then let requests in flight finish; `beat` is called
        about every second."""
        self.loop_thread = threading.get_ident()
        for fd, listener in self.listeners.items():
            listener.setblocking(False)
            self.epoll.register(fd, select.EPOLLIN)
        self.epoll.register(self.wake[0], select.EPOLLIN)
        pool = [threading.Thread(target=self._serve_requests, name=f"http-{i}", daemon=True)
                for i in range(self.limits.threads)]
        for thread in pool:
            thread.start()
        beaten = due = stop_at = 0.0
        while not self.stopping or (self.conns and time.monotonic() < stop_at):
            for fd, _ in self.epoll.poll(max(0.0, due - time.monotonic())):
                if fd in self.listeners:
                    self._accept(self.listeners[fd])
                elif fd == self.wake[0]:
                    self._drain_wake()
                elif (conn := self.conns.get(fd)) is not None:
                    self._on_event(conn)
            self._take_back()
            now = time.monotonic()
            if now >= due:
                due = self._sweep(now)
            if now - beaten >= 1.0:
                beaten = now
                beat()
            if not self.stopping and not running():
                self.stopping, stop_at, due = True, now + self.limits.graceful_timeout, now
                self._stop_accepting(now)
        for _ in pool:
            self.work.put(None)
        for conn in list(self.conns.values()):
            self._close(conn)
        self.epoll.close()

    def _stop_accepting(self, now: float) -> None:
        """No new connections; idle ones get a moment for a request already on its way (answered with
        `Connection: close`), then close."""
        for fd, listener in self.listeners.items():
            self.epoll.unregister(fd)
            listener.close()
        self.listeners = {}
        for conn in self.conns.values():
            if conn.state == IDLE:
                conn.deadline = min(conn.deadline, now + LINGER_SECONDS)

    # --- the loop thread: accept, handshake, read, write what the pool could not, deadlines ---

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(64):
            try:
                client, peer = listener.accept()
            except BlockingIOError:
                return
            except OSError as err:
                if err.errno != errno.ECONNABORTED:
                    log.warning("accept: %s", err)  # out of descriptors: the backlog waits for a sweep
                    return
                continue
            if len(self.conns) >= self.limits.max_connections:
                self._evict_idle()
            conn = Connection.accepted(client, peer, listener.getsockname(), self.ssl_context, self.limits)
            self.conns[conn.fd] = conn
            self.epoll.register(conn.fd, _IN)

    def _evict_idle(self) -> None:
        """At the connection limit: make room by closing the idle connection closest to its timeout."""
        idle = [conn for conn in self.conns.values() if conn.state == IDLE]
        if idle:
            self._close(min(idle, key=lambda conn: conn.deadline))

    def _on_event(self, conn: Connection) -> None:
        if conn.state == WRITING:
            done = conn.send()
            if done is None:
                self._close(conn)
            elif done:
                self._answered(conn)
            else:
                self._arm(conn, _OUT)
        elif conn.state == HANDSHAKE:
            try:
                wanted = conn.handshake()
            except OSError:
                self._count("tls_error")
                self._close(conn)
                return
            if wanted:
                self._arm(conn, wanted | select.EPOLLONESHOT)
                return
            conn.state, conn.deadline = IDLE, time.monotonic() + self.limits.keepalive
            self._read(conn)
        elif conn.state == LINGER:
            self._linger(conn)
        elif conn.state in (IDLE, READING):
            self._read(conn)

    def _read(self, conn: Connection) -> None:
        if not conn.receive():
            self._close(conn)
            return
        if conn.state == IDLE and conn.reader.started:
            conn.state, conn.deadline = READING, time.monotonic() + self.limits.read_timeout
        self._next(conn)

    def _sweep(self, now: float) -> float:
        """Close what is past its deadline; returns when to sweep next: at the next deadline, at least every
        tenth of the read timeout (so a deadline set meanwhile is seen before it passes) and at most 20
        times a second. Deadlines hold to 50 ms however many connections there are."""
        due = now + min(1.0, self.limits.read_timeout / 10)
        for conn in list(self.conns.values()):
            if conn.state == BUSY:
                continue
            if conn.deadline > now:
                due = min(due, conn.deadline)
                continue
            reason = conn.expire(self.limits.read_timeout)
            if reason:
                self._count(reason)
            self._close(conn)
        return max(due, now + 0.05)

    def _drain_wake(self) -> None:
        try:
            while os.read(self.wake[0], 4096):
                pass
        except BlockingIOError:
            pass

    def _take_back(self) -> None:
        """Connections the pool threads gave back: to write the rest of an answer, to linger, or to close."""
        while self.back:
            conn, state = self.back.popleft()
            if conn.state == CLOSED:
                continue
            if state == WRITING:
                conn.state, conn.deadline = WRITING, time.monotonic() + self.limits.read_timeout
                self._arm(conn, _OUT)
            elif state == LINGER:
                try:
                    conn.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    self._close(conn)
                    continue
                conn.state, conn.deadline = LINGER, time.monotonic() + LINGER_SECONDS
                self._linger(conn)
            else:
                self._close(conn)

    def _linger(self, conn: Connection) -> None:
        if conn.discard():
            self._close(conn)
        else:
            self._arm(conn, _IN)

    def _close(self, conn: Connection) -> None:
        if self.conns.get(conn.fd) is conn:
            del self.conns[conn.fd]
            try:
                self.epoll.unregister(conn.fd)
            except OSError:
                pass
        conn.close()

    # --- any thread (the loop, or a pool thread holding a BUSY connection) ---

    def _next(self, conn: Connection) -> None:
        """Hand the next whole request to the pool, or wait for more of it."""
        try:
            request = conn.reader.next_request()
        except http11.FramingError as err:
            self._count("bad_request")
            conn.send_now(http11.error_answer(err.status, f"cannot read the request: {err}"))
            self._give_back(conn, LINGER)
            return
        if request is None:
            if conn.reader.continue_wanted:
                conn.reader.continue_wanted = False
                conn.send_now(http11.CONTINUE)
            self._arm(conn, _IN)
            return
        conn.state = BUSY
        self.work.put((conn, request))

    def _answered(self, conn: Connection) -> None:
        if not conn.keep:
            self._give_back(conn, LINGER if conn.linger else _CLOSE)
            return
        started = conn.reader.started
        conn.state = READING if started else IDLE
        conn.deadline = time.monotonic() + (self.limits.read_timeout if started else self.limits.keepalive)
        self._next(conn)

    def _give_back(self, conn: Connection, state: int) -> None:
        self.back.append((conn, state))
        if threading.get_ident() != self.loop_thread:
            try:
                os.write(self.wake[1], b".")
            except BlockingIOError:
                pass  # the loop is being woken already

    def _arm(self, conn: Connection, events: int) -> None:
        try:
            self.epoll.modify(conn.fd, events)
        except (OSError, ValueError):
            pass  # closed meanwhile

    def _count(self, reason: str) -> None:
        if self.routes is not None:
            self.routes.dropped(reason)

    # --- pool threads: answer whole requests ---

    def _serve_requests(self) -> None:
        while (item := self.work.get()) is not None:
            conn, request = item
            try:
                self._answer(conn, request)
            except Exception:
                log.exception("answering %s %s", request.method, request.target)
                self._give_back(conn, _CLOSE)

    def _answer(self, conn: Connection, request: http11.Request) -> None:
        keep = request.keep_alive and not self.stopping
        data = answers.respond(self.app, self.routes, request, keep_alive=keep, sock=conn.sock, peer=conn.peer,
                               server=conn.server, https=conn.tls, has_cert=conn.has_cert)
        conn.out, conn.keep, conn.linger = memoryview(data), keep, request.too_large
        done = conn.send()
        if done is None:
            self._give_back(conn, _CLOSE)
        elif done:
            self._answered(conn)
        else:
            self._give_back(conn, WRITING)
