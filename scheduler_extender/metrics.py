"""Every Prometheus metric the extender exports, in one place, on a registry of its own per app.

`Metrics` are the serving process's; `SourceMetrics` are counted where the location source runs, in the
sync process, and exported by the serving process's /metrics through sync/relay.py."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

_LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_ALLUXIO_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Holds the metric objects; components take one of these instead of touching globals."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.request_seconds = Histogram(
            "scheduler_extender_request_duration_seconds", "Time to answer a request, by verb.",
            ["verb"], buckets=_LATENCY_BUCKETS, registry=r)
        self.requests = Counter(
            "scheduler_extender_requests_total", "Requests answered, by verb and outcome.",
            ["verb", "outcome"], registry=r)
        self.index_entries = Gauge(
            "scheduler_extender_index_entries", "Paths held in the block-location index.", registry=r)
        self.index_bytes = Gauge(
            "scheduler_extender_index_cached_bytes",
            "Alluxio-cached bytes described by the index entries (a block under two indexed paths counts twice).",
            registry=r)
        self.sync_age = Gauge(
            "scheduler_extender_sync_age_seconds",
            "Seconds since the location source last answered successfully (+Inf before it ever has).",
            registry=r)
        self.index_lookups = Counter(
            "scheduler_extender_index_lookups_total",
            "Path lookups by result: hit, stale (served while refreshing), miss (fetched in time), "
            "late (fetch outlived the request budget), error (fetch failed, no data).",
            ["result"], registry=r)
        self.index_fetching = Gauge(
            "scheduler_extender_index_fetches_in_flight",
            "Fetches from the location source started and not finished (one per path at most); a number that stays "
            "up is a source that does not answer.", registry=r)
        self.index_refreshes = Counter(
            "scheduler_extender_index_refreshes_total", "Fetches from the location source, by trigger and outcome.",
            ["trigger", "outcome"], registry=r)
        self.webhook_pods = Counter(
            "scheduler_extender_webhook_pods_total",
            "Pods the admission webhook (/mutate) answered, by decision: patched (affinity toward the nodes caching "
            "their input), driver_away (a driver, away from them), and admitted unchanged: no_paths, "
            "no_cached_bytes (nothing cached, or not fetched within the request budget), own_scheduler, bound, "
            "not_pod_creation, error.", ["decision"], registry=r)
        self.local_worker_unchecked = Counter(
            "scheduler_extender_local_worker_unchecked_total",
            "Filter calls for pods requiring a local Alluxio worker that passed every node because the "
            "worker map is unknown (no Kubernetes watch, or not synced yet).", registry=r)
        self.kube_watch_failures = Counter(
            "scheduler_extender_kube_watch_failures_total",
            "Kubernetes lists and watches that failed, by watch and reason: expired (410 Gone: listed again) "
            "or error (API down, cut or unreadable: retried with backoff).", ["watch", "reason"], registry=r)
        self.connections_dropped = Counter(
            "scheduler_extender_connections_dropped_total",
            "Connections closed without answering a whole request, by reason: read_timeout (not received whole "
            "within --read-timeout), write_timeout (an answer not taken within it), bad_request (not HTTP/1.x "
            "we can read: answered 4xx or 5xx), tls_error (a failed TLS handshake), over_budget (503: "
            "--max-buffered-bytes held already), internal_error (a bug of ours met serving it: answered "
            "500).", ["reason"], registry=r)
        self.body_bytes_held = Gauge(
            "scheduler_extender_request_body_bytes_held",
            "Bytes of request bodies the worker holds now, announced or arriving, until answered; at most "
            "--max-buffered-bytes, past which a request is refused 503 (connections_dropped, over_budget).",
            registry=r)
        # process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, ...: the serving process.
        ProcessCollector(registry=r)
        self.annotation_errors = Counter(
            "scheduler_extender_annotation_errors_total",
            "Pod annotation entries that were ignored because they could not be read, by reason.",
            ["reason"], registry=r)
        self.app_executors_seen = Counter(
            "scheduler_extender_app_executors_seen_total",
            "Executors of the same Spark application known when an executor was scored, summed over those calls, "
            "by source: watch (seen bound) or answer (scored highest here, not yet seen bound). For a burst of n "
            "executors of one app, n(n-1)/2 in all means every call knew every executor placed before it.",
            ["source"], registry=r)
        self.executor_answers = Counter(
            "scheduler_extender_executor_answers_total",
            "Executors counted on the node the extender scored highest until the watch saw them bound, by what "
            "the watch then saw: confirmed (bound there), contradicted (bound elsewhere) or expired (not bound "
            "in time).", ["outcome"], registry=r)
        self.sync_up = Gauge(
            "scheduler_extender_sync_process_up",
            "1 while the sync process (which fetches and decodes locations) runs and answers, else 0.", registry=r)
        self.sync_restarts = Counter(
            "scheduler_extender_sync_process_restarts_total",
            "Times the sync process was started again after it exited or stopped answering.", registry=r)


class SourceMetrics:
    """What a location source counts: its Alluxio calls and snapshot reads. Lives in the sync process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.alluxio_seconds = Histogram(
            "scheduler_extender_alluxio_call_duration_seconds", "Alluxio REST call latency, by operation.",
            ["operation"], buckets=_ALLUXIO_BUCKETS, registry=r)
        self.alluxio_errors = Counter(
            "scheduler_extender_alluxio_call_errors_total", "Failed Alluxio REST calls, by operation and reason.",
            ["operation", "reason"], registry=r)
        self.snapshot_loads = Counter(
            "scheduler_extender_snapshot_loads_total",
            "Reads of --locations-file, at start and whenever it changes, by outcome: ok, or error (the last "
            "good snapshot stays in use).", ["outcome"], registry=r)
