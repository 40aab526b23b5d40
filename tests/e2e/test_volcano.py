"""A real vc-scheduler (tests/volcano/build-volcano.sh) placing the executors of a real spark-submit that uses Spark's
Volcano support (VolcanoFeatureStep, in pyspark's jars), with the extender plugin calling our extender's /volcano
verbs and, for comparison, without it.

Client mode, as tests/e2e/test_spark.py runs the example, in its pool of 12 nodes of 2 CPUs (HELD blocks of the
input each). In cluster mode Spark's driver step creates the application's PodGroup before the driver pod; client
mode has no driver pod, so the test creates that PodGroup, named as the executors' scheduling.k8s.io/group-name
annotation says, once the first executor appears. The example's executors require a local worker, so both verbs
are called: predicate (every pool node has a ready worker) and prioritize.
"""
from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_cluster import Extender, note, verb_calls
from tests.e2e.e2e_pods import NS
from tests.e2e.e2e_spark import SparkCluster, Submission, clean, placed, spark_pods
from tests.e2e.test_spark import EXECUTORS, INPUT, Pool, accounts, fractions, pool, spark, spotless
from tests.support.control_plane import ControlPlane, Process, Rest
from tests.support.kube_versions import KubeVersion, newest
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
from tests.support.waiting import eventually

__all__ = ["accounts", "pool", "spark", "spotless"]  # test_spark's fixtures, used here as they are
VOLCANO_STEP = "org.apache.spark.deploy.k8s.features.VolcanoFeatureStep"


@pytest.fixture(scope="module")
def volcano(control_plane: ControlPlane, kube_version: KubeVersion) -> Path:
    """vc-scheduler and its CRDs installed, on the newest Kubernetes line only (Volcano 1.14 needs >= 1.34)."""
    if kube_version != newest():
        pytest.skip("Volcano runs on the newest tested Kubernetes line only")
    found = volcano_dir()
    install_crds(control_plane, found)
    return found


def has_volcano_step(spark: SparkCluster) -> bool:
    """Whether this Spark's jars carry VolcanoFeatureStep (Spark built with -Pvolcano: pyspark 4.x is, 3.5 not)."""
    for jar in (spark.home / "jars").glob("spark-kubernetes_*.jar"):
        with zipfile.ZipFile(jar) as archive:
            if f"{VOLCANO_STEP.replace('.', '/')}.class" in archive.namelist():
                return True
    return False


def run_under_volcano(spark: SparkCluster, rest: Rest, pool: Pool) -> tuple[list[dict[str, Any]], float]:
    """The executors of a client-mode submission with Spark's Volcano feature step, once vc-scheduler placed them,
    and the seconds from the first executor's creation to the last one bound."""
    extra = [*pool.selector, "--conf", "spark.kubernetes.scheduler.name=volcano",
             "--conf", f"spark.kubernetes.driver.pod.featureSteps={VOLCANO_STEP}",
             "--conf", f"spark.kubernetes.executor.pod.featureSteps={VOLCANO_STEP}"]
    with Submission(spark, deploy_mode="client", domain_socket="hostPath", executors=EXECUTORS, input_path=INPUT,
                    extra=extra) as submission:
        first = eventually(lambda: next(iter(spark_pods(rest, "executor")), None), 120, interval=0.1,
                           what="Spark's first executor pod")
        seen = time.monotonic()
        group = first["metadata"]["annotations"][GROUP_ANNOTATION]
        create_pod_group(rest, pod_group(group, NS))
        executors = placed(rest, submission, "executor", EXECUTORS)
        seconds = time.monotonic() - seen
    rest.request("DELETE", f"/apis/scheduling.volcano.sh/v1beta1/namespaces/{NS}/podgroups/{group}",
                 ok=(200, 404))
    return executors, seconds


@pytest.fixture
def vc_scheduler(control_plane: ControlPlane, volcano: Path) -> Iterator[Any]:
    """Starts vc-scheduler (schedulerName volcano) with a conf; stops it after the test."""
    running: list[Process] = []

    def start(conf: dict[str, Any]) -> None:
        while running:
            running.pop().stop()
        running.append(start_vc_scheduler(control_plane, volcano, "volcano", conf))

    yield start
    for process in running:
        process.stop()


def test_volcano_with_the_extender_places_spark_executors_on_their_input(
        spark: SparkCluster, rest: Rest, pool: Pool, extender: Extender, vc_scheduler: Any,
        kube_version: KubeVersion) -> None:
    if not has_volcano_step(spark):
        pytest.skip(f"pyspark {spark.version}'s jars lack VolcanoFeatureStep (Spark built without -Pvolcano)")
    served = extender.running
    calls = {verb: verb_calls(served, f"volcano/{verb}", "ok") for verb in ("predicate", "prioritize")}
    vc_scheduler(scheduler_conf(extender_arguments(extender.url, timeout="5s")))
    ours, seconds = run_under_volcano(spark, rest, pool)
    assert {p["spec"]["schedulerName"] for p in ours} == {"volcano"}
    assert all(p["metadata"]["annotations"]["alluxio-locality.io/paths"] == INPUT for p in ours)
    got = fractions(rest, pool, ours)
    answered = {verb: verb_calls(served, f"volcano/{verb}", "ok") - before for verb, before in calls.items()}
    clean(rest)
    vc_scheduler(scheduler_conf(None))
    plain, plain_seconds = run_under_volcano(spark, rest, pool)
    plain_fraction = fractions(rest, pool, plain).ours
    note(kube_version, f"Spark {spark.version} under vc-scheduler (VolcanoFeatureStep), {EXECUTORS} executors in a "
         f"pool of {len(pool.nodes)} 2-CPU nodes: local fraction (model) with the extender plugin {got.ours:.1%}, "
         f"without {plain_fraction:.1%}, per-application placement predicts {got.predicted:.1%}, the model's best "
         f"(stacked) {got.best:.1%} (first executor created to all placed: "
         f"{seconds:.1f}s with, {plain_seconds:.1f}s without; {answered['predicate']:.0f} predicate and "
         f"{answered['prioritize']:.0f} prioritize calls)")
    assert answered["predicate"] > 0 and answered["prioritize"] > 0
    # The plugin's scores follow the app's deficits as kube-scheduler's extender's do (Extender.toward).
    assert got.ours >= 0.95 * got.predicted
    assert plain_fraction < got.predicted
