"""The Alluxio 3 ring's cost: one owner lookup per file (murmur3 of its UFS path, a bisect), the ring build, and
a fetch of a directory from a listing file, at realistic and extreme path lengths and ring sizes.

    python -m benchmarks.alluxio3_ring                # about a minute
    python -m benchmarks.alluxio3_ring --repeats 3

Prints a Markdown table and writes OUT/alluxio3_ring.json (OUT: benchmarks/results-alluxio3). Each figure is the
median of --repeats timed runs in this one process; nothing is asserted.
"""
from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scheduler_extender.locations.alluxio3 import Alluxio3Source
from scheduler_extender.locations.alluxio3_listing import ListingFile
from scheduler_extender.locations.alluxio3_membership import Member, StaticMembership
from scheduler_extender.locations.alluxio3_ring import Ring, WorkerIdentity

from . import machine
from .env import ROOT

OUT = ROOT / "benchmarks" / "results-alluxio3"
PATHS = {"60 B": 60, "140 B": 140, "1 KiB": 1024, "8 KiB": 8192}
"""UFS path lengths: a short key, a typical partition file (s3://bucket/warehouse/table/dt=.../part-...parquet),
long and very long paths."""


def members(count: int) -> tuple[Member, ...]:
    return tuple(Member(WorkerIdentity(uuid.UUID(int=i + 1).bytes, 1), f"10.0.{i // 250}.{i % 250 + 1}")
                 for i in range(count))


def keys(length: int, count: int) -> list[str]:
    prefix = "s3://bucket/warehouse/sales/dt=2026-11-30/part-"
    return [(prefix + f"{i:08d}-" + "x" * length)[:length - 8] + f"{i:08d}" for i in range(count)]


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def lookups(repeats: int) -> list[dict[str, Any]]:
    rows = []
    for workers in (10, 100, 1000):
        ring = Ring(members(workers), 5)
        for label, length in PATHS.items():
            batch = keys(length, 20_000 if length <= 1024 else 4_000)
            seconds = median_seconds(functools.partial(_look_up, ring, batch), repeats)
            rows.append({"workers": workers, "path": label, "us_per_lookup": round(seconds / len(batch) * 1e6, 2),
                         "lookups_per_s": round(len(batch) / seconds)})
    return rows


def _look_up(ring: Ring[Member], batch: list[str]) -> None:
    for key in batch:
        ring.owner(key)


def builds(repeats: int) -> list[dict[str, Any]]:
    return [{"workers": n, "virtual_nodes": v,
             "ms": round(median_seconds(functools.partial(Ring, members(n), v), repeats) * 1e3, 2)}
            for n, v in ((100, 5), (1000, 5), (1000, 64))]


def fetch(repeats: int) -> dict[str, Any]:
    """A directory of 10,000 files from a listing file, over 100 workers: what one index refresh of it costs."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "listing.json"
        listing.write_text(json.dumps([{"mType": "file", "mPath": f"/sales/part-{i:05d}.parquet",
                                        "mUfsPath": f"s3://bucket/warehouse/sales/part-{i:05d}.parquet",
                                        "mLength": 128 << 20} for i in range(10_000)]))
        workers = Path(tmp) / "workers"
        workers.write_text("".join(f"10.0.0.{i}\n" for i in range(100)))
        source = Alluxio3Source(StaticMembership(workers), ListingFile(listing), virtual_nodes=5)
        seconds = median_seconds(lambda: source.fetch("/sales"), repeats)
    return {"files": 10_000, "workers": 100, "ms": round(seconds * 1e3, 1),
            "us_per_file": round(seconds / 1e4 * 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.alluxio3_ring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine.describe(), "lookup": lookups(args.repeats),
                               "build": builds(args.repeats),
               "fetch": fetch(args.repeats)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "alluxio3_ring.json").write_text(json.dumps(results, indent=2) + "\n")
    print("| workers | UFS path | µs per lookup | lookups/s |\n|---|---|---|---|")
    for row in results["lookup"]:
        print(f"| {row['workers']} | {row['path']} | {row['us_per_lookup']} | {row['lookups_per_s']:,} |")
    print("\n| ring build | ms |\n|---|---|")
    for row in results["build"]:
        print(f"| {row['workers']} workers x {row['virtual_nodes']} virtual nodes | {row['ms']} |")
    f = results["fetch"]
    print(f"\nfetch of a directory of {f['files']:,} files over {f['workers']} workers (listing file): {f['ms']} ms, "
          f"{f['us_per_file']} µs a file")


if __name__ == "__main__":
    main()
