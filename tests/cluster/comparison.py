"""What the one-box cluster measures: a dataset cached unevenly over the nodes (a Shape), Spark jobs reading it whose
executors a Row's scheduler places, and per round what Alluxio and Spark say happened.

A Row is a configuration, not code: the scheduler the executors go to, spark-submit.sh's TASK_LOCALITY (Spark's
own task assignment, the spark-locality component, or hostNetwork executors), extra spark-submit confs. Adding a
row adds one Row to the list the comparison is given; nothing else changes.

Measured per round, each a fresh Spark application (examples/spark/spark-submit.sh, client mode, its confs as
they are) on the same cache state (passive caching is off, alluxio_nodes.py, and each round checks the workers
still hold what they held):
- local and remote bytes, from each worker's own counters: `Worker.BytesReadDomain` counts what the worker served
  through its domain socket, which only a client on its own node can reach, so it is the bytes read locally;
  `Worker.BytesReadRemote` counts what it served over the network, to clients on other nodes. Both count a few
  percent short of `Worker.BytesReadCache` (every byte the worker read from its storage for a client), in
  proportion as far as measured, so their ratio is the local fraction. Alluxio 2.9.6's
  `Cluster.BytesReadLocal` would be the client's own count, but a client reports metrics only when
  alluxio.user.metrics.collection.enabled is set, which the example does not set, so it stays 0;
- each executor's node (its pod's, from the pod runner) and the input bytes its tasks read (Spark's task metrics);
  an executor's local bytes are its node's domain-socket bytes, shared by its node's executors in proportion
  to their input bytes when several share a node;
- the job's seconds (the event log's job start to job end: executors are all registered before it starts), and
  Spark's task locality levels, failed tasks and fetch failures (the event log);
- the time spent waiting for locality: executor cores idle while tasks of their stage were still waiting to
  launch (core-seconds, from each stage's submission to its last task's launch). Spark's delay scheduling holds a
  task back from a free core that is not on its node for up to spark.locality.wait (3 s); with every task at ANY
  only the launches' own latency is left.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.alluxio.executor_client import worker_metrics
from tests.cluster.alluxio_nodes import DOMAIN_HOST_PATH, DOMAIN_MOUNT
from tests.cluster.cluster import DEFAULT_SCHEDULER, PER_POD, OneBox, classpath, image
from tests.cluster.network import HOST_IP, Node
from tests.e2e import e2e_spark
from tests.e2e.e2e_pods import NS
from tests.support.deployment import SCHEDULER
from tests.support.waiting import eventually

JOB = Path(__file__).resolve().parent / "job.py"
LOCAL, REMOTE = "Worker.BytesReadDomain", "Worker.BytesReadRemote"
MIB = 1 << 20


@dataclass(frozen=True)
class Row:
    """One way of running the same job: which scheduler places the executors, and how they are configured."""
    name: str
    scheduler: str
    task_locality: str = "spark"
    """examples/spark/spark-submit.sh's TASK_LOCALITY, which adds its own confs: spark (Spark's task assignment,
    every task at ANY), component (spark-locality.jar's file system and listener) or hostNetwork (the
    executors in their node's network, with spark.blockManager.port=0 and spark.shuffle.readHostLocalDisk=false)."""
    confs: Mapping[str, str] = field(default_factory=dict)
    """More spark-submit confs, after the example's (so they may override one)."""


DEFAULT = Row("default", DEFAULT_SCHEDULER)
PER_POD_ROW = Row("ours per pod", PER_POD)
OURS = Row("ours", SCHEDULER)
COMPONENT = Row("ours + component", SCHEDULER, task_locality="component")
HOST_NETWORK = Row("ours + hostNetwork", SCHEDULER, task_locality="hostNetwork")
ROWS = (DEFAULT, PER_POD_ROW, OURS, COMPONENT, HOST_NETWORK)


@dataclass(frozen=True)
class Shape:
    """A dataset and a job: `shares[i]` of the input cached on node i+1's worker (the rest of the nodes cache
    none), read by `executors` executors of `cores_request` CPUs each (a larger request leaves fewer per node)."""
    name: str
    shares: tuple[float, ...]
    executors: int
    total_bytes: int
    files: int = 24
    cores_request: str = "1"
    data: str = ""
    """The dataset's name, when shapes share one (default: the shape's own)."""

    @property
    def file_bytes(self) -> int:
        return self.total_bytes // self.files

    @property
    def path(self) -> str:
        return "/data/" + re.sub(r"[^a-z0-9]+", "-", (self.data or self.name).lower()).strip("-")

    def counts(self) -> list[int]:
        """Files per node: the shares rounded, the last holder taking the rest."""
        counts = [round(share * self.files) for share in self.shares]
        holders = [i for i, c in enumerate(counts) if c]
        counts[holders[-1]] += self.files - sum(counts)
        return counts


def write_dataset(box: OneBox, shape: Shape) -> dict[str, int]:
    """The shape's files written through Alluxio from each holding node's worker (its blocks cached there and
    persisted), then checked in the workers' own inventories; bytes cached per node."""
    alluxio, runner = box.alluxio, box.runner
    assert alluxio is not None and runner is not None
    block = min(64 * MIB, shape.file_bytes)
    alluxio.fs("mkdir", shape.path)
    held: dict[str, int] = {}
    for node, count in zip(box.network.nodes, shape.counts(), strict=False):
        if not count:
            continue
        local = box.work / "dataset" / shape.path.strip("/") / node.name
        local.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            with (local / f"part-{i:05d}.txt").open("wb") as out:
                for _ in range(0, shape.file_bytes, 4 * MIB):
                    out.write(os.urandom(min(4 * MIB, shape.file_bytes)))
                out.truncate(shape.file_bytes)
        # written on the node, as an executor there would: through its worker's domain socket
        copy = alluxio.fs_argv("copyFromLocal", str(local), f"{shape.path}/{node.name}", properties={
            **client_on(node), "alluxio.user.file.copyfromlocal.block.location.policy.class":
                "alluxio.client.block.policy.LocalFirstPolicy",
            "alluxio.user.file.write.tier.default": "1", "alluxio.user.block.size.bytes.default": str(block)})
        run = runner.run_on(node, copy, {DOMAIN_HOST_PATH: DOMAIN_MOUNT})
        if run.returncode != 0:
            raise RuntimeError(f"writing {shape.path} on {node.name} exited {run.returncode}:\n{run.stderr[-3000:]}")
        shutil.rmtree(local)
        held[node.name] = count * shape.file_bytes
    return cached(box, shape, expect=held)


def client_on(node: Node) -> dict[str, str]:
    """An Alluxio client on `node` as examples/spark/ configures an executor's: its node's IP as its host, the
    worker whose socket it sees in its /opt/domain as local."""
    return {"alluxio.user.hostname": node.ip, "alluxio.worker.data.server.domain.socket.as.uuid": "true"}


def cached(box: OneBox, shape: Shape, expect: Mapping[str, int] | None = None) -> dict[str, int]:
    """Bytes of the shape's input each node's worker holds (waiting, with `expect`, until they hold that)."""
    alluxio = box.alluxio
    assert alluxio is not None
    by_host = {w.host: name for name, w in box.workers.items()}

    def tally(inventories: Mapping[str, Any]) -> dict[str, int]:
        return {by_host[host]: sum(length for path, blocks in files.items() if path.startswith(shape.path + "/")
                                   for length, _tier in blocks.values())
                for host, files in inventories.items()}

    inventories = alluxio.settle(lambda inv: expect is None or
                                 {n: b for n, b in tally(inv).items() if b} == dict(expect), timeout=120)
    return {n: b for n, b in tally(inventories).items() if b}


@dataclass
class Executor:
    id: str
    node: str
    input_bytes: int = 0
    local_bytes: float = 0.0
    tasks: int = 0


@dataclass
class Round:
    shape: str
    row: str
    spark: str
    rate: str
    seconds: float
    local_bytes: int
    remote_bytes: int
    executors: list[Executor]
    locality: dict[str, int]
    failed_tasks: int
    fetch_failures: int
    locality_wait: float
    """Core-seconds idle while tasks waited to launch (the module's docstring)."""
    predicted: float
    """The placement model's local fraction for this placement (e2e_spark.shared_local_fraction: executors on a
    node share what it caches; the per-executor mean, e2e_spark.local_fraction, would rate a spread placement
    below a stacked one)."""
    counters: dict[str, dict[str, float]]
    """Each node's worker's Worker.BytesRead* counters over the round."""

    @property
    def local_fraction(self) -> float:
        total = self.local_bytes + self.remote_bytes
        return self.local_bytes / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"shape": self.shape, "row": self.row, "spark": self.spark, "rate": self.rate,
                "seconds": round(self.seconds, 2), "local_bytes": self.local_bytes, "remote_bytes": self.remote_bytes,
                "local_fraction": round(self.local_fraction, 4), "predicted": round(self.predicted, 4),
                "locality": self.locality, "failed_tasks": self.failed_tasks, "fetch_failures": self.fetch_failures,
                "locality_wait_core_s": round(self.locality_wait, 2),
                "executors": [vars(e) for e in self.executors], "counters": self.counters}


