"""Real Alluxio 2.9.6 in the one-box cluster: master and proxy on the host (on the bridge's address), one worker per
node run as a pod by the pod runner, as Alluxio's Helm chart runs it (values as examples/spark/alluxio-values.yaml
sets them):
- `alluxio.worker.hostname` = status.hostIP (the node's IP), `alluxio.worker.container.hostname` = status.podIP,
  through the downward API and $(VAR) in the container's command, as the chart's entrypoint passes them;
- labels app=alluxio, role=alluxio-worker (what the extender watches);
- short-circuit through a domain socket in the hostPath /tmp/alluxio-domain, mounted at /opt/domain, named by a
  UUID (`alluxio.worker.data.server.domain.socket.as.uuid=true`, the chart's `shortCircuit.policy: uuid`).

One setting is the cluster's rather than the chart's default: passive caching off (through the master's cluster
defaults, which every client loads), so a remote read does not copy the block to the reader's worker and every
round of a comparison reads the same cache state.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.alluxio.real_alluxio import MIB, RealAlluxio, Worker
from tests.cluster.network import HOST_IP, Node
from tests.cluster.pod_runner import PodRunner
from tests.support.control_plane import Rest
from tests.support.waiting import eventually

NAMESPACE = "alluxio"
DOMAIN_HOST_PATH = "/tmp/alluxio-domain"
DOMAIN_MOUNT = "/opt/domain"
RPC_PORT, WEB_PORT = 29999, 30000
CLUSTER_PROPERTIES = {"alluxio.user.file.passive.cache.enabled": "false"}


def start_master(cache: Path, work: Path, *, capacity: int) -> RealAlluxio:
    """Master and proxy on the bridge's address; each worker (added by `start_workers`) has a small MEM tier
    and an SSD tier of `capacity` bytes, where the dataset is written."""
    alluxio = RealAlluxio(cache, work, workers=[], mem_quota=64 * MIB, ssd_quota=capacity,
                          host=HOST_IP, properties=CLUSTER_PROPERTIES)
    alluxio.start()
    return alluxio


def worker_pod(alluxio: RealAlluxio, node: Node, index: int) -> dict[str, Any]:
    mem, ssd = alluxio.mem_root / f"worker-{index}", alluxio.work / f"ssd-{index}"
    for d in (mem, ssd):
        d.mkdir(parents=True, exist_ok=True)
    properties: Mapping[str, str] = {
        "alluxio.worker.hostname": "$(ALLUXIO_WORKER_HOSTNAME)",
        "alluxio.worker.container.hostname": "$(ALLUXIO_WORKER_CONTAINER_HOSTNAME)",
        "alluxio.worker.bind.host": "0.0.0.0",
        "alluxio.worker.web.bind.host": "0.0.0.0",
        "alluxio.worker.rpc.port": str(RPC_PORT),
        "alluxio.worker.web.port": str(WEB_PORT),
        "alluxio.worker.data.server.domain.socket.address": DOMAIN_MOUNT,
        "alluxio.worker.data.server.domain.socket.as.uuid": "true",
        "alluxio.worker.tieredstore.level0.dirs.path": str(mem),
        "alluxio.worker.tieredstore.level1.dirs.path": str(ssd),
    }
    downward = (("ALLUXIO_WORKER_HOSTNAME", "status.hostIP"), ("ALLUXIO_WORKER_CONTAINER_HOSTNAME", "status.podIP"))
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"alluxio-worker-{index}", "namespace": NAMESPACE,
                     "labels": {"app": "alluxio", "role": "alluxio-worker"}},
        "spec": {"nodeName": node.name, "containers": [{
            "name": "alluxio-worker", "image": f"alluxio/alluxio:{alluxio.version.split()[1]}",
            "command": alluxio.worker_argv(properties),
            "env": [{"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}} for name, path in downward],
            "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}},
            "volumeMounts": [{"name": "alluxio-domain", "mountPath": DOMAIN_MOUNT}]}],
            "volumes": [{"name": "alluxio-domain",
                         "hostPath": {"path": DOMAIN_HOST_PATH, "type": "DirectoryOrCreate"}}]}}


def start_workers(alluxio: RealAlluxio, runner: PodRunner, rest: Rest, nodes: list[Node],
                  timeout: float = 240) -> dict[str, Worker]:
    """One worker pod per node (in the namespace NAMESPACE, which must exist); returns once the master lists
    every one of them, by node name."""
    for index, node in enumerate(nodes):
        rest.create(worker_pod(alluxio, node, index))

    def pod_ips() -> dict[str, str] | None:
        pods = rest.get(f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector=role%3Dalluxio-worker")["items"]
        for pod in pods:
            if pod["status"].get("phase") == "Failed":
                name = pod["metadata"]["name"]
                raise RuntimeError(f"worker {name} failed: {pod['status']}\n{runner.logs(name)}")
        ips = {pod["spec"]["nodeName"]: pod["status"]["podIP"] for pod in pods
               if pod["status"].get("phase") == "Running"}
        return ips if len(ips) == len(nodes) else None

    ips = eventually(pod_ips, 60, what="worker pods running", failure=RuntimeError)
    workers = {}
    for index, node in enumerate(nodes):
        workers[node.name] = Worker(node.ip, ips[node.name], RPC_PORT, WEB_PORT, alluxio.mem_root / f"worker-{index}",
                                    alluxio.work / f"ssd-{index}", web_host=ips[node.name])
    alluxio.workers[:] = list(workers.values())

    def registered() -> bool:
        return {n.ip for n in nodes} <= {a["host"] for a in alluxio.live_worker_addresses()}

    eventually(registered, timeout, what="every worker registered with the master", interval=0.5,
               failure=RuntimeError)
    return workers
