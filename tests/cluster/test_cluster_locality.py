"""The one-box cluster, small: 3 nodes caching 75% / 25% / 0 of a 48 MiB input, 3 executors of Spark 4.x (the
newest of spark-versions.txt) reading it through their nodes' real Alluxio workers, placed once by the default
kube-scheduler and once by ours as shipped (tests/cluster/README.md says how it runs).

What is asserted is what placement buys, measured by Alluxio itself: ours reads a larger share of the input through
the executors' own nodes' domain sockets than the default scheduler. And that the measure holds together: the
executors' tasks read the whole input, every byte from a worker's cache, and the local and remote counters add up
to it (a few percent short, as they count). No timing
is asserted (2 shared cores); the figures are printed.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.cluster.cluster import OneBox, Settings
from tests.cluster.comparison import DEFAULT, OURS, Plan, Round, Shape, compare
from tests.e2e import e2e_spark
from tests.support.figures import report

pytestmark = pytest.mark.e2e

SHAPE = Shape("75/25/0, 3 executors", (0.75, 0.25, 0.0), executors=3, total_bytes=48 << 20, files=24)
RATE = "200mbit"


def _cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("ip") or not shutil.which("tc"):
        return "needs iproute2 (ip, tc)"
    return e2e_spark.java_problem()


def test_ours_reads_a_larger_share_locally_than_the_default(tmp_path: Path) -> None:
    problem = _cannot_run()
    if problem:
        pytest.skip(problem)
    spark = e2e_spark.versions()[0]
    lines: list[str] = []
    with OneBox(Settings(nodes=3, spark_versions=(spark,), work=tmp_path)) as box:
        results = compare(box, Plan([(SHAPE, RATE, [spark])]), log=lines.append)
    by_row: dict[str, Round] = {r.row: r for r in results}
    default, ours = by_row[DEFAULT.name], by_row[OURS.name]
    for result in (default, ours):
        report("one-box cluster", f"{SHAPE.name} at {RATE}, Spark {spark}, {result.row}: "
               f"{result.local_fraction:.0%} read locally (model {result.predicted:.0%}) in {result.seconds:.1f}s, "
               f"executors on {[e.node for e in result.executors]}, task locality {result.locality}")
        assert len(result.executors) == SHAPE.executors, result
        assert result.failed_tasks == 0, result
        total = SHAPE.files * SHAPE.file_bytes
        assert sum(e.input_bytes for e in result.executors) == total, result
        # every byte came from a worker's cache (none from the UFS); the domain and remote counters count a few
        # percent short of it (README.md), never more
        assert sum(c.get("Worker.BytesReadCache", 0) for c in result.counters.values()) == total, result
        counted = result.local_bytes + result.remote_bytes
        assert 0.85 * total <= counted <= total, (counted, result, lines)
    assert ours.local_fraction > default.local_fraction, (ours, default, lines)