def run_round(box: OneBox, shape: Shape, row: Row, held: Mapping[str, int], spark: str, *,
              timeout: float = 600) -> Round:
    """One Spark application (of Spark `spark`) of `row` over the shape's input; what it read where, and how long
    it took."""
    assert box.alluxio is not None and box.runner is not None
    before = {name: worker_metrics(w) for name, w in box.workers.items()}
    events = box.work / "events" / f"{time.monotonic_ns()}"
    events.mkdir(parents=True)
    confs = {
        "spark.kubernetes.scheduler.name": row.scheduler,
        "spark.kubernetes.container.image": image(spark),
        "spark.driver.extraClassPath": ":".join(map(str, classpath())),  # the executors' is in their image
        "spark.eventLog.enabled": "true", "spark.eventLog.dir": f"file://{events}",
        "spark.eventLog.rolling.enabled": "false", "spark.eventLog.compress": "false",  # one JSON file (Spark 4)
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",  # the job starts once every executor is there
        "spark.scheduler.maxRegisteredResourcesWaitingTime": "300s",
        # the driver's Kubernetes client waits longer than its 10 s: on 2 loaded cores a create answered late is
        # retried, and the first one's pod is an executor too many
        "spark.kubernetes.driver.requestTimeout": "60000", "spark.kubernetes.driver.connectionTimeout": "60000",
        "spark.kubernetes.executor.request.cores": shape.cores_request,
        "spark.sql.files.maxPartitionBytes": str(shape.file_bytes),
        "spark.sql.files.openCostInBytes": str(shape.file_bytes),
        **row.confs}
    extra = [arg for key, value in confs.items() for arg in ("--conf", f"{key}={value}")]
    env = {"DRIVER_HOST": HOST_IP, "SPARK_LOCAL_IP": HOST_IP, "APP": str(JOB), "TASK_LOCALITY": row.task_locality,
           "ALLUXIO_MASTERS": f"{HOST_IP}:{box.alluxio.master_rpc_port}"}
    with e2e_spark.Submission(box.spark[spark], deploy_mode="client", domain_socket="hostPath",
                              executors=shape.executors, input_path=shape.path, extra=extra, env=env) as submission:
        code = submission.wait(timeout)
        if code != 0:
            raise RuntimeError(f"the {row.name} job exited {code}:\n{submission.tail(60)}")
    after = {name: worker_metrics(w) for name, w in box.workers.items()}
    gone(box)
    delta = {name: {c: after[name].get(c, 0) - before[name].get(c, 0) for c in after[name]
                    if c.startswith("Worker.BytesRead") and "Throughput" not in c} for name in after}
    log = parse_event_log(events, box.runner.node_of_ip)
    for executor in log.executors.values():
        sharing = [e for e in log.executors.values() if e.node == executor.node]
        inputs = sum(e.input_bytes for e in sharing)
        executor.local_bytes = delta[executor.node].get(LOCAL, 0) * (executor.input_bytes / inputs if inputs else 0)
    still = cached(box, shape)
    if still != dict(held):
        raise RuntimeError(f"the cache changed during the round: held {dict(held)}, now {still}")
    return Round(shape.name, row.name, spark, box.network.rate or "unshaped", log.seconds,
                 int(sum(d.get(LOCAL, 0) for d in delta.values())), int(sum(d.get(REMOTE, 0) for d in delta.values())),
                 sorted(log.executors.values(), key=lambda e: int(e.id)), dict(log.locality), log.failed,
                 log.fetch_failures, log.locality_wait,
                 e2e_spark.shared_local_fraction(held, [e.node for e in log.executors.values()]), delta)


