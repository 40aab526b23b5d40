"""The one-box cluster's parts that need no root: what the pod runner gives a container (its env, as the kubelet
resolves it) and runs for Spark's image, and how a shape splits its files over the nodes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cluster.comparison import Shape
from tests.cluster.images import BACKEND, SparkImage
from tests.cluster.pod_runner import resolve_env

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
