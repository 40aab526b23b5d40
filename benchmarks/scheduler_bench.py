"""Section `scheduler`: executor pods per second through a real kube-scheduler at 1,000 and at 5,000 nodes, with
the extender, without it, and with the Go floor (benchmarks/floor) as its extender: the same calls answered
from scores computed beforehand (ours, asked once per app), so the scheduler's pods/s with it is the ceiling of
the extender protocol, and ours is reported against it, with each extender's CPU per scheduled pod. The
control plane is the newest version of kubernetes-versions.txt.

The control plane, the manifests' RBAC and the extender's ServiceAccount are the e2e suite's (tests/e2e). The
cluster: N Ready nodes (2 CPU, 8 GiB), an Alluxio worker pod on each in the Helm chart's mode (host = node IP,
containerHost = pod IP, so names resolve through the extender's watch), and a fake Alluxio holding 10 apps'
inputs spread unevenly over the workers. Each round creates the executor pods first (10 apps, `spark-role:
executor`, 500m CPU each, the paths annotation), then starts a kube-scheduler for them and records when each
pod is bound through a watch. Throughput = pods bound / (last bind - first bind): the scheduler's pace once it
runs, without its start-up. The schedulers use the configuration shipped in manifests/, with leader election
off, as it is, without its `extenders` list, pointed at the floor, without the extender's `filterVerb`, and as
it is calling a second extender that scores each executor alone (--app-placement off, the scoring before
per-application placement; it runs beside the first through every round, each with its own watches) (CONFIGS);
rounds alternate so drift hits each. Each round also records the CPU every process spent per bound
pod. The cluster grows from the first size to the second between them; the data stays on the first's nodes.
"""
from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import urllib3

from tests.support.control_plane import (
    ControlPlane,
    Process,
    Rest,
    control_plane_binaries,
    create_node,
    create_worker_pod,
)
from tests.support.deployment import apply_access, extender_kubeconfig, scheduler_config
from tests.support.fake_alluxio import Block, FakeAlluxio, Loc
from tests.support.kube_versions import newest
from tests.support.objects import make_executor
from tests.support.served import Served
from tests.support.waiting import eventually

from . import env, floor, machine
from .common import Context
from .servers import scrape
from .stats import summary

APPS = 10
FILES_PER_APP = 40
BLOCKS_PER_FILE = 4
BLOCK = 64 << 20
PODS_NS = "spark"


def _ip(prefix: str, i: int) -> str:
    return f"{prefix}.{i // 250}.{i % 250 + 1}"


def _parallel(fn: Any, items: Iterable[Any], threads: int = 4) -> None:
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(fn, items):
            pass


def create_namespaces(rest: Rest) -> None:
    for name in ("alluxio", PODS_NS):
        rest.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def create_nodes(rest: Rest, start: int, end: int) -> list[str]:
    """Nodes `start`..`end` - 1 and one Ready Alluxio worker pod on each (Helm chart mode); their names."""
    names = [f"b{i:04d}" for i in range(start, end)]

    def one(i: int) -> None:
        name = f"b{i:04d}"
        create_node(rest, name, _ip("10.2", i), "bench", "2", "8Gi")
        create_worker_pod(rest, f"alluxio-worker-{name}", "alluxio", name, host_ip=_ip("10.2", i),
                          pod_ip=_ip("10.246", i), host_network=False, image="alluxio/alluxio:2.9.6")

    _parallel(one, range(start, end))
    return names


