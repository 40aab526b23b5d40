"""The one-box cluster, small: 3 nodes caching 75% / 25% / 0 of a 48 MiB input, 3 executors of Spark 4.x (the
newest of spark-versions.txt) reading it through their nodes' real Alluxio workers, one round of each row: the
default kube-scheduler, ours scoring each executor alone (--app-placement off), ours as shipped (placing the
application), and ours with the spark-locality component (spark-submit.sh's TASK_LOCALITY=component)
(tests/cluster/README.md says how it runs).

What is asserted is what placement and the component buy, measured by Alluxio itself:
- ours per pod reads a larger share of the input through the executors' own nodes' domain sockets than the
  default scheduler: it stacks the executors on the node caching most (75%); the default puts one on each node,
  and with every task at ANY what they read locally is what Spark's task assignment makes of that (17-52% at
  this size in our runs);
- ours with the component reads at least 90% of it locally, its tasks NODE_LOCAL (issue 25's target).
Ours per application alone (two executors on the node caching 75%, one on the node caching 25%) is printed, not
asserted: at ANY it reads about 2/3 of the first node's files and 1/3 of the second's locally, 58% expected, and
one draw of 2 MiB tasks lands anywhere around that (76% and 54% in two runs, against the default's 52% and 51%).
The full-size benchmark, where tasks are 64 MiB and rounds repeat, shows it above the default in every shape.
And that the measure holds together: the executors' tasks read the whole input, every byte from a
worker's cache, and the local and remote counters add up to it (a few percent short, as they count). No timing
is asserted (2 shared cores); the figures are printed.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.cluster.cluster import OneBox, Settings
from tests.cluster.comparison import COMPONENT, DEFAULT, OURS, PER_POD_ROW, Plan, Round, Shape, compare
from tests.e2e import e2e_spark
from tests.support.figures import report

pytestmark = pytest.mark.e2e

SHAPE = Shape("75/25/0, 3 executors", (0.75, 0.25, 0.0), executors=3, total_bytes=48 << 20, files=24)
RATE = "200mbit"
ROWS = (DEFAULT, PER_POD_ROW, OURS, COMPONENT)


def _cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("ip") or not shutil.which("tc"):
        return "needs iproute2 (ip, tc)"
    return e2e_spark.java_problem()


def test_placement_and_the_component_read_more_locally_than_the_default(tmp_path: Path) -> None:
    problem = _cannot_run()
    if problem:
        pytest.skip(problem)
    spark = e2e_spark.versions()[0]
    lines: list[str] = []
    with OneBox(Settings(nodes=3, spark_versions=(spark,), work=tmp_path)) as box:
        results = compare(box, Plan([(SHAPE, RATE, [spark])], rows=ROWS), log=lines.append)
    by_row: dict[str, Round] = {r.row: r for r in results}
    total = SHAPE.files * SHAPE.file_bytes
    for row in ROWS:
        result = by_row[row.name]
        report("one-box cluster", f"{SHAPE.name} at {RATE}, Spark {spark}, {result.row}: "
               f"{result.local_fraction:.0%} read locally (model {result.predicted:.0%}) in {result.seconds:.1f}s, "
               f"executors on {[e.node for e in result.executors]}, task locality {result.locality}")
        assert len(result.executors) == SHAPE.executors, result
        assert result.failed_tasks == 0, result
        assert sum(e.input_bytes for e in result.executors) == total, result
        # every byte came from a worker's cache (none from the UFS); the domain and remote counters count a few
        # percent short of it (README.md), never more
        assert sum(c.get("Worker.BytesReadCache", 0) for c in result.counters.values()) == total, result
        counted = result.local_bytes + result.remote_bytes
        assert 0.85 * total <= counted <= total, (counted, result, lines)
    default, per_pod, component = by_row[DEFAULT.name], by_row[PER_POD_ROW.name], by_row[COMPONENT.name]
    assert per_pod.local_fraction > default.local_fraction, (per_pod, default, lines)
    assert component.local_fraction >= 0.9, (component, lines)
    # one task per file reads the input; the count's last stage adds one task, NODE_LOCAL in every row
    assert component.locality.get("NODE_LOCAL", 0) >= 0.9 * SHAPE.files, (component.locality, lines)
