"""The one-box cluster's parts that need no root: what the pod runner gives a container (its env, as the kubelet
resolves it) and runs for Spark's image, how a shape splits its files over the nodes, the locality wait read from
an event log's times, our second scheduler's configuration, and that every row's TASK_LOCALITY is one
examples/spark/spark-submit.sh knows."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.cluster import PER_POD, our_config
from tests.cluster.comparison import ROWS, Row, Shape, idle_core_seconds
from tests.cluster.images import BACKEND, SparkImage
from tests.cluster.pod_runner import resolve_env
from tests.support.deployment import SCHEDULER, scheduler_config

SPARK_SUBMIT = Path(__file__).resolve().parents[2] / "examples" / "spark" / "spark-submit.sh"

POD: dict[str, Any] = {"metadata": {"name": "exec-1", "namespace": "spark", "uid": "u-1",
                                    "labels": {"spark-role": "executor"}, "annotations": {"a/b": "c"}},
                       "spec": {"node_name": "sxc-node-2", "service_account_name": "spark"}}


def field(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "value_from": {"field_ref": {"field_path": path}}}


def test_env_resolves_downward_fields_and_earlier_variables_only() -> None:
    env = resolve_env(POD, [
        field("HOST", "status.hostIP"), field("IP", "status.podIP"), field("NODE", "spec.nodeName"),
        field("NAME", "metadata.name"), field("ROLE", "metadata.labels['spark-role']"),
        field("NOTE", "metadata.annotations['a/b']"),
        {"name": "OPTS", "value": "-Dalluxio.user.hostname=$(HOST) -Dlater=$(LATER)"},
        {"name": "LATER", "value": "x"}], pod_ip="198.19.2.2", host_ip="198.18.0.12")
    assert env == {"HOST": "198.18.0.12", "IP": "198.19.2.2", "NODE": "sxc-node-2", "NAME": "exec-1",
                   "ROLE": "executor", "NOTE": "c",
                   # Kubernetes expands only variables defined before: a later one stays as written
                   "OPTS": "-Dalluxio.user.hostname=198.18.0.12 -Dlater=$(LATER)", "LATER": "x"}


def test_env_from_a_source_the_runner_cannot_resolve_fails_the_pod() -> None:
    with pytest.raises(ValueError, match="secret_key_ref"):
        resolve_env(POD, [{"name": "S", "value_from": {"secret_key_ref": {"name": "s", "key": "k"}}}],
                    pod_ip="198.19.2.2", host_ip="198.18.0.12")
    with pytest.raises(ValueError, match="status.phase"):
        resolve_env(POD, [field("P", "status.phase")], pod_ip="198.19.2.2", host_ip="198.18.0.12")


def test_spark_image_runs_the_executor_backend_as_its_entrypoint_does() -> None:
    image = SparkImage(Path("/spark"), "/usr/bin/java", [Path("/jars/alluxio-client.jar")])
    argv = image({"SPARK_JAVA_OPT_10": "-Dten", "SPARK_JAVA_OPT_2": "-Dtwo", "SPARK_JAVA_OPT_0": "-Dzero",
                  "SPARK_EXECUTOR_MEMORY": "1024m", "SPARK_DRIVER_URL": "spark://d", "SPARK_EXECUTOR_ID": "3",
                  "SPARK_EXECUTOR_CORES": "1", "SPARK_APPLICATION_ID": "spark-app",
                  "SPARK_EXECUTOR_POD_IP": "198.19.1.3", "SPARK_RESOURCE_PROFILE_ID": "0",
                  "SPARK_EXECUTOR_POD_NAME": "exec-3"})
    assert argv == ["/usr/bin/java", "-Dzero", "-Dtwo", "-Dten", "-Xms1024m", "-Xmx1024m",
                    "-cp", "/spark/jars/*:/jars/alluxio-client.jar", BACKEND,
                    "--driver-url", "spark://d", "--executor-id", "3", "--cores", "1", "--app-id", "spark-app",
                    "--hostname", "198.19.1.3", "--resourceProfileId", "0", "--podName", "exec-3"]


@pytest.mark.parametrize(("shares", "files", "counts"), [
    ((0.75, 0.25, 0.0), 24, [18, 6, 0]), ((0.5, 0.3, 0.2), 10, [5, 3, 2]), ((1.0,), 7, [7]),
    ((0.34, 0.33, 0.33), 10, [3, 3, 4])])
def test_a_shape_puts_every_file_on_one_node_by_its_shares(shares: tuple[float, ...], files: int,
                                                           counts: list[int]) -> None:
    assert Shape("s", shares, executors=1, total_bytes=files, files=files).counts() == counts


@pytest.mark.parametrize(("tasks", "cores", "idle"), [
    # two cores, four tasks back to back from the submission: no core waits
    ([(0, 1000), (0, 2000), (1000, 3000), (2000, 4000)], 2, 0.0),
    # the second core holds off 3 s (delay scheduling) before its first task: 3 core-seconds waited
    ([(0, 1000), (1000, 2000), (3000, 4000), (2000, 5000)], 2, 3.0),
    # a launch 0.5 s after the submission on each of 2 cores; the last task launched at 1.5 s
    ([(500, 1500), (500, 1200), (1500, 2500)], 2, 1.3),
    # one task and three cores: only the task's own launch delay counts
    ([(200, 900)], 3, 0.2)])
def test_locality_wait_is_the_core_time_idle_until_the_stage_s_last_launch(
        tasks: list[tuple[int, int]], cores: int, idle: float) -> None:
    assert idle_core_seconds(0, tasks, cores) == pytest.approx(idle)


def test_our_second_scheduler_has_a_profile_of_its_name_and_leaves_the_lease_to_the_shipped_one() -> None:
    shipped, per_pod = our_config(SCHEDULER, "http://127.0.0.1:1"), our_config(PER_POD, "http://127.0.0.1:2")
    assert [p["schedulerName"] for p in per_pod["profiles"]] == [PER_POD]
    assert per_pod["leaderElection"] == {"leaderElect": False}
    assert per_pod["extenders"][0]["urlPrefix"] == "http://127.0.0.1:2"
    assert shipped == scheduler_config("http://127.0.0.1:1")


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_every_row_runs_spark_submit_with_a_task_locality_it_knows(row: Row) -> None:
    run = subprocess.run(["bash", str(SPARK_SUBMIT)], capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "DRY_RUN": "1", "TASK_LOCALITY": row.task_locality})
    assert run.returncode == 0, run.stderr
    confs = run.stdout.splitlines()
    assert ("spark.hadoop.fs.alluxio.impl=io.alluxiolocality.spark.NodeLocalAlluxioFileSystem" in confs) == (
        row.task_locality == "component")
    assert ("spark.blockManager.port=0" in confs) == (row.task_locality == "hostNetwork")