def load_alluxio(fake: FakeAlluxio, nodes: int, seed: int = 1000) -> dict[str, dict[int, int]]:
    """Each app's input: files of 64 MiB blocks, each block on one or two workers picked with a skew (a few
    nodes hold much of an app's data). Returns path -> node index -> cached bytes."""
    rng = random.Random(seed)
    held: dict[str, dict[int, int]] = {}
    for app in range(APPS):
        favourites = rng.sample(range(nodes), min(60, nodes))
        weights = [1 / (rank + 1) for rank in range(len(favourites))]
        per_node = held.setdefault(f"/bench/app-{app}", {})
        for f in range(FILES_PER_APP):
            blocks = []
            for _ in range(BLOCKS_PER_FILE):
                holders = set(rng.choices(favourites, weights, k=rng.choice((1, 1, 2))))
                blocks.append(Block(BLOCK, *[Loc(_ip("10.2", w), _ip("10.246", w)) for w in sorted(holders)]))
                for w in holders:
                    per_node[w] = per_node.get(w, 0) + BLOCK
            fake.add_file(f"/bench/app-{app}/part-{f:03d}.parquet", *blocks)
    return held


def executor_pod(name: str, app: int, scheduler: str, run: str) -> dict[str, Any]:
    """An executor pod as Spark creates it (its labels), with the paths annotation and a scheduler name."""
    return make_executor(name, app=f"spark-app-{app}", exec_id=name.rsplit("-", 1)[1], paths=f"/bench/app-{app}",
                         namespace=PODS_NS, labels={"bench-run": run}, scheduler=scheduler, cpu="500m", memory="1Gi",
                         image="apache/spark:3.5.0")


class BindWatch:
    """Streams the watch of one run's pods and notes when each is first seen bound (spec.nodeName set). The
    reader ends by itself once `expected` pods are bound, or when the apiserver ends the watch at `timeout`
    (closing the stream from another thread would block on the TLS socket the reader holds)."""

    def __init__(self, plane: ControlPlane, run: str, expected: int, timeout: float) -> None:
        http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(plane.dir / "ca.crt"))
        url = (f"{plane.url}/api/v1/namespaces/{PODS_NS}/pods?watch=1&labelSelector=bench-run%3D{run}"
               f"&timeoutSeconds={int(timeout)}")
        self.expected = expected
        self.bound: dict[str, tuple[float, str]] = {}
        self._answer = http.request("GET", url, headers={"Authorization": f"Bearer {plane.admin_token}"},
                                    preload_content=False, timeout=urllib3.Timeout(connect=10, read=timeout + 10))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = b""
        try:
            for chunk in self._answer.stream(65536, decode_content=False):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        self._event(json.loads(line))
                if len(self.bound) >= self.expected:
                    break
        except (urllib3.exceptions.HTTPError, OSError):
            pass
        finally:
            self._answer.close()

    def _event(self, event: dict[str, Any]) -> None:
        obj = event.get("object", {})
        name, node = obj.get("metadata", {}).get("name"), obj.get("spec", {}).get("nodeName")
        if node and name not in self.bound:
            self.bound[name] = (time.perf_counter(), node)

    def wait(self) -> bool:
        """Until every expected pod is bound or the watch ends; whether all were bound."""
        self._thread.join()
        return len(self.bound) >= self.expected


CONFIGS = ("without", "with", "floor", "prioritize-only", "per-pod")
"""Rounds of each: the shipped configuration minus `extenders`, as shipped, as shipped but calling the Go floor,
as shipped minus `filterVerb` (for clusters where no pod asks for a local worker, so a filter call per pod
buys nothing), and as shipped calling an extender that scores each executor alone (--app-placement off)."""
PER_POD = ("--app-placement", "off")


def _scheduler_configs(extender_url: str, floor_url: str, per_pod_url: str, name: str) -> dict[str, dict[str, Any]]:
    """The manifests' configuration for one round of each of CONFIGS."""
    configs = {}
    for label in CONFIGS:
        config = scheduler_config({"floor": floor_url, "per-pod": per_pod_url}.get(label, extender_url))
        config["leaderElection"] = {"leaderElect": False}
        config["profiles"][0]["schedulerName"] = f"{name}-{label}"
        if label == "without":
            del config["extenders"]
        elif label == "prioritize-only":
            del config["extenders"][0]["filterVerb"]
        configs[label] = config
    return configs


