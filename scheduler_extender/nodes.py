"""Alluxio worker address to Kubernetes node name.

Workers name themselves by `host` (alluxio.worker.hostname: the node IP from the downward API in the
Helm chart, or the node's hostname with hostNetwork) and `containerHost` (the pod IP). A node is known by
its name and its status addresses. An AddressBook holds one such view; a WorkerResolver asks its books
in order, so an operator's static map wins over what a request says.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .locations.base import WorkerAddress

NODE_ADDRESS_TYPES = ("InternalIP", "Hostname", "ExternalIP")
"""The Node status addresses a worker may call its node by; InternalDNS and ExternalDNS are not among them."""


class AddressBook:
    """Node names by address, case-insensitive; a short name and its fully qualified form match each other
    (node `n1`, worker `n1.example.internal`) unless the short name would be ambiguous."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self._full: dict[str, str] = {}
        short: dict[str, str | None] = {}
        for address, node in entries:
            key = _key(address)
            if not key:
                continue
            self._full.setdefault(key, node)
            label = _short(key)
            if label != key:
                short[label] = node if short.get(label, node) == node else None
        self._short = {label: node for label, node in short.items() if node is not None}

    def __len__(self) -> int:
        return len(self._full)

    def node_of(self, address: str) -> str | None:
        key = _key(address)
        node = self._full.get(key) or self._short.get(key)
        if node is None:
            label = _short(key)
            if label != key:
                node = self._full.get(label)
        return node


MEMO_LIMIT = 100_000
"""Answers a resolver remembers before it starts over: worker addresses churn with pod IPs."""


class WorkerResolver:
    """Resolves a worker by its host, then its containerHost, in each book in turn; remembers answers,
    so build one per set of books (requests bring their own)."""

    def __init__(self, books: Sequence[AddressBook]) -> None:
        self._books = [book for book in books if len(book)]
        self._memo: dict[WorkerAddress, str | None] = {}

    def __call__(self, worker: WorkerAddress) -> str | None:
        try:
            return self._memo[worker]
        except KeyError:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            node = self._memo[worker] = self._resolve(worker)
            return node

    def _resolve(self, worker: WorkerAddress) -> str | None:
        for book in self._books:
            for address in worker:
                if address:
                    node = book.node_of(address)
                    if node is not None:
                        return node
        return None


def book_from_names(names: Iterable[str]) -> AddressBook:
    """Each node under its own name: enough when worker hosts are node names (hostNetwork)."""
    return AddressBook((name, name) for name in names)


def book_from_nodes(nodes: Iterable[Mapping[str, Any]]) -> AddressBook:
    """Each Node object under its name and its addresses (node_addresses)."""
    return AddressBook(address_entries(nodes))


def address_entries(nodes: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(address, node name) for each Node object's name and each of its addresses (node_addresses)."""
    return [(address, node["metadata"]["name"]) for node in nodes
            for address in (node["metadata"]["name"], *node_addresses(node))]


def node_addresses(node: Mapping[str, Any]) -> tuple[str, ...]:
    """The addresses a worker may call a Node object by, in its order: the status addresses of the types of
    NODE_ADDRESS_TYPES. The one reading of them, for request bodies and the watch alike; entries of another
    shape than Kubernetes writes are skipped."""
    status = node.get("status")
    addresses = status.get("addresses") if isinstance(status, Mapping) else None
    return tuple(address["address"] for address in (addresses if isinstance(addresses, list) else ())
                 if isinstance(address, Mapping) and address.get("type") in NODE_ADDRESS_TYPES
                 and isinstance(address.get("address"), str) and address["address"])


def load_node_map(path: str | Path) -> AddressBook:
    """A YAML or JSON mapping `worker address: node name`, for clusters where nothing else can tell."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        doc = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}, line {err.lineno} column {err.colno}: not valid JSON: {err.msg}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1} column {mark.column + 1}" if mark else ""
        context = f" ({err.context})" if err.context else ""
        raise ValueError(f"{path}{where}: not valid YAML: {err.problem}{context}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(doc, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                            for k, v in doc.items()):
        raise ValueError(f"{path}: expected a mapping of worker address to node name (strings)")
    return AddressBook(doc.items())


def _key(address: str) -> str:
    return address.strip().rstrip(".").lower()


def _short(key: str) -> str:
    """The first DNS label of a host name; IP addresses and bracketed IPv6 stay whole."""
    if "." not in key or _is_ip(key):
        return key
    return key.split(".", 1)[0]


def _is_ip(key: str) -> bool:
    """IPv6 has colons, which no host name has; a dotted name of digits alone is an IPv4 address."""
    return ":" in key or key.replace(".", "").isdigit()
