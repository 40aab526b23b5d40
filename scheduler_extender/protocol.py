"""kube-scheduler extender/v1 wire format: parse ExtenderArgs, render filter and prioritize results. Pure.

The Go types (k8s.io/kube-scheduler/extender/v1) carry no JSON tags, so the keys are the Go field names.
A scheduler with `nodeCacheCapable: true` sends `NodeNames` and `Nodes: null`; otherwise whole Node
objects in `Nodes.items` and `NodeNames: null`. Answers mirror the form of the question, because a filter
answer that carries neither list filters out every node.

Decoding reads only what we use: msgspec decodes the pod, the names, and of each Node its name and
addresses, skipping the rest (images, managedFields: 18 KB a node) without building it, 10x faster than
decoding whole Node objects. A body that schema refuses is decoded whole (orjson) and judged by the same
checks, which give the reason for a 400, or accept what the schema was too strict for (a `status` that is
not an object). /filter echoes Node objects from the bytes they came in.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypedDict

import msgspec
import orjson

MAX_SCORE = 10
"""extender/v1 MaxExtenderPriority: the scheduler multiplies by weight and by 10 against in-tree plugins."""


Body = bytes | bytearray
"""A request body as the server holds it (a bytearray filled in place), or as a test gives it."""


class ProtocolError(ValueError):
    """The body is not an ExtenderArgs we can act on; the message says why, for a 400 answer."""


@dataclass(frozen=True, slots=True)
class ExtenderArgs:
    """One filter or prioritize call: the pod and its candidate nodes, in the scheduler's order."""

    pod: Mapping[str, Any]
    node_names: Sequence[str]
    nodes: Sequence[Mapping[str, Any]] | None
    """The Node objects when the scheduler sent them (nodeCacheCapable false), else None; at least their
    `metadata.name` and `status.addresses`, maybe no more."""
    body: Body = b""
    """The request, from which /filter echoes Node objects as they came."""


class _Address(TypedDict, total=False):
    type: str
    address: str


class _Status(TypedDict, total=False):
    addresses: list[_Address]


class _Metadata(TypedDict, total=False):
    name: str


class NodeObject(TypedDict, total=False):
    """What is read of a v1.Node: its name and addresses (the address book's input); msgspec skips the rest."""

    metadata: _Metadata
    status: _Status


class _NodeList(msgspec.Struct):
    items: list[NodeObject] | None = None


class _Args(msgspec.Struct):
    Pod: dict[str, Any] | None = None
    NodeNames: list[str] | None = None
    Nodes: _NodeList | None = None


class _RawNodeList(msgspec.Struct):
    items: list[msgspec.Raw] | None = None


class _RawNodes(msgspec.Struct):
    Nodes: _RawNodeList | None = None


_ARGS = msgspec.json.Decoder(_Args)
_RAW_NODES = msgspec.json.Decoder(_RawNodes)
_SCHEMA_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)


def parse_args(body: Body) -> ExtenderArgs:
    """Validate just what we use; unknown fields are ignored, as Go's decoder would."""
    if not body.isascii():
        try:
            body.decode()  # skipped values are not checked for UTF-8 by msgspec, and may be echoed
        except UnicodeDecodeError as err:  # said here: orjson would call it "surrogates" at character 0
            raise ProtocolError(f"body is not UTF-8, as JSON must be: byte 0x{body[err.start]:02X} at offset "
                                f"{err.start} ({err.reason})") from None
    try:
        args = _ARGS.decode(body)
    except _SCHEMA_ERRORS:
        try:
            doc = orjson.loads(body)
        except ValueError as err:  # orjson.JSONDecodeError, also for nesting deeper than 1024
            raise ProtocolError(f"body is not valid JSON: {str(err)[:200]}") from None
        return _checked(doc, body)
    nodes = None if args.Nodes is None else {"items": args.Nodes.items}
    return _checked({"Pod": args.Pod, "NodeNames": args.NodeNames, "Nodes": nodes}, body)


def _checked(doc: Any, body: Body) -> ExtenderArgs:
    if not isinstance(doc, dict):
        raise ProtocolError(f"body is a JSON {json_type(doc)}, expected an ExtenderArgs object")
    pod = checked_pod(doc.get("Pod"), "Pod")
    names, nodes = doc.get("NodeNames"), doc.get("Nodes")
    if names is not None and nodes is not None:
        raise ProtocolError("both Nodes and NodeNames are set; a scheduler sends exactly one")
    if names is not None:
        return ExtenderArgs(pod=pod, node_names=_node_names(names), nodes=None, body=body)
    if nodes is not None:
        items = _node_items(nodes)
        return ExtenderArgs(pod=pod, node_names=[_node_name(n, i) for i, n in enumerate(items)], nodes=items,
                            body=body)
    raise ProtocolError("neither Nodes nor NodeNames is set; there are no candidate nodes")


def checked_pod(pod: Any, where: str) -> dict[str, Any]:
    """`pod` if it is a Pod object whose parts we read are objects; `where` names it in the reason."""
    if not isinstance(pod, dict):
        raise ProtocolError(f"{where} is {json_type(pod)}, expected a Pod object")
    for key in ("metadata", "spec"):
        if pod.get(key) is not None and not isinstance(pod[key], dict):
            raise ProtocolError(f"{where}.{key} is {json_type(pod[key])}, expected an object")
    return pod


