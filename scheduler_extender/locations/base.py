"""The small interface every block-location source implements, and the values it returns.

A source runs in the sync process (scheduler_extender/sync/), never in the serving one: `fetch` may
download and decode hundreds of megabytes, and only its result, encoded compactly (entries.py), crosses
over. A new source is a class with `fetch`, `probe` and `start` below, constructed in
`locations/configured.py` from the settings with a SourceMetrics for its calls; it may use threads
(up to --fetch-threads fetches call it at once) and must raise SourceError for anything it cannot answer.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

WorkerAddress = tuple[str, str]
"""An Alluxio worker as it names itself: (host, containerHost), i.e. `alluxio.worker.hostname` and
`alluxio.worker.container.hostname` (empty unless the worker runs in a container).

A plain tuple of two strings, not a NamedTuple: the garbage collector stops tracking such a tuple, and then
the worker sets made of them, so the hundreds of thousands the index holds cost its full passes nothing. As
NamedTuples (tracked for life) every full pass walked them all, 350-440 ms each, and requests carrying 1,000
whole Node objects set one off every few calls (benchmarks/, in-process /prioritize p99)."""


def worker_address(host: str, container_host: str = "") -> WorkerAddress:
    return (host, container_host)


WorkerSet = tuple[WorkerAddress, ...]
"""The distinct workers that hold one block, sorted: the key under which its bytes are summed."""


@dataclass(frozen=True, slots=True)
class PathLocations:
    """What a source answers for one Alluxio path: cached bytes per set of workers, no per-block objects.

    Keying by the whole worker set (not by worker) is what lets a block on two workers of the same node
    count once for that node.
    """

    by_workers: Mapping[WorkerSet, int] = field(default_factory=dict)
    total_bytes: int = 0
    """Length of every file beneath the path, cached or not."""
    files: int = 0

    @property
    def cached_bytes(self) -> int:
        """Each cached block once, however many workers hold it."""
        return sum(self.by_workers.values())


class SourceError(Exception):
    """The source could not answer (down, slow, or answered something we cannot read)."""


class LocationSource(Protocol):
    """Anything that can tell where the blocks beneath an Alluxio path are cached."""

    def fetch(self, path: str) -> PathLocations:
        """Cached bytes beneath `path`; an empty PathLocations if it does not exist. Raises SourceError."""
        ...

    def probe(self) -> None:
        """Cheap liveness check used for readiness. Raises SourceError."""
        ...

    def start(self) -> None:
        """Start what the source runs beside its calls (Alluxio 3's membership watch), if anything. Called once,
        in the sync process, after the source is made: a thread started before would not cross the exec."""
        ...


def merge(parts: Iterable[PathLocations]) -> PathLocations:
    """One PathLocations for several disjoint paths (e.g. the files beneath a directory)."""
    by_workers: dict[WorkerSet, int] = {}
    total = files = 0
    for part in parts:
        for workers, size in part.by_workers.items():
            by_workers[workers] = by_workers.get(workers, 0) + size
        total += part.total_bytes
        files += part.files
    return PathLocations(by_workers=by_workers, total_bytes=total, files=files)
