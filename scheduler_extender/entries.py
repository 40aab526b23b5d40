"""What the serving process keeps per Alluxio path, and the bytes it arrives in from the sync process.

A source answers in cached bytes per *worker set* (PathLocations). A directory of 100,000 blocks over 1,000
workers has about 17,500 sets; made Python objects again in the serving process they cost 40 ms of one
GIL hold (marshal), which every call waiting meanwhile would pay. So the sync process sends, and the
serving process keeps, one PathEntry per path, per *worker*: the distinct workers, the bytes each caches,
and the sets of two or more workers packed into two byte strings. Decoding one such directory costs
0.2 ms; bytes per node are then a sum over at most as many workers (placement.py). The packed sets are
read only when two workers of an entry turn out to be on one node, where a block they share must count
once for it.
"""
from __future__ import annotations

import marshal
from array import array
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .locations.base import PathLocations, WorkerAddress

if TYPE_CHECKING:
    from .placement import Table

_FORMAT = 1
"""Bumped when the layout changes; both ends are always the same installed code, this guards mistakes."""

_INTERNED: dict[WorkerAddress, WorkerAddress] = {}
"""One tuple per worker address across entries: 100,000 file entries name the same thousand workers."""
_INTERN_LIMIT = 200_000
"""Worker addresses churn with pod IPs; past this many the table starts over (entries keep their own)."""


class PathEntry:
    """One path's cached bytes per worker. Immutable but for `table`, which placement sets before the
    entry is served and replaces whole when the address books change."""

    __slots__ = ("workers", "worker_bytes", "shared_members", "shared_sizes", "cached_bytes", "total_bytes",
                 "files", "table", "__weakref__")

    def __init__(self, workers: tuple[WorkerAddress, ...], worker_bytes: tuple[int, ...], shared_members: bytes,
                 shared_sizes: bytes, cached_bytes: int, total_bytes: int, files: int) -> None:
        self.workers = workers
        self.worker_bytes = worker_bytes
        """Bytes each worker caches: a block on two workers counts for both."""
        self.shared_members = shared_members
        """uint32s: for each set of two or more workers, its size k, then k indexes into `workers`."""
        self.shared_sizes = shared_sizes
        """int64s: the bytes of each of those sets, in the same order."""
        self.cached_bytes = cached_bytes
        """Each cached block once."""
        self.total_bytes = total_bytes
        """Length of every file beneath the path, cached or not."""
        self.files = files
        self.table: Table | None = None

    def shared_sets(self) -> Iterator[tuple[list[int], int]]:
        """(worker indexes, bytes) of each set of two or more workers."""
        members, sizes = array("I"), array("q")
        members.frombytes(self.shared_members)
        sizes.frombytes(self.shared_sizes)
        at = 0
        for size in sizes:
            count = members[at]
            yield members[at + 1:at + 1 + count].tolist(), size
            at += 1 + count


def encode(locations: PathLocations) -> bytes:
    """The bytes of a PathEntry for `locations` (in the sync process). Raises OverflowError for byte counts
    past 2^63, which no real answer has."""
    index: dict[WorkerAddress, int] = {}
    per_worker: list[int] = []
    members, sizes = array("I"), array("q")
    for workers, size in locations.by_workers.items():
        at = []
        for worker in workers:
            i = index.setdefault(worker, len(index))
            if i == len(per_worker):
                per_worker.append(0)
            per_worker[i] += size
            at.append(i)
        if len(at) > 1:
            members.append(len(at))
            members.extend(at)
            sizes.append(size)
    return marshal.dumps((
        _FORMAT, tuple(host for host, _ in index), tuple(container for _, container in index),
        array("q", per_worker).tobytes(), members.tobytes(), sizes.tobytes(),
        locations.cached_bytes, locations.total_bytes, locations.files))


def decode(data: bytes) -> PathEntry:
    """The PathEntry `encode` wrote (in the serving process: one C call for the lot, then a tuple per
    worker). Raises ValueError for bytes it did not write."""
    try:
        version, hosts, containers, per_worker, members, sizes, cached, total, files = marshal.loads(data)
    except (EOFError, TypeError, ValueError) as err:
        raise ValueError(f"not an encoded path entry: {err}") from None
    if version != _FORMAT:
        raise ValueError(f"path entry format {version}, expected {_FORMAT}")
    worker_bytes = array("q")
    worker_bytes.frombytes(per_worker)
    if len(_INTERNED) > _INTERN_LIMIT:
        _INTERNED.clear()
    workers = tuple(_INTERNED.setdefault(address, address) for address in zip(hosts, containers, strict=True))
    return PathEntry(workers, tuple(worker_bytes.tolist()), members, sizes, cached, total, files)


def worker_bytes(entries: Iterable[PathEntry]) -> dict[WorkerAddress, int]:
    """Bytes of the entries' blocks cached on each worker."""
    totals: dict[WorkerAddress, int] = {}
    for entry in entries:
        for worker, size in zip(entry.workers, entry.worker_bytes, strict=True):
            totals[worker] = totals.get(worker, 0) + size
    return totals
