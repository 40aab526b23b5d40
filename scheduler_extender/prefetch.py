"""Warms the index with the paths of pods as soon as they are created, before kube-scheduler asks about them.

A Spark driver can carry the paths annotation too (spark.kubernetes.driver.annotation.*): its paths are
then fetched while the driver starts, and even the first executor is scored on warm data. Paths of pods
that wait to be scheduled are kept warm by refresh-ahead until they are bound.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from .background import Loop
from .index import LocationIndex
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


class Prefetcher:
    """`list_pods`: one list method per namespace watched (kube_watch.pod_lister), each watched apart."""

    def __init__(self, list_pods: Sequence[Callable[..., Any]], index: LocationIndex[Any], *, selector: str,
                 resync: float, metrics: Metrics | None = None) -> None:
        self._index = index
        self._stop = threading.Event()
        self._loop = Loop("prefetch", self.prefetch_pending, pause=WAKE_INTERVAL)
        self._pods = [Reflector("prefetch pods", lister, pending_paths, self._loop.wake, label_selector=selector,
                                resync=resync, metrics=metrics) for lister in list_pods]

    def start(self) -> None:
        for pods in self._pods:
            threading.Thread(target=pods.run, args=(self._stop,), name="watch-prefetch", daemon=True).start()
        self._loop.start()

    def close(self) -> None:
        self._stop.set()
        self._loop.close()

    def prefetch_pending(self) -> int:
        """Ask the index to warm every pending pod's paths; returns how many fetches that started."""
        paths = sorted({path for pods in self._pods for pod_paths in pods.summaries() for path in pod_paths})
        return self._index.prefetch(paths)
