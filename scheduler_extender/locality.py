"""Index entries to cached bytes per node.

Resolving every worker set of an entry on every request would cost a scheduling call time in proportion
to the cluster. So each entry gets a NodeTable once per generation of the shared address books (the
operator's map and the Kubernetes watch): its bytes per node as far as those books place them, and the
worker sets they could not place, which each request resolves against its own candidates.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from cachetools import LRUCache

from .locations.base import PathLocations, WorkerAddress, WorkerSet

NodeOf = Callable[[WorkerAddress], "str | None"]


@dataclass(frozen=True, slots=True)
class NodeTable:
    placed: dict[str, int]
    """Bytes per node wherever the shared books placed a worker: whole sets, and the placed part of the rest."""
    unplaced: tuple[tuple[WorkerSet, tuple[str, ...], int], ...]
    """(workers, the distinct nodes the shared books did place for some of them, bytes) for the sets with a
    worker the books could not place: what a request's own Node objects may still place. Tuples of strings
    all the way down, which the garbage collector stops tracking (see WorkerAddress): a big directory leaves
    tens of thousands of these per table."""


def node_table(entry: PathLocations, shared: NodeOf) -> NodeTable:
    placed: dict[str, int] = {}
    unplaced = []
    for workers, size in entry.by_workers.items():
        nodes = [shared(worker) for worker in workers]
        known = tuple({node for node in nodes if node is not None})
        if None in nodes:
            unplaced.append((workers, known, size))
        for node in known:
            placed[node] = placed.get(node, 0) + size
    return NodeTable(placed, tuple(unplaced))


def node_bytes(tables: Sequence[NodeTable], node_of: NodeOf | None) -> dict[str, int]:
    """Bytes of the tables' blocks cached on each node, a block counted once per node however many of
    that node's workers (or tiers) hold it. `node_of` places what the tables left unplaced (None when the
    request brings no addresses of its own: the unplaced sets, which may be most of a big directory's
    when few candidates are sent, then cost nothing); workers it cannot place are left out. The result may
    be a table's own dict: read it, never change it."""
    if len(tables) == 1 and (node_of is None or not tables[0].unplaced):
        return tables[0].placed
    totals: dict[str, int] = {}
    for table in tables:
        for node, size in table.placed.items():
            totals[node] = totals.get(node, 0) + size
        if node_of is None:
            continue
        for workers, known, size in table.unplaced:
            for node in {n for n in map(node_of, workers) if n is not None}.difference(known):
                totals[node] = totals.get(node, 0) + size
    return totals


def place_more(table: NodeTable, resolve: NodeOf) -> NodeTable:
    """`table` with its unplaced worker sets placed as far as `resolve` can (a block counted once per
    node, as everywhere). What `resolve` cannot place is dropped: it is the last book a request has."""
    placed = dict(table.placed)
    for workers, known, size in table.unplaced:
        for node in {n for n in map(resolve, workers) if n is not None}.difference(known):
            placed[node] = placed.get(node, 0) + size
    return NodeTable(placed, ())


def worker_bytes(entries: Iterable[PathLocations]) -> dict[WorkerAddress, int]:
    """Bytes of the entries' blocks cached on each worker."""
    totals: dict[WorkerAddress, int] = {}
    for entry in entries:
        for workers, size in entry.by_workers.items():
            for worker in workers:
                totals[worker] = totals.get(worker, 0) + size
    return totals


class TableCache:
    """NodeTables by path, reused while what they were built from and the books they were built with are
    the very same objects."""

    def __init__(self, size: int) -> None:
        self._tables: LRUCache[str, tuple[object, tuple[object, ...], NodeTable]] = LRUCache(size)
        self._lock = threading.Lock()

    def table(self, path: str, source: object, generation: tuple[object, ...],
              build: Callable[[], NodeTable]) -> NodeTable:
        """`source` is the index entry (or table) `build` reads, `generation` the books it resolves with;
        both compared by identity, and kept alive here so no new object can take an old one's identity."""
        with self._lock:
            cached = self._tables.get(path)
        if cached is not None and cached[0] is source and cached[1] == generation:
            return cached[2]
        table = build()
        with self._lock:
            self._tables[path] = (source, generation, table)
        return table
