"""The images the one-box cluster's pods name, as the entrypoint each runs for a container without a command: the
pod runner (tests/cluster/pod_runner.py) runs this argv, in the pod's environment, instead of pulling an image.

Spark's image (resource-managers/kubernetes/docker/src/main/dockerfiles/spark/entrypoint.sh, Spark 3.5 and 4.x):
an executor pod's container has args `executor` and no command; the entrypoint runs Java with the
SPARK_JAVA_OPT_<n> values in n's order, -Xms/-Xmx $SPARK_EXECUTOR_MEMORY, the classpath $SPARK_CLASSPATH plus
$SPARK_HOME/jars/*, and KubernetesExecutorBackend with its arguments from the pod's env. Here SPARK_HOME is a
pyspark install and the image's jars/ gains Alluxio's client jar, as an image built for Alluxio carries it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

BACKEND = "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend"


class SparkImage:
    """Spark's image with extra jars on its classpath (the Alluxio client)."""

    def __init__(self, spark_home: Path, java: str, extra_jars: Sequence[Path]) -> None:
        self.spark_home = spark_home
        self.java = java
        self.extra_jars = list(extra_jars)

    def __call__(self, env: Mapping[str, str]) -> list[str]:
        opts = sorted(((int(m[1]), value) for name, value in env.items()
                       if (m := re.fullmatch(r"SPARK_JAVA_OPT_(\d+)", name))))
        classpath = ":".join([p for p in (env.get("SPARK_CLASSPATH", ""),) if p] +
                             [str(self.spark_home / "jars" / "*"), *map(str, self.extra_jars)])
        memory = env["SPARK_EXECUTOR_MEMORY"]
        return [self.java, *(value for _, value in opts), f"-Xms{memory}", f"-Xmx{memory}", "-cp", classpath, BACKEND,
                "--driver-url", env["SPARK_DRIVER_URL"], "--executor-id", env["SPARK_EXECUTOR_ID"],
                "--cores", env["SPARK_EXECUTOR_CORES"], "--app-id", env["SPARK_APPLICATION_ID"],
                "--hostname", env["SPARK_EXECUTOR_POD_IP"],
                "--resourceProfileId", env["SPARK_RESOURCE_PROFILE_ID"],
                "--podName", env["SPARK_EXECUTOR_POD_NAME"]]