def gone(box: OneBox, timeout: float = 120) -> None:
    """Waits until the application's executor pods are deleted (Spark deletes them; the runner confirms)."""
    def none_left() -> bool:
        return not box.core.list_namespaced_pod(NS, label_selector="spark-role=executor").items

    eventually(none_left, timeout, what="the executor pods deleted", interval=0.5, failure=RuntimeError)


@dataclass
class EventLog:
    seconds: float
    executors: dict[str, Executor]
    locality: Counter[str]
    failed: int
    fetch_failures: int
    locality_wait: float


def parse_event_log(directory: Path, node_of_ip: Mapping[str, str]) -> EventLog:
    """The application's event log: job start to end, each executor's node (by its host, the pod IP) and input
    bytes, the tasks' locality levels and failures, and the time cores waited for locality."""
    log, = directory.iterdir()
    executors: dict[str, Executor] = {}
    locality: Counter[str] = Counter()
    failed = fetch_failures = cores = 0
    starts, ends = [], []
    submitted: dict[int, int] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    """Each stage's tasks' (launch, finish) in ms, failed ones too: they held a core."""
    for line in log.read_text().splitlines():
        event = json.loads(line)
        kind = event["Event"]
        if kind == "SparkListenerExecutorAdded":
            host = event["Executor Info"]["Host"]
            executors[event["Executor ID"]] = Executor(event["Executor ID"], node_of_ip.get(host, host))
            cores += event["Executor Info"]["Total Cores"]
        elif kind == "SparkListenerJobStart":
            starts.append(event["Submission Time"])
        elif kind == "SparkListenerJobEnd":
            ends.append(event["Completion Time"])
        elif kind == "SparkListenerStageSubmitted" and "Submission Time" in event["Stage Info"]:
            submitted[event["Stage Info"]["Stage ID"]] = event["Stage Info"]["Submission Time"]
        elif kind == "SparkListenerTaskEnd":
            info = event["Task Info"]
            spans.setdefault(event["Stage ID"], []).append((info["Launch Time"], info["Finish Time"]))
            reason = event["Task End Reason"]["Reason"]
            if reason != "Success":
                failed += 1
                fetch_failures += reason == "FetchFailed"
                continue
            locality[info["Locality"]] += 1
            executor = executors[info["Executor ID"]]
            executor.tasks += 1
            executor.input_bytes += event["Task Metrics"]["Input Metrics"]["Bytes Read"]
    wait = sum(idle_core_seconds(submitted.get(stage, min(s for s, _ in tasks)), tasks, cores)
               for stage, tasks in spans.items())
    return EventLog((max(ends) - min(starts)) / 1000 if starts and ends else 0.0, executors, locality, failed,
                    fetch_failures, wait)


