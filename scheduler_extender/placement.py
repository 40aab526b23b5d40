"""Worker → node placement and bytes per node: the one module that knows which node a worker is on.

A worker is placed by the first book that knows one of its addresses (its host, then its containerHost),
asked in this order:
1. the operator's --node-map;
2. with --kubernetes, the watch of Nodes and Alluxio worker Pods (cluster.py), replaced whole on change;
3. what the request brings: its Node objects' names and addresses, or else its candidate names.
The first two are the *shared* books. Every PathEntry gets a Table from them before it is served:
`prepare` runs when a fetch lands, before the index swaps the entry in, and `rebuild` runs in the
background when the watch's book changes, requests reading the previous tables meanwhile. A table notes
whether the shared books left workers unplaced; a request's own book places those, once per book and
table (the last few books are kept, and `prepare` applies the latest scheduling call's book too), so a
scheduler's candidate list, sent pod after pod, costs a request nothing after its first, even right after
a refresh, and a new list costs one pass over an entry's workers, not its worker sets.

A block counts once per node, however many of that node's workers hold it.
"""
from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from cachetools import LRUCache

from .background import Loop
from .entries import PathEntry
from .locations.base import WorkerAddress
from .nodes import AddressBook, WorkerResolver, address_entries, book_from_names

log = logging.getLogger(__name__)

Books = tuple[AddressBook, ...]

REQUEST_BOOKS = 8
"""Requests' own books kept: a scheduler sends the same candidates pod after pod, minus nodes filling up."""
MERGES_KEPT = 64
"""Sums of several entries' bytes per node kept, by the tables (and request book) they came from: every executor
of an app reads the same paths, and a pod reading 20 files would otherwise add 20 tables up on every call."""


class Table:
    """An entry's bytes per node as the shared books place its workers, and (one slot) as a request's
    book places the rest."""

    __slots__ = ("books", "nodes", "placed", "complete", "request")

    def __init__(self, books: Books, nodes: tuple[str | None, ...], placed: dict[str, int]) -> None:
        self.books = books
        """The shared books it was built from."""
        self.nodes = nodes
        """The node of each of the entry's workers, None where the shared books do not know it."""
        self.placed = placed
        self.complete = None not in nodes
        self.request: tuple[RequestBook, dict[str, int]] | None = None


class RequestBook:
    """A request's own book, with what it resolved so far."""

    __slots__ = ("resolve",)

    def __init__(self, book: AddressBook) -> None:
        self.resolve = WorkerResolver([book])