def _round(plane: ControlPlane, rest: Rest, run: str, config: dict[str, Any], pods: int,
           held: dict[str, dict[int, int]], names: list[str], extender: Served | None,
           called: Served | None) -> dict[str, Any]:
    """`extender`: ours, when it is the one called (its metrics count the calls); `called`: the extender called
    (ours or the floor), whose CPU is counted."""
    scheduler = config["profiles"][0]["schedulerName"]
    return timed_round(plane, rest, run, scheduler, lambda: plane.start_scheduler(scheduler, config,
                                                                               plane.scheduler_token),
                       pods, held, names, extender, ("filter", "prioritize"), called=called)


def timed_round(plane: ControlPlane, rest: Rest, run: str, scheduler: str, start: Callable[[], Process], pods: int,
                held: dict[str, dict[int, int]], names: list[str], extender: Served | None,
                verbs: tuple[str, ...], pod: Callable[..., dict[str, Any]] = executor_pod,
                called: Served | None = None) -> dict[str, Any]:
    """One round: `pods` executor pods for `scheduler` created (`pod`, executor_pod's arguments in), then the
    scheduler started (`start`), and each bind timed through a watch; `verbs` are the extender's, whose calls and
    server time are counted; `called` the extender whose processes' CPU is counted."""
    watch = BindWatch(plane, run, pods, timeout=max(120.0, pods * 0.5))
    created0 = time.perf_counter()
    _parallel(lambda k: rest.create(pod(f"{run}-exec-{k}", k % APPS, scheduler, run)), range(pods))
    created = time.perf_counter() - created0
    calls0 = _extender_calls(extender, verbs)
    extender_cpu0 = _tree_cpu(called)
    window = machine.CpuWindow()
    started = time.perf_counter()
    process = start()
    try:
        complete = watch.wait()
        if not process.alive():
            raise RuntimeError(f"{scheduler} exited:\n{process.tail()}")
        cpu = window.close()  # while the scheduler still runs, so its own CPU is counted by name
        extender_cpu = _tree_cpu(called) - extender_cpu0
    finally:
        process.stop()
    times = sorted(t for t, _ in watch.bound.values())
    span = times[-1] - times[0] if len(times) > 1 else None
    gaps = [b - a for a, b in itertools.pairwise(times)]
    node_index = {name: i for i, name in enumerate(names)}
    local = sum(1 for pod, (_, node) in watch.bound.items()
                if held[f"/bench/app-{int(pod.rsplit('-', 1)[1]) % APPS}"].get(node_index[node], 0) > 0)
    rest.request("DELETE", f"/api/v1/namespaces/{PODS_NS}/pods?labelSelector=bench-run%3D{run}",
                 {"gracePeriodSeconds": 0})
    calls = {k: v - calls0.get(k, 0) for k, v in _extender_calls(extender, verbs).items()}
    server_ms = {verb: calls[f"{verb}_sum"] * 1000 / calls[f"{verb}_count"]
                 for verb in verbs if calls.get(f"{verb}_count")}
    return {"run": run, "scheduler": scheduler, "pods": pods, "bound": len(watch.bound), "complete": complete,
            "create_s": created, "first_bind_after_start_s": times[0] - started if times else None,
            "bind_span_s": span, "pods_per_s": (len(times) - 1) / span if span else None,
            "bind_gap_ms": summary([g * 1000 for g in gaps]),
            "pods_on_node_caching_input": local, "extender_calls": calls, "extender_server_ms_per_call": server_ms,
            "extender_cpu_ms_per_pod": extender_cpu * 1000 / len(times) if called and times else None, "cpu": cpu}


def _tree_cpu(server: Served | None) -> float:
    """CPU seconds of a served extender's processes (gunicorn's arbiter, its worker, the sync process), so far."""
    if server is None:
        return 0.0
    pid = server.process.pid
    return sum(machine.cpu_seconds(p) for p in (pid, *machine.descendants(pid)))


