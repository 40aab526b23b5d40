"""The load generator: a separate process that POSTs extender requests over keep-alive loopback connections.

    python -m benchmarks.loadgen SPEC.json OUT.json

Kinds of run (every one bounded by a request count and by time):
- `latency`: one connection, closed loop: send, read the whole answer, send the next (kube-scheduler calls
  an extender for one pod at a time). Latency = send of the request to the last byte of the answer.
- `throughput`: `connections` connections, each closed loop, in threads (the socket calls release the GIL);
  throughput = answers / wall time.
- `paced`: one connection sending at a fixed rate (open loop; a request due while the previous one is still
  out waits for it, and is counted late).

The client is a minimal HTTP/1.1 one on a raw socket with TCP_NODELAY: the request goes out in one send
(two for bodies over 64 KiB), the answer is read by Content-Length. It costs a few tens of microseconds per
request, which the latencies include.
"""
from __future__ import annotations

import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .bodies import cell_bodies
from .dataset import Spec


class HttpError(OSError):
    """An answer this client cannot read."""


class Connection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.buf = b""
        self.reconnects = 0

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buf = sock, b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        fresh = self.sock is None
        sock = self.sock or self._connect()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        try:
            if len(body) <= 65536:
                sock.sendall(head + body)
            else:
                sock.sendall(head)
                sock.sendall(body)
            return self._read()
        except HttpError:
            self.close()
            raise
        except ConnectionError:
            self.close()
            if fresh:
                raise
            # A keep-alive connection the server closed between requests: once more on a new one.
            self.reconnects += 1
            return self.post(path, body)

    def _read(self) -> tuple[int, bytes]:
        sock = self.sock
        assert sock is not None
        while b"\r\n\r\n" not in self.buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("server closed the connection")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise HttpError(f"answer without Content-Length: {headers}")
        length = int(headers["content-length"])
        if len(rest) >= length:
            body, self.buf = rest[:length], rest[length:]
        else:
            body_buf = bytearray(length)
            view = memoryview(body_buf)
            view[:len(rest)] = rest
            got = len(rest)
            while got < length:
                n = sock.recv_into(view[got:], min(length - got, 1 << 20))
                if not n:
                    raise ConnectionResetError("server closed the connection mid-answer")
                got += n
            body, self.buf = bytes(body_buf), b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body


def _loop(conn: Connection, path: str, bodies: list[bytes], deadline: float, max_count: int, counter: list[int],
          lock: threading.Lock, out: list[float], errors: list[str], start_index: int = 0) -> None:
    i = start_index
    while True:
        with lock:
            if counter[0] >= max_count or time.perf_counter() >= deadline:
                return
            counter[0] += 1
        body = bodies[i % len(bodies)]
        i += 1
        t0 = time.perf_counter()
        try:
            status, answer = conn.post(path, body)
        except OSError as err:
            errors.append(f"{type(err).__name__}: {err}")
            conn.close()
            continue
        elapsed = time.perf_counter() - t0
        if status != 200:
            errors.append(f"HTTP {status}: {answer[:200]!r}")
        else:
            out.append(elapsed * 1000)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    built = time.perf_counter()
    if "cell" in spec:
        c = spec["cell"]
        bodies = cell_bodies(Spec(**c["spec"]), c["mode"], c["n"], c["workload"])
    else:
        bodies = [Path(p).read_bytes() for p in spec["body_files"]]
    if spec.get("pods"):
        bodies = bodies[:spec["pods"]]
    build_s = time.perf_counter() - built
    host, port, path = spec.get("host", "127.0.0.1"), spec["port"], spec["path"]
    timeout = spec.get("timeout", 60.0)
    kind = spec["kind"]
    duration, max_count = float(spec["duration"]), int(spec["max_count"])
    errors: list[str] = []
    # Warm-up: a few requests on each connection, not counted (first-use costs, the server's name-book cache).
    connections = [Connection(host, port, timeout) for _ in range(spec.get("connections", 1))]
    for conn in connections:
        for i in range(min(spec.get("warmup", 3), len(bodies) * 2)):
            try:
                conn.post(path, bodies[i % len(bodies)])
            except OSError as err:
                errors.append(f"warm-up {type(err).__name__}: {err}")
    lock = threading.Lock()
    counter = [0]
    latencies: list[list[float]] = [[] for _ in connections]
    late = 0
    started = time.perf_counter()
    deadline = started + duration
    if kind == "latency":
        _loop(connections[0], path, bodies, deadline, max_count, counter, lock, latencies[0], errors)
    elif kind == "throughput":
        threads = [threading.Thread(target=_loop, args=(conn, path, bodies, deadline, max_count, counter, lock,
                                                        latencies[i], errors, i))
                   for i, conn in enumerate(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elif kind == "paced":
        interval = 1.0 / float(spec["rate"])
        conn, due, i = connections[0], started, 0
        while i < max_count and time.perf_counter() < deadline:
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -interval:
                late += 1
            t0 = time.perf_counter()
            try:
                status, answer = conn.post(path, bodies[i % len(bodies)])
                if status == 200:
                    latencies[0].append((time.perf_counter() - t0) * 1000)
                else:
                    errors.append(f"HTTP {status}: {answer[:200]!r}")
            except OSError as err:
                errors.append(f"{type(err).__name__}: {err}")
                conn.close()
            i += 1
            due += interval
    else:
        raise ValueError(kind)
    elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    merged = [x for per in latencies for x in per]
    return {"kind": kind, "connections": len(connections), "latencies_ms": merged, "count": len(merged),
            "errors": len(errors), "error_samples": errors[:5], "elapsed_s": elapsed,
            "throughput_rps": len(merged) / elapsed if elapsed > 0 else None, "late": late,
            "reconnects": sum(c.reconnects for c in connections), "bodies": len(bodies),
            "body_bytes": len(bodies[0]), "build_s": build_s}


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(run(spec)))


if __name__ == "__main__":
    main()
