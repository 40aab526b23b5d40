"""Fuzzed input over HTTP against the served extender (fake Alluxio behind it): never a 5xx, never a crash
or a hung worker; every refusal is JSON with a reason. benchmarks/fuzz_run.py sends 100,000 of these."""
from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_extender.config import Settings
from tests.support import fuzz_inputs
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.full_nodes import nodes_body_size
from tests.support.served import Served

LIMIT = 1 << 20
"""A 1 MiB body limit here, so that 413s are cheap to provoke."""

FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Target:
    def __init__(self, served: Served) -> None:
        self.served = served
        self.client = fuzz_inputs.Client(served.port, timeout=10)
        self.worker = served.worker_pid()
        self.slowest = 0.0

    def check(self, verb: str, sent: bytes | str, got: fuzz_inputs.Exchange) -> None:
        """The answer is right, and the input crashed no worker (nor made gunicorn kill one as hung)."""
        self.slowest = max(self.slowest, got.seconds)
        wrong = fuzz_inputs.problem(verb, sent, got, LIMIT)
        assert wrong is None, f"{verb} {sent[:300]!r}: {wrong}"
        assert self.served.worker_pid() == self.worker, f"{verb} {sent[:300]!r}: the worker is a new one"


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with FakeAlluxio() as fake:
        fuzz_inputs.load_dataset(fake)
        with Served("--alluxio-proxy", fake.url, "--max-body-size", str(LIMIT),
                    "--log-level", "error") as served:
            target = Target(served)
            yield target
            target.client.close()


@settings(FUZZ, max_examples=1000)
@given(verb=st.sampled_from(fuzz_inputs.VERBS), body=fuzz_inputs.raw_bodies())
def test_fuzzed_filter_and_prioritize_bodies(target: Target, verb: str, body: bytes) -> None:
    target.check(verb, body, target.client.send("POST", f"/{verb}", body))


@settings(FUZZ, max_examples=400)
@given(query=fuzz_inputs.locality_queries())
def test_fuzzed_locality_queries(target: Target, query: str) -> None:
    target.check("locality", query, target.client.send("GET", f"/locality?{query}"))


def test_the_seeds_are_answered_200(target: Target) -> None:
    """The unmutated recorded bodies must pass, or the fuzzing above would only ever test refusals."""
    for body in fuzz_inputs.seeds():
        sent = json.dumps(body).encode()
        for verb in fuzz_inputs.VERBS:
            got = target.client.send("POST", f"/{verb}", sent)
            assert got.status == 200, got.body[:300]
            target.check(verb, sent, got)


def test_a_body_over_the_limit_is_refused_before_it_is_read(target: Target) -> None:
    """A 413 comes back as soon as the headers announce too much: the body is never sent in full."""
    with socket.create_connection(("127.0.0.1", target.served.port), timeout=5) as sock:
        start = time.monotonic()
        sock.sendall(b"POST /prioritize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n{\"Pod\":" % (LIMIT + 1))
        answer = _read_answer(sock)
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b'"Error"' in answer and time.monotonic() - start < 2


def test_a_chunked_body_over_the_limit_is_a_413(target: Target) -> None:
    chunk = b"[" + b" " * 65534 + b"]"
    with socket.create_connection(("127.0.0.1", target.served.port), timeout=10) as sock:
        sock.sendall(b"POST /filter HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(LIMIT // len(chunk) + 2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the last chunks: that is the point
        answer = _read_answer(sock)
        assert answer.startswith(b"HTTP/1.1 413 ") and b'"Error"' in answer, answer[:200]


def test_the_default_body_limit_holds_10000_full_nodes() -> None:
    """The arithmetic behind --max-body-size's default: 10,000 full Node objects fit with room to spare,
    and the limit is not so far above them that it stops meaning anything."""
    needed = nodes_body_size(10_000)
    assert 170 * (1 << 20) < needed < 180 * (1 << 20)  # 18.3 KB a node: tests/support/full_nodes.py
    assert 1.25 * needed < Settings().max_body_size < 2 * needed



def test_after_every_input_the_worker_answers_and_none_took_long(target: Target) -> None:
    """Last in the module, after all the inputs above: still answering, and no answer came anywhere near the
    client's timeout."""
    assert target.served.worker_pid() == target.worker
    assert target.served.get("/healthz")[0] == 200
    assert target.slowest < 5, f"slowest answer {target.slowest:.2f}s"


def _read_answer(sock: socket.socket) -> bytes:
    """One whole HTTP answer with a Content-Length, however the server's writes arrive."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or b"\r\n\r\n"
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), b"0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_the_oracle_flags_every_kind_of_wrong_answer() -> None:
    """The checks above can fail: each wrong answer is caught, and a right one passes."""
    names = json.dumps({"Pod": {}, "NodeNames": ["a", "b"]}).encode()

    def judged(verb: str, status: int, answer: object, content_type: str = "application/json",
               sent: bytes | str = names) -> str:
        """What the oracle finds wrong with the answer, "" if nothing."""
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        return fuzz_inputs.problem(verb, sent, fuzz_inputs.Exchange(status, content_type, body, 0.0), LIMIT) or ""

    assert judged("prioritize", 200, [{"Host": "a", "Score": 3}]) == ""
    assert judged("prioritize", 200, []) == ""
    assert judged("filter", 200, {"NodeNames": ["a"], "Nodes": None, "FailedNodes": {},
                                  "FailedAndUnresolvableNodes": {"b": "no worker"}, "Error": ""}) == ""
    assert judged("prioritize", 500, {"Error": "internal error"}) == "HTTP 500"
    assert "text/html" in judged("prioritize", 400, b"<html>", content_type="text/html")
    assert "without an Error" in judged("filter", 400, {"error": "lower case"})
    assert "413 for" in judged("filter", 413, {"Error": "too large"})
    assert "not of the candidates" in judged("prioritize", 200, [{"Host": "b", "Score": 3}, {"Host": "a", "Score": 1}])
    assert "not of the candidates" in judged("prioritize", 200, [{"Host": "c", "Score": 3}])
    assert "not of the candidates" in judged("prioritize", 200, [{"Host": "a", "Score": 3}, {"Host": "a", "Score": 3}])
    assert "1..10" in judged("prioritize", 200, [{"Host": "a", "Score": 11}, {"Host": "b", "Score": True}])
    assert "1..10" in judged("prioritize", 200, [{"Host": "a", "Score": 0}])
    assert "passed" in judged("filter", 200, {"NodeNames": ["a"], "Nodes": None, "FailedNodes": {},
                                             "FailedAndUnresolvableNodes": {}, "Error": ""})
    assert "not an ExtenderArgs" in judged("prioritize", 200, [], sent=b"{not json")
    assert "/locality answered" in judged("locality", 200, {"paths": []}, sent="path=/x")
