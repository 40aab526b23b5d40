"""The one builder of the Kubernetes objects the tests make: Nodes, Pods and Spark executor pods, well-formed and as
small as each test lets them be (tests/data/kube/ holds complete ones a real cluster wrote).

Each object carries `apiVersion` and `kind`, as a client sends it to a real API server (the fake kube-apiserver
drops them, as the real one leaves them out of list items). A Pod carries the status a kubelet would have
written (the real API server drops it on create; tests/e2e sets it through the status subresource)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scheduler_extender.workload import PATHS_ANNOTATION, REQUIRE_LOCAL_WORKER_ANNOTATION

STAMP = "2026-01-01T00:00:00Z"
"""The time conditions are stamped with: no node lifecycle controller runs in any test to judge it."""
PAUSE = "registry.k8s.io/pause:3.10"


def make_node(name: str, *, internal_ip: str | None = None, hostname: str | None = None, external_ip: str | None = None,
         other_addresses: Sequence[tuple[str, str]] = (), labels: Mapping[str, str] | None = None,
         ready: bool = True, cpu: str | None = None, memory: str | None = None) -> dict[str, Any]:
    """A Node: labelled with its hostname (and `labels`), its addresses in the order the kubelet reports them
    (InternalIP, ExternalIP, Hostname, then `other_addresses` as (type, address)), Ready or not, and with `cpu`
    and `memory` given, that capacity (and as much allocatable) for 110 pods."""
    addresses = [{"type": kind, "address": address} for kind, address in
                 (("InternalIP", internal_ip), ("ExternalIP", external_ip), ("Hostname", hostname),
                  *other_addresses) if address]
    status: dict[str, Any] = {
        "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown",
                        "reason": "KubeletReady" if ready else "NodeStatusUnknown",
                        "message": "kubelet is posting ready status" if ready
                        else "Kubelet stopped posting node status.",
                        "lastHeartbeatTime": STAMP, "lastTransitionTime": STAMP}],
        "addresses": addresses}
    if cpu is not None or memory is not None:
        resources = {"cpu": cpu or "2", "memory": memory or "8Gi", "pods": "110"}
        status["capacity"], status["allocatable"] = resources, dict(resources)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                  **(labels or {})}},
            "spec": {}, "status": status}


def make_pod(name: str, *, namespace: str = "default", node: str | None = None, pod_ip: str | None = None,
        host_ip: str | None = None, labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None, ready: bool = True, host_network: bool = False,
        hostname: str | None = None, subdomain: str | None = None, scheduler: str | None = None,
        node_selector: Mapping[str, str] | None = None, container: str = "main", image: str = PAUSE,
        cpu: str | None = None, memory: str | None = None) -> dict[str, Any]:
    """A Pod with one container (requesting `cpu` and `memory` when given): Running on `node` (Ready unless
    told otherwise, with its IPs), or Pending and unscheduled without one."""
    resources = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value}
    spec: dict[str, Any] = {"containers": [{"name": container, "image": image,
                                            **({"resources": {"requests": resources}} if resources else {})}]}
    for key, value in (("nodeName", node), ("schedulerName", scheduler), ("hostname", hostname),
                       ("subdomain", subdomain)):
        if value:
            spec[key] = value
    if host_network:
        spec["hostNetwork"] = True
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    status: dict[str, Any] = {"phase": "Running" if node else "Pending"}
    if node:
        state = "True" if ready else "False"
        status["conditions"] = [{"type": t, "status": state if t in ("Ready", "ContainersReady") else "True"}
                                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
        if host_ip:
            status["hostIP"], status["hostIPs"] = host_ip, [{"ip": host_ip}]
        if pod_ip:
            status["podIP"], status["podIPs"] = pod_ip, [{"ip": pod_ip}]
    else:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def make_executor(name: str, *, app: str = "app-1", exec_id: str = "1", paths: str | None = None,
             require_local_worker: bool = False, namespace: str = "spark", labels: Mapping[str, str] | None = None,
             **options: Any) -> dict[str, Any]:
    """A Spark executor pod as Spark creates it (`spark-role=executor`, its app and executor id), with our
    annotations when asked; `options` are `make_pod`'s (scheduler, node_selector, cpu, memory, node...)."""
    annotations = {}
    if paths is not None:
        annotations[PATHS_ANNOTATION] = paths
    if require_local_worker:
        annotations[REQUIRE_LOCAL_WORKER_ANNOTATION] = "true"
    spark = {"spark-role": "executor", "spark-app-selector": app, "spark-exec-id": exec_id}
    return make_pod(name, namespace=namespace, labels={**spark, **(labels or {})}, annotations=annotations,
               container="executor", **options)
