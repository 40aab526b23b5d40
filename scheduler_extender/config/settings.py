"""The one table of settings: each field of `Settings` carries its spec, which gives its flag, env var and YAML key
(all derived from one name), its default as an operator would write it, its parser (values.py) and its help."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from .values import (
    Parser,
    byte_size,
    duration,
    host_port,
    http_urls,
    integer,
    label_selector,
    namespace,
    namespaces,
    one_of,
    open_fraction,
    port,
    readable_file,
    scheduler_name,
    text,
    ufs_uri,
    url,
)

ENV_PREFIX = "SCHEDULER_EXTENDER_"

ACCESS_MODES = ("open", "loopback", "client-cert", "off")
"""Who may call an operator endpoint (/locality, /metrics); see `Settings.locality_access`."""
MAX_THREADS = 256
"""Most threads --threads and --fetch-threads may ask for."""


@dataclass(frozen=True)
class Spec:
    """One setting: `name` is the flag without `--` and the YAML key; the env var is derived from it."""

    name: str
    parse: Parser[Any]
    """Text to value (values.py); raises ValueError whose message completes the sentence '<setting>: "<text>" ...'.
    Its schema is the setting's in the Helm chart's values.schema.json."""
    default: str | None
    """As an operator would write it, so help shows `30s` rather than `30.0`."""
    metavar: str
    help: str
    attr: str = ""
    """The Settings attribute; filled in from the field name."""

    @property
    def flag(self) -> str:
        return "--" + self.name

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper().replace("-", "_")


def _setting(name: str, parse: Parser[Any], default: str | None, metavar: str, help: str) -> Any:
    """A Settings field whose metadata is its spec; its default is the parsed default text."""
    spec = Spec(name=name, parse=parse, default=default, metavar=metavar, help=help)
    return field(default=None if default is None else parse(default), metadata={"spec": spec})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the extender is configured with. Build it with `settings_from_args`, which validates; the
    constructor does not, so tests can make one directly."""

    bind: str = _setting(
        "bind", host_port, "0.0.0.0:8888", "HOST:PORT",
        "address to serve kube-scheduler's extender calls on ([::]:PORT for IPv6)")
    alluxio_proxy: str | None = _setting(
        "alluxio-proxy", url, None, "URL",
        "base URL of the Alluxio REST proxy that block locations are read from, e.g. http://alluxio-proxy:39999")
    alluxio_master: tuple[str, ...] | None = _setting(
        "alluxio-master", http_urls, None, "URLS",
        "deprecated and ignored: readiness follows --alluxio-proxy, which finds the primary master itself; "
        "accepted (comma-separated URLs) so settings that name the masters still start")
    locations_file: str | None = _setting(
        "locations-file", readable_file, None, "PATH",
        "file of Alluxio URIStatus JSON to read block locations from instead of a proxy")
    node_map: str | None = _setting(
        "node-map", readable_file, None, "PATH",
        "file mapping Alluxio worker hosts to Kubernetes node names")
    index_ttl: float = _setting(
        "index-ttl", duration(positive=True), "30s", "DURATION",
        "how long the block locations of a path are used before they are fetched again")
    index_size: int = _setting(
        "index-size", integer(minimum=1), "10000", "N",
        "most paths kept in the block-location index")
    request_budget: float = _setting(
        "request-budget", duration(positive=False), "50ms", "DURATION",
        "longest a scheduling request waits for Alluxio before answering from what the index holds")
    max_staleness: float = _setting(
        "max-staleness", duration(positive=False), "10m", "DURATION",
        "oldest block locations still used while Alluxio cannot be reached; at least --index-ttl")
    refresh_ahead: float = _setting(
        "refresh-ahead", open_fraction, "0.8", "FRACTION",
        "fraction of --index-ttl after which a path still being asked about is refreshed in the background")
    alluxio_timeout: float = _setting(
        "alluxio-timeout", duration(positive=True), "5s", "DURATION",
        "timeout of one request to Alluxio")
    alluxio_retries: int = _setting(
        "alluxio-retries", integer(minimum=0), "2", "N",
        "retries of a failed request to Alluxio")
    # Each thread costs a stack and, in a container, one of its pids.max: a count in the thousands starts and
    # then aborts with "can't start new thread". kube-scheduler calls for one pod at a time, and the sync
    # process answers fetches with as many threads, so a few suffice.
    fetch_threads: int = _setting(
        "fetch-threads", integer(minimum=1, maximum=MAX_THREADS), "4", "N",
        f"threads fetching block locations from Alluxio, at most {MAX_THREADS}")
    threads: int = _setting(
        "threads", integer(minimum=1, maximum=MAX_THREADS), "4", "N",
        f"threads serving HTTP requests, at most {MAX_THREADS}")
    max_paths_per_pod: int = _setting(
        "max-paths-per-pod", integer(minimum=1), "1000", "N",
        "most paths read from one pod's annotation; the rest are ignored and counted (each path can cost an "
        "Alluxio call)")
    # 10,000 full Node objects (50 images, managedFields) as kube-scheduler sends them with
    # nodeCacheCapable: false come to 174.4 MiB (tests/support/full_nodes.py); 256Mi leaves a half again for bigger
    # labels, annotations and taints.
    max_body_size: int = _setting(
        "max-body-size", byte_size(minimum=1024), "256Mi", "SIZE",
        "largest request body accepted, larger ones get 413: bytes, or with a suffix Ki, Mi, Gi (1024s) or "
        "k, M, G (1000s)")
    # A body is held once, so this bounds the memory request bodies take: at least --max-body-size (or the largest
    # body accepted could never be held), and with the pod's memory limit set from it (docs/robustness.md).
    max_buffered_bytes: int = _setting(
        "max-buffered-bytes", byte_size(minimum=1024), "256Mi", "SIZE",
        "most bytes of request bodies held at once across all connections; a request past it gets 503 with "
        "Retry-After: bytes, or with a suffix as --max-body-size")
    # kube-scheduler gives up on an extender call after its httpTimeout (5 s by default): a request still
    # arriving by then has no caller left waiting for it, and must not hold anything meanwhile.
    read_timeout: float = _setting(
        "read-timeout", duration(positive=True), "5s", "DURATION",
        "longest a request may take to arrive whole, from its first byte (TLS handshake included), and an "
        "answer to be taken; slower ones are dropped and counted")
    log_level: str = _setting(
        "log-level", one_of("debug", "info", "warning", "error"), "info", "LEVEL",
        "one of debug, info, warning, error")
    kubernetes: str = _setting(
        "kubernetes", one_of("off", "in-cluster", "kubeconfig"), "off", "MODE",
        "watch nodes and Alluxio worker pods to map workers to nodes: off, in-cluster (service account) "
        "or kubeconfig")
    kubeconfig: str | None = _setting(
        "kubeconfig", readable_file, None, "PATH",
        "kubeconfig file for --kubernetes kubeconfig (default: $KUBECONFIG, then ~/.kube/config)")
    worker_selector: str = _setting(
        "worker-selector", label_selector, "role=alluxio-worker", "SELECTOR",
        "label selector of the Alluxio worker pods")
    prefetch_selector: str = _setting(
        "prefetch-selector", label_selector, "spark-role", "SELECTOR",
        "label selector of the pods whose paths annotation warms the index as soon as they are created")
    worker_namespace: str | None = _setting(
        "worker-namespace", namespace, None, "NAMESPACE",
        "namespace of the Alluxio worker pods: only its pods are watched (a Role there suffices); every "
        "namespace's if not set")
    prefetch_namespaces: tuple[str, ...] | None = _setting(
        "prefetch-namespaces", namespaces, None, "NAMESPACES",
        "comma-separated namespaces of the pods that prefetch (Spark's): only theirs are watched (a Role in each "
        "suffices); every namespace's if not set")
    app_placement: str = _setting(
        "app-placement", one_of("answers", "watch", "off"), "answers", "MODE",
        "with --kubernetes, score a Spark executor given where its application's executors are (each node due a "
        "share of them in proportion to the bytes it caches): answers (known from the pod watch and from this "
        "extender's own answers, which cover executors kube-scheduler placed but has not bound yet), watch "
        "(the pod watch only) or off (each pod scored alone, as without --kubernetes); the watch is the one of "
        "--prefetch-selector, which must select the executors")
    resync_period: float = _setting(
        "resync-period", duration(positive=True), "5m", "DURATION",
        "how often the Kubernetes watches list everything again, to mend any drift")
    tls_cert_file: str | None = _setting(
        "tls-cert-file", readable_file, None, "PATH",
        "PEM certificate (chain) to serve HTTPS with; with --tls-private-key-file")
    tls_private_key_file: str | None = _setting(
        "tls-private-key-file", readable_file, None, "PATH",
        "PEM private key of --tls-cert-file")
    tls_client_ca_file: str | None = _setting(
        "tls-client-ca-file", readable_file, None, "PATH",
        "PEM CA bundle that client certificates are verified against; /filter and /prioritize then answer "
        "only callers presenting one (kube-scheduler's extenders[].tlsConfig certFile and keyFile), while "
        "/healthz and /readyz stay open to kubelet probes")
    locality_access: str = _setting(
        "locality-access", one_of(*ACCESS_MODES), "open", "ACCESS",
        "who may GET /locality: open (anyone who reaches the port), loopback (this host or pod only, e.g. "
        "through kubectl port-forward), client-cert (a certificate --tls-client-ca-file verifies) or off")
    metrics_access: str = _setting(
        "metrics-access", one_of(*ACCESS_MODES), "open", "ACCESS",
        "who may GET /metrics: open, loopback, client-cert or off, as --locality-access")
    scheduler_name: str = _setting(
        "scheduler-name", scheduler_name, "alluxio-locality-scheduler", "NAME",
        "schedulerName of the kube-scheduler that calls this extender: the admission webhook (/mutate) leaves "
        "its pods alone, as they are scored by cached bytes already")
    webhook_affinity: str = _setting(
        "webhook-affinity", one_of("preferred", "required"), "preferred", "KIND",
        "node affinity the admission webhook (/mutate) adds to an executor: preferred terms toward the nodes "
        "caching its input, or required too (a term matching any of them, for YuniKorn, which ignores "
        "preferred terms; the executor then waits while they are all full)")
    alluxio3_etcd: tuple[str, ...] | None = _setting(
        "alluxio3-etcd", http_urls, None, "URLS",
        "Alluxio 3: etcd endpoints holding its worker membership (alluxio.etcd.endpoints), comma-separated, "
        "e.g. http://etcd:2379; the ring follows them through a watch")
    alluxio3_static_workers: str | None = _setting(
        "alluxio3-static-workers", readable_file, None, "PATH",
        "Alluxio 3: the file of worker host names of a static membership "
        "(alluxio.worker.static.membership.manager.config.file)")
    alluxio3_master: tuple[str, ...] | None = _setting(
        "alluxio3-master", http_urls, None, "URLS",
        "Alluxio 3: base URLs of the masters' web port (19999), comma-separated, whose worker list is the "
        "membership (MASTER, Alluxio's default membership); with several, whichever answers")
    alluxio3_ufs_root: str | None = _setting(
        "alluxio3-ufs-root", ufs_uri, None, "URI",
        "Alluxio 3: alluxio.dora.client.ufs.root, the UFS path the Alluxio namespace maps onto, e.g. "
        "s3://bucket/data; required with Alluxio 3")
    alluxio3_listing_file: str | None = _setting(
        "alluxio3-listing-file", readable_file, None, "PATH",
        "Alluxio 3: JSON list of the workers' file infos (mPath, mUfsPath, mLength) to read files and lengths "
        "from, instead of the workers' HTTP API")
    alluxio3_cluster_name: str = _setting(
        "alluxio3-cluster-name", text, "DefaultAlluxioCluster", "NAME",
        "Alluxio 3: alluxio.cluster.name, which names its etcd key spaces")
    alluxio3_virtual_nodes: int = _setting(
        "alluxio3-virtual-nodes", integer(minimum=1), "5", "N",
        "Alluxio 3: alluxio.user.consistent.hash.virtual.node.count.per.worker")
    alluxio3_hash_ring: str = _setting(
        "alluxio3-hash-ring", one_of("live", "all"), "live", "WORKERS",
        "Alluxio 3: the workers on the ring: live (alluxio.user.dynamic.consistent.hash.ring.enabled=true, "
        "Alluxio's default) or all, lost ones too (false)")
    alluxio3_worker_http_port: int = _setting(
        "alluxio3-worker-http-port", port, "28080", "PORT",
        "Alluxio 3: alluxio.worker.http.server.port of the workers in --alluxio3-static-workers")
    # Volcano adds every plugin's node score raw: nodeorder gives up to 100 x each weight (1,200 at its default
    # weights: leastrequested 1, balancedresource 1, nodeaffinity 2, podaffinity 2, tainttoleration 3,
    # imagelocality 1, podtopologyspread 2), binpack 0-100 x binpack.weight (1): 1,300 in all. At 10,000, a node
    # caching 13% more of the pod's input than another outscores every other plugin together.
    volcano_max_score: int = _setting(
        "volcano-max-score", integer(minimum=1), "10000", "SCORE",
        "Volcano's extender plugin: the score of the node caching the most of a pod's input, the others in "
        "proportion; Volcano adds it raw to its other plugins' scores (each up to 100 x its weight)")
    config: str | None = None
    """The YAML file the settings were read from, if any."""


SPECS: tuple[Spec, ...] = tuple(
    replace(f.metadata["spec"], attr=f.name) for f in fields(Settings) if "spec" in f.metadata)
BY_NAME = {spec.name: spec for spec in SPECS}
BY_ATTR = {spec.attr: spec for spec in SPECS}
CONFIG = Spec(
    name="config", parse=readable_file, default=None, metavar="PATH", attr="config",
    help="YAML file of settings keyed by flag name without the dashes")
"""Where the other settings may come from; not a key of that file itself."""
