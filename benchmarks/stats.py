"""Percentiles and the server's own latency histogram."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def summary(latencies_ms: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, p50, p90, p99, p99.9 (nearest rank) and max, in milliseconds."""
    values = sorted(latencies_ms)
    n = len(values)
    if not n:
        return {"n": 0, "mean": None, "p50": None, "p90": None, "p99": None, "p999": None, "max": None}

    def rank(q: float) -> float:
        return values[min(n - 1, max(0, math.ceil(q * n) - 1))]

    return {"n": n, "mean": sum(values) / n, "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99),
            "p999": rank(0.999), "max": values[-1]}


def histogram_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """Bucket counts (le -> cumulative count) of the requests between two scrapes."""
    return {le: after.get(le, 0.0) - before.get(le, 0.0) for le in after}


def bucket_quantile(buckets: Mapping[str, float], q: float) -> str | None:
    """The smallest bucket bound holding the q quantile (an upper bound of it), as text: '0.002' or '+Inf'."""
    items = sorted(((math.inf if le == "+Inf" else float(le)), count) for le, count in buckets.items())
    if not items or items[-1][1] <= 0:
        return None
    total = items[-1][1]
    for bound, count in items:
        if count >= q * total:
            return "+Inf" if bound == math.inf else f"{bound:g}"
    return "+Inf"


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None
