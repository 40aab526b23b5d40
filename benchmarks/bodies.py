"""Request bodies: the ExtenderArgs a real kube-scheduler sent (tests/data: v1.37.2), with N candidates and our pods.

- NodeNames mode (`nodeCacheCapable: true`): tests/data/prioritize-nodecachecapable-true.json with its
  `NodeNames` replaced by the N candidate names.
- Nodes mode (`nodeCacheCapable: false`): N copies of the recorded Node object of
  tests/data/filter-nodecachecapable-false.json, renamed (name, hostname label, Hostname address).
The recorded Pod gets a name per workload pod and the `alluxio-locality.io/paths` annotation.
Deterministic, so the load generator, the in-process worker and the runner build the same bytes.
"""
from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from .dataset import Spec, candidates, workload_paths
from .env import DATA

MODES = ("names", "nodes")
PATHS_ANNOTATION = "alluxio-locality.io/paths"


@cache
def _recorded(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def recorded_pod() -> dict[str, Any]:
    return copy.deepcopy(_recorded("prioritize-nodecachecapable-true.json")["Pod"])


def node_object(name: str) -> dict[str, Any]:
    node = copy.deepcopy(_recorded("filter-nodecachecapable-false.json")["Nodes"]["items"][0])
    node["metadata"]["name"] = name
    node["metadata"]["labels"]["kubernetes.io/hostname"] = name
    node["metadata"].pop("uid", None)
    node["status"]["addresses"] = [{"type": "Hostname", "address": name}]
    return node


def pod(name: str, paths: list[str]) -> dict[str, Any]:
    doc = recorded_pod()
    doc["metadata"]["name"] = name
    doc["metadata"]["annotations"] = {PATHS_ANNOTATION: ",".join(paths)}
    return doc


def cell_bodies(spec: Spec, mode: str, n: int, workload: str) -> list[bytes]:
    """One body per pod of the workload, all with the same N candidates (a scheduler sends the same list
    pod after pod)."""
    names = candidates(spec, n)
    if mode == "names":
        tail = b', "Nodes": null, "NodeNames": ' + json.dumps(names).encode() + b"}"
    elif mode == "nodes":
        tail = (b', "NodeNames": null, "Nodes": {"metadata": {}, "items": '
                + json.dumps([node_object(name) for name in names]).encode() + b"}}")
    else:
        raise ValueError(mode)
    return [b'{"Pod": ' + json.dumps(pod(f"{workload}-exec-{k}", paths)).encode() + tail
            for k, paths in enumerate(workload_paths(spec, workload))]


def full_nodes_body(spec: Spec, n: int, workload: str, pod_index: int = 0) -> bytes:
    """The `workload`'s pod with N full-size Node objects (tests/support/full_nodes.py: 50 images, managedFields,
    18 KB each) as kube-scheduler sends them with `nodeCacheCapable: false`, compact as Go writes them."""
    from tests.support.full_nodes import full_node

    items = []
    for i, name in enumerate(candidates(spec, n)):
        node = full_node(name)
        for address in node["status"]["addresses"]:
            if address["type"] == "InternalIP":
                address["address"] = f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"
            elif address["type"] == "Hostname":
                address["address"] = name
        items.append(node)
    paths = workload_paths(spec, workload)[pod_index]
    doc = {"Pod": pod(f"{workload}-exec-{pod_index}", paths), "Nodes": {"metadata": {}, "items": items},
           "NodeNames": None}
    return json.dumps(doc, separators=(",", ":")).encode()


def pod_body(paths: list[str], names: list[str], name: str = "warm") -> bytes:
    """A NodeNames body for one pod reading `paths` (index warming)."""
    return json.dumps({"Pod": pod(name, paths), "Nodes": None, "NodeNames": names}).encode()
