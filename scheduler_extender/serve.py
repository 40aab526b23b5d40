"""What `scheduler-extender serve` puts together: its inputs, checked before gunicorn forks, and in the
worker the sync process, index, placement, Kubernetes watches and prefetch behind the HTTP app.

    sync process (child) ──► entries ──► placement.prepare ──► index ──► Extender ──► app (HTTP)
    Kubernetes watches ──► cluster view ──► placement (tables rebuilt beside) ; pods ──► prefetch ──► index
                                                                 └─► executor book ◄── the extender's answers
"""
from __future__ import annotations

import atexit
import gc
import logging
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import ConfigError, Settings
from .locations.base import SourceError
from .locations.configured import check_source_files
from .nodes import AddressBook, load_node_map

if TYPE_CHECKING:
    from flask import Flask
    from kubernetes.client import CoreV1Api

    from .entries import PathEntry
    from .executors import ExecutorBook
    from .placement import Placement
    from .sync.process import SyncProcess

log = logging.getLogger(__name__)

# The arbiter runs only `open_inputs`, then forks the worker and watches it: what only the worker uses
# (Flask, the app, Prometheus, the Kubernetes client unless --kubernetes asks for it) is imported in
# `create_app`, or it would be held twice, by the arbiter and by the worker. With the 1M-block index the
# processes then hold 50 MB less in all (benchmarks/, memory section).


@dataclass(frozen=True)
class Inputs:
    """What the settings point at, opened once: read before gunicorn forks, so a corrupt snapshot or node
    map stops the command with one line naming the setting instead of a worker that fails to boot."""

    books: list[AddressBook]
    kube: CoreV1Api | None


def open_inputs(settings: Settings) -> Inputs:
    """Raises ConfigError naming the setting whose file cannot be used. Opens no connection. A snapshot is
    read here only to check it (and an Alluxio 3 worker or listing file): the sync process reads its own."""
    try:
        check_source_files(settings)
    except SourceError as err:
        raise ConfigError(f"--locations-file: {err}" if settings.locations_file else f"Alluxio 3: {err}") from None
    try:
        books = [load_node_map(settings.node_map)] if settings.node_map else []
    except (OSError, ValueError) as err:
        raise ConfigError(f"--node-map: {err}") from None
    check_tls(settings)
    return Inputs(books, kube_api(settings))


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
    from kubernetes import client
    from kubernetes import config as kube_config

    configuration = client.Configuration()
    try:
        if settings.kubernetes == "in-cluster":
            kube_config.load_incluster_config(client_configuration=configuration)
        else:
            kube_config.load_kube_config(config_file=settings.kubeconfig, client_configuration=configuration)
    except (kube_config.ConfigException, OSError, ValueError) as err:
        raise ConfigError(f"--kubernetes {settings.kubernetes}: cannot load credentials: {err}") from None
    return client.CoreV1Api(client.ApiClient(configuration))


class PreparedSource:
    """The sync process as the index's source: each entry gets its node tables before the index has it."""

    def __init__(self, sync: SyncProcess, placement: Placement) -> None:
        self._sync, self._placement = sync, placement

    def fetch(self, path: str) -> PathEntry:
        return self._placement.prepare(self._sync.fetch(path))

    def probe(self) -> None:
        self._sync.probe()


def create_app(settings: Settings, inputs: Inputs) -> Flask:
    """Build and start everything, and wire the routes. Called in the gunicorn worker, after the fork,
    because it starts threads and the sync process."""
    from .app import Access, make_app
    from .extender import Extender
    from .index import LocationIndex
    from .metrics import Metrics
    from .placement import Placement
    from .sync.process import SyncProcess
    from .sync.relay import Relay
    from .volcano import Volcano
    from .webhook import Webhook

    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    metrics = Metrics()
    relay = Relay()
    metrics.registry.register(relay)
    sync = SyncProcess(settings, metrics, relay)
    cluster = None
    if inputs.kube is not None:
        from .cluster import ClusterView
        from .kube_watch import pod_lister

        cluster = ClusterView(inputs.kube.list_node, pod_lister(inputs.kube, settings.worker_namespace),
                              worker_selector=settings.worker_selector, resync=settings.resync_period,
                              metrics=metrics, on_change=lambda: placement.books_changed())
    placement = Placement(inputs.books, (lambda: cluster.book) if cluster is not None else None)
    index: LocationIndex[PathEntry] = LocationIndex(
        PreparedSource(sync, placement), ttl=settings.index_ttl, max_staleness=settings.max_staleness,
        size=settings.index_size, budget=settings.request_budget, refresh_ahead=settings.refresh_ahead,
        fetch_threads=settings.fetch_threads, metrics=metrics)

    def readiness() -> str | None:
        """Why this replica should not get calls yet (None: it should)."""
        if not index.ready:
            return sync.state() or "waiting for the location source to answer once"
        if cluster is not None and not cluster.synced:
            return "waiting for the first list of nodes and Alluxio worker pods"
        return sync.state()

    executors: ExecutorBook | None = None
    if inputs.kube is not None and settings.app_placement != "off":
        from .executors import ExecutorBook

        executors = ExecutorBook(remember=settings.app_placement == "answers", metrics=metrics)
    extender = Extender(index, placement, metrics, cluster, max_paths=settings.max_paths_per_pod,
                        recheck_timeout=settings.request_budget, executors=executors)
    access = Access(locality=settings.locality_access, metrics=settings.metrics_access,
                    client_cert=settings.tls_client_ca_file is not None)
    webhook = Webhook(extender, metrics, own_scheduler=settings.scheduler_name,
                      required=settings.webhook_affinity == "required")
    app = make_app(extender, readiness, metrics, max_body_bytes=settings.max_body_size, access=access,
                   mutate=webhook.mutate, front_ends=Volcano(extender, settings.volcano_max_score).verbs())
    sync.start()
    placement.start()
    closing = [sync.close, placement.close, index.close]
    if cluster is not None and inputs.kube is not None:
        from .prefetch import Prefetcher

        listers = [pod_lister(inputs.kube, namespace) for namespace in settings.prefetch_namespaces or (None,)]
        prefetcher = Prefetcher(listers, index, selector=settings.prefetch_selector, resync=settings.resync_period,
                                metrics=metrics, executors=executors)
        prefetcher.start()
        cluster.start()
        closing += [prefetcher.close, cluster.close]
    else:
        log.info("--kubernetes off: workers resolve by node name, request Node addresses and --node-map; "
                 "pods requiring a local worker pass every node, and each executor is scored alone")
    index.start()
    for close in closing:
        atexit.register(close)
    # Everything so far (Flask, the Kubernetes client, our modules) lives as long as the worker. Frozen, the
    # collector's full passes stop walking it: a request parsing 1,000 Node objects triggers them, and
    # they were most of its p99 (66 ms, against 6 ms frozen; in-process /filter, benchmarks/).
    gc.freeze()
    return app
