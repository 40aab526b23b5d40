"""Cached bytes per node to node-affinity terms, and the JSONPatch adding them to a pod. Pure.

For schedulers we cannot score for (the default kube-scheduler, YuniKorn, anything else), the admission
webhook writes the scores into the pod: one preferred term per node caching the pod's input, `matchFields
metadata.name In [node]` (a node field selector takes exactly one value), weighted 1..100 by the node's share
of the bytes the best node holds, half-up, at least 1: the node holding the most gets 100. kube-scheduler's
NodeAffinity plugin sums the weights of the terms a node matches and scales the sums to 0..100 across the
feasible nodes, times its plugin weight (2 by default), as our extender's 0..10 scores are scaled.
"""
from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import Any

MAX_WEIGHT = 100
"""The API's bound on a preferred term's weight."""
MAX_TERMS = 16
"""Terms added at most, for the nodes holding the most bytes. A pod's patch stays under 2 KB whatever the
cluster's size, and kube-scheduler matches each term against each node it scores: 16 terms at 1,000 nodes are
16,000 field matches per pod. Past the 16th node, a node holds at most 1/16 of what is spread evenly: its
preference would be a few points of weight."""

PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"

Term = dict[str, Any]


def weights(node_bytes: Mapping[str, int], limit: int = MAX_TERMS) -> list[tuple[str, int]]:
    """(node, weight) for the `limit` nodes holding the most bytes, most first (ties by name): weight is
    round(100 * bytes / most bytes), half-up in integers, at least 1."""
    top = heapq.nsmallest(limit, ((-size, node) for node, size in node_bytes.items() if size > 0))
    if not top:
        return []
    best = -top[0][0]
    return [(node, max(1, (2 * MAX_WEIGHT * -size + best) // (2 * best))) for size, node in top]


def preferred_terms(weighted: Sequence[tuple[str, int]], *, away: bool = False) -> list[Term]:
    """A preferred term per node toward it; `away` (a Spark driver): per node, a term matching every other
    node, of the same weight. A node caching nothing then matches every term, and the node caching the most
    gets the least, as `scoring.away` does for our scheduler: a weight cannot be negative."""
    operator = "NotIn" if away else "In"
    return [{"weight": weight, "preference": {"matchFields": [_name(operator, node)]}} for node, weight in weighted]


def required_terms(nodes: Sequence[str]) -> dict[str, Any]:
    """A required node selector matching any of `nodes` (its terms are ORed): for schedulers that honour
    only required affinity (YuniKorn). The pod then waits when all of them are full."""
    return {"nodeSelectorTerms": [{"matchFields": [_name("In", node)]} for node in nodes]}


def _name(operator: str, node: str) -> dict[str, Any]:
    return {"key": "metadata.name", "operator": operator, "values": [node]}


def has_required(pod: Mapping[str, Any]) -> bool:
    """Whether the pod requires node affinity of its own: a term of ours, ORed with its terms, would widen it,
    so it gets none."""
    return bool(_node_affinity(pod).get(REQUIRED))


def affinity_patch(pod: Mapping[str, Any], preferred: Sequence[Term],
                   required: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """JSONPatch operations adding `preferred` terms (after any the pod has) and the `required` selector (for
    a pod without one), creating spec.affinity and spec.affinity.nodeAffinity where the pod lacks them."""
    wanted: dict[str, Any] = {PREFERRED: list(preferred)} if preferred else {}
    if required is not None:
        wanted[REQUIRED] = required
    if not wanted:
        return []
    level: Mapping[str, Any] = pod
    for depth, key in enumerate(_NODE_AFFINITY):
        child = level.get(key)
        if not isinstance(child, dict):  # absent (or null): add it whole, with what we want inside
            value = wanted
            for inner in reversed(_NODE_AFFINITY[depth + 1:]):
                value = {inner: value}
            return [{"op": "add", "path": "/" + "/".join(_NODE_AFFINITY[:depth + 1]), "value": value}]
        level = child
    base = "/" + "/".join(_NODE_AFFINITY)
    if preferred and isinstance(level.get(PREFERRED), list) and level[PREFERRED]:
        ops = [{"op": "add", "path": f"{base}/{PREFERRED}/-", "value": term} for term in preferred]
        del wanted[PREFERRED]
    else:
        ops = []
    return ops + [{"op": "add", "path": f"{base}/{key}", "value": value} for key, value in wanted.items()]


_NODE_AFFINITY = ("spec", "affinity", "nodeAffinity")


def _node_affinity(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    level: Any = pod
    for key in _NODE_AFFINITY:
        level = level.get(key) if isinstance(level, dict) else None
    return level if isinstance(level, dict) else {}
