"""The servers under test, as subprocesses on loopback: the real `scheduler-extender serve` (through
tests/support/served.py, as the integration tests run it) and the naive peer; their gunicorn worker, /metrics, and
index warming."""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from tests.support.metrics import Samples
from tests.support.served import Served

from . import env
from .bodies import pod_body


def command(argv: list[str], *, ready: bool = True) -> Served:
    """Like the served extender, any command line that takes `--bind` (the naive peer, the Go floor), in the
    benchmarks' environment."""
    return Served(command=argv, ready=ready, env=env.child_env())


def extender(alluxio_url: str, *flags: str) -> Served:
    """The real server: `python -m scheduler_extender serve` under gunicorn, default threads."""
    env.use_child_env()
    return Served("--alluxio-proxy", alluxio_url, *flags)


def naive(alluxio_url: str) -> Served:
    return command([sys.executable, "-m", "benchmarks.naive", "--alluxio-proxy", alluxio_url])


def get(server: Served, path: str, timeout: float = 300) -> tuple[int, bytes]:
    """GET with a long timeout: while the index parses 100 MB directory listings, a request can wait seconds
    for the worker's GIL (Served.get gives up after 10 s)."""
    try:
        with urllib.request.urlopen(server.url + path, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def scrape(server: Served) -> Samples:
    """Every sample of /metrics, read with the long timeout of `get`."""
    status, body = get(server, "/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    return Samples.parse(body.decode())


def warm(server: Served, paths: Iterable[str], *, timeout: float, per_request: int = 1000) -> dict[str, Any]:
    """Ask the index for `paths` the way a scheduler does (POST /prioritize with pods annotated with them;
    a directory and files beneath it go to different pods, since a pod's nested paths are de-duplicated),
    then wait until /locality reports every one known. Returns time and request counts."""
    paths = list(paths)
    started = time.perf_counter()
    dirs = [p for p in paths if not p.endswith(".parquet")]
    files = [p for p in paths if p.endswith(".parquet")]
    posted = 0
    for group in (dirs, files):
        for i in range(0, len(group), per_request):
            status, answer = server.request("POST", "/prioritize", pod_body(group[i:i + per_request], ["node-0"]))[:2]
            if status != 200:
                raise RuntimeError(f"warming: /prioritize answered {status}: {answer}")
            posted += 1
    missing = known_missing(server, paths)
    while missing and time.perf_counter() - started < timeout:
        time.sleep(0.2)
        missing = known_missing(server, missing)
    if missing:
        raise RuntimeError(f"index not warm after {timeout}s: {len(missing)} paths missing, e.g. {missing[:3]}")
    return {"paths": len(paths), "requests": posted, "seconds": time.perf_counter() - started}


def known_missing(server: Served, paths: list[str], chunk: int = 60) -> list[str]:
    """The paths /locality does not report known (it looks each up: a miss starts a fetch)."""
    missing = []
    for i in range(0, len(paths), chunk):
        part = paths[i:i + chunk]
        query = urllib.parse.urlencode([("path", p) for p in part] + [("node", "node-0")])
        status, body = get(server, f"/locality?{query}")
        if status != 200:
            raise RuntimeError(f"/locality answered {status}: {body[:300]!r}")
        report = json.loads(body)
        missing += [entry["path"] for entry in report["paths"] if not entry["known"]]
    return missing


def post_json(server: Served, path: str, body: bytes) -> Any:
    status, answer = server.request("POST", path, body)[:2]
    if status != 200:
        raise RuntimeError(f"{path} answered {status}: {str(answer)[:300]}")
    return answer if not isinstance(answer, (bytes, str)) else json.loads(answer)
