"""The HTTP/1.1 request reader on plain bytes: whole requests however the bytes arrive, RFC 9112 framing, a body
held once, and the budget of body bytes across connections."""
from __future__ import annotations

import tracemalloc

import pytest

from scheduler_extender.http11 import BodyBudget, FramingError, Request, RequestReader, answer, error_answer

POST = b"POST /prioritize HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"


def read_all(data: bytes, max_body: int = 1000, step: int | None = None,
             budget: BodyBudget | None = None) -> list[Request]:
    reader, found = RequestReader(max_body, budget or BodyBudget(1 << 30)), []
    for i in range(0, len(data), step or len(data)):
        reader.feed(data[i:i + (step or len(data))])
        while (request := reader.next_request()) is not None:
            found.append(request)
    return found


def test_a_request_fed_a_byte_at_a_time_is_the_same_request() -> None:
    whole, trickled = read_all(POST * 2), read_all(POST * 2, step=1)
    assert whole == trickled and len(whole) == 2
    head = whole[0].head
    assert (head.method, head.target, bytes(whole[0].body), whole[0].keep_alive) == ("POST", "/prioritize", b"{}", True)
    assert head.headers == [("host", "x"), ("content-length", "2")]


def test_nothing_until_the_body_is_whole() -> None:
    reader = RequestReader(1000, BodyBudget(1000))
    reader.feed(POST[:-1])
    assert reader.started and reader.next_request() is None
    reader.feed(POST[-1:])
    assert reader.next_request() is not None and not reader.started


@pytest.mark.parametrize(("head", "keep_alive"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n", True), (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n", False),
    (b"GET / HTTP/1.0\r\n", False), (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n", True),
    (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, close\r\n", False),
])
def test_keep_alive_follows_the_version_and_connection_header(head: bytes, keep_alive: bool) -> None:
    assert read_all(head + b"\r\n")[0].keep_alive is keep_alive


def test_absolute_form_targets_keep_path_and_query() -> None:
    assert read_all(b"GET http://extender:8888/locality?path=/x HTTP/1.1\r\nHost: extender\r\n\r\n")[0].head.target \
        == "/locality?path=/x"
    assert read_all(b"GET http://extender HTTP/1.1\r\nHost: extender\r\n\r\n")[0].head.target == "/"


def test_chunked_bodies_are_decoded_with_extensions_and_trailers() -> None:
    data = (b"POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n"
            b"0\r\nT: 1\r\n\r\n")
    assert [r.body for r in read_all(data + POST, step=5)] == [b"abc0123456789", b"{}"]


def test_a_leading_empty_line_is_ignored() -> None:
    """RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line."""
    assert [r.body for r in read_all(b"\r\n" + POST)] == [b"{}"]


def test_bodies_over_the_limit_are_not_read_and_stop_the_connection() -> None:
    reader = RequestReader(10, BodyBudget(100))
    reader.feed(b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n" + POST)
    announced = reader.next_request()
    assert announced is not None and announced.too_large and announced.body == b"" and not announced.keep_alive
    with pytest.raises(FramingError):  # nothing after it is read as a request
        reader.next_request()
    reader = RequestReader(10, BodyBudget(100))
    reader.feed(b"POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n"
                b"8\r\n12345678\r\n")
    chunked = reader.next_request()
    assert chunked is not None and chunked.too_large and chunked.body == b""


def test_expect_100_continue_is_wanted_only_before_the_body() -> None:
    reader = RequestReader(1000, BodyBudget(1000))
    reader.feed(b"POST /f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert reader.next_request() is None and reader.continue_wanted
    sent = RequestReader(1000, BodyBudget(1000))
    sent.feed(b"POST /f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{")
    assert sent.next_request() is None and not sent.continue_wanted


@pytest.mark.parametrize(("data", "status"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n", 400), (b"GET / HTTP/1.1\r\nHost: x\r\n : v\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400), (b"GET / HTTP/1.1\r\nHost: x\r\nX\x01: v\r\n\r\n", 400),
    (b"GET / HTTP/3\r\n\r\n", 400), (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\n\r\n", 400), (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 100 + b"\r\n", 431),
    (b"GET / HTTP/1.1\r\nX: " + b"y" * 70000, 431),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 400),
    (b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n", 501), (b"CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n", 501),
])
def test_what_is_not_http_1_is_refused_with_a_status(data: bytes, status: int) -> None:
    with pytest.raises(FramingError) as refused:
        read_all(data, step=7)
    assert refused.value.status == status


def test_a_body_is_held_once() -> None:
    """A 16 MiB body fed in 256 KiB reads, as the server reads it: the reader allocates about the body's size
    once (a copy of it, or of the buffer it arrived in, would double that), and hands over the bytearray it
    filled."""
    size, read = 16 << 20, 256 << 10
    data = b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size
    reader = RequestReader(size, BodyBudget(size))
    tracemalloc.start()
    try:
        for i in range(0, len(data), read):
            reader.feed(memoryview(data)[i:i + read])
        request = reader.next_request()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert request is not None and len(request.body) == size and request.body.count(b"x") == size
    assert peak < 1.1 * size, f"reading a {size}-byte body allocated {peak} bytes at its peak"


def test_the_budget_refuses_a_body_past_it_and_takes_back_what_was_answered() -> None:
    budget = BodyBudget(5)
    first, second = RequestReader(1000, budget), RequestReader(1000, budget)
    first.feed(b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")  # announced: 4 bytes held
    second.feed(b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
    with pytest.raises(FramingError) as refused:
        second.next_request()
    assert refused.value.status == 503 and budget.held == 4
    first.feed(b"cd")
    request = first.next_request()
    assert request is not None and request.held == 4
    first.done(request)
    chunked = RequestReader(1000, budget)
    chunked.feed(b"POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    assert chunked.next_request() is None and budget.held == 3
    chunked.close()  # the client went away: what it held is given back
    assert budget.held == 0


def test_answers_are_one_buffer_with_a_length() -> None:
    assert answer(200, b"[]", keep_alive=True) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
    assert b"\r\nConnection: keep-alive\r\n" in answer(200, b"[]", keep_alive=True, version="HTTP/1.0")
    refusal = error_answer(408, "late")
    assert refusal.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"Connection: close\r\n" in refusal
    assert refusal.endswith(b'\r\n\r\n{"Error":"late"}')
    assert b"\r\nRetry-After: 1\r\n" in error_answer(503, "full")
