"""Per-node cached bytes to extender scores 0..10. Pure and deterministic."""
from __future__ import annotations

from itertools import compress
from typing import Mapping, Sequence

from .protocol import MAX_SCORE


def scores(candidates: Sequence[str], node_bytes: Mapping[str, int]) -> list[int]:
    """round(10 * bytes / max bytes over the candidates), at least 1 where a node holds any byte.

    Rounding is half-up in integer arithmetic, so equal inputs give equal scores on every platform.
    The floor of 1 keeps a node with a little data ahead of one with none.
    """
    held = list(map(node_bytes.get, candidates))
    best = max(filter(None, held), default=0)
    scored = [0] * len(held)
    if best > 0:
        double_best = 2 * best
        for i in compress(range(len(held)), held):  # Python work only for nodes that hold bytes
            scored[i] = (2 * MAX_SCORE * held[i] + double_best // 2) // double_best or 1
    return scored
