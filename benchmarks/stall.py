"""Stalled clients: a separate process that keeps N connections to a server each holding half a request.

    python -m benchmarks.stall SPEC.json OUT.json      (the slow-clients section starts it)

Each client sends a POST's headers (announcing a 1,000-byte body) and 10 bytes of the body, then nothing.
When the server drops one, the client notes how long after its last byte that came and whether it was
answered 408, and (with `reconnect`) stalls on a new connection, so N stay stalled throughout the window.
SPEC: port, clients, duration (s), reconnect, ready_file (written once the first N are connected).
"""
from __future__ import annotations

import json
import selectors
import socket
import sys
import time
from pathlib import Path
from typing import Any

from .stats import summary

HALF_REQUEST = (b"POST /prioritize HTTP/1.1\r\nHost: stalled\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n" + b'{"Pod": {"')


def run(spec: dict[str, Any]) -> dict[str, Any]:
    selector = selectors.DefaultSelector()
    stalled_at: dict[socket.socket, float] = {}
    answers: dict[socket.socket, bytes] = {}
    delays: list[float] = []
    refused = answered_408 = 0

    def stall() -> None:
        nonlocal refused
        try:
            sock = socket.create_connection(("127.0.0.1", spec["port"]), timeout=5)
            sock.sendall(HALF_REQUEST)
        except OSError:
            refused += 1
            return
        sock.setblocking(False)
        stalled_at[sock], answers[sock] = time.monotonic(), b""
        selector.register(sock, selectors.EVENT_READ)

    for _ in range(spec["clients"]):
        stall()
    Path(spec["ready_file"]).write_text(str(len(stalled_at)))
    deadline = time.monotonic() + spec["duration"]
    most = len(stalled_at)
    while time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.05):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                answers[sock] += data
                continue
            delays.append(time.monotonic() - stalled_at.pop(sock))
            answered_408 += answers.pop(sock).startswith(b"HTTP/1.1 408 ")
            selector.unregister(sock)
            sock.close()
            if spec["reconnect"]:
                stall()
        most = max(most, len(stalled_at))
    for sock in stalled_at:
        sock.close()
    return {"clients": spec["clients"], "most_stalled_at_once": most, "dropped": len(delays),
            "answered_408": answered_408, "still_stalled_at_end": len(stalled_at), "refused_connections": refused,
            "drop_delay_s": summary(delays)}


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(run(spec)))


if __name__ == "__main__":
    main()