def render_filter(args: ExtenderArgs, passed: Sequence[int], failed: Mapping[str, str],
                  unresolvable: Mapping[str, str]) -> bytes:
    """ExtenderFilterResult in the form the nodes came in; `passed` holds indexes into the candidates.
    Node objects are echoed byte for byte. Raises orjson.JSONEncodeError only for Node objects msgspec
    could not read and orjson cannot write (nested deeper than 254)."""
    every = len(passed) == len(args.node_names)
    if args.nodes is None:
        names = args.node_names if every else [args.node_names[i] for i in passed]
        kept = [b'"NodeNames":', orjson.dumps(names), b',"Nodes":null']
    else:
        items = _echoed(args)
        kept = [b'"Nodes":{"metadata":{},"items":[', *_listed(items if every else [items[i] for i in passed]),
                b']},"NodeNames":null']
    # One join of all the parts: echoed Node objects can come to hundreds of MiB, copied once, not per `+`.
    return b"".join([b"{", *kept, b',"FailedNodes":', orjson.dumps(dict(failed)), b',"FailedAndUnresolvableNodes":',
                     orjson.dumps(dict(unresolvable)), b',"Error":""}'])


def _listed(items: Sequence[bytes | msgspec.Raw]) -> list[bytes | msgspec.Raw]:
    """`items` with a comma between each two, to be joined."""
    parts: list[bytes | msgspec.Raw] = [b","] * (2 * len(items) - 1) if items else []
    parts[::2] = items
    return parts


def _echoed(args: ExtenderArgs) -> Sequence[bytes | msgspec.Raw]:
    """Each Node object's own bytes, or, where msgspec cannot read the body, orjson's encoding of it."""
    try:
        nodes = _RAW_NODES.decode(args.body).Nodes
        if nodes is not None and nodes.items is not None and len(nodes.items) == len(args.node_names):
            return nodes.items
    except _SCHEMA_ERRORS:
        pass
    return [orjson.dumps(node) for node in args.nodes or ()]


def render_priorities(node_names: Sequence[str], scores: Sequence[int]) -> bytes:
    """HostPriorityList of the candidates scoring above 0, in candidate order. kube-scheduler adds an
    extender's score only to the hosts it lists (pkg/scheduler/schedule_one.go, prioritizeNodes), so a host
    left out counts as 0 and the answer carries the few nodes caching the pod's data, not thousands of zeros
    for the scheduler to decode on every pod. Each entry is its host's fragment and the score's digits."""
    return render_scored(candidate_list(node_names), scores)


def render_scored(candidates: Candidates, scores: Sequence[int]) -> bytes:
    """The same HostPriorityList from every candidate's score, for a caller holding the list's parts already."""
    heads = candidates.heads
    if len(scores) != len(heads):
        raise ValueError(f"{len(scores)} scores for {len(heads)} candidates")
    return b"[" + b",".join([head + _SCORE_TAILS[score] for head, score in zip(heads, scores, strict=True)
                             if score]) + b"]"


def render_listed(candidates: Candidates, listed: Iterable[tuple[int, int]]) -> bytes:
    """The same HostPriorityList from (position, score) pairs, each score above 0, in candidate order."""
    heads = candidates.heads
    return b"[" + b",".join([heads[i] + _SCORE_TAILS[score] for i, score in listed]) + b"]"


class Candidates:
    """What a candidate list's answers are made of, made once per list: a scheduler sends the same list pod
    after pod."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.heads = [b'{"Host":' + orjson.dumps(name) + b',"Score":' for name in names]
        """Each candidate's answer fragment, `{"Host":"n","Score":`."""

    @cached_property
    def positions(self) -> dict[str, int] | None:
        """Each candidate's position in the list; None where a name repeats. Made when first asked: only an
        answer going by the few nodes holding bytes needs it (35 us for 1,000 names, 86 for the fragments)."""
        made = dict(zip(self.names, range(len(self.names)), strict=True))
        return made if len(made) == len(self.names) else None


_SCORE_TAILS = [b"%d}" % score for score in range(MAX_SCORE + 1)]
_LISTS_KEPT = 16
_lists: dict[tuple[str, ...], Candidates] = {}
_lists_lock = threading.Lock()


def candidate_list(node_names: Sequence[str]) -> Candidates:
    """The list's parts, from a plain dict: its key, a tuple of 1,000 names, is hashed once per call (an
    LRUCache hashes it three times, which cost 5% of a call's CPU)."""
    key = tuple(node_names)
    found = _lists.get(key)
    if found is None:
        found = Candidates(key)
        with _lists_lock:
            if len(_lists) >= _LISTS_KEPT:
                del _lists[next(iter(_lists))]  # the oldest list
            _lists[key] = found
    return found


def _node_names(names: Any) -> list[str]:
    if not isinstance(names, list):
        raise ProtocolError(f"NodeNames is {json_type(names)}, expected a list of node names")
    if set(map(type, names)) - {str} or "" in names:  # the common, valid case without a Python loop
        i, name = next((i, n) for i, n in enumerate(names) if not isinstance(n, str) or not n)
        raise ProtocolError(f"NodeNames[{i}] is {json_type(name)}, expected a non-empty string")
    return names


def _node_items(nodes: Any) -> list[dict[str, Any]]:
    if not isinstance(nodes, dict):
        raise ProtocolError(f"Nodes is {json_type(nodes)}, expected a NodeList object")
    items = nodes.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        raise ProtocolError(f"Nodes.items is {json_type(items)}, expected a list of Node objects")
    return items


def _node_name(node: Any, i: int) -> str:
    metadata = node.get("metadata") if isinstance(node, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        raise ProtocolError(f"Nodes.items[{i}].metadata.name is missing or not a non-empty string")
    return name


def json_type(value: Any) -> str:
    """Name a decoded value by its JSON type, so messages speak the sender's language."""
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            int: "number", float: "number"}.get(type(value), type(value).__name__)
