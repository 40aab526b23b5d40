"""Section `volcano`: executor pods per second through a real vc-scheduler (tests/volcano/build-volcano.sh) at 1,000
nodes, with the extender plugin calling our /volcano verbs and without it, in one run.

The cluster, the fake Alluxio, the pods and the timing are the `scheduler` section's (scheduler_bench.py): pods
created first, then vc-scheduler started, throughput = pods bound / (last bind - first bind). vc-scheduler runs
Volcano's default volcano-scheduler.conf, with the extender plugin as the chart renders it by default (prioritize
only, 1s timeout, ignorable) or without it. The pods carry no PodGroup: vc-scheduler makes each its own job.
"""
from __future__ import annotations

import time
from functools import partial
from typing import Any

from tests.support.control_plane import ControlPlane, control_plane_binaries
from tests.support.deployment import apply_access, extender_kubeconfig
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.kube_versions import newest
from tests.support.served import Served
from tests.support.volcano import extender_arguments, install_crds, scheduler_conf, start_vc_scheduler, volcano_dir

from . import env
from .common import Context
from .scheduler_bench import create_cluster, load_alluxio, mean_rates, rounds_of, timed_round

CONFIGS = ("without", "with")
VERBS = ("volcano/prioritize",)


def volcano(ctx: Context) -> dict[str, Any]:
    nodes = 100 if ctx.quick else 1000
    pods = 100 if ctx.quick else 1000
    rounds = 1 if ctx.quick else 2
    env.use_child_env()
    version = newest()
    volcano = volcano_dir()
    (ctx.tmp / "control-plane").mkdir()
    plane = ControlPlane(control_plane_binaries(version), ctx.tmp / "control-plane")
    plane.start()
    fake = FakeAlluxio()
    extender = None
    try:
        apply_access(plane)
        install_crds(plane, volcano)
        rest = plane.rest()
        t0 = time.perf_counter()
        names = create_cluster(rest, nodes)
        ctx.log(f"  cluster: {nodes} nodes and worker pods in {time.perf_counter() - t0:.1f}s")
        held = load_alluxio(fake, nodes)
        fake.start()
        extender = Served("--alluxio-proxy", fake.url, "--alluxio-master", fake.url, "--kubernetes", "kubeconfig",
                          "--kubeconfig", str(extender_kubeconfig(plane, "alluxio-locality-extender")))
        confs = {"without": scheduler_conf(None), "with": scheduler_conf(extender_arguments(extender.url,
                                                                                            predicate=False))}

        def one(r: int, label: str) -> dict[str, Any]:
            name = f"volcano-{label}"
            start = partial(start_vc_scheduler, plane, volcano, name, confs[label], period="1s")
            return timed_round(plane, rest, f"v{r}-{label}", name, start, pods, held, names,
                               extender if label == "with" else None, VERBS)

        rows = rounds_of(ctx, rounds, CONFIGS, one)
    finally:
        if extender is not None:
            extender.stop()
        fake.stop()
        plane.stop()
    mean = mean_rates(rows, CONFIGS)
    return {"nodes": nodes, "pods": pods, "rounds": rows,
            "vc_scheduler": f"{volcano.name} (tests/volcano/build-volcano.sh), Kubernetes {version.kubernetes}",
            "config": "Volcano's default volcano-scheduler.conf, schedule period 1s; 'with' = plus the extender "
                      "plugin as the chart renders it (prioritize only)",
            "pods_per_s_with": mean["with"], "pods_per_s_without": mean["without"],
            "ratio": mean["with"] / mean["without"] if mean["with"] and mean["without"] else None}
