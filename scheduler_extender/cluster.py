"""What the Kubernetes API says about nodes and Alluxio workers: an AddressBook and the nodes with a ready worker.

Alluxio workers name themselves differently per deployment mode, and one book covers them all:
- hostNetwork: `host` is the node's hostname or name → the node's name and Hostname address;
- the Helm chart without hostNetwork: `host` is the node's InternalIP (downward API `status.hostIP`),
  `containerHost` the pod IP → the node's InternalIP, and the worker pod's IP;
- `host` is the pod IP or pod hostname only → the worker pod (by label selector), via its `spec.nodeName`.
Node addresses are entered first, so a node's own address always wins over a pod's.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .background import Loop
from .kube_watch import Reflector
from .metrics import Metrics
from .nodes import AddressBook, node_addresses

REBUILD_INTERVAL = 0.2
"""Seconds between rebuilds at most: a rolling restart of a worker DaemonSet changes thousands of pods."""


@dataclass(frozen=True, slots=True)
class NodeSummary:
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkerPodSummary:
    node: str
    addresses: tuple[str, ...]
    """Pod IPs, pod name, `spec.hostname` and `hostname.subdomain`: what a worker may call itself."""
    ready: bool


def summarize_node(node: dict[str, Any]) -> NodeSummary:
    return NodeSummary(node["metadata"]["name"], node_addresses(node))


def summarize_worker_pod(pod: dict[str, Any]) -> WorkerPodSummary | None:
    """None for a pod that is not (or no longer) on a node: it caches nothing anyone can use."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    node = spec.get("nodeName")
    if not node or status.get("phase") in ("Succeeded", "Failed"):
        return None
    ips = [entry.get("ip") for entry in status.get("podIPs") or ()] or [status.get("podIP")]
    names = [pod["metadata"]["name"], spec.get("hostname")]
    if spec.get("hostname") and spec.get("subdomain"):
        names.append(f"{spec['hostname']}.{spec['subdomain']}")
    ready = status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())
    return WorkerPodSummary(node, tuple(a for a in (*ips, *names) if a), ready)


def address_book(nodes: Iterable[NodeSummary], pods: Iterable[WorkerPodSummary]) -> AddressBook:
    """Nodes by name and addresses, then worker pods by what they may call themselves, each to its node."""
    entries = [(address, node.name) for node in nodes for address in (node.name, *node.addresses)]
    entries += [(address, pod.node) for pod in pods for address in pod.addresses]
    return AddressBook(entries)


def ready_worker_nodes(pods: Iterable[WorkerPodSummary]) -> frozenset[str]:
    return frozenset(pod.node for pod in pods if pod.ready)


class ClusterView:
    """Watches nodes and worker pods; `book` and `worker_nodes` are immutable snapshots, swapped whole,
    so requests read them without a lock. `on_change` is called after each rebuild."""

    def __init__(self, list_nodes: Callable[..., Any], list_pods: Callable[..., Any], *, worker_selector: str,
                 resync: float, metrics: Metrics | None = None, on_change: Callable[[], None] = lambda: None) -> None:
        self.book = AddressBook(())
        self.node_names: tuple[str, ...] = ()
        """Every node, by name: the candidates where a caller sends none (the admission webhook)."""
        self.worker_nodes: frozenset[str] = frozenset()
        self._on_change = on_change
        self.unready_worker_nodes: frozenset[str] = frozenset()
        """Nodes with worker pods, none of them ready."""
        self._stop = threading.Event()
        self._built = threading.Event()
        self._loop = Loop("cluster-view", self.rebuild, pause=REBUILD_INTERVAL)
        self._nodes = Reflector("nodes", list_nodes, summarize_node, self._loop.wake, resync=resync,
                                metrics=metrics)
        self._workers = Reflector("worker pods", list_pods, summarize_worker_pod, self._loop.wake,
                                  label_selector=worker_selector, resync=resync, metrics=metrics)

    @property
    def synced(self) -> bool:
        """True once the snapshots were built from complete lists of both nodes and worker pods."""
        return self._built.is_set()

    def wait_synced(self, timeout: float) -> bool:
        return self._built.wait(timeout)

    def start(self) -> None:
        for target, name in ((self._nodes.run, "watch-nodes"), (self._workers.run, "watch-workers")):
            threading.Thread(target=target, args=(self._stop,), name=name, daemon=True).start()
        self._loop.start()

    def close(self) -> None:
        self._stop.set()
        self._loop.close()

    def rebuild(self) -> None:
        """Recompute the snapshots from the reflectors' summaries."""
        complete = self._nodes.synced and self._workers.synced
        pods = self._workers.summaries()
        nodes = self._nodes.summaries()
        self.book = address_book(nodes, pods)
        self.node_names = tuple(sorted(node.name for node in nodes))
        self.worker_nodes = ready_worker_nodes(pods)
        self.unready_worker_nodes = frozenset(pod.node for pod in pods) - self.worker_nodes
        if complete:
            self._built.set()
        self._on_change()

    def ready_now(self, nodes: Iterable[str], timeout: float) -> frozenset[str]:
        """Which of `nodes` have a ready worker pod as the API server has it now, not as the watch last said:
        one small list per node, all within `timeout`. Raises when the API fails or is too slow."""
        deadline = time.monotonic() + timeout
        ready: set[str] = set()
        for node in nodes:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer about every node's worker in {timeout:.3f}s")
            ready |= ready_worker_nodes(self._workers.list_now(left, field_selector=f"spec.nodeName={node}"))
        return frozenset(ready)

