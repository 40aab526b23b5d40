"""One Spark application of the locality tests: job.py submitted to a StandaloneSpark, reading from a RealAlluxio,
and what it did: its tasks' locality levels and hosts (from its event log) and the bytes its executors read from
their own node's worker or from another (from Alluxio's own metrics).

The component's confs are examples/spark/spark-submit.sh's (its DRY_RUN output with TASK_LOCALITY=component), so
the test runs what a user copies. The Alluxio counters, and why they are the right ones:
  - local: Cluster.BytesReadLocal, the master's sum of what clients report reading short-circuit from their own
    node's worker (the executors report every 100 ms here; Alluxio's default is not to report at all);
  - remote: Worker.BytesReadCache summed over the workers, the cached bytes each worker served over its data server
    to a client elsewhere (a short-circuit read does not pass through it, tests/alluxio/test_local_reads.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.alluxio.executor_client import EXAMPLES, cluster_metrics, worker_metrics
from tests.alluxio.real_alluxio import RealAlluxio
from tests.spark_locality.standalone import StandaloneSpark

JOB = Path(__file__).resolve().parent / "job.py"
COMPONENT_CONFS = ("spark.hadoop.fs.alluxio.impl", "spark.extraListeners", "spark.alluxio.locality.",
                   "spark.sql.sources.parallelPartitionDiscovery.threshold")
ALLUXIO_FS = "alluxio.hadoop.FileSystem"
LOCALITY_WAIT = "30s"
"""Far longer than a node's tasks take here, so a task never gives up on its node while its executor is busy."""
SUBMIT_TIMEOUT = 600.0
CLIENT_WITNESS = ("-Dalluxio.user.metrics.collection.enabled=true -Dalluxio.user.metrics.heartbeat.interval=100ms "
                  "-Dalluxio.user.file.passive.cache.enabled=false -Dalluxio.user.file.readtype.default=NO_CACHE")
"""The executors' clients report their reads to the master, and cache nothing they read (a remote read would
otherwise copy the block to the reader's worker, and the next application would find another cache)."""


def component_confs() -> dict[str, str]:
    """The --conf settings of the component, as examples/spark/spark-submit.sh passes them."""
    run = subprocess.run(["bash", str(EXAMPLES / "spark-submit.sh")], capture_output=True, text=True, check=True,
                         env={"PATH": os.environ["PATH"], "DRY_RUN": "1", "TASK_LOCALITY": "component"})
    confs = {}
    for arg in run.stdout.splitlines():
        key, _, value = arg.partition("=")
        if key.startswith(COMPONENT_CONFS):
            confs[key] = value
    return confs


@dataclass(frozen=True)
class Task:
    stage: int
    locality: str
    host: str
    failed: bool


@dataclass(frozen=True)
class Result:
    tasks: list[Task]
    """The tasks of the stage that read the files."""
    bytes_summed: int
    listing_seconds: float
    job_seconds: float
    local_bytes: float
    remote_bytes: float
    log: Path

    @property
    def levels(self) -> dict[str, int]:
        return dict(Counter(t.locality for t in self.tasks))

    @property
    def local_fraction(self) -> float:
        read = self.local_bytes + self.remote_bytes
        return self.local_bytes / read if read else 0.0

    def summary(self) -> str:
        return (f"{len(self.tasks)} tasks {self.levels}, {self.local_fraction:.0%} of "
                f"{(self.local_bytes + self.remote_bytes) / (1 << 20):.1f} MiB read locally, listing "
                f"{self.listing_seconds:.1f} s, job {self.job_seconds:.1f} s")


def submit(spark: StandaloneSpark, alluxio: RealAlluxio, work: Path, source: str, *, classpath: str,
           confs: Mapping[str, str], file_size: int) -> Result:
    """Runs job.py on `spark` over alluxio://`source` with these extra confs; fails on a non-zero exit."""
    work.mkdir(parents=True)
    events = work / "events"
    events.mkdir()
    settings = {
        "spark.master": spark.url, "spark.submit.deployMode": "client", "spark.app.name": work.name,
        "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.ui.enabled": "false",
        "spark.executor.cores": "1", "spark.cores.max": str(len(spark.nodes) * spark.cores),
        "spark.executor.instances": str(len(spark.nodes)), "spark.executor.memory": "512m",
        # as on Kubernetes (where 0.8 is the default): the first job waits for the executors
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.scheduler.maxRegisteredResourcesWaitingTime": "180s",
        "spark.locality.wait": LOCALITY_WAIT,
        "spark.sql.files.maxPartitionBytes": str(file_size), "spark.sql.files.openCostInBytes": str(file_size),
        "spark.driver.extraClassPath": classpath, "spark.executor.extraClassPath": classpath,
        "spark.executor.extraJavaOptions": CLIENT_WITNESS,
        "spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(), "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
        "spark.hadoop.fs.alluxio.impl": ALLUXIO_FS,
        **confs,
    }
    command = [str(spark.home / "bin" / "spark-submit")]
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    result_file = work / "result.json"
    url = f"alluxio://127.0.0.1:{alluxio.master_rpc_port}{source}"
    before = _read_counters(alluxio)
    log = work / "driver.log"
    with open(log, "wb") as out:
        run = subprocess.run([*command, str(JOB), url, str(result_file)], stdout=out, stderr=subprocess.STDOUT,
                             timeout=SUBMIT_TIMEOUT, cwd=work, stdin=subprocess.DEVNULL,
                             env={**os.environ, "SPARK_HOME": str(spark.home), "SPARK_LOCAL_IP": "127.0.0.1",
                                  "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
                                  "PYTHONPATH": str(spark.home.parent)})
    if run.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
        raise AssertionError(f"spark-submit exited {run.returncode} ({log}):\n{tail}")
    after = _read_counters(alluxio)
    measured = json.loads(result_file.read_text())
    event_log, = events.iterdir()
    return Result(tasks=_scan_tasks(event_log), bytes_summed=measured["bytes"],
                  listing_seconds=measured["listing_seconds"], job_seconds=measured["job_seconds"],
                  local_bytes=after[0] - before[0], remote_bytes=after[1] - before[1], log=log)


def _read_counters(alluxio: RealAlluxio) -> tuple[float, float]:
    """(bytes clients read locally, bytes workers served remotely) so far."""
    local = cluster_metrics(alluxio).get("Cluster.BytesReadLocal", 0)
    remote = sum(worker_metrics(w).get("Worker.BytesReadCache", 0) for w in alluxio.workers)
    return local, remote


def _task_ends(event_log: Path) -> Iterator[Task]:
    for line in event_log.read_text().splitlines():
        event = json.loads(line)
        if event["Event"] == "SparkListenerTaskEnd":
            info = event["Task Info"]
            yield Task(event["Stage ID"], info["Locality"], info["Host"], info["Failed"])


def _scan_tasks(event_log: Path) -> list[Task]:
    """The tasks of the stage that read the files: the stage with the most tasks (the aggregation after it has
    one)."""
    tasks = list(_task_ends(event_log))
    stages = Counter(t.stage for t in tasks)
    scan = max(stages, key=lambda stage: stages[stage])
    return [t for t in tasks if t.stage == scan]
