"""The Alluxio client of a Spark executor as examples/spark/ configures it: the JVM options spark-submit.sh gives
the executors, with the $(VAR) references Kubernetes expands from the pod template's environment, and what
Alluxio's own metrics say about the reads of such a client."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path

import yaml

from tests.alluxio.real_alluxio import RealAlluxio, Worker, http

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "spark"
HOSTNAME_VAR = "ALLUXIO_CLIENT_HOSTNAME"


def executor_java_options(alluxio_masters: str) -> str:
    """spark.executor.extraJavaOptions as spark-submit.sh passes it (its DRY_RUN), for these masters."""
    run = subprocess.run(["bash", str(EXAMPLES / "spark-submit.sh")], capture_output=True, text=True, check=True,
                         env={"PATH": os.environ["PATH"], "DRY_RUN": "1", "ALLUXIO_MASTERS": alluxio_masters})
    prefix = "spark.executor.extraJavaOptions="
    options, = [arg[len(prefix):] for arg in run.stdout.splitlines() if arg.startswith(prefix)]
    return options


def template_env(template: str = "executor-hostname-template.yaml") -> dict[str, str]:
    """Each env var of the executor pod template's container: its downward-API field, or its value."""
    pod = yaml.safe_load((EXAMPLES / template).read_text())
    container, = pod["spec"]["containers"]
    return {var["name"]: var.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") or var.get("value", "")
            for var in container.get("env", [])}


def expand(text: str, env: Mapping[str, str]) -> str:
    """$(NAME) replaced by an earlier env var's value, as the kubelet does; an unknown one stays as written."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), text)


def client_properties(java_options: str) -> dict[str, str]:
    """The Alluxio properties among JVM options (-Dkey=value)."""
    found = {}
    for option in shlex.split(java_options):
        key, _, value = option.removeprefix("-D").partition("=")
        if option.startswith("-Dalluxio."):
            found[key] = value
    return found


def worker_metrics(worker: Worker) -> dict[str, float]:
    """The worker's counters and gauges from its own metrics servlet."""
    return _metrics(f"{worker.web_url}/metrics/json/")


def cluster_metrics(cluster: RealAlluxio) -> dict[str, float]:
    """The master's: the cluster's aggregates, clients' reports among them."""
    return _metrics(f"{cluster.master_url}/metrics/json/")


def _metrics(url: str) -> dict[str, float]:
    status, body = http("GET", url)
    assert status == 200, f"{url} answered {status}"
    doc = json.loads(body)
    return {name: metric.get("count", metric.get("value")) for kind in ("counters", "gauges")
            for name, metric in doc.get(kind, {}).items()}
