"""The Go floor (benchmarks/floor/main.go): built once with the local Go toolchain by
benchmarks/floor/build.sh (cached by its source and the Go version; .ci/run builds it ahead), and served
on loopback like the other servers."""
from __future__ import annotations

import json
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

from tests.support.served import Served

from .env import ROOT
from .servers import command


@lru_cache(maxsize=1)
def build() -> Path:
    """The floor binary, built now if this source has not been built before (about 20 s cold)."""
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "floor" / "build.sh")], capture_output=True,
                          text=True, check=True, timeout=900)
    return Path(done.stdout.strip().splitlines()[-1])


def serve(scores: dict[str, dict[str, int]], tmp: Path) -> Served:
    """The floor serving on a free loopback port, answering `scores` (by paths annotation, then node)."""
    table = tmp / "floor-scores.json"
    table.write_text(json.dumps(scores))
    return command([str(build()), "-scores", str(table)], ready=False)


def decode_times(body: bytes, tmp: Path, count: int) -> dict[str, Any]:
    """Go decoding `body` into the floor's typed ExtenderArgs (a json.Decoder): n, p50_ms, p99_ms, min_ms."""
    path = tmp / "floor-decode-body.json"
    path.write_bytes(body)
    done = subprocess.run([str(build()), "-decode", str(path), "-count", str(count)], capture_output=True,
                          text=True, check=True, timeout=600)
    return dict(json.loads(done.stdout))
