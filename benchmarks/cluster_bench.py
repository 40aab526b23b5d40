"""The `cluster` section: the one-box cluster (tests/cluster/) comparing where the schedulers put real Spark
executors and what that placement buys, measured: the share of the input each job read through its executors'
own nodes' Alluxio workers, and its seconds, for every row of tests/cluster/comparison.py's ROWS (default
kube-scheduler, ours per pod, ours as shipped placing the application, ours + the spark-locality component, ours +
hostNetwork executors), beside the placement model's prediction for the same placement.
Needs root (network namespaces). Full size: 1.5 GiB inputs, links at 200 and 50 Mbit/s, two rounds of every row (in
alternating order); quick: 192 MiB, 200 Mbit/s, one round.
"""
from __future__ import annotations

from typing import Any

from tests.cluster.cluster import OneBox, Settings
from tests.cluster.comparison import compare, table
from tests.cluster.shapes import RATES, default_plan

from . import env
from .common import Context

FULL_SIZE, QUICK_SIZE = 1536 << 20, 192 << 20


def cluster(ctx: Context) -> dict[str, Any]:
    env.use_child_env()
    settings = Settings()
    rates = list(RATES[:1] if ctx.quick else RATES)
    sparks = list(settings.spark_versions[:1] if ctx.quick else settings.spark_versions)
    plan = default_plan(QUICK_SIZE if ctx.quick else FULL_SIZE, rates, sparks, rounds=1 if ctx.quick else 2)
    with OneBox(settings) as box:
        results = compare(box, plan, log=ctx.log)
    lines = table(results)
    for line in lines:
        ctx.log(line)
    return {"nodes": settings.nodes, "node_cpu": settings.node_cpu, "node_memory": settings.node_memory,
            "rates": rates, "rounds": [r.as_dict() for r in results], "table": lines}
