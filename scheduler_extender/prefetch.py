"""Warms the index with the paths of pods as soon as they are created, before kube-scheduler asks about them; and
tells the executor book where executors are bound, from the same watch.

A Spark driver can carry the paths annotation too (spark.kubernetes.driver.annotation.*): its paths are
then fetched while the driver starts, and even the first executor is scored on warm data. Paths of pods
that wait to be scheduled are kept warm by refresh-ahead until they are bound. One watch of Spark's pods
serves both: a second would have every pod event sent and decoded twice.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .background import Loop
from .executors import ExecutorBook, ExecutorPod, summarize_executor
from .kube_watch import Reflector
from .metrics import Metrics
from .workload import workload_of

WAKE_INTERVAL = 0.2
"""Seconds between prefetch rounds at most: one Spark app creates its executors in a burst."""


def pending_paths(pod: dict[str, Any]) -> tuple[str, ...] | None:
    """The paths of a pod that has not been bound to a node yet; None once it has (or if it reads none)."""
    if (pod.get("spec") or {}).get("nodeName"):
        return None
    return workload_of(pod).paths or None


class Warmable(Protocol):
    """What prefetching needs of the index (LocationIndex)."""

    def prefetch(self, paths: Sequence[str]) -> int: ...


@dataclass(frozen=True, slots=True)
class SparkPod:
    paths: tuple[str, ...] | None
    """What it will read while it waits to be bound (pending_paths)."""
    executor: ExecutorPod | None
    """Where it runs, for a bound executor (executors.summarize_executor)."""


def summarize_spark_pod(pod: dict[str, Any]) -> SparkPod | None:
    """None for a pod that neither waits with paths to read nor is a bound executor."""
    paths, executor = pending_paths(pod), summarize_executor(pod)
    return None if paths is None and executor is None else SparkPod(paths, executor)


class Prefetcher:
    """`list_pods`: one list method per namespace watched (kube_watch.pod_lister), each watched apart.
    `executors`, if given, is kept told where the watched executors are bound by every one of those watches
    (--prefetch-selector must then select them, as its default does)."""

    def __init__(self, list_pods: Sequence[Callable[..., Any]], index: Warmable, *, selector: str,
                 resync: float, metrics: Metrics | None = None, executors: ExecutorBook | None = None) -> None:
        self._index = index
        self._stop = threading.Event()
        self._loop = Loop("prefetch", self.prefetch_pending, pause=WAKE_INTERVAL)
        self._executors = executors
        self._pods = [Reflector("prefetch pods", lister, summarize_spark_pod, self._loop.wake,
                                label_selector=selector, resync=resync, metrics=metrics,
                                on_event=None if executors is None else self._bound) for lister in list_pods]

    def start(self) -> None:
        for pods in self._pods:
            threading.Thread(target=pods.run, args=(self._stop,), name="watch-prefetch", daemon=True).start()
        self._loop.start()

    def close(self) -> None:
        self._stop.set()
        self._loop.close()

    def prefetch_pending(self) -> int:
        """Ask the index to warm every pending pod's paths; returns how many fetches that started."""
        paths = sorted({path for pods in self._pods for pod in pods.summaries() for path in pod.paths or ()})
        return self._index.prefetch(paths)

    def _bound(self, key: str, pod: SparkPod | None) -> None:
        assert self._executors is not None
        self._executors.bound(key, None if pod is None else pod.executor)
