"""A full-size Node object as kube-scheduler sends it with `nodeCacheCapable: false`, to size request bodies.

The modelled EC2 node of tests/data/kube/nodes.json lists 3 images and no managedFields. A node of a busy
cluster lists 50 images (the kubelet's default `nodeStatusMaxImages`), and kube-scheduler (1.28 to 1.37) sends
`metadata.managedFields` too (the recorded body in tests/data has them). So the full node is the modelled
one with 50 images named like ECR and Docker Hub images (two names each, digest and tag) and the
managedFields the apiserver keeps for the managers that write a kubeadm node: kubeadm, the kubelet
(metadata, and status through the status subresource), kube-controller-manager and flanneld.
"""
from __future__ import annotations

import copy
import hashlib
import json
from functools import lru_cache
from typing import Any

from .paths import DATA

MAX_IMAGES = 50
"""KubeletConfiguration nodeStatusMaxImages default: the kubelet reports at most this many images."""


@lru_cache(maxsize=1)
def _modelled() -> dict[str, Any]:
    return json.loads((DATA / "kube" / "nodes.json").read_text())["items"][0]


def full_node(name: str) -> dict[str, Any]:
    """The modelled node renamed `name`, with 50 images and managedFields."""
    node = copy.deepcopy(_modelled())
    node["metadata"]["name"] = node["metadata"]["labels"]["kubernetes.io/hostname"] = name
    status = node["status"]
    status["images"] = [_image(i) for i in range(MAX_IMAGES)]
    metadata = node["metadata"]
    annotations, labels = metadata["annotations"], metadata["labels"]
    flannel = {k: v for k, v in annotations.items() if k.startswith("flannel.")}
    metadata["managedFields"] = [
        _managed("kubeadm", {"metadata": {"annotations": {
            "kubeadm.alpha.kubernetes.io/cri-socket": ""}}}),
        _managed("kube-controller-manager", {"metadata": {"annotations": {"node.alpha.kubernetes.io/ttl": ""}},
                                             "spec": {"podCIDR": "", "podCIDRs": [], "providerID": ""}}),
        _managed("kubelet", {"metadata": {"annotations": {
            "volumes.kubernetes.io/controller-managed-attach-detach": ""}, "labels": labels}}),
        _managed("flanneld", {"metadata": {"annotations": flannel}}),
        _managed("kubelet", {"status": status}, subresource="status"),
    ]
    return node


def compact_size(doc: Any) -> int:
    """Bytes of `doc` as Go's encoding/json writes it: no spaces, non-ASCII left as UTF-8."""
    return len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())


def nodes_body_size(count: int) -> int:
    """Bytes of an ExtenderArgs carrying `count` full nodes (the recorded pod, `Nodes.items`)."""
    pod = json.loads((DATA / "prioritize-nodecachecapable-true.json").read_text())["Pod"]
    envelope = compact_size({"Pod": pod, "Nodes": {"metadata": {}, "items": []}, "NodeNames": None})
    per_node = compact_size(full_node("ip-10-0-1-11.ec2.internal")) + 1  # and its comma
    return envelope + count * per_node


def _image(i: int) -> dict[str, Any]:
    digest = hashlib.sha256(str(i).encode()).hexdigest()
    if i % 2:
        repo = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/data-platform/spark-jobs/etl-{i:02d}"
    else:
        repo = f"docker.io/library/team-{i:02d}/service"
    return {"names": [f"{repo}@sha256:{digest}", f"{repo}:v1.{i}.0-build.{1000 + i}"],
            "sizeBytes": 100_000_000 + i * 7_654_321}


def _managed(manager: str, fields: dict[str, Any], subresource: str | None = None) -> dict[str, Any]:
    entry = {"manager": manager, "operation": "Update", "apiVersion": "v1", "time": "2026-11-21T22:34:17Z",
             "fieldsType": "FieldsV1", "fieldsV1": {f"f:{key}": _fields_v1(item) for key, item in fields.items()}}
    if subresource:
        entry["subresource"] = subresource
    return entry


def _fields_v1(value: Any) -> dict[str, Any]:
    """The FieldsV1 set of `value`: `f:` per key, `k:{"type":…}` per item of a list keyed by type, and
    atomic lists (images, podCIDRs) as one leaf."""
    if isinstance(value, dict):
        return {".": {}, **{f"f:{key}": _fields_v1(item) for key, item in value.items()}} if value else {}
    if isinstance(value, list) and value and all(isinstance(item, dict) and "type" in item for item in value):
        return {f'k:{{"type":"{item["type"]}"}}': _fields_v1(item) for item in value}
    return {}
