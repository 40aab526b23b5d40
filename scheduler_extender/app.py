"""Flask app factory: HTTP in and out, metrics around each call. The logic lives in `extender`."""
from __future__ import annotations

import gc
import ipaddress
import logging
import ssl
import time
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any, Callable, Iterable

import orjson
from flask import Flask, Response, request
from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.client import CoreV1Api
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .cluster import ClusterView
from .config import ConfigError, Settings
from .extender import Extender
from .index import LocationIndex
from .locations.alluxio_rest import AlluxioRestSource
from .locations.base import LocationSource, SourceError
from .locations.snapshot import SnapshotSource
from .metrics import Metrics
from .nodes import AddressBook, load_node_map
from .prefetch import Prefetcher
from .protocol import ExtenderArgs, ProtocolError, parse_args

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inputs:
    """What the settings point at, opened once: read before gunicorn forks, so a corrupt snapshot or node
    map stops the command with one line naming the setting instead of a worker that fails to boot."""

    metrics: Metrics
    source: LocationSource
    books: list[AddressBook]
    kube: CoreV1Api | None


def open_inputs(settings: Settings) -> Inputs:
    """Raises ConfigError naming the setting whose file cannot be used. Opens no connection."""
    metrics = Metrics()
    if settings.locations_file:
        try:
            source: LocationSource = SnapshotSource(settings.locations_file, metrics=metrics)
        except SourceError as err:
            raise ConfigError(f"--locations-file: {err}") from None
    else:
        source = AlluxioRestSource(settings.alluxio_proxy, settings.alluxio_master,
                                   timeout=settings.alluxio_timeout, retries=settings.alluxio_retries,
                                   metrics=metrics)
    try:
        books = [load_node_map(settings.node_map)] if settings.node_map else []
    except (OSError, ValueError) as err:
        raise ConfigError(f"--node-map: {err}") from None
    check_tls(settings)
    return Inputs(metrics, source, books, kube_api(settings))


def check_tls(settings: Settings) -> None:
    """Load the certificate, key and client CA the way gunicorn will, so a mismatched pair or a file that
    is not PEM stops the command now, with the settings named, instead of failing every connection."""
    if not settings.tls_cert_file:
        return
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_private_key_file)
    except (ssl.SSLError, OSError) as err:
        raise ConfigError(f"--tls-cert-file, --tls-private-key-file: not a matching PEM certificate and "
                          f"key: {err}") from None
    if settings.tls_client_ca_file:
        try:
            context.load_verify_locations(cafile=settings.tls_client_ca_file)
        except (ssl.SSLError, OSError) as err:
            raise ConfigError(f"--tls-client-ca-file: no PEM CA certificate in it: {err}") from None


def kube_api(settings: Settings) -> CoreV1Api | None:
    """The API client --kubernetes asks for; its credentials are read now, its connections made later."""
    if settings.kubernetes == "off":
        return None
    configuration = client.Configuration()
    try:
        if settings.kubernetes == "in-cluster":
            kube_config.load_incluster_config(client_configuration=configuration)
        else:
            kube_config.load_kube_config(config_file=settings.kubeconfig, client_configuration=configuration)
    except (kube_config.ConfigException, OSError, ValueError) as err:
        raise ConfigError(f"--kubernetes {settings.kubernetes}: cannot load credentials: {err}") from None
    return CoreV1Api(client.ApiClient(configuration))


