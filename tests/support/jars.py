"""The jars our Spark drivers and executors add to Spark's (tests/cluster/, tests/spark_locality/): Alluxio's client
jar (tests/alluxio/fetch-alluxio-client.sh) and spark-locality.jar (spark-locality/build.sh), each cached by its
script, which `.ci/run` runs once and names in the environment."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "alluxio" / "fetch-alluxio-client.sh"
CACHE_ENV = "SCHEDULER_EXTENDER_ALLUXIO_CLIENT_CACHE"
SPARK_LOCALITY_SCRIPT = ROOT / "spark-locality" / "build.sh"
SPARK_LOCALITY_ENV = "SCHEDULER_EXTENDER_SPARK_LOCALITY_BIN"


def alluxio_client_jar() -> Path:
    """The shaded client jar, fetched by the script unless $SCHEDULER_EXTENDER_ALLUXIO_CLIENT_CACHE holds it."""
    jar, = _cache(SCRIPT, CACHE_ENV).glob("alluxio-shaded-client-*.jar")
    return jar


def spark_locality_jar() -> Path:
    """The task-locality component (spark-locality/), built by its script unless
    $SCHEDULER_EXTENDER_SPARK_LOCALITY_BIN holds it."""
    return _cache(SPARK_LOCALITY_SCRIPT, SPARK_LOCALITY_ENV) / "spark-locality.jar"


def _cache(script: Path, env: str) -> Path:
    """The directory `script` fills (the last line it prints), or $`env` when that holds a complete one."""
    given = os.environ.get(env)
    if given and (Path(given) / "complete").exists():
        return Path(given)
    run = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{script} exited {run.returncode}:\n{run.stderr[-4000:]}")
    return Path(run.stdout.strip().splitlines()[-1])
