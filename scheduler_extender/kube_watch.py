"""List-and-watch of one Kubernetes resource, kept as small summaries, that survives drops and 410 Gone.

Like client-go's reflector: list, then watch from the list's resourceVersion; a watch that ends cleanly is
resumed from the last version seen; a 410 Gone (the version fell out of the server's history) lists
again; any other failure backs off exponentially and resumes; and everything is listed again every
`resync` seconds to mend drift. Objects are reduced by `summarize` to the few fields we use, so a
10,000-node cluster costs a few megabytes, and `on_change` fires only when a summary really changed
(a node's heartbeat does not); `on_event`, if given, is told which summary changed, and how, for a consumer
keeping its own index of them.

The official client builds the authenticated requests; the watch stream is read here, line by line,
because the client's `Watch(deserialize=False)` mishandles ERROR events.
"""
from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from .metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Hashable)
Summarize = Callable[[dict[str, Any]], "T | None"]

_GONE = 410


class Expired(Exception):
    """The resourceVersion we watch from is older than the server keeps: list again."""


class Reflector(Generic[T]):
    """Keeps `summaries()` in step with the objects `list_fn` (a CoreV1Api list method) selects."""

    def __init__(self, name: str, list_fn: Callable[..., Any], summarize: Summarize[T],
                 on_change: Callable[[], None], *, label_selector: str | None = None, resync: float = 300.0,
                 watch_timeout: int = 300, backoff: tuple[float, float] = (0.5, 30.0),
                 connect_timeout: float = 10.0, metrics: Metrics | None = None,
                 on_event: Callable[[str, T | None], None] | None = None) -> None:
        self.name = name
        self._on_event = on_event
        self._metrics = metrics
        self._list_fn = list_fn
        self._summarize = summarize
        self._on_change = on_change
        self._selector = {"label_selector": label_selector} if label_selector else {}
        self._resync = resync
        self._watch_timeout = watch_timeout
        self._backoff_base, self._backoff_max = backoff
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._store: dict[str, T] = {}
        self._synced = threading.Event()
        self.relists = 0
        """Lists made so far (the first, resyncs, and recoveries from 410 Gone)."""

    @property
    def synced(self) -> bool:
        """True once a list has succeeded."""
        return self._synced.is_set()

    def wait_synced(self, timeout: float) -> bool:
        return self._synced.wait(timeout)

    def summaries(self) -> list[T]:
        with self._lock:
            return list(self._store.values())

    def run(self, stop: threading.Event) -> None:
        """List and watch until `stop` is set; never raises."""
        version: str | None = None
        resync_at = 0.0
        failures = 0
        while not stop.is_set():
            try:
                if version is None or time.monotonic() >= resync_at:
                    version = self._list()
                    resync_at = time.monotonic() + self._resync
                version = self._watch(version, resync_at, stop)
                failures = 0
            except Expired as err:
                log.info("%s: watch expired (%s); listing again", self.name, err)
                self._count("expired")
                version = None
            except Exception as err:  # API down, connection cut, bad answer: back off, then resume
                self._count("error")
                failures += 1
                delay = min(self._backoff_max, self._backoff_base * 2 ** (failures - 1))
                log.warning("%s: %s: %s; retrying in %.1fs", self.name, type(err).__name__, err, delay)
                stop.wait(delay)

    def _count(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.kube_watch_failures.labels(self.name, reason).inc()

    def list_now(self, timeout: float, **narrower: str) -> list[T]:
        """The selected objects as the API server has them now, narrowed further by `narrower` (say a
        field_selector), summarized; the watched summaries are left alone. Raises on any failure."""
        response = self._list_fn(**self._selector, **narrower, _preload_content=False, _request_timeout=timeout)
        return list(self._summarized(json.loads(response.data)).values())

    def _summarized(self, doc: dict[str, Any]) -> dict[str, T]:
        store: dict[str, T] = {}
        for item in doc.get("items") or ():
            summary = self._summarize(item)
            if summary is not None:
                store[_key(item)] = summary
        return store

    def _list(self) -> str:
        response = self._list_fn(**self._selector, _preload_content=False,
                                 _request_timeout=(self._connect_timeout, 60))
        doc = json.loads(response.data)
        store = self._summarized(doc)
        with self._lock:
            changed = store != self._store or not self._synced.is_set()
            previous, self._store = self._store, store
        if self._on_event is not None:
            for key in previous.keys() - store.keys():
                self._on_event(key, None)
            for key, summary in store.items():
                if previous.get(key) != summary:
                    self._on_event(key, summary)
        self.relists += 1
        self._synced.set()
        if changed:
            self._on_change()
        return str(doc["metadata"]["resourceVersion"])

    def _watch(self, version: str, resync_at: float, stop: threading.Event) -> str:
        """Apply events until the server ends the watch or the resync is due; returns the last version."""
        seconds = max(1, min(self._watch_timeout, int(resync_at - time.monotonic())))
        try:
            response = self._list_fn(**self._selector, watch=True, resource_version=version,
                                     allow_watch_bookmarks=True, timeout_seconds=seconds,
                                     _preload_content=False,
                                     _request_timeout=(self._connect_timeout, seconds + 30))
        except ApiException as err:
            if err.status == _GONE:
                raise Expired(err.reason) from None
            raise
        try:
            for line in iter_resp_lines(response):
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event["type"], event["object"]
                if kind == "ERROR":
                    if obj.get("code") == _GONE:
                        raise Expired(obj.get("message"))
                    raise RuntimeError(f"watch error {obj.get('code')}: {obj.get('message')}")
                version = obj["metadata"]["resourceVersion"]
                if kind != "BOOKMARK" and self._apply(kind, obj):
                    self._on_change()
                if stop.is_set():
                    break
        finally:
            response.close()  # a watch cut short has unread data: never hand its connection back
            response.release_conn()
        return version

    def _apply(self, kind: str, obj: dict[str, Any]) -> bool:
        key = _key(obj)
        summary = None if kind == "DELETED" else self._summarize(obj)
        with self._lock:
            if summary is None:
                changed = self._store.pop(key, None) is not None
            else:
                changed = self._store.get(key) != summary
                self._store[key] = summary
        if changed and self._on_event is not None:
            self._on_event(key, summary)
        return changed


def pod_lister(api: Any, namespace: str | None) -> Callable[..., Any]:
    """The CoreV1Api list method of the pods of `namespace`, or of every namespace for None: what the Reflector of
    those pods lists and watches. One namespace needs only a Role there; every namespace, a ClusterRole."""
    if namespace is None:
        return api.list_pod_for_all_namespaces  # type: ignore[no-any-return]
    return functools.partial(api.list_namespaced_pod, namespace)


def _key(obj: dict[str, Any]) -> str:
    metadata = obj["metadata"]
    return f"{metadata.get('namespace', '')}/{metadata['name']}"
