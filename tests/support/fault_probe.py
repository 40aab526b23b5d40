"""What the fault suites (tests/test_faults.py, tests/test_sync_faults.py) share: a probe asking the served extender
for one pod's scores over and over, timing each answer, and the figures it records (worst answer, recovery time),
printed after the run and, with SCHEDULER_EXTENDER_FAULT_FIGURES=FILE, written there as JSON."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .bodies import scores_of
from .fake_alluxio import Block, FakeAlluxio, Loc
from .figures import report
from .served import Served
from .waiting import eventually, throughout

M = 1 << 20
NODES = ["n1", "n2", "n3"]
HEALTHY = [10, 5, 0]
"""Scores of NODES for DATA: n1 caches 64 MiB of it, n2 32 MiB, n3 nothing."""
NEUTRAL = [0, 0, 0]
DATA, WARM = "/data/a", "/data/warm"
NEVER_BLOCKED = 0.5
"""Seconds an answer may take at most: the 50 ms budget plus a generous allowance for a shared machine.
The real figures are recorded."""


@dataclass
class Figure:
    fault: str
    answers: int = 0
    worst_answer_ms: float = 0.0
    recovery_s: float | None = None
    notes: list[str] = field(default_factory=list)


def report_figures(found: list[Figure]) -> None:
    """Print the figures after the run (and write them to $SCHEDULER_EXTENDER_FAULT_FIGURES)."""
    for f in found:
        recovery = "n/a" if f.recovery_s is None else f"{f.recovery_s:.2f}s"
        report("fault figures: worst answer, recovery after the fault cleared",
               "; ".join([f"{f.fault}: {f.answers} answers, worst {f.worst_answer_ms:.1f} ms, recovery {recovery}",
                          *f.notes]))
    out = os.environ.get("SCHEDULER_EXTENDER_FAULT_FIGURES")
    if out:
        Path(out).write_text(json.dumps([asdict(f) for f in found], indent=2))


def alluxio_data(fake: FakeAlluxio) -> None:
    """DATA and WARM, each cached 64 MiB on n1 and 32 MiB on n2."""
    fake.add_file(f"{DATA}/f1", Block(64 * M, Loc("n1")), Block(32 * M, Loc("n2")))
    fake.add_file(f"{WARM}/f1", Block(64 * M, Loc("n1")), Block(32 * M, Loc("n2")))


def serve(proxy: FakeAlluxio, *flags: str, **kw: Any) -> Served:
    """A 1 s index TTL, so that warm entries go stale during a fault and are served as last good data."""
    return Served("--alluxio-proxy", proxy.url, "--index-ttl", "1s", "--max-staleness", "1m",
                  "--log-level", "error", *flags, **kw)


class Probe:
    """Asks the extender for one pod's scores over and over, timing every answer into a Figure; every answer
    must come within NEVER_BLOCKED."""

    def __init__(self, served: Served, figure: Figure, body: dict[str, Any]) -> None:
        self.served, self.figure, self.body = served, figure, body

    def ask(self) -> list[int]:
        start = time.perf_counter()
        status, ranking = self.served.post("/prioritize", self.body)
        took = time.perf_counter() - start
        self.figure.answers += 1
        self.figure.worst_answer_ms = max(self.figure.worst_answer_ms, took * 1000)
        assert status == 200, ranking
        assert took < NEVER_BLOCKED, f"answer took {took:.3f}s"
        return scores_of(ranking, self.body["NodeNames"])

    def hold(self, seconds: float, expected: list[int]) -> None:
        """Every answer for `seconds` is `expected`."""
        throughout(lambda: self.ask() == expected, seconds, what=f"scores {expected}")

    def until(self, expected: list[int], since: float, timeout: float = 20.0) -> float:
        """Seconds from `since` (a time.monotonic()) until the answer is `expected`."""
        eventually(lambda: self.ask() == expected, timeout - (time.monotonic() - since), what=f"scores {expected}")
        return time.monotonic() - since

    def recover(self, expected: list[int], since: float) -> None:
        """`until`, recorded as the figure's recovery time."""
        self.figure.recovery_s = self.until(expected, since)
