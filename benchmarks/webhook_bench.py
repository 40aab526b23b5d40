"""Section `webhook`: POST /mutate, the admission webhook, as the API server calls it for each Spark pod
created. The candidates are every node the extender's Kubernetes watch knows: a fake kube-apiserver (a real
HTTP server, tests/support/fake_kube.py) serves N Node objects named as the dataset's workers' hosts. Latency
over one keep-alive loopback connection (the API server calls it once per pod created), for the same `dir` and
`paths20` executors as the `http` section, after each pod once: the executors of one app each, so each is
steered by its app's deficits as shipped; a patch is checked against the dataset (`_check`)."""
from __future__ import annotations

import base64
import json
from typing import Any

from scheduler_extender import affinity
from scheduler_extender.workload import SPARK_APP_LABEL
from tests.support.bodies import admission_review
from tests.support.fake_kube import FakeKube, kubeconfig_file
from tests.support.objects import make_node

from . import machine, servers
from .bodies import pod
from .common import Cell, Context, loadgen, post
from .dataset import WORKLOADS, candidates, hot_paths, workload_paths
from .served_bench import SERVER_FLAGS
from .stats import summary

TARGET_P99_MS = 10.0
"""The issue's target for admission p99 at 1,000 nodes."""


def webhook(ctx: Context) -> dict[str, Any]:
    rows = []
    for n in ctx.nodes:
        names = candidates(ctx.spec, n)
        directory = ctx.tmp / f"webhook-{n}"
        directory.mkdir()
        with FakeKube() as kube:
            for name in names:
                kube.add("node", make_node(name, hostname=name))
            flags = ("--kubernetes", "kubeconfig", "--kubeconfig", kubeconfig_file(kube, directory))
            with servers.extender(ctx.fake.url, *SERVER_FLAGS, *flags) as server:
                warm = servers.warm(server, hot_paths(ctx.spec), timeout=600)
                for workload in WORKLOADS:
                    files = []
                    for k, paths in enumerate(workload_paths(ctx.spec, workload)):
                        executor = pod(f"{workload}-exec-{k}", paths)
                        executor["spec"]["schedulerName"] = "default-scheduler"
                        files.append(directory / f"{workload}-{k}.json")
                        files[-1].write_bytes(json.dumps(admission_review(executor, uid=f"uid-{k}")).encode())
                    window = machine.CpuWindow()
                    lat = loadgen(ctx, server.port, Cell("mutate", "review", n, workload), kind="latency",
                                  duration=ctx.duration, max_count=ctx.max_count, warmup=len(files), body_files=files)
                    row = {"n": n, "workload": workload, "latency": summary(lat.pop("latencies_ms")),
                           "errors": lat["errors"], "warm_s": warm["seconds"],
                           "answer": _check(ctx, server.url, files[0], names, workload_paths(ctx.spec, workload)[0]),
                           "cpu": window.close()}
                    rows.append(row)
                    ctx.log(f"  mutate/{n}/{workload}: p50 {row['latency']['p50']:.2f} p99 "
                            f"{row['latency']['p99']:.2f} ms (n={row['latency']['n']}), answer {row['answer']}")
    return {"server": "python -m scheduler_extender serve --kubernetes kubeconfig " + " ".join(SERVER_FLAGS),
            "note": "a fake kube-apiserver serving N Nodes; index warmed; one keep-alive connection",
            "target_p99_ms": TARGET_P99_MS, "cells": rows}


def _check(ctx: Context, url: str, body_file: Any, names: list[str], paths: list[str]) -> str:
    """'ok' when the patch's terms are the dataset's nodes holding the most of the pod's input, weighted. The pod is
    made the first executor of an application of its own: the timed ones, all of one app, are steered by its
    deficits (docs/placement.md), the first by bytes alone."""
    review = json.loads(body_file.read_bytes())
    review["request"]["object"]["metadata"]["labels"][SPARK_APP_LABEL] = f"check-{body_file.stem}"
    status, answer = post(url + "/mutate", json.dumps(review).encode())
    if status != 200 or "patch" not in answer.get("response", {}):
        return f"HTTP {status}, no patch"
    ops = json.loads(base64.b64decode(answer["response"]["patch"]))
    known = set(names)
    held = {node: size for node, size in ctx.truth.of(paths).items() if node in known}
    want = affinity.preferred_terms(affinity.weights(held))
    got = ops[0]["value"]["nodeAffinity"][affinity.PREFERRED] if len(ops) == 1 else None
    return "ok" if got == want else f"terms differ: {json.dumps(got)[:200]}"
