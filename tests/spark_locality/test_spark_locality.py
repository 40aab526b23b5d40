"""spark-locality with real Spark (4.3 and 3.5, standalone on loopback) reading from a real Alluxio 2.9.6: tasks go
to the executor on the node whose worker caches their file, and read it there, short-circuit.

Three nodes: Alluxio workers on 127.0.1.1-3 (their hosts, the "node IPs"), one Spark worker per node on 127.0.2.1-3
(its executors' "pod IPs"; standalone.py says how they stand in for Kubernetes' executors). Twelve one-block files
are cached 6 / 4 / 2 over the three workers; the job reads each file in its own task, on 3 one-core executors.
Without the component every task is ANY (no executor's host is a block's host) and reads wherever it lands; with it
every task is NODE_LOCAL on its file's node and reads it from that node's worker. Each application is a fresh one,
on the same cache (the clients cache nothing they read, and the test checks the workers still hold what they held).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alluxio.real_alluxio import MIB, Inventory, RealAlluxio, fetch, java_problem
from tests.e2e.e2e_spark import java_problem as spark_java_problem
from tests.e2e.e2e_spark import spark_cache, versions
from tests.spark_locality.application import Result, component_confs, submit
from tests.spark_locality.standalone import Node, StandaloneSpark
from tests.support.figures import report
from tests.support.jars import alluxio_client_jar, spark_locality_jar

pytestmark = pytest.mark.spark_locality

NODES = [Node(f"127.0.1.{i}", f"127.0.2.{i}") for i in (1, 2, 3)]
CACHED = [6, 4, 2]
"""Files cached on each node's worker."""
FILE_SIZE = MIB
"""One Alluxio block (RealAlluxio's block size)."""
INPUT = "/input"
FILES = sum(CACHED)
WAIT = "5s"
"""The bound on listings' wait for executors in the test of an empty map."""
WAITED = re.compile(r"listing waited (\d+) ms for executors, (\d+ of \d+) registered")
"""NodeLocalAlluxioFileSystem's log line when a listing waited."""


def note(line: str) -> None:
    report("spark-locality", line)


@pytest.fixture(scope="module")
def classpath() -> str:
    """spark-locality.jar and Alluxio's client jar for Spark, as the driver's and executors' extra classpath."""
    return ":".join(str(jar) for jar in (alluxio_client_jar(), spark_locality_jar()))


@pytest.fixture(scope="module")
def alluxio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RealAlluxio, dict[str, Inventory]]]:
    """A master and a worker per node, the files of node i under INPUT/node-i cached on its worker alone; with the
    workers' inventories once settled."""
    cache = fetch()
    problem = java_problem(cache) or spark_java_problem()
    if problem:
        pytest.skip(f"Java cannot start: {problem}")
    cluster = RealAlluxio(cache, tmp_path_factory.mktemp("alluxio-nodes"),
                          workers=[(node.ip, node.ip) for node in NODES])
    with cluster:
        for i, count in enumerate(CACHED):
            for part in range(count):
                cluster.put_ufs(f"{INPUT}/node-{i}/part-{part:05d}.bin", FILE_SIZE)
        cluster.fs("ls", "-R", INPUT)
        for i, node in enumerate(NODES):
            cluster.load(f"{INPUT}/node-{i}", client_host=node.ip)
        held = cluster.settle(lambda inv: all(sum(len(blocks) for blocks in inv[node.ip].values()) == count
                                              for node, count in zip(NODES, CACHED, strict=True)))
        yield cluster, held


@pytest.fixture(scope="module", params=versions())
def spark(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneSpark]:
    """A standalone master and a worker per node, of this Spark release, whose executors report their node."""
    home = spark_cache() / request.param / "pyspark"
    with StandaloneSpark(home, tmp_path_factory.mktemp(f"spark-{request.param}"), NODES) as cluster:
        yield cluster


def run(spark: StandaloneSpark, alluxio: tuple[RealAlluxio, dict[str, Inventory]], tmp_path: Path, name: str,
        classpath: str, confs: dict[str, str]) -> Result:
    """One application; checks what every application must do: sum every byte, fail no task, leave the cache as
    it found it."""
    cluster, held = alluxio
    result = submit(spark, cluster, tmp_path / name, INPUT, classpath=classpath, confs=confs, file_size=FILE_SIZE)
    version = spark.home.parent.name
    note(f"Spark {version}, {name}: {result.summary()}")
    assert result.bytes_summed == FILES * FILE_SIZE
    assert len(result.tasks) == FILES, result.tasks
    assert not [t for t in result.tasks if t.failed]
    assert cluster.inventories() == held, "the application changed what the workers cache"
    return result


def test_tasks_follow_the_cache(spark: StandaloneSpark, alluxio: tuple[RealAlluxio, dict[str, Inventory]],
                                classpath: str, tmp_path: Path) -> None:
    today = run(spark, alluxio, tmp_path, "without the component", classpath, {})
    assert today.levels == {"ANY": FILES}

    component = run(spark, alluxio, tmp_path, "with the component", classpath, component_confs())
    assert component.levels == {"NODE_LOCAL": FILES}
    # each node's executor ran the tasks of the files its node caches
    assert Counter(t.host for t in component.tasks) == {n.pod_ip: c for n, c in zip(NODES, CACHED, strict=True)}
    assert component.local_fraction >= 0.9, component.summary()
    assert component.local_bytes + component.remote_bytes >= FILES * FILE_SIZE


def test_an_empty_map_leaves_spark_as_it_is(spark: StandaloneSpark,
                                            alluxio: tuple[RealAlluxio, dict[str, Inventory]], classpath: str,
                                            tmp_path: Path) -> None:
    """The component on, but no executor reports the attribute it reads, and twice the executors that can come
    are expected: the listing waits WAIT for them, no longer, then reports Alluxio's hosts as they are, and every
    task is ANY, as without the component."""
    confs = {**component_confs(), "spark.alluxio.locality.nodeAttribute": "NO_SUCH_ATTRIBUTE",
             "spark.executor.instances": str(2 * len(NODES)), "spark.alluxio.locality.executorWait": WAIT}
    empty = run(spark, alluxio, tmp_path, f"with the component, no executor with a node, wait {WAIT}", classpath,
                confs)
    assert empty.levels == {"ANY": FILES}
    # the file system logs each wait: one, for the first listing; the later ones find the bound spent
    waits = [(int(ms), of) for ms, of in WAITED.findall(empty.log.read_text(errors="replace"))]
    note(f"Spark {spark.home.parent.name}: listings waited {waits} (ms, executors registered) for 6 that never come")
    assert len(waits) == 1 and waits[0][1].endswith(f" of {2 * len(NODES)}"), waits
    # a hang detector, not a timing: the bound is 5 s, a listing held for 30 s more would be a broken bound
    assert waits[0][0] < 35_000, waits
