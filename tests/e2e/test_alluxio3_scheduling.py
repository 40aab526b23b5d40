"""Executors of an Alluxio 3 dataset land on the nodes of the workers its files hash to, through a real
kube-scheduler: the membership in a real etcd (its own, on loopback), six stand-in 3.x workers answering their HTTP
API, each on its node's InternalIP (a loopback address, so the extender can reach it), and the extender resolving
worker hosts to nodes through its watch of Nodes, as on Kubernetes where a worker's host is its node's IP."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.alluxio3_cluster import LoopbackEtcd, join
from tests.e2e.e2e_cluster import Extender, note
from tests.e2e.e2e_pods import delete_pods, executor, schedule
from tests.e2e.e2e_spark import app_placement
from tests.support.control_plane import (
    ControlPlane,
    Process,
    Rest,
    control_plane_binaries,
    create_node,
    create_worker_pod,
)
from tests.support.deployment import extender_kubeconfig, scheduler_config, start_scheduler
from tests.support.fake_alluxio3 import FakeWorker3, Namespace
from tests.support.kube_versions import KubeVersion
from tests.support.waiting import eventually

WORKERS_NS, NS = "alluxio3", "spark3"
SCHEDULER3 = "alluxio3-locality-scheduler"
UFS_ROOT = "s3://datasets/warehouse"
DATASET = "/datasets/a3"
NODES = [f"a3-{i:02d}" for i in range(1, 7)]
IP = {node: f"127.0.5.{i}" for i, node in enumerate(NODES, 1)}
MIB = 1 << 20
TOTALS = dict(zip(NODES, (600 * MIB, 420 * MIB, 290 * MIB, 200 * MIB, 130 * MIB, 80 * MIB), strict=True))
"""Bytes of the dataset on each node: file lengths are chosen, once the ring has said who owns each file, so that
the nodes are this far apart (scores 10, 7, 5, 3, 2, 1) whatever the ring's draw."""


@dataclass
class Alluxio3:
    etcd: LoopbackEtcd
    namespace: Namespace
    workers: dict[str, FakeWorker3]
    leases: dict[str, str]
    dir: Path

    def owners(self, paths: list[str], nodes: list[str]) -> dict[str, str]:
        """path -> node, from `scheduler-extender locate` over the workers of `nodes`."""
        entries = self.dir / "entries.json"
        entries.write_text(json.dumps([self.workers[node].entry() for node in nodes]))
        done = subprocess.run([sys.executable, "-m", "scheduler_extender", "locate", "--alluxio3-workers",
                               str(entries), "--alluxio3-ufs-root", UFS_ROOT, *paths],
                              check=True, capture_output=True, text=True)
        node_of = {IP[node]: node for node in NODES}
        return {path: node_of[host] for path, host in (line.split("\t") for line in done.stdout.splitlines())}

    def bytes_per_node(self, nodes: list[str]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for path, node in self.owners(sorted(self.namespace.files), nodes).items():
            totals[node] = totals.get(node, 0) + self.namespace.files[path]
        return totals


@pytest.fixture(scope="module")
def alluxio3(tmp_path_factory: pytest.TempPathFactory, kube_version: KubeVersion, rest: Rest) -> Iterator[Alluxio3]:
    workdir = tmp_path_factory.mktemp("alluxio3")
    etcd = LoopbackEtcd(control_plane_binaries(kube_version), workdir)
    etcd.start()
    namespace = Namespace(UFS_ROOT)
    workers = {node: FakeWorker3(namespace, host=IP[node], identity=uuid.UUID(int=0xA3 << 64 | i))
               for i, node in enumerate(NODES)}
    for fake in workers.values():
        fake.start()
    cluster = Alluxio3(etcd, namespace, workers, {}, workdir)
    try:
        files = [f"{DATASET}/part-{i:03d}.parquet" for i in range(60)]
        owned: dict[str, list[str]] = {}
        for path, node in cluster.owners(files, NODES).items():
            owned.setdefault(node, []).append(path)
        assert set(owned) == set(NODES), "every worker owns some of the files"
        for node, paths in owned.items():
            for k, path in enumerate(paths):  # the node's total, split over its files
                namespace.add(path, TOTALS[node] // len(paths) + (TOTALS[node] % len(paths) if k == 0 else 0))
        cluster.leases = {node: join(etcd, fake) for node, fake in workers.items()}
        _create_cluster(rest)
        yield cluster
    finally:
        for fake in workers.values():
            fake.stop()
        etcd.stop()


def _create_cluster(rest: Rest) -> None:
    """Nodes a3-01..06 (2 CPUs each) and one Running Alluxio 3 worker pod on each, its host the node's IP."""
    for namespace in (WORKERS_NS, NS):
        rest.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                     "metadata": {"name": namespace}}, ok=(201, 409))
    for node in NODES:
        create_node(rest, node, IP[node], "alluxio3", "2", "8Gi")
        create_worker_pod(rest, f"alluxio3-worker-{node}", WORKERS_NS, node, host_ip=IP[node], pod_ip=IP[node],
                          host_network=True, image="alluxio/alluxio:313")


