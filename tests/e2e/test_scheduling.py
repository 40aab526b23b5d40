"""A real kube-scheduler, configured from manifests/, placing executor pods by our extender's answers."""
from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from e2e_cluster import BLOCK, SCHEDULER, Layout
from figures import report
from loopback_control_plane import Rest

NS = "spark"


def note(line: str) -> None:
    """A figure printed after the run."""
    report("end-to-end figures", line)


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


def schedule(rest: Rest, pod: dict[str, Any], timeout: float = 30) -> str:
    """Create the pod and wait until the scheduler binds it; the node it landed on."""
    rest.create(pod)
    name = pod["metadata"]["name"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = rest.get(pod_path(name))
        if got["spec"].get("nodeName"):
            return got["spec"]["nodeName"]
        time.sleep(0.02)
    raise AssertionError(f"{name} was not scheduled in {timeout}s: {got['status'].get('conditions')}")


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


@pytest.fixture(autouse=True)
def clean(rest: Rest, schedulers: Any) -> Any:
    """Every test starts and ends with no Spark pods, their resources released in the schedulers' caches."""
    yield
    for pod in rest.get(f"/api/v1/namespaces/{NS}/pods")["items"]:
        rest.delete_now("Pod", pod["metadata"]["name"], NS)
    deadline = time.monotonic() + 30
    while rest.get(f"/api/v1/namespaces/{NS}/pods")["items"] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)


def local_fraction(layout: Layout, path: str, node: str) -> float:
    """Expected share of an executor's input that is local, tasks being spread over executors at random."""
    held = layout.blocks[path]
    return held.get(node, 0) / sum(held.values())


# -- RBAC and worker resolution ------------------------------------------------------------------------------

def access(rest: Rest, verb: str, resource: str, namespace: str = "") -> bool:
    review = rest.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": "system:serviceaccount:alluxio-locality:alluxio-locality-extender",
                 "groups": ["system:serviceaccounts", "system:serviceaccounts:alluxio-locality",
                            "system:authenticated"],
                 "resourceAttributes": {"verb": verb, "resource": resource, "namespace": namespace}}})
    return review["status"]["allowed"]


def test_extender_rbac_is_what_it_needs_and_no_more(rest: Rest) -> None:
    for verb in ("get", "list", "watch"):  # pods cluster-wide (""): workers and Spark pods live anywhere
        assert access(rest, verb, "nodes") and access(rest, verb, "pods", "alluxio") and access(rest, verb, "pods")
    for namespace in ("alluxio", "alluxio-locality", ""):
        for verb, resource in (("create", "pods"), ("delete", "pods"), ("patch", "pods"), ("update", "pods/status"),
                               ("create", "pods/eviction"), ("create", "pods/binding"), ("create", "pods/exec"),
                               ("update", "nodes"), ("patch", "nodes"), ("delete", "nodes"),
                               ("get", "secrets"), ("list", "secrets"), ("watch", "secrets"), ("list", "configmaps"),
                               ("create", "serviceaccounts/token"), ("create", "events"), ("update", "leases")):
            assert not access(rest, verb, resource, namespace), (verb, resource, namespace)


def test_every_worker_resolves_to_its_node_through_the_service_account_watch(extender: Any, layout: Layout,
                                                                            schedulers: Any) -> None:
    query = "&".join(f"node={n}" for n in layout.main)
    status, report = extender.served.get(f"/locality?path=/apps/one&{query}")
    assert status == 200
    assert {n["node"]: n["cachedBytes"] for n in report["nodes"] if n["cachedBytes"]} == \
        {node: count * BLOCK for node, count in layout.blocks["/apps/one"].items()}
    assert report["unresolvedWorkers"] == []


# -- placement ------------------------------------------------------------------------------------------------

def test_executor_lands_on_the_node_with_most_cached_bytes(rest: Rest) -> None:
    assert schedule(rest, executor(paths="/apps/one")) == "n03"


