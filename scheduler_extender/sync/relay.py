"""The sync process's metrics (its Alluxio calls, its snapshot reads) on the serving process's /metrics.

The child sends a snapshot of its registry with its answers; the serving process exports the latest one
plus what the children before it had counted, so counters stay monotonic across restarts. `_created`
samples are left out: they would be the start of one child, not of the series.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

Labels = tuple[tuple[str, str], ...]
Family = tuple[str, str, str, tuple[tuple[str, Labels, float], ...]]
"""(name, type, help, samples as (sample name, labels, value))."""
Snapshot = tuple[Family, ...]


def snapshot(registry: CollectorRegistry) -> Snapshot:
    return tuple((metric.name, metric.type, metric.documentation,
                  tuple((s.name, tuple(sorted(s.labels.items())), s.value)
                        for s in metric.samples if not s.name.endswith("_created")))
                 for metric in registry.collect())


class Relay:
    """A collector for the serving process's registry: `update` with each snapshot received, `restarted`
    when the child that sent them is gone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, tuple[str, str]] = {}
        self._past: dict[str, dict[tuple[str, Labels], float]] = {}
        self._current: dict[str, dict[tuple[str, Labels], float]] = {}

    def update(self, families: Snapshot) -> None:
        current = {}
        for name, kind, documentation, samples in families:
            current[name] = {(sample, labels): value for sample, labels, value in samples}
            self._kinds.setdefault(name, (kind, documentation))
        with self._lock:
            self._current = current

    def restarted(self) -> None:
        with self._lock:
            for name, samples in self._current.items():
                past = self._past.setdefault(name, {})
                for key, value in samples.items():
                    past[key] = past.get(key, 0.0) + value
            self._current = {}

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            past, current = self._past, self._current
            names = [*past, *(name for name in current if name not in past)]
            totals = []
            for name in names:
                samples = dict(past.get(name, {}))
                for key, value in current.get(name, {}).items():
                    samples[key] = samples.get(key, 0.0) + value
                totals.append((name, samples))
        for name, samples in totals:
            kind, documentation = self._kinds[name]
            metric = Metric(name, documentation, kind)
            for (sample, labels), value in samples.items():
                metric.add_sample(sample, dict(labels), value)
            yield metric