def idle_core_seconds(submitted: int, tasks: Sequence[tuple[int, int]], cores: int) -> float:
    """Core-seconds left idle from a stage's submission until its last task launched (ms times in, seconds
    out): while some task waits to launch, a core without a task is waiting for locality (or for the launch).
    Never below 0: with fewer tasks than cores the idle cores are not waiting for anything."""
    last = max(launch for launch, _ in tasks)
    busy = sum(max(0, min(finish, last) - max(launch, submitted)) for launch, finish in tasks)
    return max(0.0, (min(cores, len(tasks)) * (last - submitted) - busy) / 1000)


def run_rounds(box: OneBox, shape: Shape, rows: Sequence[Row], rounds: int, held: Mapping[str, int], spark: str,
               log: Any = print) -> list[Round]:
    """`rounds` rounds of every row, the rows' order alternating round to round."""
    done = []
    for r in range(rounds):
        for row in (rows if r % 2 == 0 else list(reversed(rows))):
            result = run_round(box, shape, row, held, spark)
            log(f"  Spark {spark} {row.name}: {result.local_fraction:.0%} local (model {result.predicted:.0%}), "
                f"{result.seconds:.1f}s, executors on {[e.node for e in result.executors]}, "
                f"locality {result.locality}, waited {result.locality_wait:.1f} core-s, "
                f"{result.failed_tasks} failed ({result.fetch_failures} fetch)")
            done.append(result)
    return done


