"""The extender's verbs as plain functions of parsed requests: pod → paths → index → node bytes → scores."""
from __future__ import annotations

import logging
from collections.abc import Container, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import scoring
from .entries import PathEntry, worker_bytes
from .index import LocationIndex
from .metrics import Metrics
from .placement import Placement
from .protocol import ExtenderArgs, candidate_list, render_filter, render_listed, render_priorities, render_scored
from .workload import REQUIRE_LOCAL_WORKER_ANNOTATION, Workload, parse_paths, workload_of

if TYPE_CHECKING:  # imported only with --kubernetes: it brings the Kubernetes client
    from .cluster import ClusterView
    from .executors import ExecutorBook

NO_LOCAL_WORKER = f"node has no ready Alluxio worker (the pod sets {REQUIRE_LOCAL_WORKER_ANNOTATION})"
RECHECKED_NODES = 4
"""Most candidates /filter asks the API server about before it refuses them all (Extender._recheck)."""

log = logging.getLogger(__name__)


class Extender:
    """Stateless per request; the index, the placement, the cluster view and where executors are (`executors`:
    None scores each pod alone) are shared."""

    def __init__(self, index: LocationIndex[PathEntry], placement: Placement, metrics: Metrics,
                 cluster: ClusterView | None = None, *, max_paths: int = 1000,
                 recheck_timeout: float = 0.05, executors: ExecutorBook | None = None) -> None:
        self._index = index
        self._executors = executors
        self._placement = placement
        self._recheck_timeout = recheck_timeout
        self._metrics = metrics
        self._cluster = cluster
        self._max_paths = max_paths

    def filter(self, args: ExtenderArgs) -> bytes:
        """Cached data never excludes a node; `workerless` says which nodes a pod may not run on."""
        refused = self.workerless(args.pod, args.node_names)
        if not refused:
            return render_filter(args, range(len(args.node_names)), {}, {})
        passed = [i for i, name in enumerate(args.node_names) if name not in refused]
        return render_filter(args, passed, {}, {name: NO_LOCAL_WORKER for name in args.node_names if name in refused})

    def workerless(self, pod: Mapping[str, Any], names: Sequence[str]) -> AbstractSet[str]:
        """The candidates `pod` may not run on: none, unless it requires a local worker, then those without a
        ready one (unresolvable: preempting pods would not bring a worker). While the worker map is unknown (no
        Kubernetes watch, or not synced yet) every node passes: never block scheduling."""
        if not workload_of(pod).require_local_worker:
            return frozenset()
        cluster = self._cluster
        if cluster is None or not cluster.synced:
            self._metrics.local_worker_unchecked.inc()
            return frozenset()
        ready = cluster.worker_nodes
        if ready.isdisjoint(names):
            ready = ready | self._recheck(cluster, names)
        return {name for name in names if name not in ready}

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

    def prioritize(self, args: ExtenderArgs) -> bytes:
        work, by_node = self.cached_bytes(args.pod, args.node_names, args.nodes)
        if not by_node:
            return render_priorities((), ())
        candidates = candidate_list(args.node_names)
        if work.driver:
            # A driver's paths are its executors' input: it reads almost none of it, and on a node caching it
            # would take an executor's slot (README, "How it works").
            return render_scored(candidates, scoring.away(scoring.scores(args.node_names, by_node)))
        by_node = self.toward(work, by_node, args.node_names, candidates=candidates.positions)
        few = scoring.listed(args.node_names, lambda: candidates.positions, by_node)
        if few is not None:
            return render_listed(candidates, few)
        return render_scored(candidates, scoring.scores(args.node_names, by_node))

    def cached_bytes(self, pod: Mapping[str, Any], names: Sequence[str] | None,
                     nodes: Sequence[Mapping[str, Any]] | None = None, *,
                     scheduling: bool = True) -> tuple[Workload, Mapping[str, int]]:
        """What the pod reads, and the bytes of it cached per node, among candidate `names` (and, in Nodes
        mode, their Node objects `nodes`). `names` None: there is no candidate list (an admission webhook);
        the candidates are every node the Kubernetes watch knows, or without one the cached workers' own
        hosts. Waits on Alluxio at most the request budget; a path not fetched by then counts no bytes."""
        work = self._workload(pod)
        if not work.paths:
            return work, {}
        entries = [entry for entry in self._index.lookup(work.paths) if entry is not None]
        if not entries:
            return work, {}
        if names is None:
            names = self._every_node(entries)
        return work, self._placement.node_bytes(entries, names, nodes, scheduling=scheduling)

    def toward(self, work: Workload, by_node: Mapping[str, int], names: Sequence[str] | None, *,
               candidates: Container[str] | None = None, record: bool = True) -> Mapping[str, int]:
        """What every front end scores a pod toward, from its `cached_bytes`: for an executor of a Spark
        application (with --app-placement on) each node's shortfall of its share of the app's executors, in the
        bytes' unit (scoring.deficits), the candidate falling shortest then counting as where it goes
        (ExecutorBook.place; `record` False for an answer that places nothing); for any other pod, and an
        executor without a name (the watch could never match it), the bytes themselves. `candidates`: `names`
        as a set, if the caller has one; `names` None (the webhook): every node."""
        if not by_node or work.app is None or self._executors is None or work.pod.endswith("/"):
            return by_node
        if candidates is None:
            candidates = by_node if names is None else frozenset(names)
        return self._executors.place(work.app, work.pod, by_node, candidates, record=record)

    def _every_node(self, entries: Sequence[PathEntry]) -> Sequence[str]:
        known = self._cluster.node_names if self._cluster is not None else ()
        return known or sorted({host for entry in entries for host, _ in entry.workers})

    def locality(self, path_params: Sequence[str], nodes: Sequence[str]) -> dict[str, Any]:
        """For operators: what the index holds for these paths and how `nodes` would score. Without `nodes`,
        the cached workers' own hosts stand for the nodes (right for hostNetwork workers, and it shows the
        hosts an operator would have to map otherwise)."""
        paths, rejected = parse_paths("\n".join(path_params))
        found = self._index.lookup(paths)
        entries = [entry for entry in found if entry is not None]
        per_worker = worker_bytes(entries)
        names = list(nodes) or sorted({host for host, _ in per_worker})
        by_node = self._placement.node_bytes(entries, names, scheduling=False)
        candidates = list(nodes) or sorted(by_node)
        ranked = sorted(zip(candidates, scoring.scores(candidates, by_node), strict=True),
                        key=lambda ns: (-ns[1], -by_node.get(ns[0], 0), ns[0]))
        return {
            "paths": [_path_report(path, entry) for path, entry in zip(paths, found, strict=True)],
            "rejected": [{"entry": r.entry, "reason": r.reason} for r in rejected],
            "nodes": [{"node": n, "cachedBytes": by_node.get(n, 0), "score": s} for n, s in ranked],
            "unresolvedWorkers": [{"host": host, "containerHost": container_host, "cachedBytes": b}
                                  for (host, container_host), b in sorted(per_worker.items())
                                  if self._placement.node_of((host, container_host), names) is None],
        }

    def _workload(self, pod: Mapping[str, Any]) -> Workload:
        """The pod's readable paths, at most --max-paths-per-pod of them: each may cost an Alluxio call, and
        one pod listing 100,000 paths would otherwise queue as many and churn the index for everyone."""
        work = workload_of(pod)
        for rejected in work.rejected:
            self._metrics.annotation_errors.labels(rejected.kind).inc()
            log.warning("pod %s: ignoring path %r: %s", work.pod, rejected.entry, rejected.reason)
        if len(work.paths) > self._max_paths:
            self._metrics.annotation_errors.labels("too_many_paths").inc()
            log.warning("pod %s: reading the first %d of its %d paths (--max-paths-per-pod)", work.pod,
                        self._max_paths, len(work.paths))
            work = replace(work, paths=work.paths[:self._max_paths])
        return work


def _path_report(path: str, entry: PathEntry | None) -> dict[str, Any]:
    if entry is None:
        return {"path": path, "known": False}
    return {"path": path, "known": True, "files": entry.files, "totalBytes": entry.total_bytes,
            "cachedBytes": entry.cached_bytes}
