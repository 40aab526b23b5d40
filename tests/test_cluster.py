"""Worker → node resolution from Node and worker Pod objects of each Alluxio deployment mode, and the
ClusterView kept in step with a (fake, real-HTTP) kube-apiserver through watch drops and 410 Gone."""
import json
import threading
import time
from pathlib import Path

import pytest
from kubernetes import client

from scheduler_extender.cluster import (
    ClusterView,
    address_book,
    ready_worker_nodes,
    summarize_node,
    summarize_worker_pod,
)
from scheduler_extender.kube_watch import Reflector
from scheduler_extender.locations.base import worker_address as W
from scheduler_extender.nodes import WorkerResolver
from tests.support.fake_kube import FakeKube, kube_config
from tests.support.objects import make_node, make_pod
from tests.support.waiting import eventually

KUBE = Path(__file__).parent / "data" / "kube"
N11, N12, N13, N14 = (f"ip-10-0-{i}.ec2.internal" for i in ("1-11", "1-12", "2-13", "2-14"))


def view_of(workers_file):
    nodes = [summarize_node(n) for n in json.loads((KUBE / "nodes.json").read_text())["items"]]
    pods = [s for p in json.loads((KUBE / workers_file).read_text())["items"]
            if (s := summarize_worker_pod(p)) is not None]
    return WorkerResolver([address_book(nodes, pods)]), ready_worker_nodes(pods)


@pytest.mark.parametrize("workers_file, worker, node", [
    # the Helm chart with hostNetwork: host = status.hostIP, which is also the pod IP
    ("workers-hostnetwork.json", W("10.0.1.11"), N11),
    ("workers-hostnetwork.json", W("10.0.1.12"), N12),
    # hostNetwork without the chart: the worker's canonical host name, full or short
    ("workers-hostnetwork.json", W("ip-10-0-1-11.ec2.internal"), N11),
    ("workers-hostnetwork.json", W("ip-10-0-1-12"), N12),
    ("workers-hostnetwork.json", W("IP-10-0-1-12.EC2.INTERNAL."), N12),
    # the chart without hostNetwork: host = node InternalIP, containerHost = pod IP
    ("workers-nodeip.json", W("10.0.1.11", "10.244.1.23"), N11),
    ("workers-nodeip.json", W("10.0.1.12", "10.244.2.17"), N12),
    ("workers-nodeip.json", W("10.0.2.13", "10.244.3.9"), N13),
    ("workers-nodeip.json", W("unknown-host", "10.244.2.17"), N12),  # the pod IP alone suffices
    # only the pod's own name: through the worker pod's spec.nodeName (ordinals crossed with nodes)
    ("workers-podip.json", W("alluxio-worker-0"), N12),
    ("workers-podip.json", W("alluxio-worker-1"), N11),
])
def test_worker_resolves_to_its_node(workers_file, worker, node):
    resolve, _ = view_of(workers_file)
    assert resolve(worker) == node


def test_unknown_worker_resolves_to_nothing():
    resolve, _ = view_of("workers-nodeip.json")
    assert resolve(W("10.9.9.9", "10.244.9.9")) is None


def test_pending_pod_without_a_node_maps_nothing_and_unready_workers_do_not_count():
    _, ready = view_of("workers-nodeip.json")
    assert ready == {N11, N12}  # N13's worker is not Ready, N14 has only a Pending pod


def test_ready_nodes_per_mode():
    assert view_of("workers-hostnetwork.json")[1] == {N11, N12}
    assert view_of("workers-podip.json")[1] == {N11, N12}


def test_finished_worker_pod_is_forgotten():
    pod = make_pod("w", node="n1", pod_ip="10.244.0.5")
    pod["status"]["phase"] = "Failed"
    assert summarize_worker_pod(pod) is None


# -- against a fake kube-apiserver (a real HTTP server speaking the Kubernetes list/watch wire format) -------

@pytest.fixture
def kube():
    with FakeKube() as fake:
        yield fake


def core(fake):
    return client.CoreV1Api(client.ApiClient(kube_config(fake)))