@pytest.fixture(scope="module")
def extender3(control_plane: ControlPlane, alluxio3: Alluxio3) -> Iterator[Extender]:
    kubeconfig = extender_kubeconfig(control_plane, "alluxio3-extender")
    running = Extender(["--alluxio3-etcd", alluxio3.etcd.url, "--alluxio3-ufs-root", UFS_ROOT,
                        "--kubernetes", "kubeconfig", "--kubeconfig", str(kubeconfig), "--request-budget", "2s",
                        "--index-ttl", "1s"])
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def scheduler3(control_plane: ControlPlane, extender3: Extender) -> Iterator[Process]:
    config = scheduler_config(extender3.url)
    config["leaderElection"] = {"leaderElect": False}
    config["profiles"] = [{"schedulerName": SCHEDULER3}]
    process = start_scheduler(control_plane, SCHEDULER3, config)
    time.sleep(1)
    if not process.alive():
        raise RuntimeError(f"{SCHEDULER3} exited:\n{process.tail()}")
    yield process


@pytest.fixture(autouse=True)
def clean(rest: Rest, scheduler3: Process) -> Iterator[None]:
    """Every test ends with the executors gone, and their CPUs free again in the scheduler's cache."""
    yield
    delete_pods(rest, NS)


def dataset_executor() -> dict[str, Any]:
    """A Spark executor (1 CPU) reading the dataset, for the Alluxio 3 scheduler and nodes."""
    return executor(paths=DATASET, app="a3-app", selector={"group": "alluxio3"}, scheduler=SCHEDULER3, namespace=NS)


def cached_by_node(extender: Extender, path: str) -> dict[str, int]:
    status, answer = extender.running.get(f"/locality?path={quote(path)}&" + "&".join(f"node={n}" for n in NODES))
    assert status == 200, answer
    assert answer["unresolvedWorkers"] == []
    return {n["node"]: n["cachedBytes"] for n in answer["nodes"] if n["cachedBytes"]}


def test_locality_shows_each_files_ring_owner(alluxio3: Alluxio3, extender3: Extender) -> None:
    files = sorted(alluxio3.namespace.files)
    owners = alluxio3.owners(files, NODES)
    for path in files:
        assert cached_by_node(extender3, path) == {owners[path]: alluxio3.namespace.files[path]}, path
    assert cached_by_node(extender3, DATASET) == TOTALS


def test_executors_land_on_the_ring_owners_nodes(kube_version: KubeVersion, rest: Rest) -> None:
    started = time.monotonic()
    placed = [schedule(rest, dataset_executor()) for _ in range(6)]
    note(kube_version, f"Alluxio 3: 6 executors placed by ring-owned bytes through the real kube-scheduler in "
         f"{time.monotonic() - started:.1f}s: {placed}")
    # per application (docs/placement.md): each executor to the node falling shortest of its share of the six
    assert sorted(placed) == sorted(app_placement(TOTALS, {node: 2 for node in NODES}, len(placed)))


def test_a_worker_that_leaves_takes_its_files_off_its_node(kube_version: KubeVersion, rest: Rest, alluxio3: Alluxio3,
                                                           extender3: Extender) -> None:
    gone = NODES[0]
    remaining = NODES[1:]
    alluxio3.etcd.revoke(alluxio3.leases[gone])  # its lease lapses: off /ServiceDiscovery, off the ring
    expected = alluxio3.bytes_per_node(remaining)
    left = time.monotonic()
    eventually(lambda: cached_by_node(extender3, DATASET) == expected, 30, interval=0.2,
               what=f"the bytes per node becoming {expected}")
    note(kube_version, f"Alluxio 3: worker of {gone} left; the ring's new owners were scored after "
         f"{time.monotonic() - left:.1f}s")
    best = max(expected.values())
    top = {node for node, size in expected.items() if round(10 * size / best) == 10}
    assert schedule(rest, dataset_executor()) in top and gone not in top
