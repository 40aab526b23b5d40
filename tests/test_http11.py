"""The HTTP/1.1 request reader on plain bytes: whole requests however the bytes arrive, RFC 9112 framing."""
from __future__ import annotations

import pytest

from scheduler_extender.http11 import FramingError, Request, RequestReader, answer, error_answer

POST = b"POST /prioritize HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"


def read_all(data: bytes, max_body: int = 1000, step: int | None = None) -> list[Request]:
    reader, found = RequestReader(max_body), []
    for i in range(0, len(data), step or len(data)):
        reader.feed(data[i:i + (step or len(data))])
        while (request := reader.next_request()) is not None:
            found.append(request)
    return found


def test_a_request_fed_a_byte_at_a_time_is_the_same_request() -> None:
    whole, trickled = read_all(POST * 2), read_all(POST * 2, step=1)
    assert whole == trickled and len(whole) == 2
    head = whole[0].head
    assert (head.method, head.target, whole[0].body, whole[0].keep_alive) == ("POST", "/prioritize", b"{}", True)
    assert head.headers == [("host", "x"), ("content-length", "2")]


def test_nothing_until_the_body_is_whole() -> None:
    reader = RequestReader(1000)
    reader.feed(POST[:-1])
    assert reader.started and reader.next_request() is None
    reader.feed(POST[-1:])
    assert reader.next_request() is not None and not reader.started


@pytest.mark.parametrize(("head", "keep_alive"), [
    (b"GET / HTTP/1.1\r\n", True), (b"GET / HTTP/1.1\r\nConnection: close\r\n", False),
    (b"GET / HTTP/1.0\r\n", False), (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n", True),
    (b"GET / HTTP/1.1\r\nConnection: upgrade, close\r\n", False),
])
def test_keep_alive_follows_the_version_and_connection_header(head: bytes, keep_alive: bool) -> None:
    assert read_all(head + b"\r\n")[0].keep_alive is keep_alive


def test_absolute_form_targets_keep_path_and_query() -> None:
    assert read_all(b"GET http://extender:8888/locality?path=/x HTTP/1.1\r\n\r\n")[0].head.target == "/locality?path=/x"
    assert read_all(b"GET http://extender HTTP/1.1\r\n\r\n")[0].head.target == "/"


def test_chunked_bodies_are_decoded_with_extensions_and_trailers() -> None:
    data = b"POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n"
    assert [r.body for r in read_all(data + POST, step=5)] == [b"abc0123456789", b"{}"]


def test_bodies_over_the_limit_are_not_read_whole() -> None:
    announced = read_all(b"POST /f HTTP/1.1\r\nContent-Length: 11\r\n\r\n", max_body=10)[0]
    assert announced.too_large and announced.body == b"" and not announced.keep_alive
    chunked = read_all(b"POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n",
                       max_body=10)[0]
    assert chunked.too_large and chunked.body == b"12345678123" and chunked.head.content_length is None


def test_expect_100_continue_is_wanted_only_before_the_body() -> None:
    reader = RequestReader(1000)
    reader.feed(b"POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert reader.next_request() is None and reader.continue_wanted
    sent = RequestReader(1000)
    sent.feed(b"POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{")
    assert sent.next_request() is None and not sent.continue_wanted


@pytest.mark.parametrize(("data", "status"), [
    (b"GET /\r\n\r\n", 400), (b"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400), (b"GET / HTTP/1.1\r\n : v\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nBad Name: v\r\n\r\n", 400), (b"GET / HTTP/3\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431), (b"GET / HTTP/1.1\r\nX: " + b"y" * 70000, 431),
    (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400), (b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 1100, 400),
])
def test_what_is_not_http_1_is_refused_with_a_status(data: bytes, status: int) -> None:
    with pytest.raises(FramingError) as refused:
        read_all(data, step=7)
    assert refused.value.status == status


def test_answers_are_one_buffer_with_a_length() -> None:
    assert answer(200, b"[]", keep_alive=True) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
    refusal = error_answer(408, "late")
    assert refusal.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"Connection: close\r\n" in refusal
    assert refusal.endswith(b'\r\n\r\n{"Error":"late"}')
