"""The end-to-end cluster: nodes, Alluxio workers in each deployment mode, what each caches, and the
pieces the fixtures start (the served extender, the schedulers)."""
from __future__ import annotations

from dataclasses import dataclass, field

from scheduler_extender.workload import REQUIRE_LOCAL_WORKER_ANNOTATION
from tests.support.control_plane import Process, Rest, create_node, create_worker_pod
from tests.support.fake_alluxio import Block, FakeAlluxio, Loc
from tests.support.figures import report
from tests.support.kube_versions import KubeVersion
from tests.support.objects import make_pod
from tests.support.served import Served, free_port

BLOCK = 10 << 20


def note(version: KubeVersion, line: str) -> None:
    """A figure printed after the run (tests/support/figures.py), under the version it was measured on."""
    report("end-to-end figures", f"[{version.minor}] {line}")


@dataclass
class Worker:
    node: str
    pod_ip: str
    host: str
    container_host: str = ""
    host_network: bool = False
    ready: bool = True


@dataclass
class Layout:
    """Nodes, their Alluxio workers and what each caches; tests read the expected answers from here."""

    workers: dict[str, Worker] = field(default_factory=dict)
    main: list[str] = field(default_factory=list)
    scale: list[str] = field(default_factory=list)
    blocks: dict[str, dict[str, int]] = field(default_factory=dict)
    """path -> node -> 10 MiB blocks cached on that node's worker."""


def build_layout() -> Layout:
    layout = Layout()
    layout.main = [f"n0{i}" for i in range(1, 9)]
    for i, node in enumerate(layout.main, start=1):
        pod_ip = f"10.244.{i}.5"
        if i == 1:  # hostNetwork, worker deployed without the chart: its canonical host name
            layout.workers[node] = Worker(node, f"10.0.0.{i}", host=node, host_network=True)
        elif i == 2:  # hostNetwork from the Helm chart: host = status.hostIP
            layout.workers[node] = Worker(node, f"10.0.0.{i}", host=f"10.0.0.{i}", host_network=True)
        elif i <= 5:  # the chart without hostNetwork: host = node IP, containerHost = pod IP
            layout.workers[node] = Worker(node, pod_ip, host=f"10.0.0.{i}", container_host=pod_ip)
        elif i <= 7:  # a worker that only knows its pod IP; n07's is not ready
            layout.workers[node] = Worker(node, pod_ip, host=pod_ip, ready=i != 7)
    layout.blocks["/apps/one"] = {"n03": 50, "n06": 30, "n01": 15, "n02": 5}
    layout.scale = [f"s{i:03d}" for i in range(1, 221)]
    for i, node in enumerate(layout.scale, start=1):
        pod_ip = f"10.245.{i // 250}.{i % 250 + 1}"
        layout.workers[node] = Worker(node, pod_ip, host=f"10.1.{i // 250}.{i % 250 + 1}", container_host=pod_ip)
    top = [layout.scale[i] for i in (16, 41, 73, 99, 120, 151, 170, 188, 203, 219)]
    big = {node: i % 3 for i, node in enumerate(layout.scale)}
    big.update(zip(top, (100, 70, 49, 34, 24, 17, 12, 8, 6, 4), strict=True))
    layout.blocks["/apps/big"] = {node: n for node, n in big.items() if n}
    for app, seed in (("qa", 7), ("qb", 11), ("qc", 13)):
        holders = [layout.scale[(seed * k * k + 3 * k) % len(layout.scale)] for k in range(1, 13)]
        layout.blocks[f"/apps/{app}"] = {node: 1 + (seed * k) % 40 for k, node in enumerate(holders, start=1)}
    return layout


def create_cluster(rest: Rest, layout: Layout) -> None:
    """Node objects (Ready, allocatable) and one Alluxio worker pod per worker, bound and Running."""
    rest.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alluxio"}})
    rest.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "spark"}})
    ips = {**{n: f"10.0.0.{i}" for i, n in enumerate(layout.main, start=1)},
           **{n: f"10.1.{i // 250}.{i % 250 + 1}" for i, n in enumerate(layout.scale, start=1)}}
    for name in layout.main:
        big = name == "n08"  # the node the in-tree scores prefer: most room, and no Alluxio worker
        create_node(rest, name, ips[name], "main", "16" if big else "2", "64Gi" if big else "8Gi")
    for name in layout.scale:
        create_node(rest, name, ips[name], "scale", "2", "8Gi")
    for worker in layout.workers.values():
        create_worker_pod(rest, f"alluxio-worker-{worker.node}", "alluxio", worker.node, host_ip=ips[worker.node],
                          pod_ip=worker.pod_ip, host_network=worker.host_network, image="alluxio/alluxio:2.9.6")
        set_worker_ready(rest, worker.node, worker.ready)


def set_worker_ready(rest: Rest, node: str, ready: bool) -> None:
    """Mark the Alluxio worker pod of `node` Ready or not, as its kubelet would after a readiness probe."""
    rest.set_status("Pod", f"alluxio-worker-{node}", "alluxio",
                    {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]})


def load_alluxio(fake: FakeAlluxio, layout: Layout) -> None:
    """Each path's blocks, one 10 MiB block per unit, cached on the named node's worker only."""
    for path, holders in layout.blocks.items():
        for node, count in holders.items():
            worker = layout.workers[node]
            loc = Loc(worker.host, worker.container_host)
            fake.add_file(f"{path}/{node}.parquet", *[Block(BLOCK, loc) for _ in range(count)])
    fake.add_file("/apps/cold/part-0", BLOCK, BLOCK)  # uncached


class Extender:
    """The served extender, restartable on its port (the scheduler's urlPrefix names it)."""

    def __init__(self, flags: list[str]) -> None:
        self.flags = flags
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.served: Served | None = None

    def start(self) -> None:
        self.served = Served(*self.flags, port=self.port)

    def stop(self) -> None:
        if self.served is not None:
            self.served.stop()
            self.served = None

    @property
    def running(self) -> Served:
        """The served extender, which must be running."""
        assert self.served is not None, "the extender is stopped"
        return self.served

    def passes_local_worker_check(self, node: str) -> bool:
        """Whether /filter now passes `node` for a pod that requires a local worker: what the extender's watch
        currently knows of that node's worker."""
        pod = make_pod("probe", namespace="spark", annotations={REQUIRE_LOCAL_WORKER_ANNOTATION: "true"})
        status, answer = self.running.post("/filter", {"Pod": pod, "NodeNames": [node], "Nodes": None})
        assert status == 200, answer
        return bool(answer["NodeNames"] == [node])


def verb_calls(served: Served, verb: str, outcome: str | None = None) -> float:
    """Calls of a verb the extender has answered so far (with that outcome, or any), from its /metrics."""
    labels = {"verb": verb} if outcome is None else {"verb": verb, "outcome": outcome}
    return served.metrics().sum("scheduler_extender_requests_total", **labels)


@dataclass
class Schedulers:
    ours: Process
    default: Process
