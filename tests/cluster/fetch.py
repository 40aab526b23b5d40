"""Where the one-box cluster's downloads are: Alluxio's client jar (fetch-alluxio-client.sh, cached)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "fetch-alluxio-client.sh"
CACHE_ENV = "SCHEDULER_EXTENDER_ALLUXIO_CLIENT_CACHE"


def alluxio_client_jar() -> Path:
    """The shaded client jar, fetched by the script unless $SCHEDULER_EXTENDER_ALLUXIO_CLIENT_CACHE holds it."""
    given = os.environ.get(CACHE_ENV)
    if given and (Path(given) / "complete").exists():
        cache = Path(given)
    else:
        run = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"{SCRIPT} exited {run.returncode}:\n{run.stderr[-4000:]}")
        cache = Path(run.stdout.strip().splitlines()[-1])
    jar, = cache.glob("alluxio-shaded-client-*.jar")
    return jar
