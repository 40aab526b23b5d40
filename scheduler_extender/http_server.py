"""The HTTP/1.1 server: requests are read whole before anything waits on them.

gunicorn's threaded worker reads each request in a pool thread, so a few clients that send half a request
and stall hold every thread. Here every socket is non-blocking and registered one-shot in one epoll set,
which all `threads` serving threads wait on: the thread an event wakes reads what arrived, does a TLS
handshake step or writes more of an answer, and goes back to waiting, unless a request is now whole: that
one it answers itself, in one write (a hand-off to another thread cost 0.05 ms of CPU per call). What
does not fit in the socket buffer is written on later events, so a client that does not read costs no
thread either. The calling thread sweeps deadlines: a request not whole within the read timeout is
answered 408 and closed, an answer not taken within it dropped, an idle connection closed after
`keepalive` seconds. What a request is answered with is answers.py's business.

Nothing a client sends ends a thread: an exception on a connection's event is a bug of ours, answered
500, its connection closed, logged with its traceback and counted (connections_dropped, internal_error).
Should a serving thread end anyway, the sweeping thread raises, the worker process exits and gunicorn
starts another, rather than a worker that beats its heartbeat but answers nothing.
"""
from __future__ import annotations

import errno
import logging
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable

from . import answers, http11
from .connection import BUSY, CLOSED, HANDSHAKE, IDLE, LINGER, READING, WRITING, Connection, Limits

log = logging.getLogger(__name__)

_IN = select.EPOLLIN | select.EPOLLONESHOT
_OUT = select.EPOLLOUT | select.EPOLLONESHOT
LINGER_SECONDS = 2.0
"""After refusing a request whose body may still be arriving: read and discard this long before closing,
so the client reads the refusal rather than a reset. Also how long idle connections stay once stopping."""


