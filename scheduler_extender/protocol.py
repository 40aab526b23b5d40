"""kube-scheduler extender/v1 wire format: parse ExtenderArgs, render filter and prioritize results. Pure.

The Go types (k8s.io/kube-scheduler/extender/v1) carry no JSON tags, so the keys are the Go field names.
A scheduler with `nodeCacheCapable: true` sends `NodeNames` and `Nodes: null`; otherwise whole Node
objects in `Nodes.items` and `NodeNames: null`. Answers mirror the form of the question, because a filter
answer that carries neither list filters out every node.
"""
from __future__ import annotations

import orjson
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

MAX_SCORE = 10
"""extender/v1 MaxExtenderPriority: the scheduler multiplies by weight and by 10 against in-tree plugins."""


class ProtocolError(ValueError):
    """The body is not an ExtenderArgs we can act on; the message says why, for a 400 answer."""


@dataclass(frozen=True, slots=True)
class ExtenderArgs:
    """One filter or prioritize call: the pod and its candidate nodes, in the scheduler's order."""

    pod: Mapping[str, Any]
    node_names: Sequence[str]
    nodes: Sequence[Mapping[str, Any]] | None
    """The Node objects when the scheduler sent them (nodeCacheCapable false), else None."""


def parse_args(body: bytes) -> ExtenderArgs:
    """Validate just what we use; unknown fields are ignored, as Go's decoder would."""
    try:
        doc = orjson.loads(body)
    except ValueError as err:  # orjson.JSONDecodeError, also for nesting deeper than 1024
        raise ProtocolError(f"body is not valid JSON: {str(err)[:200]}") from None
    if not isinstance(doc, dict):
        raise ProtocolError(f"body is a JSON {_json_type(doc)}, expected an ExtenderArgs object")
    pod = doc.get("Pod")
    if not isinstance(pod, dict):
        raise ProtocolError(f"Pod is {_json_type(pod)}, expected a Pod object")
    for key in ("metadata", "spec"):
        if pod.get(key) is not None and not isinstance(pod[key], dict):
            raise ProtocolError(f"Pod.{key} is {_json_type(pod[key])}, expected an object")
    names, nodes = doc.get("NodeNames"), doc.get("Nodes")
    if names is not None and nodes is not None:
        raise ProtocolError("both Nodes and NodeNames are set; a scheduler sends exactly one")
    if names is not None:
        return ExtenderArgs(pod=pod, node_names=_node_names(names), nodes=None)
    if nodes is not None:
        items = _node_items(nodes)
        return ExtenderArgs(pod=pod, node_names=[_node_name(n, i) for i, n in enumerate(items)], nodes=items)
    raise ProtocolError("neither Nodes nor NodeNames is set; there are no candidate nodes")


def render_filter(args: ExtenderArgs, passed: Sequence[int], failed: Mapping[str, str],
                  unresolvable: Mapping[str, str]) -> dict[str, Any]:
    """ExtenderFilterResult in the form the nodes came in; `passed` holds indexes into the candidates."""
    if args.nodes is None:
        kept: dict[str, Any] = {"NodeNames": [args.node_names[i] for i in passed], "Nodes": None}
    else:
        kept = {"Nodes": {"metadata": {}, "items": [args.nodes[i] for i in passed]}, "NodeNames": None}
    return {**kept, "FailedNodes": dict(failed), "FailedAndUnresolvableNodes": dict(unresolvable), "Error": ""}


def render_priorities(node_names: Sequence[str], scores: Sequence[int]) -> list[dict[str, Any]]:
    """HostPriorityList of the candidates scoring above 0, in candidate order. kube-scheduler adds an
    extender's score only to the hosts it lists (pkg/scheduler/schedule_one.go, prioritizeNodes), so a host
    left out counts as 0 and the answer carries the few nodes caching the pod's data, not thousands of zeros
    for the scheduler to decode on every pod."""
    return [{"Host": name, "Score": score} for name, score in zip(node_names, scores, strict=True) if score]


def _node_names(names: Any) -> list[str]:
    if not isinstance(names, list):
        raise ProtocolError(f"NodeNames is {_json_type(names)}, expected a list of node names")
    if set(map(type, names)) - {str} or "" in names:  # the common, valid case without a Python loop
        i, name = next((i, n) for i, n in enumerate(names) if not isinstance(n, str) or not n)
        raise ProtocolError(f"NodeNames[{i}] is {_json_type(name)}, expected a non-empty string")
    return names


def _node_items(nodes: Any) -> list[dict[str, Any]]:
    if not isinstance(nodes, dict):
        raise ProtocolError(f"Nodes is {_json_type(nodes)}, expected a NodeList object")
    items = nodes.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        raise ProtocolError(f"Nodes.items is {_json_type(items)}, expected a list of Node objects")
    return items


def _node_name(node: Any, i: int) -> str:
    metadata = node.get("metadata") if isinstance(node, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        raise ProtocolError(f"Nodes.items[{i}].metadata.name is missing or not a non-empty string")
    return name


def _json_type(value: Any) -> str:
    """Name a decoded value by its JSON type, so messages speak the sender's language."""
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            int: "number", float: "number"}.get(type(value), type(value).__name__)