class Placement:
    """Thread-safe. `watched` returns the Kubernetes watch's current book (None: no watch); call
    `books_changed` when it changes."""

    def __init__(self, books: Sequence[AddressBook], watched: Callable[[], AddressBook] | None = None) -> None:
        self._static: Books = tuple(books)
        self._watched = watched
        self._shared: tuple[Books, WorkerResolver] = (self._static, WorkerResolver(self._static))
        self._requests: LRUCache[Hashable, RequestBook] = LRUCache(REQUEST_BOOKS)
        self._lock = threading.Lock()
        self._latest: RequestBook | None = None
        """The book of the latest scheduling call, applied to entries as they are prepared."""
        self._merges: LRUCache[tuple[Table | RequestBook | None, ...], dict[str, int]] = LRUCache(MERGES_KEPT)
        self._prepared: weakref.WeakSet[PathEntry] = weakref.WeakSet()
        """Every entry prepared and still held by someone (the index): what a rebuild covers."""
        self._loop = Loop("placement", self._rebuild_round, pause=0.2)

    def start(self) -> None:
        """Rebuild the tables in the background whenever the shared books change."""
        self._loop.start()

    def books_changed(self) -> None:
        self._loop.wake()

    def close(self) -> None:
        self._loop.close()

    def prepare(self, entry: PathEntry) -> PathEntry:
        """Give a freshly fetched entry its table before the index serves it."""
        books, resolve = self._current()
        entry.table = self._build(entry, books, resolve)
        with self._lock:
            self._prepared.add(entry)
        return entry

    def rebuild(self, entries: Iterable[PathEntry]) -> int:
        """New tables for entries whose table was built from other shared books; returns how many. Each is
        swapped in whole, so a request reads either the old table or the new one."""
        books, resolve = self._current()
        rebuilt = 0
        for entry in entries:
            if entry.table is None or entry.table.books != books:
                entry.table = self._build(entry, books, resolve)
                rebuilt += 1
        return rebuilt

    def node_bytes(self, entries: Sequence[PathEntry], names: Sequence[str],
                   nodes: Sequence[Mapping[str, Any]] | None = None, *, scheduling: bool = True) -> Mapping[str, int]:
        """Bytes cached per node over `entries`, for a request whose candidates are `names` (and, in Nodes
        mode, `nodes`, their Node objects). `scheduling`: the request is a scheduler's, whose book new
        entries get too (an operator's /locality is not). The result may be a table's own dict: read it,
        never change it."""
        request: RequestBook | None = None
        books = self._current()[0]
        tables: list[Table] = []
        parts = []
        for entry in entries:
            table = entry.table
            if table is None:  # only an entry served without `prepare`
                table = self.prepare(entry).table
                assert table is not None
            elif table.books != books:  # prepared as the books changed: served as it is, rebuilt beside
                self.books_changed()
            tables.append(table)
            if table.complete:
                parts.append(table.placed)
                continue
            if request is None:
                request = self._request_book(names, nodes, scheduling)
            parts.append(_with_request(entry, table, request))
        if len(parts) == 1:
            return parts[0]
        # Tables are replaced, never changed, and what a request book adds to one is fixed: the same tables and
        # book give the same sum.
        key = (*tables, request)
        with self._lock:
            totals = self._merges.get(key)
        if totals is None:
            totals = {}
            for part in parts:
                for node, size in part.items():
                    totals[node] = totals.get(node, 0) + size
            with self._lock:
                self._merges[key] = totals
        return totals

    def node_of(self, worker: WorkerAddress, names: Sequence[str]) -> str | None:
        """The node of `worker` for a request with candidate `names`, None if nothing places it."""
        node = self._current()[1](worker)
        return node if node is not None else self._request_book(names, None, False).resolve(worker)

    def _rebuild_round(self) -> None:
        with self._lock:
            entries = list(self._prepared)
        count = self.rebuild(entries)
        if count:
            log.info("address books changed: rebuilt the node tables of %d paths", count)

    def _current(self) -> tuple[Books, WorkerResolver]:
        """The shared books and their resolver, a new one (empty memo) whenever the watch's book changed."""
        current = self._shared
        if self._watched is not None:
            books = (*self._static, self._watched())
            if books != current[0]:  # AddressBooks compare by identity
                current = self._shared = (books, WorkerResolver(books))
        return current

    def _build(self, entry: PathEntry, books: Books, resolve: WorkerResolver) -> Table:
        nodes = tuple(map(resolve, entry.workers))
        table = Table(books, nodes, _by_node(entry, nodes))
        latest = self._latest
        if not table.complete and latest is not None:
            _with_request(entry, table, latest)
        return table

    def _request_book(self, names: Sequence[str], nodes: Sequence[Mapping[str, Any]] | None,
                      scheduling: bool) -> RequestBook:
        """The request's book from the cache, keyed by what it is made of (names, or names and addresses)."""
        entries = None if nodes is None else address_entries(nodes)
        key: Hashable = tuple(names) if entries is None else ("nodes", *entries)
        with self._lock:
            found = self._requests.get(key)
        if found is None:
            found = RequestBook(book_from_names(names) if entries is None else AddressBook(entries))
            with self._lock:
                self._requests[key] = found
        if scheduling:
            self._latest = found
        return found


def _with_request(entry: PathEntry, table: Table, request: RequestBook) -> dict[str, int]:
    """`table`'s bytes per node once `request`'s book has placed what the shared books did not."""
    cached = table.request
    if cached is not None and cached[0] is request:
        return cached[1]
    resolve = request.resolve
    nodes = [node if node is not None else resolve(worker)
             for node, worker in zip(table.nodes, entry.workers, strict=True)]
    placed = _by_node(entry, nodes)
    table.request = (request, placed)
    return placed


def _by_node(entry: PathEntry, nodes: Sequence[str | None]) -> dict[str, int]:
    """Bytes per node with each worker on `nodes[i]` (None: nowhere). Worker bytes add up per node, except
    that a block held by several workers of one node counts once for it: only then are the entry's
    worker sets read."""
    placed = [(node, size) for node, size in zip(nodes, entry.worker_bytes, strict=True) if node is not None]
    totals = dict(placed)
    if len(totals) == len(placed):  # one worker per node, the usual case: nothing can count twice
        return totals
    totals = {}
    for node, size in placed:
        totals[node] = totals.get(node, 0) + size
    crowded = {node for node, workers in Counter(node for node, _ in placed).items() if workers > 1}
    for members, size in entry.shared_sets():
        here = [node for node in (nodes[i] for i in members) if node in crowded]
        if len(here) > 1:
            for node, copies in Counter(here).items():
                if copies > 1:
                    totals[node] -= (copies - 1) * size
    return totals
