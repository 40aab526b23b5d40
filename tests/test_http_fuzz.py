"""Property-based fuzzing of the request path (hypothesis): requests built from the pieces smuggling and framing
bugs are made of (framing headers with every kind of whitespace and digit, bare CR and LF, folded lines, chunk
lines, a request hidden in the body), fed to the reader in any split, and sent to the served extender.

What must hold: no exception but a refusal escapes the reader; the same bytes give the same requests however
they arrive; and a head whose framing could be read two ways gives no request at all, so what its body hides is
never answered."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_extender.http11 import BodyBudget, FramingError, RequestReader
from tests.support.raw_http import RawConnection
from tests.support.served import Served

DEMO = Path(__file__).parent.parent / "examples" / "demo" / "locations.json"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
LIMIT = 4096

ODD_SPACE = [b"\x00", b"\x0b", b"\x0c", b"\x85", b"\xa0", b"\r", b"\n", b"\x1f", b"\x7f"]
"""Bytes Python's strip() or a lax parser may take for whitespace, which HTTP's OWS (space, tab) is not."""
OWS = [b"", b" ", b"\t", b"  "]


@dataclass(frozen=True)
class Field:
    line: bytes
    framing: str | None
    """'length' or 'coding' for a Content-Length or Transfer-Encoding; None for another field."""
    clear: bool
    """Only one reading: OWS around a plain value, CRLF-terminated, a token name."""


def _framing_field() -> st.SearchStrategy[Field]:
    name = st.sampled_from([(b"Content-Length", "length"), (b"content-length", "length"),
                            (b"Transfer-Encoding", "coding"), (b"TRANSFER-ENCODING", "coding")])
    plain = {"length": st.sampled_from([b"0", b"5", b"43", b"007"]),
             "coding": st.sampled_from([b"chunked", b"Chunked"])}
    odd = {"length": st.sampled_from([b"\xb2", b"+5", b"-1", b"5, 5", b"5 5", b"0x5", b"\xd9\xa5", b""]),
           "coding": st.sampled_from([b"chunked, chunked", b"gzip, chunked", b"identity", b"chunked;q=1", b""])}

    @st.composite
    def build(draw: st.DrawFn) -> Field:
        label, kind = draw(name)
        spaces = st.sampled_from(OWS)
        if draw(st.booleans()):
            value, clear = draw(spaces) + draw(plain[kind]) + draw(spaces), True
        elif draw(st.booleans()):
            odd_space = st.sampled_from(ODD_SPACE)
            value, clear = draw(odd_space) + draw(plain[kind]) + draw(odd_space), False
        else:
            value, clear = draw(odd[kind]), False
        separator = draw(st.sampled_from([b":", b":", b" :", b":\r\n "]))
        return Field(label + separator + value, kind, clear and separator == b":")

    return build()


other_fields = st.sampled_from([
    Field(b"Host: x", None, True), Field(b"X: y", None, True), Field(b"Connection: close", None, True),
    Field(b"Expect: 100-continue", None, True), Field(b"X: y\nZ: w", None, False), Field(b"X: a\rb", None, False),
    Field(b"X:\r\n folded", None, False), Field(b"X\x00: y", None, False),
])
bodies = st.lists(st.sampled_from([b"0\r\n\r\n", b"5\r\nhello\r\n", b"5;a\nb\r\nhello\r\n", b"0 \r\n\r\n",
                                   b"hello", SMUGGLED, b"\r\n", b"\n"]), max_size=4).map(b"".join)


@st.composite
def messages(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A request with a hidden one behind it, and whether its framing has only one reading."""
    fields = draw(st.lists(_framing_field() | other_fields, max_size=5))
    fields.insert(draw(st.integers(0, len(fields))), Field(b"Host: x", None, True))
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n"]))
    head = b"POST /filter HTTP/1.1" + eol + b"".join(f.line + eol for f in fields) + eol
    framing = [f for f in fields if f.framing]
    clear = eol == b"\r\n" and all(f.clear for f in fields) and len(framing) <= 1
    return head + draw(bodies) + SMUGGLED, clear


def read(data: bytes, cuts: list[int]) -> tuple[list[tuple[str, str, bytes]], int | None]:
    """The requests read from `data` delivered in pieces cut at `cuts`, and the status of the refusal after them."""
    reader, found = RequestReader(LIMIT, BodyBudget(LIMIT)), []
    bounds = [0, *sorted(set(cuts)), len(data)]
    try:
        for start, end in zip(bounds, bounds[1:], strict=False):
            reader.feed(data[start:end])
            while (request := reader.next_request()) is not None:
                found.append((request.head.method, request.head.target, bytes(request.body)))
    except FramingError as refusal:
        return found, refusal.status
    return found, None


FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


@settings(FUZZ, max_examples=1000)
@given(message=messages(), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_requests_are_read_the_same_however_they_arrive_and_ambiguous_framing_yields_none(
        message: tuple[bytes, bool], cuts: list[int]) -> None:
    data, clear = message
    whole = read(data, [])
    assert read(data, [c for c in cuts if c < len(data)]) == whole
    assert read(data, list(range(len(data)))) == whole  # a byte at a time
    requests, refusal = whole
    if not clear:
        assert requests == [] and refusal in (400, 431, 501), (data, whole)


@settings(FUZZ, max_examples=3000)
@given(data=st.binary(max_size=300) | st.lists(st.sampled_from(
    [b"GET ", b"POST ", b"/", b" HTTP/1.1", b" HTTP/1.0", b"\r\n", b"\n", b"Host: x", b"Content-Length: 3",
     b"Transfer-Encoding: chunked", b":", b" ", b"\t", b"3", b"abc", b"0", b";", b"\x00", b"\xff"]),
    max_size=40).map(b"".join))
def test_no_bytes_make_the_reader_raise_anything_but_a_refusal(data: bytes) -> None:
    requests, refusal = read(data, [len(data) // 2])
    assert refusal is None or 400 <= refusal <= 505


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with Served("--locations-file", str(DEMO), "--max-body-size", str(LIMIT), "--log-level", "error") as server:
        yield server


STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) ")


@settings(FUZZ, max_examples=150)
@given(message=messages())
def test_the_served_extender_answers_an_ambiguous_request_once_and_never_with_a_5xx(
        served: Served, message: tuple[bytes, bool]) -> None:
    data, clear = message
    with RawConnection(served.port) as conn:
        conn.send(data)
        sent_back, _ = conn.after(0.2)
    statuses = [int(status) for status in STATUS_LINE.findall(sent_back)]
    assert all(status < 500 or status in (501, 505) for status in statuses), sent_back[:500]
    if not clear:
        assert len(statuses) <= 1 and b"/smuggled" not in sent_back, (data, sent_back[:500])
        assert statuses == [] or json.loads(sent_back.partition(b"\r\n\r\n")[2])["Error"]


def test_after_the_fuzzing_the_same_worker_answers(served: Served) -> None:
    assert served.get("/healthz") == (200, {"status": "ok"})
    assert served.metrics().value("scheduler_extender_connections_dropped_total", reason="internal_error") == 0
