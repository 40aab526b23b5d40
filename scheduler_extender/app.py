"""Flask app factory: HTTP in and out, metrics around each call. The logic lives in `extender`; what
builds and starts it all, in `serve`."""
from __future__ import annotations

import ipaddress
import logging
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any

import orjson
from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .extender import Extender
from .metrics import Metrics
from .protocol import Body, ExtenderArgs, ProtocolError, parse_args

log = logging.getLogger(__name__)

Handler = Callable[[Body], tuple[int, bytes]]
"""A request body to the HTTP status and body answering it."""

EXTENSION = "scheduler_extender"
"""The key of the app's Extender in `Flask.extensions`."""


@dataclass(frozen=True)
class Access:
    """Who may call what: `locality` and `metrics` are ACCESS_MODES; `client_cert` makes the scheduling
    verbs answer only callers with a verified client certificate."""

    locality: str = "open"
    metrics: str = "open"
    client_cert: bool = False


def refusal(mode: str, endpoint: str) -> Response | None:
    """The answer refusing this request under `mode`, or None to serve it. `off` hides the endpoint (404);
    a caller outside `loopback` or without a verified certificate gets a 403 saying what it lacks."""
    if mode == "off":
        return _json({"Error": f"{endpoint} is turned off on this extender"}, 404)
    if mode == "loopback" and not _is_loopback(request.remote_addr):
        return _json({"Error": f"{endpoint} answers only on loopback (e.g. through kubectl port-forward), "
                               f"not to {request.remote_addr}"}, 403)
    if mode == "client-cert" and not _has_client_cert(request.environ):
        return _json({"Error": f"{endpoint} needs a client certificate signed by the configured CA"}, 403)
    return None


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:  # a Unix socket peer, or none
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack [::] bind
    return (mapped or ip).is_loopback


def _has_client_cert(environ: dict[str, Any]) -> bool:
    """gunicorn verified the certificate in the handshake (CERT_OPTIONAL); did the caller present one?"""
    sock = environ.get("gunicorn.socket")
    return isinstance(sock, ssl.SSLSocket) and bool(sock.getpeercert())


class SchedulingFastPath:
    """The scheduling verbs without Flask's request context, routing and Response objects: kube-scheduler
    waits on two such calls per pod, and Flask costs about 90 us of a 200 us /filter (benchmarks/).

    `direct` is what our server (http_server.py) asks for each request it has read whole; as WSGI
    middleware, it does the same for a POST whose body has a Content-Length within the limit. Everything
    else, and a caller a client-certificate check would refuse, goes on to Flask. `open_verbs` answer
    without a certificate: the API server calls an admission webhook with none unless configured to."""

    def __init__(self, app: Callable[..., Iterable[bytes]], verbs: dict[str, Handler], *, max_body_bytes: int,
                 client_cert: bool, metrics: Metrics, open_verbs: dict[str, Handler] | None = None) -> None:
        self._app, self._open = app, open_verbs or {}
        self._verbs = {**verbs, **self._open}
        self._max_body_bytes, self._client_cert = max_body_bytes, client_cert
        self._dropped, self._held = metrics.connections_dropped, metrics.body_bytes_held

    def direct(self, method: str, target: str, has_cert: bool) -> Handler | None:
        if method != "POST":
            return None
        if self._client_cert and not has_cert:
            return self._open.get(target)
        return self._verbs.get(target)

    def dropped(self, reason: str) -> None:
        self._dropped.labels(reason).inc()

    def holding(self, held: Callable[[], int]) -> None:
        self._held.set_function(held)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        handle = self.direct(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                             _has_client_cert(environ))
        if handle is None or not (length.isascii() and length.isdigit()) or int(length) > self._max_body_bytes:
            return self._app(environ, start_response)
        status, payload = handle(environ["wsgi.input"].read(int(length)))
        start_response(_STATUS[status], [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


_STATUS = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 400, 500)}


