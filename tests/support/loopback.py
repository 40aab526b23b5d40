"""What the fake upstream servers share: a real HTTP server on 127.0.0.1 that can stop, start again on the
same port, and cut its open connections the way a crashed server does; and its faults (faults.py)."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import Fault, Faults


class CuttableServer(ThreadingHTTPServer):
    """Remembers its open connections so `cut_connections` can end them, keep-alive and streams included."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, fake: Any) -> None:
        self.fake = fake
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def cut_connections(self) -> None:
        with self.connections_lock:
            for conn in self.open_connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.open_connections.clear()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up, or a stop that cut the socket, is expected; stay quiet about it."""


class _Dropped(Exception):
    """A fault's `drop`: the request gets no answer, its connection is closed."""


class TrackedHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive and chunked streams, as the real servers) and registered with its server."""

    protocol_version = "HTTP/1.1"
    server: CuttableServer

    def setup(self) -> None:
        super().setup()
        # A handler writes the status line and headers, then the body, in two sends: with Nagle's algorithm on,
        # the body waits for the client's delayed ACK of the headers (~40 ms on Linux loopback), which no real
        # server (Jetty, Go's net/http, netty) makes a client wait.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_body(self, status: int, body: bytes, content_type: str = "application/json",
                  headers: tuple[tuple[str, str], ...] = ()) -> None:
        """One whole answer with a Content-Length."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def take_fault(self, **request: Any) -> Fault | None:
        """The fault this request gets (counted under `request`, see Faults.take), after its delay; a fault that
        drops the request ends it here, unanswered."""
        fault: Fault | None = self.server.fake.faults.take(**request)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.drop:
                raise _Dropped
        return fault

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _Dropped:
            self.close_connection = True


class LoopbackServer:
    """Lifecycle of a fake: `with Fake() as fake:`, `url`, `stop()`/`start()` on the same port, `restart()`;
    `inject(...)` and `clear_faults()` for its faults."""

    def __init__(self, handler: type[TrackedHandler], name: str, host: str = "127.0.0.1",
                 fault_attributes: tuple[str, ...] = (), unmodelled_faults: tuple[str, ...] = ()) -> None:
        """`host`: the loopback address to listen on (any of 127.0.0.0/8). `fault_attributes`: what identifies a
        request to this fake, for a fault to match; `unmodelled_faults`: the Fault fields it does not play (see
        Faults)."""
        self._handler = handler
        self._name = name
        self._server: CuttableServer | None = None
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = 0
        self.faults = Faults(*fault_attributes, unmodelled=unmodelled_faults)

    def inject(self, **fault: Any) -> Fault:
        """Add a Fault (see its fields) matching requests by this fake's attributes; the first that matches applies
        to each request."""
        return self.faults.inject(**fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen (on the same port as before after a `stop`) and serve in a background thread."""
        self._server = CuttableServer((self.host, self.port), self._handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name=self._name,
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut every open connection, like a server that went down; state is kept."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._before_cut()
        self._server.cut_connections()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def _before_cut(self) -> None:
        """Hook for a fake that must end its own streams first."""

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StandbyWebPort:
    """A port on 127.0.0.1 that takes each connection and closes it unanswered (a reset): what the web port of a
    standby Alluxio 2.9 master does (its web server serves the primary only; tests/alluxio/test_ha.py checks that
    a real standby does this). `with StandbyWebPort() as standby:`, then `standby.url`."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._reject, name="standby-web-port", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _reject(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()

    def __enter__(self) -> StandbyWebPort:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
        self._thread.join(5)
