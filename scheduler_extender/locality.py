"""Index entries to cached bytes per node (and per worker, for diagnostics). Pure."""
from __future__ import annotations

from typing import Callable, Iterable

from .locations.base import PathLocations, WorkerAddress, WorkerSet

NodeOf = Callable[[WorkerAddress], "str | None"]


def node_bytes(entries: Iterable[PathLocations], node_of: NodeOf) -> dict[str, int]:
    """Bytes of the entries' blocks cached on each node, a block counted once per node however many of
    that node's workers (or tiers) hold it. Workers that resolve to no node are left out."""
    totals: dict[str, int] = {}
    nodes_of: dict[WorkerSet, frozenset[str]] = {}
    for entry in entries:
        for workers, size in entry.by_workers.items():
            nodes = nodes_of.get(workers)
            if nodes is None:
                nodes = nodes_of[workers] = frozenset(n for n in map(node_of, workers) if n is not None)
            for node in nodes:
                totals[node] = totals.get(node, 0) + size
    return totals


def worker_bytes(entries: Iterable[PathLocations]) -> dict[WorkerAddress, int]:
    """Bytes of the entries' blocks cached on each worker."""
    totals: dict[WorkerAddress, int] = {}
    for entry in entries:
        for workers, size in entry.by_workers.items():
            for worker in workers:
                totals[worker] = totals.get(worker, 0) + size
    return totals
