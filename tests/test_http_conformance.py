"""RFC 9112 (HTTP/1.1 messages) and RFC 9110 (semantics) against `scheduler-extender serve`, over raw sockets: each
case asserts the status and whether the connection stays open. The request-smuggling shapes of issue 22 (a
request hidden in a body behind framing two parsers could read differently) must never get a second answer.
Then what a client cannot do: end a serving thread (and a worker left with a dead one is replaced), or make
the worker hold more body bytes than --max-buffered-bytes."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bodies import names_body
from tests.support.fragile_serve import END_THIS_THREAD, FRAGILE
from tests.support.raw_http import Answer, RawConnection
from tests.support.served import Served
from tests.support.waiting import eventually

DEMO = Path(__file__).parent.parent / "examples" / "demo" / "locations.json"
BODY = json.dumps(names_body(["node-2", "node-3"], "/data/sales/2026-11")).encode()
RANKING = [{"Host": "node-2", "Score": 10}]
LIMIT = 64 * 1024
OPEN_FOR = 0.3
"""Seconds a connection must stay open, with nothing more sent, to count as kept."""
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with Served("--locations-file", str(DEMO), "--max-body-size", str(LIMIT), "--read-timeout", "2s",
                "--log-level", "error") as server:
        yield server


def post(body: bytes = BODY, path: str = "/prioritize", headers: bytes = b"") -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n"
            % (path.encode(), headers, len(body)) + body)


def exchange(served: Served, sent: bytes, answers: int = 1, head_only: bool = False) -> tuple[list[Answer], bool]:
    """The answers to `sent` on a new connection, then whether the server kept the connection open: never
    anything more than those answers."""
    with RawConnection(served.port) as conn:
        conn.send(sent)
        got = [conn.answer(head_only) for _ in range(answers)]
        more, closed = conn.after(OPEN_FOR)
        assert more == b"", f"more than {answers} answer(s) to {sent[:200]!r}: {more[:300]!r}"
        return got, not closed


def refused(served: Served, sent: bytes) -> tuple[int, str]:
    """The one answer to `sent`, a refusal closing the connection: its status and its JSON reason."""
    (answer,), kept = exchange(served, sent)
    assert not kept and answer.headers.get("connection") == "close", (sent[:200], answer)
    return answer.status, answer.json()["Error"]


# --- message framing (RFC 9112 6) ---

def test_a_content_length_body_is_answered_and_the_connection_kept(served: Served) -> None:
    (answer,), kept = exchange(served, post())
    assert (answer.status, answer.json(), kept) == (200, RANKING, True)
    assert "connection" not in answer.headers


def test_a_chunked_body_with_extensions_and_trailers_is_answered_and_the_connection_kept(served: Served) -> None:
    chunks = b"".join(b"%x;name=value\r\n%s\r\n" % (len(BODY[i:i + 50]), BODY[i:i + 50])
                      for i in range(0, len(BODY), 50))
    (answer,), kept = exchange(served, b"POST /prioritize HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               + chunks + b"0\r\nX-Trailer: y\r\n\r\n")
    assert (answer.status, answer.json(), kept) == (200, RANKING, True)


HEAD = b"POST /filter HTTP/1.1\r\nHost: x\r\n"
EMPTY_CHUNKED = b"\r\n0\r\n\r\n"
"""The end of a head and an empty chunked body."""
SMUGGLING = {
    "Content-Length and Transfer-Encoding": HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
    + EMPTY_CHUNKED,
    "Transfer-Encoding and Content-Length": HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
    + EMPTY_CHUNKED,
    "chunked, a no-break space after": HEAD + b"Transfer-Encoding: chunked\xa0\r\n" + EMPTY_CHUNKED,
    "chunked, a vertical tab before": HEAD + b"Transfer-Encoding: \x0bchunked\r\n" + EMPTY_CHUNKED,
    "chunked, a form feed after": HEAD + b"Transfer-Encoding: chunked\x0c\r\n" + EMPTY_CHUNKED,
    "chunked, a next-line before": HEAD + b"Transfer-Encoding: \x85chunked\r\n" + EMPTY_CHUNKED,
    "chunked twice over": HEAD + b"Transfer-Encoding: chunked, chunked\r\n" + EMPTY_CHUNKED,
    "chunked, then identity": HEAD + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n" + EMPTY_CHUNKED,
    "a bare LF hiding a Content-Length": HEAD + b"X: y\nContent-Length: %d\r\n\r\n" % len(SMUGGLED),
    "a bare LF ending the Content-Length": HEAD + b"Content-Length: 0\n\r\n",
    "a bare LF in a chunk extension": HEAD + b"Transfer-Encoding: chunked\r\n\r\n2;a\nb\r\nxx\r\n0\r\n\r\n",
    "a bare LF ending a chunk": HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\nxx\n0\r\n\r\n",
    "two different Content-Lengths": HEAD + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n" % len(SMUGGLED),
    "a Content-Length list": HEAD + b"Content-Length: 0, 0\r\n\r\n",
    "a Content-Length of a superscript two": HEAD + b"Content-Length: \xb2\r\n\r\n",
    "a Content-Length with a sign": HEAD + b"Content-Length: +0\r\n\r\n",
    "a space before the colon": HEAD + b"Transfer-Encoding : chunked\r\n" + EMPTY_CHUNKED,
    "an obsolete line folding": HEAD + b"Transfer-Encoding:\r\n chunked\r\n" + EMPTY_CHUNKED,
    "a chunk size with a space": HEAD + b"Transfer-Encoding: chunked\r\n\r\n0 \r\n\r\n",
    "a chunk size overflowing": HEAD + b"Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\n",
}


@pytest.mark.parametrize("sent", list(SMUGGLING.values()), ids=list(SMUGGLING))
def test_a_request_hidden_behind_framing_read_two_ways_gets_no_answer(served: Served, sent: bytes) -> None:
    """RFC 9112 6.3 and 11.2: refused, 400 or 501, and the connection closed, so the request that follows (in
    the body for a parser that reads the framing the other way) is never answered."""
    status, reason = refused(served, sent + SMUGGLED)
    assert status in (400, 501), reason


def test_transfer_codings_other_than_chunked_are_not_implemented(served: Served) -> None:
    assert refused(served, HEAD + b"Transfer-Encoding: gzip, chunked\r\n" + EMPTY_CHUNKED)[0] == 501


# --- header syntax (RFC 9110 5, RFC 9112 5) ---

@pytest.mark.parametrize("line", [
    b"X\x01Y: 1", b"X(Y): 1", b"X@Y: 1", b"X Y: 1", b": empty name", b"no colon", b"X: a\x00b", b"X: a\x7fb",
    b"X: a\rb", b"\xe9t\xe9: 1",
], ids=["control in name", "parenthesis in name", "at sign in name", "space in name", "empty name", "no colon",
        "NUL in value", "DEL in value", "bare CR in value", "latin-1 in name"])
def test_a_header_line_that_is_not_a_field_is_refused(served: Served, line: bytes) -> None:
    assert refused(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + line + b"\r\n\r\n")[0] == 400


def test_field_values_keep_obs_text_and_lose_surrounding_whitespace(served: Served) -> None:
    """Bytes 0x80-0xff are obs-text, allowed in a value; spaces and tabs around it are not part of it."""
    (answer,), kept = exchange(served, post(headers=b"X-Note: caf\xe9\r\nContent-Type:\t application/json \t\r\n"))
    assert (answer.status, kept) == (200, True)


# --- limits ---

def test_over_100_headers_is_a_431(served: Served) -> None:
    assert refused(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 100 + b"\r\n")[0] == 431


def test_a_head_over_64_kib_is_a_431_before_it_ends(served: Served) -> None:
    assert refused(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 70_000)[0] == 431
    assert refused(served, b"GET /" + b"y" * 70_000)[0] == 431


def test_a_body_over_the_limit_is_a_413_before_it_is_sent(served: Served) -> None:
    status, reason = refused(served, HEAD + b"Content-Length: %d\r\n\r\n" % (LIMIT + 1))
    assert status == 413 and "--max-body-size" in reason


# --- pipelining and keep-alive (RFC 9112 9) ---

def test_pipelined_requests_are_answered_in_order_on_a_kept_connection(served: Served) -> None:
    answers, kept = exchange(served, post() + post(path="/filter") + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3)
    assert [a.status for a in answers] == [200, 200, 200] and kept
    assert answers[0].json() == RANKING and answers[1].json()["NodeNames"] == ["node-2", "node-3"]
    assert answers[2].json() == {"status": "ok"}


def test_a_request_pipelined_after_a_refused_one_is_not_answered(served: Served) -> None:
    refused(served, b"GET /healthz HTTP/1.1\r\n\r\n" + post())


def test_connection_close_is_answered_and_the_connection_closed(served: Served) -> None:
    (answer,), kept = exchange(served, post(headers=b"Connection: close\r\n") + post())
    assert (answer.status, answer.headers.get("connection"), kept) == (200, "close", False)


@pytest.mark.parametrize("path", ["/prioritize", "/healthz"])
def test_http_1_0_closes_unless_kept_alive_and_then_says_so(served: Served, path: str) -> None:
    """RFC 9112 9.3: an HTTP/1.0 client keeps the connection only when the answer says keep-alive."""
    request = (b"POST %s HTTP/1.0\r\nContent-Length: %d\r\n" % (path.encode(), len(BODY)) if path == "/prioritize"
               else b"GET %s HTTP/1.0\r\n" % path.encode())
    body = BODY if path == "/prioritize" else b""
    (answer,), kept = exchange(served, request + b"\r\n" + body)
    assert (answer.status, kept) == (200, False)
    answers, kept = exchange(served, (request + b"Connection: keep-alive\r\n\r\n" + body) * 2, 2)
    assert [(a.status, a.headers.get("connection")) for a in answers] == [(200, "keep-alive")] * 2 and kept


def test_a_leading_empty_line_is_ignored(served: Served) -> None:
    """RFC 9112 2.2: a server SHOULD ignore at least one empty line received before the request line."""
    (answer,), kept = exchange(served, b"\r\n" + post())
    assert (answer.status, kept) == (200, True)


# --- Expect (RFC 9110 10.1.1) ---

def test_expect_100_continue_gets_a_100_before_the_body_is_sent(served: Served) -> None:
    with RawConnection(served.port) as conn:
        conn.send(b"POST /prioritize HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                  % len(BODY))
        assert conn.answer().status == 100
        conn.send(BODY)
        answer = conn.answer()
        assert (answer.status, answer.json()) == (200, RANKING) and conn.after(OPEN_FOR) == (b"", False)


def test_expect_100_continue_with_the_body_already_sent_gets_no_100(served: Served) -> None:
    (answer,), kept = exchange(served, post(headers=b"Expect: 100-continue\r\n"))
    assert (answer.status, kept) == (200, True)


# --- versions, Host, methods (RFC 9110 7.2, 9, 15.6.2; RFC 9112 2.3, 3.2) ---

@pytest.mark.parametrize(("line", "status"), [
    # HTTP/1.2 would be read as 1.1 by RFC 9110 2.5's SHOULD; llhttp refuses it (no such client exists).
    (b"GET /healthz HTTP/2.0", 505), (b"GET /healthz HTTP/1.2", 400), (b"GET /healthz", 505),
    (b"GET /healthz HTTP/3", 400), (b"GET /healthz http/1.1", 400), (b"GET /a b HTTP/1.1", 400),
])
def test_versions_other_than_1_0_and_1_1_are_refused(served: Served, line: bytes, status: int) -> None:
    assert refused(served, line + b"\r\nHost: x\r\n\r\n")[0] == status


def test_words_of_the_request_line_may_be_parted_by_more_than_one_space(served: Served) -> None:
    """RFC 9112 3: a recipient MAY parse the request line on whitespace-delimited word boundaries (llhttp does)."""
    (answer,), kept = exchange(served, b"GET  /healthz  HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (answer.status, kept) == (200, True)


def test_a_1_1_request_without_host_or_with_two_is_a_400(served: Served) -> None:
    status, reason = refused(served, b"GET /healthz HTTP/1.1\r\n\r\n")
    assert status == 400 and "Host" in reason
    assert refused(served, b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")[0] == 400
    assert refused(served, b"GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")[0] == 400
    (answer,), _ = exchange(served, b"GET /healthz HTTP/1.0\r\n\r\n")  # HTTP/1.0 need not send one
    assert answer.status == 200


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "DELETE", "PATCH"])
def test_a_method_a_route_does_not_take_is_a_json_405_with_allow(served: Served, method: str) -> None:
    (answer,), kept = exchange(served, b"%s /filter HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % method.encode())
    assert (answer.status, answer.headers.get("allow"), kept) == (405, "POST", True)
    assert "405" in answer.json()["Error"]


@pytest.mark.parametrize("sent", [b"FOO /filter HTTP/1.1\r\nHost: x\r\n\r\n",
                                  b"CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n"], ids=["unknown", "CONNECT"])
def test_a_method_the_server_does_not_implement_is_a_501(served: Served, sent: bytes) -> None:
    assert refused(served, sent)[0] == 501


def test_head_gets_the_headers_of_get_without_a_body(served: Served) -> None:
    answers, kept = exchange(served, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", head_only=True)
    assert (answers[0].status, answers[0].body, kept) == (200, b"", True)
    assert int(answers[0].headers["content-length"]) > 0


# --- what a client cannot do ---

def test_requests_that_ended_threads_are_refused_and_the_extender_answers_after_them(served: Served) -> None:
    """Issue 22: four of these (one per thread) left no thread to answer anything, for good."""
    worker = served.worker_pid()
    for _ in range(8):
        assert refused(served, b"POST /prioritize HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n")[0] == 400
    with RawConnection(served.port, timeout=2) as conn:
        conn.send(post())
        assert conn.answer().json() == RANKING
    assert served.worker_pid() == worker


def test_a_worker_whose_serving_thread_ended_is_replaced() -> None:
    """A thread ended by what the server cannot catch: the worker exits and gunicorn starts another, which
    answers; rather than a worker that beats its heartbeat and answers nothing."""
    with Served("--locations-file", str(DEMO), "--threads", "1", command=FRAGILE) as served:
        worker = served.worker_pid()
        with RawConnection(served.port) as conn:
            conn.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % END_THIS_THREAD.encode())
            eventually(lambda: served.worker_pid() != worker, 30, what="a new worker")
        eventually(lambda: served.post("/prioritize", BODY) == (200, RANKING), 30, ignoring=(OSError,),
                   what="the new worker answering")
        assert "serving thread http-0 ended" in served.output()


def test_bodies_past_the_buffer_cap_get_a_503_and_the_cap_frees_as_they_are_answered() -> None:
    body = json.dumps(names_body([f"node-{i}" for i in range(30_000)], "/data/sales/2026-11")).encode()
    cap = len(body) + len(body) // 2  # one body fits, two do not
    with Served("--locations-file", str(DEMO), "--max-body-size", str(len(body)), "--max-buffered-bytes", str(cap),
                "--log-level", "error") as served, RawConnection(served.port) as first:
        first.send(post(body)[:-1000])  # announced and mostly sent: its length is held
        eventually(lambda: held(served) == len(body), what="the first body held")
        with RawConnection(served.port) as second:
            second.send(post(body))
            answer = second.answer()
            assert (answer.status, answer.headers.get("retry-after")) == (503, "1"), answer
            assert second.after(OPEN_FOR)[1]
        first.send(post(body)[-1000:])
        assert first.answer().status == 200
        eventually(lambda: held(served) == 0, what="the first body given back once its answer is written")
        with RawConnection(served.port) as third:
            third.send(post(body))
            assert third.answer().status == 200
        assert served.metrics().value("scheduler_extender_connections_dropped_total", reason="over_budget") == 1


def held(served: Served) -> float:
    return served.metrics().value("scheduler_extender_request_body_bytes_held")
