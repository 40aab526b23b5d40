"""The extender's verbs as plain functions of parsed requests: pod → paths → index → node bytes → scores."""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any, Sequence

from cachetools import LRUCache

from . import locality, scoring
from .cluster import ClusterView
from .index import LocationIndex
from .locations.base import PathLocations, WorkerAddress
from .metrics import Metrics
from .nodes import AddressBook, WorkerResolver, book_from_names, book_from_nodes
from .protocol import ExtenderArgs, render_filter, render_priorities
from .workload import REQUIRE_LOCAL_WORKER_ANNOTATION, Workload, parse_paths, workload_of

NO_LOCAL_WORKER = f"node has no ready Alluxio worker (the pod sets {REQUIRE_LOCAL_WORKER_ANNOTATION})"
RECHECKED_NODES = 4
"""Most candidates /filter asks the API server about before it refuses them all (Extender._recheck)."""

log = logging.getLogger(__name__)


class Extender:
    """Stateless per request; the index, the operator's address books and the cluster view are shared."""

    def __init__(self, index: LocationIndex, books: Sequence[AddressBook], metrics: Metrics,
                 cluster: ClusterView | None = None, *, tables: int = 10000, max_paths: int = 1000,
                 recheck_timeout: float = 0.05) -> None:
        self._index = index
        self._recheck_timeout = recheck_timeout
        self._books = list(books)
        self._metrics = metrics
        self._cluster = cluster
        self._tables = locality.TableCache(tables)
        self._named_tables = locality.TableCache(tables)
        self._max_paths = max_paths
        self._names_books: LRUCache[tuple[str, ...], AddressBook] = LRUCache(8)
        self._names_lock = threading.Lock()

    def filter(self, args: ExtenderArgs) -> dict[str, Any]:
        """Cached data never excludes a node. Only a pod that requires a local worker is kept off nodes
        without a ready one, as unresolvable (preempting pods would not bring a worker). While the worker
        map is unknown (no Kubernetes watch, or not synced yet) every node passes: never block scheduling."""
        every = range(len(args.node_names))
        if not workload_of(args.pod).require_local_worker:
            return render_filter(args, every, {}, {})
        cluster = self._cluster
        if cluster is None or not cluster.synced:
            self._metrics.local_worker_unchecked.inc()
            return render_filter(args, every, {}, {})
        ready = cluster.worker_nodes
        if ready.isdisjoint(args.node_names):
            ready = ready | self._recheck(cluster, args.node_names)
        passed = [i for i, name in enumerate(args.node_names) if name in ready]
        refused = {name: NO_LOCAL_WORKER for name in args.node_names if name not in ready}
        return render_filter(args, passed, {}, refused)

    def _recheck(self, cluster: ClusterView, names: Sequence[str]) -> frozenset[str]:
        """Before refusing every candidate: those (a few) whose worker pod the watch last saw not ready, as the
        API server has them now. kube-scheduler retries a pod an extender refused on any cluster event, a
        worker pod turning Ready among them, within milliseconds of it, often before our own watch has seen
        that same event; refused then, the pod would wait for another event, or 5 minutes
        (podMaxInUnschedulablePodsDuration). The API down or slow changes nothing: the watch's view stands."""
        suspects = [name for name in names if name in cluster.unready_worker_nodes][:RECHECKED_NODES]
        if not suspects:
            return frozenset()
        try:
            ready = cluster.ready_now(suspects, self._recheck_timeout)
        except Exception as err:
            log.warning("could not recheck the Alluxio workers of %s: %s", ", ".join(suspects), err)
            return frozenset()
        if ready:
            log.info("worker pods on %s are ready before the watch said so", ", ".join(sorted(ready)))
        return ready

    def prioritize(self, args: ExtenderArgs) -> list[dict[str, Any]]:
        work = self._workload(args)
        if not work.paths:
            return []
        by_node = locality.node_bytes(self._node_tables(work.paths, args), self._nodes_resolver(args))
        return render_priorities(args.node_names, scoring.scores(args.node_names, by_node))

    def locality(self, path_params: Sequence[str], nodes: Sequence[str]) -> dict[str, Any]:
        """For operators: what the index holds for these paths and how `nodes` would score. Without `nodes`,
        the cached workers' own hosts stand for the nodes (right for hostNetwork workers, and it shows the
        hosts an operator would have to map otherwise)."""
        paths, rejected = parse_paths("\n".join(path_params))
        found = self._index.lookup(paths)
        entries = [entry for entry in found if entry is not None]
        per_worker = locality.worker_bytes(entries)
        names = nodes or sorted({host for host, _ in per_worker})
        resolver = WorkerResolver([*self._shared_books(), book_from_names(names)])
        by_node = locality.node_bytes([locality.node_table(entry, resolver) for entry in entries], resolver)
        candidates = list(nodes) or sorted(by_node)
        ranked = sorted(zip(candidates, scoring.scores(candidates, by_node)),
                        key=lambda ns: (-ns[1], -by_node.get(ns[0], 0), ns[0]))
        return {
            "paths": [_path_report(path, entry) for path, entry in zip(paths, found)],
            "rejected": [{"entry": r.entry, "reason": r.reason} for r in rejected],
            "nodes": [{"node": n, "cachedBytes": by_node.get(n, 0), "score": s} for n, s in ranked],
            "unresolvedWorkers": [{"host": host, "containerHost": container_host, "cachedBytes": b}
                                  for (host, container_host), b in sorted(per_worker.items())
                                  if resolver((host, container_host)) is None],
        }

    def _shared_books(self) -> list[AddressBook]:
        """The operator's map first, then what the Kubernetes API says; the request's own books come after."""
        return self._books if self._cluster is None else [*self._books, self._cluster.book]

    def _node_tables(self, paths: Sequence[str], args: ExtenderArgs) -> list[locality.NodeTable]:
        """Each path's NodeTable from the shared books, rebuilt only when its index entry or a shared book is
        replaced. Sets those cannot place (workers known by node name only, or no Kubernetes watch) are then
        placed by the candidate names' book, cached per candidate list. With the watch on there is rarely
        anything left for that step, so a new candidate list, which nodes filling up bring pod after pod,
        costs nothing."""
        books = self._shared_books()
        generation = tuple(books[len(self._books):])
        names_book: AddressBook | None = None
        tables = []
        for path, entry in zip(paths, self._index.lookup(paths)):
            if entry is None:
                continue
            table = self._tables.table(path, entry, generation,
                                       lambda: locality.node_table(entry, WorkerResolver(books)))
            if table.unplaced and args.nodes is None:
                names_book = names_book or self._names_book(args.node_names)
                shared_table, book = table, names_book
                table = self._named_tables.table(
                    path, shared_table, (book,), lambda: locality.place_more(shared_table, WorkerResolver([book])))
            tables.append(table)
        return tables

    def _nodes_resolver(self, args: ExtenderArgs) -> locality.NodeOf | None:
        """Places what the tables left unplaced by the request's Node objects, whose book is built only if
        asked (with thousands of nodes it is the costliest thing a request could do). None for a request
        of node names: their book is in the tables already."""
        if args.nodes is None:
            return None
        resolver: WorkerResolver | None = None

        def node_of(worker: WorkerAddress) -> str | None:
            nonlocal resolver
            if resolver is None:
                resolver = WorkerResolver([book_from_nodes(args.nodes)])
            return resolver(worker)

        return node_of

    def _names_book(self, names: Sequence[str]) -> AddressBook:
        """A scheduler sends the same candidate list for pod after pod: keep the last few books."""
        key = tuple(names)
        with self._names_lock:
            book = self._names_books.get(key)
        if book is None:
            book = book_from_names(names)
            with self._names_lock:
                self._names_books[key] = book
        return book

    def _workload(self, args: ExtenderArgs) -> Workload:
        """The pod's readable paths, at most --max-paths-per-pod of them: each may cost an Alluxio call, and
        one pod listing 100,000 paths would otherwise queue as many and churn the index for everyone."""
        work = workload_of(args.pod)
        for rejected in work.rejected:
            self._metrics.annotation_errors.labels(rejected.kind).inc()
            log.warning("pod %s: ignoring path %r: %s", work.pod, rejected.entry, rejected.reason)
        if len(work.paths) > self._max_paths:
            self._metrics.annotation_errors.labels("too_many_paths").inc()
            log.warning("pod %s: reading the first %d of its %d paths (--max-paths-per-pod)", work.pod,
                        self._max_paths, len(work.paths))
            work = replace(work, paths=work.paths[:self._max_paths])
        return work


def _path_report(path: str, entry: PathLocations | None) -> dict[str, Any]:
    if entry is None:
        return {"path": path, "known": False}
    return {"path": path, "known": True, "files": entry.files, "totalBytes": entry.total_bytes,
            "cachedBytes": sum(entry.by_workers.values())}