def test_executors_of_one_app_follow_bytes_then_capacity(rest: Rest) -> None:
    # 2 CPUs a node, 1 per executor: n03 (50 blocks) fills, then n06 (30, a pod-IP-only worker), then n01 (15)
    placed = [schedule(rest, executor(paths="alluxio://alluxio-master-0:19998/apps/one")) for _ in range(5)]
    assert placed == ["n03", "n03", "n06", "n06", "n01"]


def test_pod_without_annotation_schedules_as_the_default_scheduler_would(rest: Rest, alluxio: Any) -> None:
    calls = alluxio.calls("list_status")
    by_default = schedule(rest, executor(scheduler="default-scheduler"))
    by_ours = schedule(rest, executor())
    assert by_default == by_ours == "n08"  # the roomiest node: the in-tree scores decide alone
    assert alluxio.calls("list_status") == calls


def test_require_local_worker_avoids_nodes_without_a_ready_worker(rest: Rest) -> None:
    # n08 is where the in-tree scores would put it, but it has no worker; n07's worker is not ready
    placed = {schedule(rest, executor(require=True)) for _ in range(6)}
    assert placed <= {"n01", "n02", "n03", "n04", "n05", "n06"}


def test_require_local_worker_stays_pending_with_a_readable_reason(rest: Rest) -> None:
    message = unschedulable(rest, executor(require=True, selector={"kubernetes.io/hostname": "n08"}))
    assert "no ready Alluxio worker" in message


def test_placement_at_scale_follows_bytes_and_capacity(rest: Rest, layout: Layout) -> None:
    held = layout.blocks["/apps/big"]
    top = sorted((n for n in held if held[n] > 2), key=held.get, reverse=True)
    started = time.monotonic()
    placed = [schedule(rest, executor(paths="/apps/big", selector={"group": "scale"})) for _ in range(20)]
    elapsed = time.monotonic() - started
    assert placed == [node for node in top for _ in range(2)]
    note(f"scale: 20 executors over {len(layout.scale)} candidate nodes placed by bytes then capacity, "
         f"one at a time, in {elapsed:.1f}s")


def test_placement_quality_default_versus_ours(rest: Rest, layout: Layout) -> None:
    apps = ("qa", "qb", "qc")
    fractions = {}
    for scheduler in ("default-scheduler", SCHEDULER):
        shares = []
        for app in apps:
            for _ in range(8):
                pod = executor(paths=f"/apps/{app}", app=app, selector={"group": "scale"}, scheduler=scheduler)
                shares.append(local_fraction(layout, f"/apps/{app}", schedule(rest, pod)))
        fractions[scheduler] = sum(shares) / len(shares)
        for pod in rest.get(f"/api/v1/namespaces/{NS}/pods")["items"]:
            rest.delete_now("Pod", pod["metadata"]["name"], NS)
        while rest.get(f"/api/v1/namespaces/{NS}/pods")["items"]:
            time.sleep(0.05)
        time.sleep(0.5)
    note(f"placement quality, expected fraction of input bytes local to each executor (3 apps x 8 "
         f"executors, 220 nodes): default scheduler {fractions['default-scheduler']:.2%}, "
         f"with the extender {fractions[SCHEDULER]:.2%}")
    assert fractions[SCHEDULER] > 5 * max(fractions["default-scheduler"], 0.01)


# -- faults: never a blocked scheduler ------------------------------------------------------------------------

def test_alluxio_down_pods_still_schedule(rest: Rest, alluxio: Any) -> None:
    alluxio.stop()
    try:
        assert schedule(rest, executor(paths="/apps/never-fetched")) in {f"n0{i}" for i in range(1, 9)}
    finally:
        alluxio.start()


def test_extender_down_pods_still_schedule_because_ignorable(rest: Rest, extender: Any) -> None:
    extender.stop()
    try:
        assert schedule(rest, executor(paths="/apps/one", require=True)) in {f"n0{i}" for i in range(1, 9)}
    finally:
        extender.start()