class Server:
    def __init__(self, listeners: list[socket.socket], app: answers.WsgiApp, limits: Limits, *,
                 ssl_context: ssl.SSLContext | None, wake: int) -> None:
        """`wake`: a non-blocking fd that turns readable to wake the sweeping thread (the signal wake-up fd)."""
        self.listeners = {listener.fileno(): listener for listener in listeners}
        self.app, self.limits, self.ssl_context, self.wake = app, limits, ssl_context, wake
        self.routes = answers.routes_of(app)
        self.budget = http11.BodyBudget(limits.max_buffered)
        if self.routes is not None:
            self.routes.holding(lambda: self.budget.held)
        self.epoll = select.epoll()
        self.conns: dict[int, Connection] = {}
        self.conns_lock = threading.Lock()
        self.stopping = self._accept_paused = False
        self._stop_r, self._stop_w = os.pipe()

    def serve(self, running: Callable[[], bool], beat: Callable[[], None]) -> None:
        """Serve until `running()` turns false, then let requests in flight finish (for at most the
        graceful timeout); `beat` is called about every second."""
        for fd, listener in self.listeners.items():
            listener.setblocking(False)
            self.epoll.register(fd, _IN)
        self.epoll.register(self._stop_r, select.EPOLLIN)
        threads = [threading.Thread(target=self._serve_events, name=f"http-{i}", daemon=True)
                   for i in range(self.limits.threads)]
        for thread in threads:
            thread.start()
        beaten = due = stop_at = 0.0
        while not self.stopping or (self.conns and time.monotonic() < stop_at):
            _check_alive(threads)
            if select.select([self.wake], [], [], max(0.0, due - time.monotonic()))[0]:
                _drain(self.wake)
            now = time.monotonic()
            if now >= due:
                due = self._sweep(now)
            if now - beaten >= 1.0:
                beaten = now
                beat()
            if not self.stopping and not running():
                self.stopping, stop_at, due = True, now + self.limits.graceful_timeout, now
                self._stop_accepting(now)
        os.write(self._stop_w, b".")  # readable from now on: every serving thread wakes and returns
        for thread in threads:
            thread.join(timeout=1)
        for conn in list(self.conns.values()):
            self._close(conn)
        self.epoll.close()
        os.close(self._stop_r)
        os.close(self._stop_w)

    def _stop_accepting(self, now: float) -> None:
        """No new connections; idle ones get a moment for a request on its way (answered, then closed)."""
        listeners, self.listeners = self.listeners, {}
        for fd, listener in listeners.items():
            self.epoll.unregister(fd)
            listener.close()
        for conn in list(self.conns.values()):
            if conn.state == IDLE:
                conn.deadline = min(conn.deadline, now + LINGER_SECONDS)

    def _sweep(self, now: float) -> float:
        """Close what is past its deadline (a connection a serving thread is on waits for the next sweep).
        Returns when to sweep next: at the next deadline, at least every tenth of the read timeout (so one
        set meanwhile is seen before it passes), at most 20 times a second: deadlines hold to 50 ms."""
        due = now + min(1.0, self.limits.read_timeout / 10)
        if self._accept_paused:
            self._accept_paused = False
            for fd in list(self.listeners):
                self._arm(fd, _IN)
        with self.conns_lock:
            conns = list(self.conns.values())
        for conn in conns:
            if conn.deadline > now:
                due = min(due, conn.deadline)
            elif conn.lock.acquire(blocking=False):
                try:
                    if conn.state not in (BUSY, CLOSED) and conn.deadline <= now:
                        reason = conn.expire(self.limits.read_timeout)
                        if reason:
                            self._count(reason)
                        self._close(conn)
                finally:
                    conn.lock.release()
        return max(due, now + 0.05)

    # --- serving threads: one event at a time, each on a connection no other thread touches meanwhile ---

    def _serve_events(self) -> None:
        while True:
            for fd, _ in self.epoll.poll(-1, 1):
                if fd == self._stop_r:
                    return
                listener = self.listeners.get(fd)
                if listener is not None:
                    self._accept(listener)
                    continue
                conn = self.conns.get(fd)
                if conn is None:
                    continue
                with conn.lock:
                    if conn.state != CLOSED:
                        try:
                            self._on_event(conn)
                        except Exception:
                            self._fail(conn)

    def _fail(self, conn: Connection) -> None:
        """A bug met on this connection: the client gets a 500 and the connection is closed."""
        log.exception("internal error serving a connection from %s; answered 500 and closed", conn.peer)
        self._count("internal_error")
        conn.send_now(http11.error_answer(500, "internal error"))
        self._close(conn)

    def _accept(self, listener: socket.socket) -> None:
        """Accept what is waiting; the listener is armed again after, except when out of descriptors
        (then the next sweep arms it, rather than every serving thread spinning on it)."""
        for _ in range(64):
            try:
                client, peer = listener.accept()
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.ECONNABORTED:
                    continue
                if err.errno != errno.EBADF:  # EBADF: closed as the server stops
                    log.warning("accept: %s; accepting again in 50 ms", err)
                    self._accept_paused = True
                return
            if len(self.conns) >= self.limits.max_connections:
                self._evict_idle()
            try:
                conn = Connection.accepted(client, peer, listener.getsockname(), self.ssl_context, self.limits,
                                           self.budget)
            except OSError:  # reset before it could be set up
                client.close()
                continue
            with self.conns_lock:
                self.conns[conn.fd] = conn
            self.epoll.register(conn.fd, _IN)
        self._arm(listener.fileno(), _IN)

    def _evict_idle(self) -> None:
        """At the connection limit: make room by closing the idle connection closest to its timeout."""
        with self.conns_lock:
            idle = sorted((c for c in self.conns.values() if c.state == IDLE), key=lambda c: c.deadline)
        for conn in idle:
            if conn.lock.acquire(blocking=False):
                try:
                    if conn.state == IDLE:
                        self._close(conn)
                        return
                finally:
                    conn.lock.release()

    def _on_event(self, conn: Connection) -> None:
        if conn.state == WRITING:
            if self._write(conn):
                self._serve_whole(conn)
        elif conn.state == HANDSHAKE:
            try:
                wanted = conn.handshake()
            except OSError:
                self._count("tls_error")
                self._close(conn)
                return
            if wanted:
                self._arm(conn.fd, wanted | select.EPOLLONESHOT)
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
        self._serve_whole(conn)

    def _serve_whole(self, conn: Connection) -> None:
        """Answer each whole request the reader holds (pipelined ones in order), then wait for more."""
        while True:
            try:
                request = conn.reader.next_request()
            except http11.FramingError as err:
                self._count("over_budget" if err.status == 503 else "bad_request")
                conn.send_now(http11.error_answer(err.status, f"cannot read the request: {err}"))
                self._start_linger(conn)
                return
            if request is None:
                if conn.reader.continue_wanted:
                    conn.reader.continue_wanted = False
                    conn.send_now(http11.CONTINUE)
                self._arm(conn.fd, _IN)
                return
            if not self._answer(conn, request):
                return

    def _answer(self, conn: Connection, request: http11.Request) -> bool:
        """Answer `request`; True when the answer is written and the connection is ready for the next."""
        conn.state = BUSY
        keep = request.keep_alive and not self.stopping
        try:
            data = answers.respond(self.app, self.routes, request, keep_alive=keep, sock=conn.sock,
                                   peer=conn.peer, server=conn.server, https=conn.tls, has_cert=conn.has_cert)
        except Exception:
            log.exception("answering %s %s", request.head.method, request.head.target)
            self._count("internal_error")
            data, keep = http11.error_answer(500, "internal error"), False
        conn.answering = request
        conn.out, conn.keep, conn.linger = memoryview(data), keep, request.too_large
        return self._write(conn)

    def _write(self, conn: Connection) -> bool:
        """Write more of the answer; True once it is all written and the connection waits for its next
        request (what is left waits for the socket to take it; a connection not kept is closed)."""
        done = conn.send()
        if done:
            conn.answered()
        if done is None:
            self._close(conn)
        elif not done:
            if conn.state != WRITING:
                conn.state, conn.deadline = WRITING, time.monotonic() + self.limits.read_timeout
            self._arm(conn.fd, _OUT)
        elif not conn.keep:
            if conn.linger:
                self._start_linger(conn)
            else:
                self._close(conn)
        else:
            started = conn.reader.started
            conn.state = READING if started else IDLE
            conn.deadline = time.monotonic() + (self.limits.read_timeout if started else self.limits.keepalive)
            return True
        return False

    def _start_linger(self, conn: Connection) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.state, conn.deadline = LINGER, time.monotonic() + LINGER_SECONDS
        self._linger(conn)

    def _linger(self, conn: Connection) -> None:
        if conn.discard():
            self._close(conn)
        else:
            self._arm(conn.fd, _IN)

    # --- any thread ---

    def _close(self, conn: Connection) -> None:
        if conn.state == CLOSED:  # its fd may be another connection's by now
            return
        with self.conns_lock:
            if self.conns.get(conn.fd) is conn:
                del self.conns[conn.fd]
        try:
            self.epoll.unregister(conn.fd)
        except (OSError, ValueError):
            pass
        conn.close()

    def _arm(self, fd: int, events: int) -> None:
        try:
            self.epoll.modify(fd, events)
        except (OSError, ValueError):
            pass  # closed meanwhile

    def _count(self, reason: str) -> None:
        if self.routes is not None:
            self.routes.dropped(reason)


def _check_alive(threads: list[threading.Thread]) -> None:
    """Raise if a serving thread has ended before the server stopped: the worker must exit and be replaced."""
    for thread in threads:
        if not thread.is_alive():
            raise RuntimeError(f"serving thread {thread.name} ended; exiting so that gunicorn starts another worker")


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
