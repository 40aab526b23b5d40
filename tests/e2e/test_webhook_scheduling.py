"""The admission webhook under a real kube-apiserver, which calls POST /mutate over TLS for each Spark pod
created, and the DEFAULT kube-scheduler (no extender, no second scheduler) placing what it patched; against
the same scheduler without the webhook, our own scheduler, and a webhook that is down."""
from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.e2e_cluster import Layout, note
from tests.e2e.e2e_pods import NS, bound_node, delete_pods, executor, pod_path, schedule, unschedulable
from tests.e2e.e2e_webhook import DEFAULT, HOOK, dry_run, registered, serve_webhook
from tests.support.certs import Pki, make_pki
from tests.support.control_plane import ControlPlane, Rest
from tests.support.deployment import SCHEDULER
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.kube_versions import KubeVersion
from tests.support.served import Served

PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
ALL_NODES = "default-all-nodes"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("webhook-pki"))


@pytest.fixture(scope="module")
def webhook(control_plane: ControlPlane, extender: Any, alluxio: FakeAlluxio, pki: Pki) -> Iterator[Served]:
    with serve_webhook(control_plane, alluxio, pki) as served:
        yield served


@pytest.fixture
def calling(rest: Rest, webhook: Served, pki: Pki) -> Iterator[Served]:
    with registered(rest, webhook.port, pki.server_ca):
        yield webhook


@pytest.fixture(autouse=True)
def clean(rest: Rest, schedulers: Any) -> Iterator[None]:
    yield
    delete_pods(rest)


