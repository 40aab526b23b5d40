"""Pods for the end-to-end suite: executor pods as Spark creates them, and waiting for a scheduler's verdict
on them (bound, or given up with a reason). Any e2e test places pods with these."""
from __future__ import annotations

import itertools
import time
from typing import Any

from tests.e2e.e2e_cluster import SCHEDULER
from tests.support.control_plane import Rest

NS = "spark"
_names = itertools.count(1)


def executor(*, paths: str | None = None, require: bool = False, app: str = "app-1",
             selector: dict[str, str] | None = None, scheduler: str = SCHEDULER) -> dict[str, Any]:
    """An executor pod as Spark creates it (labels), with our annotations and a 1-CPU request."""
    annotations = {}
    if paths is not None:
        annotations["alluxio-locality.io/paths"] = paths
    if require:
        annotations["alluxio-locality.io/require-local-worker"] = "true"
    number = next(_names)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{app}-exec-{number}", "namespace": NS, "annotations": annotations,
                         "labels": {"spark-role": "executor", "spark-app-selector": app, "spark-exec-id": str(number)}},
            "spec": {"schedulerName": scheduler, "nodeSelector": selector or {"group": "main"},
                     "containers": [{"name": "executor", "image": "registry.k8s.io/pause:3.9",
                                     "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}


def pod_path(name: str) -> str:
    return f"/api/v1/namespaces/{NS}/pods/{name}"


def bound_node(rest: Rest, name: str, timeout: float = 30) -> str:
    """The node the scheduler binds an existing pod to, waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        got = rest.get(pod_path(name))
        if got["spec"].get("nodeName"):
            return got["spec"]["nodeName"]
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} was not scheduled in {timeout}s: {got['status'].get('conditions')}")
        time.sleep(0.02)


def schedule(rest: Rest, pod: dict[str, Any], timeout: float = 30) -> str:
    """Create the pod and wait until the scheduler binds it; the node it landed on."""
    rest.create(pod)
    return bound_node(rest, pod["metadata"]["name"], timeout)


def unschedulable(rest: Rest, pod: dict[str, Any], timeout: float = 30) -> str:
    """Create the pod and wait for the scheduler to give up on it; its PodScheduled message."""
    rest.create(pod)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = rest.get(pod_path(pod["metadata"]["name"]))
        assert not got["spec"].get("nodeName"), f"scheduled on {got['spec']['nodeName']}"
        for condition in got["status"].get("conditions") or ():
            if condition["type"] == "PodScheduled" and condition.get("reason") == "Unschedulable":
                return condition["message"]
        time.sleep(0.05)
    raise AssertionError("the pod never became Unschedulable")


def delete_pods(rest: Rest) -> None:
    """Remove every Spark pod and wait until they are gone, their resources released in the schedulers' caches."""
    for pod in rest.get(f"/api/v1/namespaces/{NS}/pods")["items"]:
        rest.delete_now("Pod", pod["metadata"]["name"], NS)
    deadline = time.monotonic() + 30
    while rest.get(f"/api/v1/namespaces/{NS}/pods")["items"] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
