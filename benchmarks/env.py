"""Where things are, and the import path the benchmarks need.

tests/ is not a package: its modules import each other as top-level modules (`fake_alluxio` imports
`loopback`, tests/e2e's modules import `served` and `fake_alluxio`), the way pytest puts each test
directory on sys.path. So to reuse the fake Alluxio, the served-extender helper and the e2e control plane
as they are (without copying or editing them), their directories go on sys.path here, once, before any
of them is imported. Child processes get the repository root on PYTHONPATH, so `python -m
scheduler_extender` and `python -m benchmarks.<tool>` import this checkout whatever the interpreter.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
E2E = TESTS / "e2e"
DATA = TESTS / "data"

for _dir in (E2E, TESTS):
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every process the benchmarks start: this checkout importable, output unbuffered."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
            "PYTHONUNBUFFERED": "1", **extra}


def use_child_env() -> None:
    """Make this process's own environment the child environment (tests/served.py copies os.environ)."""
    os.environ.update(child_env())