def toward(node: str, weight: int) -> dict[str, Any]:
    return {"weight": weight, "preference": {"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [node]}]}}


def test_default_scheduler_places_executors_by_cached_bytes_through_the_webhook(
        rest: Rest, calling: Served) -> None:
    pods = [executor(paths="/apps/one", scheduler=DEFAULT) for _ in range(5)]
    # 2 CPUs a node, 1 per executor: each executor's terms follow its app's deficits (n03 caches 50 of 100
    # blocks, n06 30, n01 15, n02 5), so they spread as under our scheduler (test_scheduling.py): 2 on n03, 2 on
    # n06, 1 on n01, the third and fourth to n03 and n01 in either order; the default scheduler alone prefers
    # n08, the roomiest
    placed = [schedule(rest, pod) for pod in pods]
    assert placed[:2] == ["n03", "n06"] and placed[4] == "n06"
    assert Counter(placed) == {"n03": 2, "n06": 2, "n01": 1}
    stored = rest.get(pod_path(pods[0]["metadata"]["name"]))
    assert stored["spec"]["affinity"]["nodeAffinity"][PREFERRED] == [
        toward("n03", 100), toward("n06", 60), toward("n01", 30), toward("n02", 10)]
    assert calling.metrics().sum("scheduler_extender_webhook_pods_total", decision="patched") >= 5


def test_without_the_webhook_the_default_scheduler_ignores_the_cache(rest: Rest) -> None:
    assert schedule(rest, executor(paths="/apps/one", scheduler=DEFAULT)) == "n08"


def test_a_driver_is_kept_off_the_nodes_caching_its_input(rest: Rest, calling: Served) -> None:
    driver = executor(paths="/apps/one", scheduler=DEFAULT, selector={"group": "main"})
    driver["metadata"]["labels"]["spark-role"] = "driver"
    assert schedule(rest, driver) not in {"n03", "n06", "n01", "n02"}


def test_required_affinity_is_valid_and_binds_executors_to_the_caching_nodes(
        rest: Rest, control_plane: ControlPlane, alluxio: FakeAlluxio, pki: Pki) -> None:
    """--webhook-affinity required (for YuniKorn): the API server accepts the required term, the executors fill
    the 4 nodes caching their input (2 CPUs each), and a 9th waits rather than going elsewhere."""
    with serve_webhook(control_plane, alluxio, pki, "--webhook-affinity", "required") as required, \
            registered(rest, required.port, pki.server_ca):
        pods = [executor(paths="/apps/one", scheduler=DEFAULT) for _ in range(8)]
        placed = sorted(schedule(rest, pod) for pod in pods)
        assert placed == ["n01", "n01", "n02", "n02", "n03", "n03", "n06", "n06"]
        stored = rest.get(pod_path(pods[0]["metadata"]["name"]))
        terms = stored["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert [term["matchFields"][0]["values"] for term in terms["nodeSelectorTerms"]] == \
            [["n03"], ["n06"], ["n01"], ["n02"]]
        message = unschedulable(rest, executor(paths="/apps/one", scheduler=DEFAULT))
        assert "NodeAffinity" in message and "4 Insufficient cpu" in message


def test_pods_of_our_own_scheduler_are_left_alone(rest: Rest, calling: Served) -> None:
    assert "affinity" not in dry_run(rest, executor(paths="/apps/one", scheduler=SCHEDULER))["spec"]


def test_placement_quality_default_with_the_webhook_against_ours_and_without(
        rest: Rest, control_plane: ControlPlane, layout: Layout, webhook: Served, pki: Pki,
        kube_version: KubeVersion) -> None:
    """3 apps x 8 executors over the 220 scale nodes, each app's input on 12 of them."""
    def fraction(scheduler: str) -> float:
        shares = []
        for app in ("qa", "qb", "qc"):
            held = layout.blocks[f"/apps/{app}"]
            for _ in range(8):
                node = schedule(rest, executor(paths=f"/apps/{app}", app=app, selector={"group": "scale"},
                                               scheduler=scheduler))
                shares.append(held.get(node, 0) / sum(held.values()))
        delete_pods(rest)
        return sum(shares) / len(shares)

    without, ours = fraction(DEFAULT), fraction(SCHEDULER)
    # The stock kube-scheduler again, no extender either, but scoring every feasible node as ours does: by
    # default it stops at about half of them here (percentageOfNodesToScore), caching ones or not.
    every_node = control_plane.start_scheduler(ALL_NODES, {
        "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
        "leaderElection": {"leaderElect": False}, "percentageOfNodesToScore": 100,
        "profiles": [{"schedulerName": ALL_NODES}]}, control_plane.scheduler_token)
    try:
        with registered(rest, webhook.port, pki.server_ca):
            with_webhook, scoring_all = fraction(DEFAULT), fraction(ALL_NODES)
    finally:
        every_node.stop()
    note(kube_version, f"webhook placement quality, expected local fraction of each executor's input (3 apps x 8 "
         f"executors, 220 nodes): default scheduler {without:.2%}; with the webhook {with_webhook:.2%} "
         f"({with_webhook / ours:.2f}x ours), scoring every node (percentageOfNodesToScore 100) {scoring_all:.2%} "
         f"({scoring_all / ours:.2f}x ours); our scheduler {ours:.2%}")
    assert with_webhook > 5 * max(without, 0.01)
    assert scoring_all >= 0.9 * ours


def creation_seconds(rest: Rest, count: int) -> list[float]:
    """How long each of `count` executor creations took the API server, one after another; each is then
    scheduled (by the default scheduler) and deleted."""
    seconds = []
    for _ in range(count):
        pod = executor(paths="/apps/one", scheduler=DEFAULT)
        started = time.monotonic()
        rest.create(pod)
        seconds.append(time.monotonic() - started)
        assert bound_node(rest, pod["metadata"]["name"])
        rest.delete_now("Pod", pod["metadata"]["name"], NS)
    return seconds


def test_webhook_down_pods_are_created_and_scheduled_as_before(
        rest: Rest, control_plane: ControlPlane, alluxio: FakeAlluxio, pki: Pki, kube_version: KubeVersion) -> None:
    """Down as a closed port (refused at once) and as a peer that accepts and never answers (the API server
    waits its timeoutSeconds): failurePolicy Ignore creates the pods unchanged either way."""
    figures = {"no webhook": creation_seconds(rest, 5)}
    failed = failed_open(rest)
    served = serve_webhook(control_plane, alluxio, pki)
    try:
        with registered(rest, served.port, pki.server_ca):
            figures["webhook up"] = creation_seconds(rest, 5)
            served.stop()
            figures["webhook down (port closed)"] = creation_seconds(rest, 5)
            # the kernel completes the handshake of a listening socket nobody accepts on: a hung webhook
            with socket.create_server(("127.0.0.1", served.port), backlog=64):
                figures["webhook hung (timeoutSeconds 2)"] = creation_seconds(rest, 2)
    finally:
        served.__exit__()
    assert failed_open(rest) >= failed + 7  # the configuration was in use throughout, and failed open
    note(kube_version, "pod creation latency, median of 5 (hung: of 2): " + ", ".join(
        f"{name} {sorted(values)[len(values) // 2] * 1000:.0f} ms" for name, values in figures.items()))


def failed_open(rest: Rest) -> float:
    """Calls of our webhook the API server let pass for failing (failurePolicy Ignore), from its /metrics."""
    return sum(sample.value for family in text_string_to_metric_families(rest.text("/metrics"))
               for sample in family.samples
               if sample.name.startswith("apiserver_admission_webhook_fail_open_count")
               and sample.labels.get("name") == HOOK)
