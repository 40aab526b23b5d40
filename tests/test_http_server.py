"""The HTTP server under `scheduler-extender serve`, spoken to over raw sockets: stalled and slow clients
cost nothing, requests are read whole or refused with a JSON reason, keep-alive outlives the read timeout.
Timings here are bounds a failure would blow past, never measurements (those are in benchmarks/)."""
from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bodies import names_body, recorded
from tests.support.certs import Pki, make_pki
from tests.support.raw_http import Answer, RawConnection
from tests.support.served import Served
from tests.support.waiting import eventually

DEMO = Path(__file__).parent.parent / "examples" / "demo" / "locations.json"
READ_TIMEOUT = 1.0
BODY = json.dumps(names_body(["node-2", "node-3"], "/data/sales/2026-11")).encode()
RANKING = [{"Host": "node-2", "Score": 10}]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with Served("--locations-file", str(DEMO), "--read-timeout", f"{READ_TIMEOUT}s") as server:
        yield server


def connect(served: Served, tls: ssl.SSLContext | None = None) -> RawConnection:
    return RawConnection(served.port, tls=tls)


def request(body: bytes = BODY, path: str = "/prioritize", headers: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def closed_by_server(conn: RawConnection, within: float) -> bytes | None:
    """What the server sent before closing `conn`, or None if it was still open after `within` seconds."""
    sent, closed = conn.after(within)
    return sent if closed else None


def dropped(served: Served, reason: str) -> float:
    return served.metrics().value("scheduler_extender_connections_dropped_total", reason=reason)


def test_100_stalled_clients_do_not_delay_a_well_formed_call(served: Served) -> None:
    """Each sends its headers and 10 bytes of a 1,000-byte body, then nothing: more clients than threads,
    which under gunicorn's threaded worker left no thread to answer anyone."""
    before = dropped(served, "read_timeout")
    stalled = [connect(served) for _ in range(100)]
    for conn in stalled:
        conn.send(b"POST /prioritize HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + BODY[:10])
    last_stalled = time.monotonic()
    with connect(served) as conn:
        for _ in range(3):  # keep-alive: the same connection, call after call
            conn.send(request())
            answer = conn.answer()
            assert (answer.status, answer.json()) == (200, RANKING)
    for conn in stalled:
        sent = closed_by_server(conn, within=READ_TIMEOUT + 10)
        assert sent is not None, "a stalled connection was never dropped"
        assert sent.startswith(b"HTTP/1.1 408 ") and b"--read-timeout 1s" in sent, sent[:300]
        conn.close()
    assert time.monotonic() - last_stalled > READ_TIMEOUT * 0.9  # not before the timeout, for the last one
    assert dropped(served, "read_timeout") - before == 100


def test_a_request_trickling_in_is_dropped_at_the_read_timeout_from_its_first_byte(served: Served) -> None:
    """A byte every 0.2 s never lets it reach a full request: the timeout does not restart with each byte."""
    with connect(served) as conn:
        started, answer = time.monotonic(), None
        for byte in request():
            try:
                conn.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            answer = closed_by_server(conn, within=0.2)
            if answer is not None:
                break
        assert answer is not None and answer.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < READ_TIMEOUT + 10


def test_an_idle_keepalive_connection_outlives_the_read_timeout(served: Served) -> None:
    """The read timeout is for requests under way; between them a connection waits for the keep-alive
    timeout, longer than the 90 s after which kube-scheduler's Go client closes it itself."""
    with connect(served) as conn:
        conn.send(request())
        assert conn.answer().status == 200
        assert closed_by_server(conn, within=READ_TIMEOUT * 2.5) is None
        conn.send(request())
        assert conn.answer().status == 200


def test_pipelined_requests_are_answered_in_order(served: Served) -> None:
    with connect(served) as conn:
        conn.send(request() + request(path="/filter") + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = [conn.answer() for _ in range(3)]
    assert answers[0].json() == RANKING
    assert answers[1].json()["NodeNames"] == ["node-2", "node-3"]
    assert answers[2].json() == {"status": "ok"}


def test_expect_100_continue_and_chunked_bodies(served: Served) -> None:
    with connect(served) as conn:
        conn.send(b"POST /prioritize HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(BODY))
        assert conn.answer() == Answer(100, {}, b"")
        conn.send(BODY)
        assert conn.answer().json() == RANKING
        chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(BODY[i:i + 100]), BODY[i:i + 100])
                          for i in range(0, len(BODY), 100))
        conn.send(b"POST /prioritize HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + chunks + b"0\r\nX-Trailer: y\r\n\r\n")
        assert conn.answer().json() == RANKING


@pytest.mark.parametrize(("sent", "status", "reason"), [
    (b"GARBAGE\r\n\r\n", 501, "method not implemented"),
    (b"GET /\r\n\r\n", 505, "HTTP/0.9"),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "unsupported version"),
    (b"GET / HTTP/1.1\r\n\r\n", 400, "Host"),
    (b"POST /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, "Content-Length"),
    (b"POST /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
     "Transfer-Encoding can't be present with Content-Length"),
    (b"POST /filter HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip"),
    (b"POST /filter HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "gzip"),
    (b"POST /filter HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk size"),
    (b"GET / HTTP/1.1\r\nX: " + b"y" * 70000, 431, "over 65536 bytes"),
])
def test_what_is_not_http_is_refused_with_a_json_reason(served: Served, sent: bytes, status: int,
                                                        reason: str) -> None:
    with connect(served) as conn:
        conn.send(sent)
        answer = conn.answer()
        assert answer.status == status and reason in answer.json()["Error"] and answer.headers["connection"] == "close"
        assert closed_by_server(conn, within=10) == b""


def test_a_client_that_does_not_read_its_answer_holds_no_thread(served: Served) -> None:
    """/filter echoes every Node: 30,000 of them make a 10 MB answer, more than the socket buffers hold.
    Four such clients (as many as threads) that never read do not stop a fifth from being answered, and
    are dropped once the read timeout passes without their taking any more."""
    node = recorded("filter-nodecachecapable-false")["Nodes"]["items"][0]
    big = json.dumps({"Pod": {}, "NodeNames": None, "Nodes": {"items": [node] * 30000}}).encode()
    before = dropped(served, "write_timeout")
    readers = []
    for _ in range(4):
        conn = connect(served)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.send(request(big, path="/filter"))
        readers.append(conn)
    with connect(served) as conn:
        conn.send(request())
        assert conn.answer().json() == RANKING
    eventually(lambda: dropped(served, "write_timeout") - before >= 4, READ_TIMEOUT + 30, interval=0.2,
               what="the four readers dropped")
    assert dropped(served, "write_timeout") - before == 4
    for conn in readers:
        conn.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_tls_handshakes_that_stall_are_dropped_and_others_answered(pki: Pki) -> None:
    """A client that opens a TLS connection and never sends its ClientHello (or half of it) costs no
    thread: the handshake is read by the loop, and dropped at the read timeout."""
    context = ssl.create_default_context(cafile=str(pki.server_ca))
    with Served("--locations-file", str(DEMO), "--read-timeout", f"{READ_TIMEOUT}s", "--tls-cert-file",
                str(pki.server_cert), "--tls-private-key-file", str(pki.server_key), tls=context) as served:
        silent = [connect(served) for _ in range(10)]
        for conn in silent[5:]:
            conn.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
        with connect(served, tls=context) as conn:
            conn.send(request())
            assert conn.answer().json() == RANKING
        for conn in silent:
            assert closed_by_server(conn, within=READ_TIMEOUT + 10) is not None
            conn.close()
        assert dropped(served, "read_timeout") == 10
