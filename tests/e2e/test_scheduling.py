"""A real kube-scheduler, configured from manifests/, placing executor pods by our extender's answers."""
from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from tests.e2e.e2e_cluster import BLOCK, Extender, Layout, Schedulers, note, set_worker_ready, verb_calls
from tests.e2e.e2e_pods import bound_node, delete_pods, executor, schedule, unschedulable
from tests.support.control_plane import ControlPlane, Rest
from tests.support.deployment import EXTENDER, NAMESPACE, SCHEDULER, scheduler_config, start_scheduler
from tests.support.kube_versions import KubeVersion
from tests.support.waiting import eventually

MAX_BACKOFF_S = 10
"""kube-scheduler's default podMaxBackoffSeconds: the longest a refused pod waits before its next try."""


@pytest.fixture(autouse=True)
def clean(rest: Rest, schedulers: Any) -> Any:
    """Every test starts and ends with no Spark pods, their resources released in the schedulers' caches."""
    yield
    delete_pods(rest)


def local_fraction(layout: Layout, path: str, node: str) -> float:
    """Expected share of an executor's input that is local, tasks being spread over executors at random."""
    held = layout.blocks[path]
    return held.get(node, 0) / sum(held.values())


# -- RBAC and worker resolution ------------------------------------------------------------------------------

