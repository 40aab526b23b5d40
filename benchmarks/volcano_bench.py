"""Section `volcano`: executor pods per second through a real vc-scheduler (tests/volcano/build-volcano.sh) at 1,000
nodes, with the extender plugin calling our /volcano verbs and without it, in one run.

The cluster, the fake Alluxio, the pods and the timing are the `scheduler` section's (scheduler_bench.py): pods
created first, then vc-scheduler started, throughput = pods bound / (last bind - first bind). vc-scheduler runs
Volcano's default volcano-scheduler.conf, with the extender plugin as the chart renders it by default (prioritize
only, 1s timeout, ignorable) or without it. Each app's pods are in a PodGroup of their own (minMember 1), as Spark's
VolcanoFeatureStep makes them.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from tests.support.kube_versions import newest
from tests.support.volcano import (
    GROUP_ANNOTATION,
    create_pod_group,
    extender_arguments,
    install_crds,
    pod_group,
    scheduler_conf,
    start_vc_scheduler,
    volcano_dir,
)

from .common import Context
from .scheduler_bench import APPS, PODS_NS, bench_cluster, executor_pod, mean_rates, rounds_of, timed_round

CONFIGS = ("without", "with")
VERBS = ("volcano/prioritize",)


def grouped_pod(name: str, app: int, scheduler: str, run: str) -> dict[str, Any]:
    """The `scheduler` section's executor pod in its app's PodGroup, as Spark's VolcanoFeatureStep puts it: without
    vc-controller-manager, which would make a PodGroup for a pod lacking one, vc-scheduler places no pod outside one."""
    pod = executor_pod(name, app, scheduler, run)
    pod["metadata"].setdefault("annotations", {})[GROUP_ANNOTATION] = f"{run}-app-{app}"
    return pod


def volcano(ctx: Context) -> dict[str, Any]:
    nodes = 100 if ctx.quick else 1000
    pods = ctx.volcano_pods or nodes
    rounds = 1 if ctx.quick else 2
    found = volcano_dir()
    with bench_cluster(ctx, nodes, partial(install_crds, volcano=found)) as bench:
        confs = {"without": scheduler_conf(None),
                 "with": scheduler_conf(extender_arguments(bench.extender.url, predicate=False))}

        def one(r: int, label: str) -> dict[str, Any]:
            name, run = f"volcano-{label}", f"v{r}-{label}"
            for app in range(APPS):
                create_pod_group(bench.rest, pod_group(f"{run}-app-{app}", PODS_NS))
            start = partial(start_vc_scheduler, bench.plane, found, name, confs[label], period="1s")
            return timed_round(bench.plane, bench.rest, run, name, start, pods, bench.held, bench.names,
                               bench.extender if label == "with" else None, VERBS, grouped_pod)

        rows = rounds_of(ctx, rounds, CONFIGS, one)
    mean = mean_rates(rows, CONFIGS)
    return {"nodes": nodes, "pods": pods, "rounds": rows,
            "vc_scheduler": f"{found.name} (tests/volcano/build-volcano.sh), Kubernetes {newest().kubernetes}",
            "config": "Volcano's default volcano-scheduler.conf, schedule period 1s; 'with' = plus the extender "
                      "plugin as the chart renders it (prioritize only)",
            "pods_per_s_with": mean["with"], "pods_per_s_without": mean["without"],
            "ratio": mean["with"] / mean["without"] if mean["with"] and mean["without"] else None}
