"""Where things are, and the environment of the processes the benchmarks start.

The benchmarks reuse the tests' fakes and harness from the `tests.support` package, importable like
`benchmarks` itself from the repository root (`python -m benchmarks`). Child processes get the repository
root on PYTHONPATH, so `python -m scheduler_extender` and `python -m benchmarks.<tool>` import this checkout
whatever the interpreter.
"""
from __future__ import annotations

import os

from tests.support.paths import DATA, ROOT

__all__ = ["DATA", "ROOT", "child_env", "use_child_env"]


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every process the benchmarks start: this checkout importable, output unbuffered."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else ""),
            "PYTHONUNBUFFERED": "1", **extra}


def use_child_env() -> None:
    """Make this process's own environment the child environment (tests/support/served.py copies os.environ)."""
    os.environ.update(child_env())
