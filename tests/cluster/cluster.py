"""The one-box cluster, assembled: nodes as network namespaces (network.py), a control plane of
kubernetes-versions.txt's newest line with our kube-schedulers (OUR_SCHEDULERS: the one manifests/ configures, and
one scoring each pod alone), each calling a served extender of its own, and a default kube-scheduler beside them,
the pod runner in place of the kubelets (pod_runner.py), real
Alluxio with a worker pod on every node (alluxio_nodes.py), and Spark's `spark` account. `with OneBox(settings) as
box:` brings it all up and takes it all down again, also when bringing it up fails; a crashed run's leftovers are
cleaned first (network.clean()).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

from tests.alluxio import real_alluxio
from tests.alluxio.real_alluxio import RealAlluxio, Worker
from tests.cluster import alluxio_nodes, network
from tests.cluster.images import SparkImage
from tests.cluster.pod_runner import PodRunner
from tests.e2e import e2e_spark
from tests.e2e.e2e_cluster import Extender
from tests.e2e.e2e_pods import NS
from tests.support.control_plane import ControlPlane, Process, control_plane_binaries
from tests.support.deployment import SCHEDULER, apply_access, extender_kubeconfig, scheduler_config, start_scheduler
from tests.support.jars import alluxio_client_jar, spark_locality_jar
from tests.support.kube_versions import newest

LOG = logging.getLogger("one-box")
DEFAULT_SCHEDULER = "default-scheduler"
IMAGE = "spark-alluxio"
"""The executors' image: spark-submit.sh's default IMAGE, Spark's image with Alluxio's client jar and
spark-locality.jar (examples/spark/README.md: the jar is inert unless TASK_LOCALITY=component's confs name it);
tagged with the Spark version here, one image per version."""
PER_POD = f"{SCHEDULER}-per-pod"
OUR_SCHEDULERS: Mapping[str, tuple[str, ...]] = {SCHEDULER: (), PER_POD: ("--app-placement", "off")}
"""Our kube-schedulers by name, each with an extender of its own started with these flags more: as shipped
(placing the application), and as before issue 24 (each executor scored alone)."""


@dataclass(frozen=True)
class Settings:
    nodes: int = 4
    node_cpu: str = "4"
    node_memory: str = "8Gi"
    spark_versions: tuple[str, ...] = tuple(e2e_spark.versions())
    """pyspark releases the jobs may run with (tests/e2e/spark-versions.txt's by default)."""
    worker_capacity: int = 8 << 30
    """Each worker's SSD tier (a directory): room for its share of any dataset."""
    work: Path | None = None
    """Where everything is written (default: a new temp dir, removed at the end)."""


class OneBox:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._own_work = settings.work is None
        self.work = settings.work or Path(tempfile.mkdtemp(prefix="one-box-"))
        self.network = network.Network(settings.nodes)
        self.plane: ControlPlane | None = None
        self.runner: PodRunner | None = None
        self.alluxio: RealAlluxio | None = None
        self.workers: dict[str, Worker] = {}
        self.extenders: dict[str, Extender] = {}
        """By the name of the scheduler of ours calling it."""
        self.schedulers: list[Process] = []
        self.spark: dict[str, e2e_spark.SparkCluster] = {}
        """By Spark version."""
        self.api: client.ApiClient | None = None

    @property
    def core(self) -> client.CoreV1Api:
        assert self.api is not None, "the cluster is not up"
        return client.CoreV1Api(self.api)

    def __enter__(self) -> OneBox:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> None:
        started = time.monotonic()
        self.network.up()
        version = newest()
        self.plane = ControlPlane(control_plane_binaries(version), self._dir("control-plane"))
        self.plane.start()
        apply_access(self.plane)
        self.api = config.new_client_from_config(str(self.plane.kubeconfig(self.plane.admin_token, "admin")))
        rest = self.plane.rest()
        for namespace in (NS, alluxio_nodes.NAMESPACE):
            rest.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        homes = {v: e2e_spark.spark_cache() / v / "pyspark" for v in self.settings.spark_versions}
        alluxio_cache = real_alluxio.fetch()
        java = shutil.which("java") or "java"  # Spark 4 needs Java 17; Alluxio's servers run on the cache's 11
        self.runner = PodRunner(self.api, rest, self.network, self._dir("runner"), cpu=self.settings.node_cpu,
                                memory=self.settings.node_memory,
                                images={image(v): SparkImage(home, java, classpath())
                                        for v, home in homes.items()},
                                base_env={"PATH": os.environ["PATH"], "HOME": str(self.work)})
        self.runner.start()
        self.alluxio = alluxio_nodes.start_master(alluxio_cache, self._dir("alluxio"),
                                                  capacity=self.settings.worker_capacity)
        self.workers = alluxio_nodes.start_workers(self.alluxio, self.runner, rest, self.network.nodes)
        flags = ["--alluxio-proxy", self.alluxio.proxy_url,
                 "--kubernetes", "kubeconfig", "--kubeconfig", str(extender_kubeconfig(self.plane, "extender"))]
        for name, more in OUR_SCHEDULERS.items():
            self.extenders[name] = Extender([*flags, *more])
            self.extenders[name].start()
            self.schedulers.append(start_scheduler(self.plane, name, our_config(name, self.extenders[name].url)))
        self.schedulers.append(
            self.plane.start_scheduler(DEFAULT_SCHEDULER, {
                "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
                "leaderElection": {"leaderElect": False}}, self.plane.scheduler_token))
        token = self._dir("spark") / "token"
        token.write_text(e2e_spark.grant_spark_account(self.plane))
        self.spark = {v: e2e_spark.SparkCluster(home, v, self.plane, token, self._dir(f"spark-{v}"))
                      for v, home in homes.items()}
        LOG.info("one-box cluster up in %.0fs: %d nodes, Kubernetes %s, Alluxio at %s", time.monotonic() - started,
                 len(self.network.nodes), version.kubernetes, self.alluxio.master_url)

    def down(self) -> None:
        """Everything stopped, each part on its own (one failing does not keep the others up)."""
        parts: list[tuple[str, Callable[[], None] | None]] = [
            *((p.name, p.stop) for p in self.schedulers),
            *((f"{name}'s extender", extender.stop) for name, extender in self.extenders.items()),
            ("pod runner", self.runner.stop if self.runner else None),  # ends the worker pods too
            ("alluxio", self.alluxio.stop if self.alluxio else None),
            ("control plane", self.plane.stop if self.plane else None),
            ("network", self.network.down)]
        for name, stop in parts:
            try:
                if stop is not None:
                    stop()
            except Exception:
                LOG.exception("stopping the %s failed", name)
        if self._own_work:
            shutil.rmtree(self.work, ignore_errors=True)

    def _dir(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def image(spark_version: str) -> str:
    return f"{IMAGE}:{spark_version}"


def classpath() -> list[Path]:
    """The jars the image adds to Spark's, which the driver (on this host) gets as its extra classpath."""
    return [alluxio_client_jar(), spark_locality_jar()]


def our_config(name: str, extender_url: str) -> dict[str, Any]:
    """The shipped KubeSchedulerConfiguration for our scheduler `name`: as manifests/ has it for the shipped one;
    another gets a profile of its name and no leader election (the shipped one holds the manifests' Lease)."""
    config = scheduler_config(extender_url)
    if name != SCHEDULER:
        config["profiles"][0]["schedulerName"] = name
        config["leaderElection"] = {"leaderElect": False}
    return config


def logging_to_stderr() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

