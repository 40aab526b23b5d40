"""What the sections share: the run's context, cells, and starting the tool processes."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.bodies import scores_of

from . import env
from .bodies import cell_bodies
from .dataset import Spec, candidates, workload_paths
from .env import ROOT


@dataclass
class Context:
    spec: Spec
    fake: Any
    truth: Any
    nodes: list[int]
    duration: float
    quick: bool
    out: Path
    tmp: Path
    profile: bool = False
    log: Any = print
    volcano_pods: int | None = None
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def max_count(self) -> int:
        return 2000 if self.quick else 20000


@dataclass(frozen=True)
class Cell:
    verb: str
    mode: str
    n: int
    workload: str

    def as_dict(self) -> dict[str, Any]:
        return {"verb": self.verb, "mode": self.mode, "n": self.n, "workload": self.workload}

    @property
    def key(self) -> str:
        return f"{self.verb}/{self.mode}/{self.n}/{self.workload}"


def cells(nodes: list[int], verbs: tuple[str, ...] = ("prioritize", "filter")) -> list[Cell]:
    return [Cell(v, m, n, w) for v in verbs for m in ("names", "nodes") for n in nodes for w in ("dir", "paths20")]


def run_tool(module: str, spec: dict[str, Any], tmp: Path, timeout: float, name: str) -> dict[str, Any]:
    """Run `python -m benchmarks.<module> SPEC OUT` to completion (bounded by `timeout`); its JSON result."""
    handle, spec_path = tempfile.mkstemp(dir=tmp, prefix=f"{name}-", suffix=".json")
    Path(spec_path).write_text(json.dumps(spec))
    out_path = Path(spec_path).with_suffix(".out.json")
    log_path = Path(spec_path).with_suffix(".log")
    with open(log_path, "wb") as log:
        try:
            done = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", spec_path, str(out_path)],
                                  cwd=ROOT, env=env.child_env(), stdout=log, stderr=subprocess.STDOUT,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"benchmarks.{module} ({name}) ran over {timeout:.0f}s; log {log_path}") from None
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.{module} ({name}) exited {done.returncode}:\n"
                           + log_path.read_text(errors="replace")[-3000:])
    return json.loads(out_path.read_text())


def loadgen(ctx: Context, port: int, cell: Cell, *, kind: str, duration: float, max_count: int,
            connections: int = 1, warmup: int = 3, rate: float | None = None, pods: int | None = None,
            body_files: list[Path] | None = None) -> dict[str, Any]:
    """Run the load generator on `cell`'s bodies (the first `pods` of them if given), or on the bodies in
    `body_files`, POSTed to the cell's verb."""
    spec: dict[str, Any] = {"port": port, "path": "/" + cell.verb, "kind": kind, "duration": duration,
                            "max_count": max_count, "connections": connections, "warmup": warmup, "rate": rate,
                            "pods": pods}
    if body_files is None:
        spec["cell"] = {"spec": ctx.spec.__dict__, **cell.as_dict()}
    else:
        spec["body_files"] = [str(path) for path in body_files]
    return run_tool("loadgen", spec, ctx.tmp, timeout=duration * 4 + 300, name=f"loadgen-{kind}")


def expected_scores(ctx: Context, cell: Cell, pod: int = 0) -> list[int]:
    """What /prioritize must answer for the cell's first pod, from the dataset's truth."""
    from scheduler_extender import scoring
    names = candidates(ctx.spec, cell.n)
    return scoring.scores(names, ctx.truth.of(workload_paths(ctx.spec, cell.workload)[pod]))


def check_answer(ctx: Context, server: Any, cell: Cell, body: bytes | None = None) -> str:
    """Post the cell's first body (or `body`, for its first pod) once and compare with the truth: 'ok' or
    what differs."""
    body = body or cell_bodies(ctx.spec, cell.mode, cell.n, cell.workload)[0]
    status, answer = post(server.url + "/" + cell.verb, body)
    if status != 200:
        return f"HTTP {status}"
    if cell.verb == "prioritize":
        try:
            got = scores_of(answer, candidates(ctx.spec, cell.n))
        except AssertionError as problem:
            return str(problem)
        want = expected_scores(ctx, cell)
        if got != want:
            wrong = sum(g != w for g, w in zip(got, want, strict=True))
            return f"{wrong} of {len(want)} scores differ from the dataset's"
        if not any(got):
            return "every score 0"
        return "ok"
    kept = answer["NodeNames"] if cell.mode == "names" else answer["Nodes"]["items"]
    return "ok" if len(kept) == cell.n and not answer["FailedNodes"] else "filter dropped nodes"


def post(url: str, body: bytes, timeout: float = 300) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read()[:300]


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - t0
