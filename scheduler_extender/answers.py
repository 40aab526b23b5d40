"""What the HTTP server answers a whole request with, as one buffer: the app's direct handler for a
well-formed scheduling call, the WSGI app (with the environ gunicorn would build) for everything else: the
operator endpoints, refusals, bodies over the limit."""
from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote_to_bytes

from . import http11

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Handler = Callable[[bytearray], tuple[int, bytes]]
"""A scheduling verb answering from the body as the reader holds it."""


@runtime_checkable
class Routes(Protocol):
    """What the server asks of the app (the Flask app's `wsgi_app`), besides WSGI."""

    def direct(self, method: str, target: str, has_cert: bool) -> Handler | None:
        """The handler answering this whole request from its body alone, or None to go through WSGI."""

    def dropped(self, reason: str) -> None:
        """Count a connection closed without an answer from the app: read_timeout, write_timeout, bad_request,
        tls_error, over_budget, internal_error."""

    def holding(self, held: Callable[[], int]) -> None:
        """Report `held()`, the request body bytes the server holds, as a metric."""


def routes_of(app: WsgiApp) -> Routes | None:
    fast = getattr(app, "wsgi_app", None)
    return fast if isinstance(fast, Routes) else None


def respond(app: WsgiApp, routes: Routes | None, request: http11.Request, *, keep_alive: bool, sock: Any,
            peer: Any, server: Any, https: bool, has_cert: bool) -> bytes:
    handle = None
    if routes is not None and not request.too_large:
        handle = routes.direct(request.head.method, request.head.target, has_cert)
    if handle is not None:
        status, payload = handle(request.body)
        return http11.answer(status, payload, keep_alive=keep_alive, version=request.head.version)
    env = environ(request, sock=sock, peer=peer, server=server, https=https)
    return call(app, env, keep_alive=keep_alive)


def environ(request: http11.Request, *, sock: Any, peer: tuple[Any, ...] | Any, server: tuple[Any, ...] | Any,
            https: bool) -> dict[str, Any]:
    """The PEP 3333 environ gunicorn would build for `request`, its body already read whole. A body over
    the limit, none of it kept, is given as a length no limit allows (a chunked one has none): the app
    refuses it 413 before reading any."""
    head = request.head
    path, _, query = head.target.partition("?")
    env: dict[str, Any] = {
        "REQUEST_METHOD": head.method, "SCRIPT_NAME": "", "QUERY_STRING": query, "RAW_URI": head.target,
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"), "SERVER_PROTOCOL": head.version,
        "SERVER_NAME": str(server[0]) if isinstance(server, tuple) else "localhost",
        "SERVER_PORT": str(server[1]) if isinstance(server, tuple) else "",
        "REMOTE_ADDR": str(peer[0]) if isinstance(peer, tuple) else "",
        "REMOTE_PORT": str(peer[1]) if isinstance(peer, tuple) else "",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "https" if https else "http",
        # A copy of the body, which only the operator endpoints' small bodies get (the scheduling verbs read it
        # in place, and a body over the limit is not kept).
        "wsgi.input": io.BytesIO(request.body), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.input_terminated": True,
        "gunicorn.socket": sock,
    }
    for name, value in head.headers:
        if "_" in name:  # HTTP_X_Y must not be spoofable by an "x_y" header (gunicorn drops them too)
            continue
        if name == "content-type":
            env["CONTENT_TYPE"] = value
        elif name == "content-length":
            env["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            env[key] = f"{env[key]},{value}" if key in env else value
    if request.too_large:  # a length past any limit, which Werkzeug takes only without Transfer-Encoding
        env["CONTENT_LENGTH"] = str(_NO_LIMIT)
        env.pop("HTTP_TRANSFER_ENCODING", None)
    return env


_NO_LIMIT = 1 << 62


def call(app: WsgiApp, env: dict[str, Any], *, keep_alive: bool) -> bytes:
    """Run the app and render its answer, headers and body, as one buffer."""
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started[:] = [status, headers]
        return written.append

    try:
        result = app(env, start_response)
        try:
            body = b"".join([*written, *result])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:  # the app's own handlers answer its errors; this is a bug in one of them
        log.exception("internal error answering %s %s", env["REQUEST_METHOD"], env["RAW_URI"])
        return http11.error_answer(500, "internal error")
    status, headers = started
    names = {name.lower() for name, _ in headers}
    head = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers)]
    if "content-length" not in names:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n" + http11.connection_header(env["SERVER_PROTOCOL"], keep_alive)
            + "\r\n").encode("latin-1") + body
