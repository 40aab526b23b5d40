"""Pods for the end-to-end suite: executor pods as Spark creates them, and waiting for a scheduler's verdict
on them (bound, or given up with a reason). Any e2e test places pods with these."""
from __future__ import annotations

import itertools
import time
from typing import Any

from tests.support.control_plane import Rest
from tests.support.deployment import SCHEDULER
from tests.support.objects import make_executor
from tests.support.waiting import eventually

NS = "spark"
_names = itertools.count(1)


def executor(*, paths: str | None = None, require: bool = False, app: str = "app-1",
             selector: dict[str, str] | None = None, scheduler: str = SCHEDULER, namespace: str = NS) -> dict[str, Any]:
    """An executor pod of `app` named and numbered in turn, with our annotations and a 1-CPU request."""
    number = next(_names)
    return make_executor(f"{app}-exec-{number}", app=app, exec_id=str(number), paths=paths,
                         require_local_worker=require, namespace=namespace, scheduler=scheduler,
                         node_selector=selector or {"group": "main"}, cpu="1", memory="1Gi")


def pod_path(name: str, namespace: str = NS) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}"


def bound_node(rest: Rest, name: str, timeout: float = 30, namespace: str = NS) -> str:
    """The node the scheduler binds an existing pod to, waiting up to `timeout`."""
    def node() -> str | None:
        return rest.get(pod_path(name, namespace))["spec"].get("nodeName")

    return eventually(node, timeout, what=f"{name} scheduled")


def schedule(rest: Rest, pod: dict[str, Any], timeout: float = 30) -> str:
    """Create the pod and wait until the scheduler binds it; the node it landed on."""
    rest.create(pod)
    return bound_node(rest, pod["metadata"]["name"], timeout, pod["metadata"]["namespace"])


def unschedulable(rest: Rest, pod: dict[str, Any], timeout: float = 30) -> str:
    """Create the pod and wait for the scheduler to give up on it; its PodScheduled message."""
    rest.create(pod)

    def refusal() -> str | None:
        got = rest.get(pod_path(pod["metadata"]["name"], pod["metadata"]["namespace"]))
        assert not got["spec"].get("nodeName"), f"scheduled on {got['spec']['nodeName']}"
        return next((condition["message"] for condition in got["status"].get("conditions") or ()
                     if condition["type"] == "PodScheduled" and condition.get("reason") == "Unschedulable"), None)

    return eventually(refusal, timeout, what="the pod Unschedulable", interval=0.05)


def delete_pods(rest: Rest, namespace: str = NS) -> None:
    """Remove every pod of `namespace` (one collection delete, no grace period: no kubelet would end it) and wait
    until they are gone, their resources released in the schedulers' caches. Raises if they stay."""
    rest.request("DELETE", f"/api/v1/namespaces/{namespace}/pods", {"gracePeriodSeconds": 0})
    eventually(lambda: not rest.get(f"/api/v1/namespaces/{namespace}/pods")["items"], 30, interval=0.05,
               what=f"the pods of {namespace} deleted", failure=RuntimeError)
    time.sleep(0.5)
