"""The shapes the comparison runs by default (issue 24's): 75% / 25% / 0 of the input over 3 of the nodes with 3
executors; the same input read by 5 executors (more than the caching nodes, on 4 nodes); and by 3 executors large
enough that only one fits a node (capacity forces them to spread)."""
from __future__ import annotations

import re
from collections.abc import Sequence

from tests.cluster.comparison import Plan, Shape

RATES = ("200mbit", "50mbit")
"""Each node's link, each way (tc's units): at 200mbit (25 MB/s) a remote read costs several times a local one,
which runs at memory speed here; at 50mbit the network bounds the job."""
_UNITS = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def parse_size(text: str) -> int:
    found = re.fullmatch(r"(\d+)(KiB|MiB|GiB)", text)
    if not found:
        raise ValueError(f"a size is like 1536MiB or 2GiB, not {text!r}")
    return int(found[1]) * _UNITS[found[2]]


def default_plan(size: int, rates: Sequence[str], sparks: Sequence[str], rounds: int) -> Plan:
    """The skewed shape at each rate, with every Spark version at the first rate and the first version at the
    others; the five-executor and the spreading shapes at the first rate with the first version. All read one
    dataset, written once."""
    skewed = Shape("75/25/0, 3 executors", (0.75, 0.25, 0.0), executors=3, total_bytes=size, data="75-25-0")
    five = Shape("75/25/0, 5 executors", (0.75, 0.25, 0.0), executors=5, total_bytes=size, data="75-25-0")
    spread = Shape("75/25/0, 3 executors of 2 CPUs", (0.75, 0.25, 0.0), executors=3, total_bytes=size,
                   cores_request="2", data="75-25-0")
    runs = [(skewed, rate, sparks if i == 0 else sparks[:1]) for i, rate in enumerate(rates)]
    return Plan(runs=[*runs, *((shape, rates[0], sparks[:1]) for shape in (five, spread))], rounds=rounds)