def create_app(settings: Settings, inputs: Inputs) -> Flask:
    """Build the index and extender, start the index syncer, and wire the routes.

    Called in the gunicorn worker, after fork, because it starts threads.
    """
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    index = LocationIndex(
        inputs.source, ttl=settings.index_ttl, max_staleness=settings.max_staleness, size=settings.index_size,
        budget=settings.request_budget, refresh_ahead=settings.refresh_ahead,
        fetch_threads=settings.fetch_threads, metrics=inputs.metrics)
    cluster = None
    if inputs.kube is not None:
        cluster = ClusterView(inputs.kube.list_node, inputs.kube.list_pod_for_all_namespaces,
                              worker_selector=settings.worker_selector, resync=settings.resync_period,
                              metrics=inputs.metrics)
        Prefetcher(inputs.kube.list_pod_for_all_namespaces, index, selector=settings.prefetch_selector,
                   resync=settings.resync_period, metrics=inputs.metrics).start()
        cluster.start()
    else:
        log.info("--kubernetes off: workers resolve by node name, request Node addresses and --node-map; "
                 "pods requiring a local worker pass every node")
    extender = Extender(index, inputs.books, inputs.metrics, cluster, tables=settings.index_size,
                        max_paths=settings.max_paths_per_pod, recheck_timeout=settings.request_budget)
    access = Access(locality=settings.locality_access, metrics=settings.metrics_access,
                    client_cert=settings.tls_client_ca_file is not None)
    app = make_app(extender, index, inputs.metrics, cluster, max_body_bytes=settings.max_body_bytes,
                   access=access)
    index.start()
    # Everything so far (Flask, the Kubernetes client, our modules) lives as long as the worker. Frozen, the
    # collector's full passes stop walking it: a request parsing 1,000 Node objects triggers them, and
    # they were most of its p99 (66 ms, against 6 ms frozen; in-process /filter, benchmarks/).
    gc.freeze()
    return app


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
    """WSGI middleware: a POST to a scheduling verb whose body has a Content-Length within the limit goes
    straight to the extender, without Flask's request context, routing and Response objects. kube-scheduler
    waits on two such calls per pod, and Flask costs about 90 us of a 200 us /filter (benchmarks/).
    Everything else, and a caller a client-certificate check would refuse, goes on to Flask."""

    def __init__(self, app: Callable[..., Iterable[bytes]], verbs: dict[str, Callable[[bytes], tuple[int, bytes]]], *,
                 max_body_bytes: int, client_cert: bool) -> None:
        self._app, self._verbs = app, verbs
        self._max_body_bytes, self._client_cert = max_body_bytes, client_cert

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handle = self._verbs.get(environ.get("PATH_INFO", ""))
        length = environ.get("CONTENT_LENGTH") or ""
        if (handle is None or environ.get("REQUEST_METHOD") != "POST" or not length.isdigit()
                or int(length) > self._max_body_bytes or (self._client_cert and not _has_client_cert(environ))):
            return self._app(environ, start_response)
        status, payload = handle(environ["wsgi.input"].read(int(length)))
        start_response(_STATUS[status], [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


_STATUS = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 400, 500)}


def make_app(extender: Extender, index: LocationIndex, metrics: Metrics, cluster: ClusterView | None, *,
             max_body_bytes: int, access: Access = Access()) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    verb_access = "client-cert" if access.client_cert else "open"

    def call(verb: str, handle: Callable[[ExtenderArgs], Any], body: bytes) -> tuple[int, bytes]:
        """Parse, handle, time and count one extender call; a body we cannot act on is a 400 with a reason."""
        start = time.perf_counter()
        outcome = "error"
        try:
            status, payload = 200, orjson.dumps(handle(parse_args(body)))
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

    verbs = {"filter": extender.filter, "prioritize": extender.prioritize}
    app.wsgi_app = SchedulingFastPath(  # type: ignore[method-assign]
        app.wsgi_app, {f"/{verb}": partial(call, verb, handle) for verb, handle in verbs.items()},
        max_body_bytes=max_body_bytes, client_cert=access.client_cert)

    def answer(verb: str) -> Response:
        """What the fast path left to Flask: refusals, chunked bodies, bodies over the limit."""
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

    @app.post("/filter")
    def filter_() -> Response:
        return answer("filter")

    @app.post("/prioritize")
    def prioritize() -> Response:
        return answer("prioritize")

    @app.get("/locality")
    def locality() -> Response:
        refused = refusal(access.locality, "/locality")
        if refused is not None:
            return refused
        paths = request.args.getlist("path")
        if not paths:
            return _json({"Error": "give at least one path: /locality?path=/data/x&path=/data/y"}, 400)
        return _json(extender.locality(paths, request.args.getlist("node")), 200)

    @app.get("/healthz")
    def healthz() -> Response:
        return _json({"status": "ok"}, 200)

    @app.get("/readyz")
    def readyz() -> Response:
        if not index.ready:
            return _json({"status": "waiting for the location source to answer once"}, 503)
        if cluster is not None and not cluster.synced:
            return _json({"status": "waiting for the first list of nodes and Alluxio worker pods"}, 503)
        return _json({"status": "ready"}, 200)

    @app.get("/metrics")
    def metrics_() -> Response:
        refused = refusal(access.metrics, "/metrics")
        if refused is not None:
            return refused
        return Response(generate_latest(metrics.registry), 200, content_type=CONTENT_TYPE_LATEST)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        """Every error answer is JSON with a reason, never Werkzeug's HTML page."""
        return _json({"Error": f"{err.code} {err.name}: {err.description}"}, err.code or 500)

    @app.errorhandler(Exception)
    def internal_error(err: Exception) -> Response:
        log.exception("internal error answering %s %s", request.method, request.path)
        return _json({"Error": f"internal error: {type(err).__name__}"}, 500)

    return app


def _body() -> bytes:
    """The request body. Werkzeug refuses a Content-Length over the limit, but cuts a chunked body at the
    limit without a word (its stream would raise only on a further read): a cut body must be a 413 too,
    never parsed as if it were whole."""
    body = request.get_data(cache=False)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(body) >= limit:
        raise RequestEntityTooLarge()
    return body


def _json(body: Any, status: int) -> Response:
    return Response(orjson.dumps(body), status, mimetype="application/json")
