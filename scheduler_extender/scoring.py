"""Per-node cached bytes to extender scores 0..10. Pure and deterministic."""
from __future__ import annotations

from typing import Mapping, Sequence

from .protocol import MAX_SCORE


def scores(candidates: Sequence[str], node_bytes: Mapping[str, int]) -> list[int]:
    """round(10 * bytes / max bytes over the candidates), at least 1 where a node holds any byte.

    Rounding is half-up in integer arithmetic, so equal inputs give equal scores on every platform.
    The floor of 1 keeps a node with a little data ahead of one with none.
    """
    held = [node_bytes.get(name, 0) for name in candidates]
    best = max(held, default=0)
    if best <= 0:
        return [0] * len(held)
    return [max(1, (2 * MAX_SCORE * b + best) // (2 * best)) if b > 0 else 0 for b in held]