class Running:
    """A Reflector on its own thread, stopped at exit."""

    def __init__(self, reflector):
        self.reflector, self.stop = reflector, threading.Event()
        self.thread = threading.Thread(target=reflector.run, args=(self.stop,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.reflector

    def __exit__(self, *exc):
        self.stop.set()


def node_reflector(fake, changes, **kw):
    return Reflector("nodes", core(fake).list_node, summarize_node, lambda: changes.append(1),
                     backoff=(0.05, 0.2), **kw)


def names(reflector):
    return sorted(s.name for s in reflector.summaries())


def test_reflector_lists_then_follows_watch_events(kube):
    kube.add("node", make_node("a", internal_ip="10.0.0.1"))
    changes: list[int] = []
    with Running(node_reflector(kube, changes)) as nodes:
        assert nodes.wait_synced(5) and names(nodes) == ["a"]
        kube.wait_watches(1, "nodes")
        kube.add("node", make_node("b", internal_ip="10.0.0.2"))
        eventually(lambda: names(nodes) == ["a", "b"])
        kube.modify("node", make_node("b", internal_ip="10.0.0.3"))
        eventually(lambda: ("10.0.0.3",) in [s.addresses for s in nodes.summaries()])
        kube.delete("node", "a")
        eventually(lambda: names(nodes) == ["b"])
        assert kube.calls("list", "nodes") == 1


def test_unchanged_summary_is_not_a_change(kube):
    kube.add("node", make_node("a", internal_ip="10.0.0.1"))
    changes: list[int] = []
    with Running(node_reflector(kube, changes)) as nodes:
        nodes.wait_synced(5)
        kube.wait_watches(1, "nodes")
        before = len(changes)
        heartbeat = make_node("a", internal_ip="10.0.0.1", labels={"heartbeat": "1"})
        kube.modify("node", heartbeat)
        kube.add("node", make_node("z"))
        eventually(lambda: names(nodes) == ["a", "z"])
        assert len(changes) == before + 1  # the heartbeat-like update changed no summary


def test_dropped_watch_resumes_without_relisting(kube):
    kube.add("node", make_node("a"))
    with Running(node_reflector(kube, [])) as nodes:
        nodes.wait_synced(5)
        kube.wait_watches(1, "nodes")
        kube.drop_watches()
        kube.add("node", make_node("b"))
        eventually(lambda: names(nodes) == ["a", "b"])
        assert kube.calls("list", "nodes") == 1 and kube.calls("watch", "nodes") >= 2


def test_410_gone_lists_again_and_catches_up(kube):
    kube.add("node", make_node("a"))
    with Running(node_reflector(kube, [])) as nodes:
        nodes.wait_synced(5)
        kube.wait_watches(1, "nodes")
        kube.stop()  # the watch breaks; meanwhile history moves on and is compacted
        kube.start()
        kube.add("node", make_node("b"))
        kube.delete("node", "a")
        kube.compact()
        eventually(lambda: names(nodes) == ["b"])
        assert nodes.relists >= 2


def test_api_down_at_start_backs_off_and_recovers(kube):
    kube.add("node", make_node("a"))
    kube.stop()
    with Running(node_reflector(kube, [])) as nodes:
        time.sleep(0.3)
        assert not nodes.synced
        kube.start()
        assert nodes.wait_synced(5) and names(nodes) == ["a"]


def test_periodic_resync_lists_again(kube):
    kube.add("node", make_node("a"))
    with Running(node_reflector(kube, [], resync=1.0)) as nodes:
        nodes.wait_synced(5)
        eventually(lambda: kube.calls("list", "nodes") >= 2, timeout=5)


def test_cluster_view_follows_workers_coming_and_going(kube):
    kube.add("node", make_node("n1", internal_ip="10.0.0.1"))
    kube.add("node", make_node("n2", internal_ip="10.0.0.2"))
    kube.add("pod", make_pod("alluxio-worker-a", node="n1", pod_ip="10.244.1.5", host_ip="10.0.0.1",
                             labels={"role": "alluxio-worker"}))
    kube.add("pod", make_pod("spark-exec", node="n2", pod_ip="10.244.2.9", labels={"spark-role": "executor"}))
    api = core(kube)
    view = ClusterView(api.list_node, api.list_pod_for_all_namespaces, worker_selector="role=alluxio-worker",
                       resync=300)
    view.start()
    try:
        assert view.wait_synced(10)
        assert view.worker_nodes == {"n1"}
        assert view.book.node_of("10.244.1.5") == "n1" and view.book.node_of("10.244.2.9") is None
        kube.wait_watches(2)
        kube.add("pod", make_pod("alluxio-worker-b", node="n2", pod_ip="10.244.2.7", labels={"role": "alluxio-worker"}))
        eventually(lambda: view.worker_nodes == {"n1", "n2"} and view.book.node_of("10.244.2.7") == "n2")
        kube.modify("pod", make_pod("alluxio-worker-a", node="n1", pod_ip="10.244.1.5", ready=False,
                                    labels={"role": "alluxio-worker"}))
        eventually(lambda: view.worker_nodes == {"n2"})
        kube.delete("pod", "alluxio-worker-b", "default")
        eventually(lambda: view.worker_nodes == frozenset() and view.book.node_of("10.244.2.7") is None)
    finally:
        view.close()