@dataclass(frozen=True)
class Plan:
    """What a comparison runs: each (shape, link rate, Spark versions), `rounds` rounds of every row with each
    version."""
    runs: Sequence[tuple[Shape, str, Sequence[str]]]
    rows: Sequence[Row] = ROWS
    rounds: int = 1


def compare(box: OneBox, plan: Plan, log: Any = print) -> list[Round]:
    """Every shape's dataset written once (links unshaped: loading is not what is measured), then the rounds."""
    results = []
    written: dict[str, dict[str, int]] = {}
    for shape, rate, sparks in plan.runs:
        if shape.path not in written:
            box.network.shape("10gbit")
            written[shape.path] = write_dataset(box, shape)
        held = written[shape.path]
        log(f"{shape.name}: {shape.total_bytes / MIB:.0f} MiB in {shape.files} files, cached "
            f"{ {n: f'{b / shape.total_bytes:.0%}' for n, b in held.items()} }, {shape.executors} executors")
        box.network.shape(rate)
        log(f"  links: {rate} each way per node")
        for spark in sparks:
            results += run_rounds(box, shape, plan.rows, plan.rounds, held, spark, log)
    return results


def table(results: Sequence[Round]) -> list[str]:
    """Markdown: one line per shape, rate, Spark and row, rounds averaged; the ratio of its job seconds to the
    default row's."""
    groups: dict[tuple[str, str, str, str], list[Round]] = {}
    for r in results:
        groups.setdefault((r.shape, r.rate, r.spark, r.row), []).append(r)

    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values)

    lines = ["| shape | link | Spark | row | rounds | local (measured) | local (model) | job s | vs default | "
             "executors' nodes | task locality | locality wait core-s | failed (fetch) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (shape, rate, spark, row), rounds in groups.items():
        seconds = mean([r.seconds for r in rounds])
        default = groups.get((shape, rate, spark, DEFAULT.name))
        ratio = f"{seconds / mean([r.seconds for r in default]):.2f}x" if default else "-"
        nodes = "; ".join(",".join(e.node.rsplit("-", 1)[-1] for e in r.executors) for r in rounds)
        locality = Counter[str]()
        for r in rounds:
            locality.update(r.locality)
        fractions, times = [r.local_fraction for r in rounds], [r.seconds for r in rounds]
        spread = f" ({min(fractions):.0%}-{max(fractions):.0%})" if len(rounds) > 1 else ""
        span = f" ({min(times):.1f}-{max(times):.1f})" if len(rounds) > 1 else ""
        lines.append(f"| {shape} | {rate} | {spark} | {row} | {len(rounds)} | {mean(fractions):.0%}{spread} | "
                     f"{mean([r.predicted for r in rounds]):.0%} | {seconds:.1f}{span} | {ratio} | {nodes} | "
                     f"{dict(locality)} | {mean([r.locality_wait for r in rounds]):.1f} | "
                     f"{sum(r.failed_tasks for r in rounds)} ({sum(r.fetch_failures for r in rounds)}) |")
    return lines