def make_app(extender: Extender, readiness: Callable[[], str | None], metrics: Metrics, *,
             max_body_bytes: int, access: Access = Access(), mutate: Handler | None = None,
             front_ends: Mapping[str, Callable[[Body], bytes]] | None = None) -> Flask:
    """`readiness` says why the replica should not get calls yet, None once it should. The Extender is
    `app.extensions[EXTENSION]`, for what drives it without HTTP (benchmarks/inprocess.py). `mutate` answers
    POST /mutate (webhook.py), open to callers without a client certificate. `front_ends` are other schedulers'
    verbs (volcano.py), by path below the root: body in, answer out, ProtocolError for a 400; they are served,
    timed and guarded as /filter and /prioritize are."""
    app = Flask(__name__)
    app.extensions[EXTENSION] = extender
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    # OPTIONS is answered 405 (JSON, with Allow) like any other method a route does not take, not with Flask's
    # empty 200: no client of ours sends it, and an empty text/html answer is nothing a client can act on.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    verb_access = "client-cert" if access.client_cert else "open"

    def call(verb: str, handle: Callable[[Body], bytes], body: Body) -> tuple[int, bytes]:
        """Handle, time and count one scheduling call; a body we cannot act on is a 400 with a reason."""
        start = time.perf_counter()
        outcome = "error"
        try:
            status, payload = 200, handle(body)
            outcome = "ok"
        except ProtocolError as err:
            status, payload, outcome = 400, orjson.dumps({"Error": f"bad {verb} request: {err}"}), "bad_request"
        except orjson.JSONEncodeError as err:  # only echoed input fails: Node objects nested past the limit
            status, outcome = 400, "bad_request"
            payload = orjson.dumps({"Error": f"bad {verb} request: cannot echo its Nodes: {err}"})
        except Exception as err:  # a bug: the scheduler still gets JSON, and the log the traceback
            log.exception("internal error answering /%s", verb)
            status, payload = 500, orjson.dumps({"Error": f"internal error: {type(err).__name__}"})
        finally:
            metrics.request_seconds.labels(verb).observe(time.perf_counter() - start)
            metrics.requests.labels(verb, outcome).inc()
        return status, payload

    verbs = {"filter": _parsing(extender.filter), "prioritize": _parsing(extender.prioritize), **(front_ends or {})}
    app.wsgi_app = SchedulingFastPath(  # type: ignore[method-assign]
        app.wsgi_app, {f"/{verb}": partial(call, verb, handle) for verb, handle in verbs.items()},
        max_body_bytes=max_body_bytes, client_cert=access.client_cert, metrics=metrics,
        open_verbs={"/mutate": mutate} if mutate is not None else None)

    def answer(verb: str) -> Response:
        """What the fast path left to Flask: refusals and bodies over the limit (and, under a WSGI server
        other than ours, chunked bodies)."""
        refused = refusal(verb_access, f"/{verb}")
        if refused is not None:
            metrics.requests.labels(verb, "refused").inc()
            return refused
        try:
            body = _body()
        except HTTPException as err:
            metrics.requests.labels(verb, f"http_{err.code}").inc()
            raise
        status, payload = call(verb, verbs[verb], body)
        return Response(payload, status, mimetype="application/json")

    for verb in verbs:
        app.add_url_rule(f"/{verb}", verb, partial(answer, verb), methods=["POST"])

    if mutate is not None:
        @app.post("/mutate")
        def mutate_() -> Response:
            """What the fast path left to Flask: a body over the limit (413), or chunked."""
            status, payload = mutate(_body())
            return Response(payload, status, mimetype="application/json")

    @app.get("/locality")
    def locality() -> Response:
        refused = refusal(access.locality, "/locality")
        if refused is not None:
            return refused
        paths = request.args.getlist("path")
        if not paths:
            return _json({"Error": "give at least one path: /locality?path=/data/x&path=/data/y"}, 400)
        nodes = request.args.getlist("node")
        if "" in nodes:
            return _json({"Error": "node= names no node: give a node name, or leave node out to rank the "
                                   "cached workers' own hosts"}, 400)
        return _json(extender.locality(paths, nodes), 200)

    @app.get("/healthz")
    def healthz() -> Response:
        return _json({"status": "ok"}, 200)

    @app.get("/readyz")
    def readyz() -> Response:
        waiting = readiness()
        return _json({"status": "ready"}, 200) if waiting is None else _json({"status": waiting}, 503)

    @app.get("/metrics")
    def metrics_() -> Response:
        refused = refusal(access.metrics, "/metrics")
        if refused is not None:
            return refused
        return Response(generate_latest(metrics.registry), 200, content_type=CONTENT_TYPE_LATEST)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        """Every error answer is JSON with a reason, never Werkzeug's HTML page; with the headers the error
        carries (a 405's Allow, which RFC 9110 15.5.6 requires)."""
        response = _json({"Error": f"{err.code} {err.name}: {err.description}"}, err.code or 500)
        for name, value in err.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def internal_error(err: Exception) -> Response:
        log.exception("internal error answering %s %s", request.method, request.path)
        return _json({"Error": f"internal error: {type(err).__name__}"}, 500)

    return app


def _parsing(handle: Callable[[ExtenderArgs], bytes]) -> Callable[[Body], bytes]:
    """An extender/v1 verb taking the body it is parsed from."""
    return lambda body: handle(parse_args(body))


def _body() -> bytes:
    """The request body. Werkzeug refuses a Content-Length over the limit, but cuts a chunked body at the
    limit without a word (its stream would raise only on a further read): a cut body must be a 413 too,
    never parsed as if it were whole. Either 413 names the limit and the setting."""
    limit = request.max_content_length
    too_large = RequestEntityTooLarge(f"the body is over {limit} bytes, the limit --max-body-size sets; send node "
                                      f"names (nodeCacheCapable: true), or raise --max-body-size")
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise too_large from None
    if request.content_length is None and limit is not None and len(body) >= limit:
        raise too_large
    return body


def _json(body: Any, status: int) -> Response:
    return Response(orjson.dumps(body), status, mimetype="application/json")
