"""In-process timing: the same bodies through the extender without HTTP, in a worker process of its own.

    python -m benchmarks.inprocess SPEC.json OUT.json      (the runner starts it)

The worker builds the app exactly as the served worker does (`load_settings` with the same flags,
`serve.open_inputs`, `serve.create_app`) against the same fake Alluxio, warms the same paths, then times each cell
two ways, closed loop, bounded by count and time:
- `handler`: `protocol.parse_args(body)` and the Extender verb, which renders the answer: what the route does
  minus Flask and metrics (the Extender instance is the one create_app builds, `app.extensions[EXTENSION]`);
- `flask`: the Flask test client POSTing the body (routing, metrics, Response; no socket, no gunicorn).
A worker process of its own keeps the runner's heap (the fake's dataset) out of the timed process's
garbage collections, as it is out of the served worker's.
"""
from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .bodies import cell_bodies, pod_body
from .dataset import Spec, hot_paths
from .stats import summary


def _time_loop(fn: Callable[[bytes], Any], bodies: list[bytes], duration: float, max_count: int) -> list[float]:
    for body in bodies:  # every pod once first, as over HTTP: its paths' node tables get built
        fn(body)
    out: list[float] = []
    deadline = time.perf_counter() + duration
    i = 0
    while i < max_count and time.perf_counter() < deadline:
        body = bodies[i % len(bodies)]
        t0 = time.perf_counter()
        fn(body)
        out.append((time.perf_counter() - t0) * 1000)
        i += 1
    return out


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    from scheduler_extender import serve
    from scheduler_extender.app import EXTENSION
    from scheduler_extender.protocol import parse_args
    from tests.support.settings import load_settings

    settings = load_settings(spec["flags"], {})
    app = serve.create_app(settings, serve.open_inputs(settings))
    extender = app.extensions[EXTENSION]
    client = app.test_client()
    data = Spec(**spec["dataset"])

    started = time.perf_counter()
    paths = hot_paths(data)
    for group in ([p for p in paths if not p.endswith(".parquet")], [p for p in paths if p.endswith(".parquet")]):
        answer = client.post("/prioritize", data=pod_body(group, ["node-0"]), content_type="application/json")
        assert answer.status_code == 200, answer.data[:300]
    missing = paths
    while missing and time.perf_counter() - started < spec["warm_timeout"]:
        time.sleep(0.2)
        still = []
        for i in range(0, len(missing), 60):
            query = urllib.parse.urlencode([("path", p) for p in missing[i:i + 60]] + [("node", "node-0")])
            report = client.get(f"/locality?{query}").get_json()
            still += [e["path"] for e in report["paths"] if not e["known"]]
        missing = still
    if missing:
        raise RuntimeError(f"in-process index not warm: {len(missing)} missing")
    warm_s = time.perf_counter() - started

    results = []
    for cell in spec["cells"]:
        bodies = cell_bodies(data, cell["mode"], cell["n"], cell["workload"])
        verb = getattr(extender, cell["verb"])

        def handler(body: bytes, verb: Callable[[Any], bytes] = verb) -> bytes:
            return verb(parse_args(body))

        def flask(body: bytes, path: str = "/" + cell["verb"]) -> bytes:
            answer = client.post(path, data=body, content_type="application/json")
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.data[:200]!r}")
            return answer.data

        handler_ms = _time_loop(handler, bodies, spec["duration"], spec["max_count"])
        flask_ms = _time_loop(flask, bodies, spec["duration"] / 2, spec["max_count"])
        row = {**cell, "handler": summary(handler_ms), "flask": summary(flask_ms)}
        if spec.get("profile_dir"):
            row["profile"] = _profile(handler, bodies, spec["profile_count"], Path(spec["profile_dir"]), cell)
        results.append(row)
    return {"warm_s": warm_s, "cells": results}


def _profile(fn: Callable[[bytes], Any], bodies: list[bytes], count: int, out_dir: Path, cell: dict) -> str:
    """cProfile of `count` handler calls; the top of the cumulative list goes to a file; returns its name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = cProfile.Profile()
    profile.enable()
    for i in range(count):
        fn(bodies[i % len(bodies)])
    profile.disable()
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    name = f"{cell['verb']}-{cell['mode']}-{cell['n']}-{cell['workload']}.txt"
    (out_dir / name).write_text(f"{count} calls of the handler (parse, verb, render), cProfile:\n{text.getvalue()}")
    return name


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(worker(spec)))


if __name__ == "__main__":
    main()
