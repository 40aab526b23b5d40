"""An executor's Alluxio client, configured as examples/spark/ configures it, reads through its own node's worker.

Alluxio's client takes as local the worker whose host equals its own alluxio.user.hostname, by default the
machine's (on Kubernetes, the pod's) hostname. Alluxio's Helm chart gives each worker the host status.hostIP, the
node's IP, and the example gives an executor's client that same IP (the downward API into
ALLUXIO_CLIENT_HOSTNAME, expanded into -Dalluxio.user.hostname=$(ALLUXIO_CLIENT_HOSTNAME)). Here two workers call
themselves 127.0.0.2 and 127.0.0.3, as two nodes' IPs; a file is cached whole on both. A client given A's host
reads every block short-circuit from A's own storage (as an executor on A's node does through A's domain socket):
Alluxio counts the blocks accessed on A and the bytes the client read locally, and neither worker sends a byte over
the network. With the default hostname the same client reads every block remotely, from either worker.

The workers have no domain socket here: on one machine every worker's socket file is visible to every client, so
the socket-as-UUID half of the recipe (local = the socket file in the executor's own mount) cannot tell workers
apart; each executor's mount is what tells them apart on Kubernetes.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alluxio.conftest import usable_cache
from tests.alluxio.executor_client import (
    HOSTNAME_VAR,
    client_properties,
    cluster_metrics,
    executor_java_options,
    expand,
    template_env,
    worker_metrics,
)
from tests.alluxio.real_alluxio import MIB, RealAlluxio
from tests.support.figures import report
from tests.support.waiting import eventually

pytestmark = pytest.mark.alluxio

FILE = "/spark/input/part-00000.bin"
BLOCKS = 3
WITNESS = {"alluxio.user.metrics.collection.enabled": "true", "alluxio.user.metrics.heartbeat.interval": "100ms"}
"""Not the example's: the test's client reports its metrics to the master, so Alluxio counts its local reads."""


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealAlluxio]:
    """A master and two workers on two loopback addresses (two nodes' IPs), FILE cached whole on each."""
    cluster = RealAlluxio(usable_cache(), tmp_path_factory.mktemp("alluxio-nodes"),
                          workers=[("127.0.0.2", "127.0.0.2"), ("127.0.0.3", "127.0.0.3")])
    with cluster:
        cluster.put_ufs(FILE, BLOCKS * MIB)
        for worker in cluster.workers:
            cluster.load(FILE, client_host=worker.host)
        cluster.settle(lambda held: all(len(held[w.host].get(FILE, {})) == BLOCKS for w in cluster.workers))
        yield cluster


def executor_client(cluster: RealAlluxio, node_ip: str | None) -> dict[str, str]:
    """The Alluxio properties of an executor on the node of this IP, from the example's JVM options; None: the
    options the example gave before it named the node (no alluxio.user.hostname)."""
    options = executor_java_options(f"127.0.0.1:{cluster.master_rpc_port}")
    properties = client_properties(expand(options, {HOSTNAME_VAR: node_ip or ""}))
    if node_ip is None:
        del properties["alluxio.user.hostname"]
    return {**properties, **WITNESS}


def test_the_example_names_the_node_by_its_ip() -> None:
    assert template_env()[HOSTNAME_VAR] == "status.hostIP"
    assert template_env("executor-pod-template.yaml")[HOSTNAME_VAR] == "status.hostIP"
    assert client_properties(executor_java_options("m:19998"))["alluxio.user.hostname"] == f"$({HOSTNAME_VAR})"


def test_an_executor_client_reads_through_its_nodes_worker_and_by_default_does_not(nodes: RealAlluxio) -> None:
    a, b = nodes.workers
    size = BLOCKS * MIB

    before = {w.host: worker_metrics(w) for w in nodes.workers}
    nodes.fs("cat", FILE, properties=executor_client(nodes, None))
    after = {w.host: worker_metrics(w) for w in nodes.workers}
    served = {h: after[h].get("Worker.BytesReadCache", 0) - before[h].get("Worker.BytesReadCache", 0) for h in after}
    # by default: every byte read remotely, from the one worker or the other
    assert sum(served.values()) == size, served

    properties = executor_client(nodes, a.host)
    assert properties["alluxio.user.hostname"] == a.host
    local_before = cluster_metrics(nodes).get("Cluster.BytesReadLocal", 0)
    nodes.fs("cat", FILE, properties=properties)
    final = {w.host: worker_metrics(w) for w in nodes.workers}
    accessed = {h: final[h].get("Worker.BlocksAccessed", 0) - after[h].get("Worker.BlocksAccessed", 0) for h in after}
    sent = {h: final[h].get("Worker.BytesReadCache", 0) - after[h].get("Worker.BytesReadCache", 0) for h in after}
    # as an executor on A's node: every block opened on A and read from its storage; nothing over the network
    assert accessed == {a.host: BLOCKS, b.host: 0}, accessed
    assert sent == {a.host: 0, b.host: 0}, sent
    def read_locally() -> float | None:
        """the client reported every byte read locally"""
        got = cluster_metrics(nodes).get("Cluster.BytesReadLocal", 0) - local_before
        return got if got >= size else None

    read_local = eventually(read_locally, 30, interval=0.2)
    assert read_local == size
    report("real Alluxio", f"an executor's client as examples/spark/ sets it, given worker A's host, read "
           f"{read_local / MIB:.0f} MiB locally (short-circuit) from A; with its default hostname it read "
           f"{', '.join(f'{v / MIB:.0f} MiB from {h}' for h, v in served.items())}, all remotely")