def _floor_scores(extender: Served, names: list[str]) -> dict[str, dict[str, int]]:
    """What the floor answers: each app's scores as ours gives them for every node (once its index holds them)."""
    table = {}
    for app in range(APPS):
        body = {"Pod": executor_pod(f"probe-{app}-0", app, "none", "probe"), "NodeNames": names}

        def ranked(body: dict[str, Any] = body) -> dict[str, int] | None:
            status, ranking = extender.post("/prioritize", body)
            return {row["Host"]: row["Score"] for row in ranking} if status == 200 and ranking else None

        table[f"/bench/app-{app}"] = eventually(ranked, 60, what=f"app {app}'s scores")
    return table


def rounds_of(ctx: Context, rounds: int, labels: tuple[str, ...],
              run: Callable[[int, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """`rounds` rounds of each configuration in `labels`, alternating so that drift hits each alike."""
    rows = []
    for r in range(rounds):
        for label in labels:
            row = run(r, label)
            row["config"] = label
            rows.append(row)
            ctx.log(f"  round {r} {label}: {row['bound']}/{row['pods']} bound, {row['pods_per_s'] or 0:.0f} pods/s, "
                    f"{row['pods_on_node_caching_input']} on a node caching their input, other CPU "
                    f"{row['cpu']['other_cores']}")
    return rows


def mean_rates(rows: list[dict[str, Any]], labels: tuple[str, ...]) -> dict[str, float | None]:
    """Mean pods/s of each configuration's rounds."""
    rate = {label: [r["pods_per_s"] for r in rows if r["config"] == label and r["pods_per_s"]] for label in labels}
    return {label: sum(v) / len(v) if v else None for label, v in rate.items()}


def _extender_calls(extender: Served | None, verbs: tuple[str, ...]) -> dict[str, float]:
    """Calls and seconds spent answering them, per verb, from the extender's own metrics."""
    if extender is None:
        return {}
    samples = scrape(extender)
    return {f"{verb}_{what}": samples.sum(f"scheduler_extender_request_duration_seconds_{what}", verb=verb)
            for verb in verbs for what in ("count", "sum")}


@dataclass
class Bench:
    """What a round runs against: the control plane, the nodes, each app's bytes per node, the extender."""

    plane: ControlPlane
    rest: Rest
    names: list[str]
    held: dict[str, dict[int, int]]
    extender: Served
    per_pod: Served | None
    """The extender scoring each executor alone (PER_POD), if asked for."""


@contextmanager
def bench_cluster(ctx: Context, nodes: int, prepare: Callable[[ControlPlane], Any] = lambda plane: None, *,
                  per_pod: bool = False) -> Iterator[Bench]:
    """The newest tested control plane with the manifests' RBAC (and what `prepare` adds), `nodes` nodes with a
    worker each, a fake Alluxio holding the apps' inputs, and the extender serving from it under its ServiceAccount
    (with `per_pod`, a second one beside it scoring each executor alone)."""
    env.use_child_env()
    (ctx.tmp / "control-plane").mkdir()
    plane = ControlPlane(control_plane_binaries(newest()), ctx.tmp / "control-plane")
    plane.start()
    fake = FakeAlluxio()
    served: list[Served] = []
    try:
        apply_access(plane)
        prepare(plane)
        rest = plane.rest()
        create_namespaces(rest)
        t0 = time.perf_counter()
        names = create_nodes(rest, 0, nodes)
        ctx.log(f"  cluster: {nodes} nodes and worker pods in {time.perf_counter() - t0:.1f}s")
        held = load_alluxio(fake, nodes)
        fake.start()
        kubeconfig = extender_kubeconfig(plane, "alluxio-locality-extender")
        flags = ("--alluxio-proxy", fake.url, "--kubernetes", "kubeconfig", "--kubeconfig", str(kubeconfig))
        for more in ((), *((PER_POD,) if per_pod else ())):
            served.append(Served(*flags, *more, ready=False))
            served[-1].wait_ready(180)  # its first list of 1,000 nodes and pods, on a loaded machine
        yield Bench(plane, rest, names, held, served[0], served[1] if per_pod else None)
    finally:
        for extender in served:
            extender.stop()
        fake.stop()
        plane.stop()


def scheduler(ctx: Context) -> dict[str, Any]:
    sizes = (100,) if ctx.quick else (1000, 5000)
    pods = 100 if ctx.quick else 1000
    rounds = 1 if ctx.quick else 4
    version = newest()
    rows: list[dict[str, Any]] = []
    with bench_cluster(ctx, sizes[0], per_pod=True) as bench:
        names, per_pod = list(bench.names), bench.per_pod
        assert per_pod is not None
        for nodes in sizes:
            if len(names) < nodes:
                t0 = time.perf_counter()
                names += create_nodes(bench.rest, len(names), nodes)
                ctx.log(f"  cluster: {nodes} nodes and worker pods ({time.perf_counter() - t0:.1f}s to add)")
            with floor.serve(_floor_scores(bench.extender, names), ctx.tmp) as go:
                configs = _scheduler_configs(bench.extender.url, go.url, per_pod.url, f"bench{nodes}")

                def run(r: int, label: str, nodes: int = nodes, go: Served = go, names: list[str] = names,
                        configs: dict[str, dict[str, Any]] = configs) -> dict[str, Any]:
                    called = {"with": bench.extender, "prioritize-only": bench.extender, "floor": go,
                              "per-pod": per_pod}.get(label)
                    row = _round(bench.plane, bench.rest, f"n{nodes}-r{r}-{label}", configs[label], pods, bench.held,
                                 names, called if called is not go else None, called)
                    row["nodes"] = nodes
                    return row

                rows += rounds_of(ctx, rounds, CONFIGS, run)
    summaries = [_summary(nodes, [r for r in rows if r["nodes"] == nodes]) for nodes in sizes]
    first = summaries[0]
    return {"nodes": sizes[0], "sizes": summaries, "pods": pods, "rounds": rows,
            "kube_scheduler": f"{version.kubernetes} (tests/e2e/build-control-plane.sh {version.minor})",
            "config": "manifests/scheduler-config.yaml, leader election off; 'with' = as shipped; "
                      "'without' = minus extenders; 'floor' = as shipped, calling the Go floor; "
                      "'prioritize-only' = minus filterVerb; 'per-pod' = as shipped, calling an extender scoring "
                      "each executor alone (--app-placement off)",
            "pods_per_s_with": first["pods_per_s"]["with"], "pods_per_s_without": first["pods_per_s"]["without"],
            "ratio": first["ratio"], "pods_per_s_prioritize_only": first["pods_per_s"]["prioritize-only"],
            "ratio_prioritize_only": first["ratio_prioritize_only"]}


def _summary(nodes: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the rounds of one size, and their ratios."""
    def mean(label: str, key: str) -> float | None:
        values = [r[key] for r in rows if r["config"] == label and r[key]]
        return sum(values) / len(values) if values else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    rate = {label: mean(label, "pods_per_s") for label in CONFIGS}
    cpu = {label: mean(label, "extender_cpu_ms_per_pod") for label in CONFIGS if label != "without"}
    return {"nodes": nodes, "rounds": sum(1 for r in rows if r["config"] == "with"), "pods_per_s": rate,
            "extender_cpu_ms_per_pod": cpu, "ratio": ratio(rate["with"], rate["without"]),
            "ratio_prioritize_only": ratio(rate["prioritize-only"], rate["without"]),
            "floor_over_without": ratio(rate["floor"], rate["without"]),
            "ours_over_floor": ratio(rate["with"], rate["floor"]),
            "cpu_ours_over_floor": ratio(cpu["with"], cpu["floor"]),
            "cpu_per_app_over_per_pod": ratio(cpu["with"], cpu["per-pod"])}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
