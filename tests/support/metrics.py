"""Reading Prometheus samples, of a registry in this process or of a scraped /metrics page, through
prometheus_client's documented `CollectorRegistry.get_sample_value`."""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from scheduler_extender.metrics import Metrics, SourceMetrics

_SUFFIXES = ("", "_total", "_created", "_bucket", "_count", "_sum", "_info")
"""What a sample's name adds to its family's (a counter `x` has samples `x_total` and `x_created`)."""


class Samples:
    """`Samples(metrics.registry)` or `Samples.parse(text)`; `value` reads one sample, `sum` several.

    A name that is neither the extender's (scheduler_extender/metrics.py) nor one of the families read fails the
    test: a misspelt name must not read as 0. A sample not there (yet) is 0: a counter never counted, or a metric
    of the sync process before its first relay."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    @classmethod
    def parse(cls, text: str) -> Samples:
        """The samples of a /metrics page in the Prometheus text format."""
        registry = CollectorRegistry(auto_describe=True)
        registry.register(_Parsed(list(text_string_to_metric_families(text))))
        return cls(registry)

    def value(self, name: str, **labels: str) -> float:
        """The sample `name` with exactly these labels."""
        self._check(name)
        found = self.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found

    def sum(self, name: str, **labels: str) -> float:
        """The samples `name` whose labels include these, added up (`sum(requests_total, verb="filter")`)."""
        self._check(name)
        wanted = labels.items()
        return sum(sample.value for sample in self._samples(name) if wanted <= sample.labels.items())

    def by_label(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """The samples `name` whose labels include these, added up by the value of `label`."""
        self._check(name)
        totals: dict[str, float] = {}
        for sample in self._samples(name):
            if labels.items() <= sample.labels.items():
                key = sample.labels.get(label, "")
                totals[key] = totals.get(key, 0.0) + sample.value
        return totals

    def _samples(self, name: str) -> Iterator[Sample]:
        for family in self.registry.collect():
            for sample in family.samples:
                if sample.name == name:
                    yield sample

    def _check(self, name: str) -> None:
        families = {family.name for family in self.registry.collect()} | _extenders()
        if not any(name.removesuffix(suffix) in families for suffix in _SUFFIXES if name.endswith(suffix)):
            raise AssertionError(f"no metric {name!r}; there are {sorted(families)}")


@functools.cache
def _extenders() -> frozenset[str]:
    """The names of the metric families the extender defines, its sync process's included."""
    return frozenset(family.name for metrics in (Metrics(), SourceMetrics()) for family in metrics.registry.collect())


class _Parsed(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families