def access(rest: Rest, verb: str, resource: str, namespace: str = "") -> bool:
    review = rest.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": f"system:serviceaccount:{NAMESPACE}:{EXTENDER}",
                 "groups": ["system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}",
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
    status, report = extender.running.get(f"/locality?path=/apps/one&{query}")
    assert status == 200
    assert {n["node"]: n["cachedBytes"] for n in report["nodes"] if n["cachedBytes"]} == \
        {node: count * BLOCK for node, count in layout.blocks["/apps/one"].items()}
    assert report["unresolvedWorkers"] == []


# -- placement ------------------------------------------------------------------------------------------------

def test_executor_lands_on_the_node_with_most_cached_bytes(rest: Rest) -> None:
    assert schedule(rest, executor(paths="/apps/one")) == "n03"


def test_executors_of_one_app_spread_by_bytes_then_capacity(rest: Rest, extender: Extender) -> None:
    # n03 caches 50 of the input's 100 blocks, n06 30, n01 15, n02 5; 2 CPUs a node, 1 per executor. The first
    # goes where most is cached; each next one to the node falling shortest of its share of the app's executors
    # (n06 before a second on n03), until n03 is full: 2 on n03, 2 on n06, 1 on n01 (the third and fourth go to
    # n03 and n01 in either order, 10 against 9 after rounding, which in-tree scores may overturn).
    calls = verb_calls(extender.running, "prioritize")
    placed = [schedule(rest, executor(paths="alluxio://alluxio-master-0:19998/apps/one")) for _ in range(5)]
    assert placed[:2] == ["n03", "n06"] and placed[4] == "n06"
    assert Counter(placed) == {"n03": 2, "n06": 2, "n01": 1}
    # kube-scheduler >= 1.35 may place a pod by the scores of the one before it when both have the same
    # signature (OpportunisticBatching, on by default), but not in a profile with extenders: each executor
    # is scored by a call of its own, and so by what is cached when it is placed.
    assert verb_calls(extender.running, "prioritize") - calls == 5


def test_require_local_worker_avoids_nodes_without_a_ready_worker(rest: Rest) -> None:
    # n08 is where the in-tree scores would put it, but it has no worker; n07's worker is not ready
    placed = {schedule(rest, executor(require=True)) for _ in range(6)}
    assert placed <= {"n01", "n02", "n03", "n04", "n05", "n06"}


def test_require_local_worker_stays_pending_with_a_readable_reason(rest: Rest) -> None:
    message = unschedulable(rest, executor(require=True, selector={"kubernetes.io/hostname": "n08"}))
    assert "no ready Alluxio worker" in message


def test_placement_at_scale_spreads_over_the_nodes_caching_most(rest: Rest, layout: Layout,
                                                                kube_version: KubeVersion) -> None:
    held = layout.blocks["/apps/big"]
    top = sorted((n for n in held if held[n] > 2), key=lambda node: held[node], reverse=True)
    started = time.monotonic()
    placed = [schedule(rest, executor(paths="/apps/big", selector={"group": "scale"})) for _ in range(20)]
    elapsed = time.monotonic() - started
    # The 10 nodes caching most hold 324 of the input's blocks, 146 others 1 or 2 each (220 in all): each of the
    # 10 gets an executor before any of the 146, in the order of their bytes, and none is left out.
    assert placed[:6] == top[:6] and set(top) <= set(placed)
    assert all(held.get(node, 0) for node in placed)
    note(kube_version, f"scale: 20 executors of one app over {len(layout.scale)} candidate nodes, spread by bytes "
         f"then capacity over {len(set(placed))} nodes caching its input, one at a time, in {elapsed:.1f}s")


def test_placement_quality_default_versus_ours(rest: Rest, layout: Layout, kube_version: KubeVersion) -> None:
    apps = ("qa", "qb", "qc")
    fractions = {}
    for scheduler in ("default-scheduler", SCHEDULER):
        shares = []
        for app in apps:
            for _ in range(8):
                pod = executor(paths=f"/apps/{app}", app=app, selector={"group": "scale"}, scheduler=scheduler)
                shares.append(local_fraction(layout, f"/apps/{app}", schedule(rest, pod)))
        fractions[scheduler] = sum(shares) / len(shares)
        delete_pods(rest)
    note(kube_version, f"placement quality, expected fraction of input bytes local to each executor (3 apps x 8 "
         f"executors, 220 nodes): default scheduler {fractions['default-scheduler']:.2%}, "
         f"with the extender {fractions[SCHEDULER]:.2%}")
    assert fractions[SCHEDULER] > 5 * max(fractions["default-scheduler"], 0.01)


def test_pod_refused_for_want_of_a_ready_worker_schedules_soon_after_one_turns_ready(
        rest: Rest, extender: Extender, kube_version: KubeVersion) -> None:
    # Only n07 passes the nodeSelector, and its worker is not ready: our filter refuses it, so the pod waits
    # in the scheduler's unschedulable pool. A pod an extender refused is requeued by any cluster event
    # (kubernetes#122022; before it, such a pod could sit out podMaxInUnschedulablePodsDuration, 5 minutes),
    # and the worker pod's status turning Ready is one.
    pod = executor(require=True, selector={"kubernetes.io/hostname": "n07"})
    assert "no ready Alluxio worker" in unschedulable(rest, pod)
    time.sleep(MAX_BACKOFF_S + 1)  # pending a while, as an executor waiting for its worker would be
    set_worker_ready(rest, "n07", True)
    readied = time.monotonic()
    try:
        node = bound_node(rest, pod["metadata"]["name"], timeout=60)
        delay = time.monotonic() - readied
    finally:
        set_worker_ready(rest, "n07", False)
        eventually(lambda: not extender.passes_local_worker_check("n07"), interval=0.05,
                   what="the extender's watch seeing n07's worker unready again")
    note(kube_version, f"a pod refused for want of a ready Alluxio worker, pending {MAX_BACKOFF_S + 1}s, was bound "
         f"{delay:.2f}s after its node's worker pod turned Ready")
    assert node == "n07"


def test_schedulers_run_under_the_manifests_rbac_unrefused(rest: Rest, schedulers: Schedulers) -> None:
    # kube-scheduler lists and watches at start what its version needs (DRA ResourceSlices, DeviceClasses and
    # ResourceClaims, VolumeAttachments, CSIStorageCapacities, ...) and then takes its Lease: once it leads,
    # any grant the manifests lack has been refused in its log.
    lease = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/{SCHEDULER}"
    try:
        eventually(lambda: rest.get(lease, ok=(200, 404)).get("spec", {}).get("holderIdentity"), 30, interval=0.2,
                   what=f"{SCHEDULER} holding its Lease")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{schedulers.ours.tail()}") from None
    assert schedulers.ours.forbidden() == [] and schedulers.default.forbidden() == []


def test_pods_without_annotation_schedule_as_by_the_default_scheduler(
        control_plane: ControlPlane, rest: Rest, extender: Extender, alluxio: Any, kube_version: KubeVersion) -> None:
    # 12 one-CPU pods: the in-tree scores put the first ones on n08 (16 CPUs) and, as it fills, the rest on
    # the 2-CPU nodes; the extender scores them all 0 and asks Alluxio nothing. On kube-scheduler 1.35 to
    # 1.37 (kubernetes#141781, open), the nodes a filter extender returns as whole Node objects
    # (nodeCacheCapable: false) are scored as if they ran no pod, so n08 never looks fuller; names
    # (nodeCacheCapable: true, as the manifests send) keep the scheduler's own view of each node.
    config = scheduler_config(extender.url)
    config["leaderElection"] = {"leaderElect": False}
    config["profiles"][0]["schedulerName"] = nodes_mode = f"{SCHEDULER}-nodes"
    config["extenders"][0]["nodeCacheCapable"] = False
    process = start_scheduler(control_plane, nodes_mode, config)
    known = {r.path for r in alluxio.received if r.endpoint == "list_status"}
    seen = len(alluxio.received)
    on_n08 = {}
    try:
        for scheduler in ("default-scheduler", SCHEDULER, nodes_mode):
            on_n08[scheduler] = [schedule(rest, executor(scheduler=scheduler)) for _ in range(12)].count("n08")
            delete_pods(rest)
    finally:
        process.stop()
    note(kube_version, f"12 one-CPU pods without annotation, on the 16-CPU node: default scheduler "
         f"{on_n08['default-scheduler']}, with the extender sent names {on_n08[SCHEDULER]}, sent whole Nodes "
         f"{on_n08[nodes_mode]} (kubernetes#141781 if 12)")
    # kube-scheduler picks at random among nodes of equal score, so two runs of one scheduler may differ by a pod
    assert on_n08[SCHEDULER] < 12 and abs(on_n08[SCHEDULER] - on_n08["default-scheduler"]) <= 1
    # No path of theirs was asked: what Alluxio heard meanwhile can only be the index refreshing, in the
    # background, paths earlier tests' pods read.
    asked = {r.path for r in alluxio.received[seen:] if r.endpoint == "list_status"}
    assert asked <= known, asked - known


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
