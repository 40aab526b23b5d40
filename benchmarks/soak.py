"""The soak: minutes of scheduling load whose paths churn far beyond the index size; do RSS, threads and open
file descriptors of the served extender's worker stay flat?

    python -m benchmarks.soak                        # 5 minutes, 2 x 40 requests/s, 20,000 paths, index of 1,000
    python -m benchmarks.soak --minutes 1 --rate 50

The fake Alluxio holds --paths files, each one 64 MiB block on one to three of 100 nodes. The real
`scheduler-extender serve` runs with --index-size far below that and a short --index-ttl, so entries are
evicted, expire and are refreshed all the time. Two load generator processes (benchmarks/loadgen.py,
paced) send /prioritize for pods that each read 4 paths drawn at random from all of them (and a hot
path every pod shares), with 100 candidate nodes by name. Every --every seconds the worker's RSS,
threads and open descriptors, and the index's entries and fetch counts from /metrics, are sampled.

Writes OUT/soak.json and prints the samples; nothing is asserted, the figures are for reading.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.fake_alluxio import Block, FakeAlluxio, Loc

from . import env, machine
from .bodies import pod_body
from .common import run_tool
from .fake import IndexedFakeAlluxio
from .servers import extender, scrape
from .stats import summary

OUT = env.ROOT / "benchmarks" / "results-soak"
NODES = [f"node-{i}" for i in range(100)]
HOT = "/soak/hot"


def dataset(fake: FakeAlluxio, paths: int, rng: random.Random) -> list[str]:
    names = [f"/soak/d{i % 100}/part-{i:06d}" for i in range(paths)]
    for name in names:
        fake.add_file(name, Block(64 << 20, *[Loc(node) for node in rng.sample(NODES, rng.randint(1, 3))]))
    fake.add_file(f"{HOT}/part-0", Block(64 << 20, Loc(NODES[0])))
    return names


def bodies(names: list[str], count: int, rng: random.Random, tmp: Path) -> list[str]:
    """`count` request bodies in files (the load generator reads them): 4 random paths and the hot one."""
    files = []
    for i in range(count):
        path = tmp / f"body-{i}.json"
        path.write_bytes(pod_body([HOT, *rng.sample(names, 4)], NODES, name=f"soak-exec-{i}"))
        files.append(str(path))
    return files


def sample(server: Any, pid: int, started: float) -> dict[str, Any]:
    samples = scrape(server)
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {
        "t_s": round(time.monotonic() - started, 1),
        "rss_mib": round(machine.status_kib(pid, "VmRSS") / 1024, 1),
        "threads": int(next(line.split()[1] for line in status if line.startswith("Threads:"))),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "index_entries": samples.sum("scheduler_extender_index_entries"),
        "fetches": samples.sum("scheduler_extender_index_refreshes_total"),
        "requests": samples.sum("scheduler_extender_requests_total", verb="prioritize"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the load runs (default 5)")
    parser.add_argument("--rate", type=float, default=40.0, help="requests/s of each of the 2 generators (default 40)")
    parser.add_argument("--paths", type=int, default=20_000, help="distinct paths the pods read (default 20,000)")
    parser.add_argument("--index-size", type=int, default=1000, help="the extender's --index-size (default 1,000)")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples (default 15)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output directory (default {OUT})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    duration = args.minutes * 60
    window = machine.CpuWindow()
    # The benchmarks' fake: answers pre-encoded, TCP_NODELAY (the plain fake's answers wait ~40 ms on a delayed
    # ACK, which would measure the fake), and calls counted instead of recorded in a list that would grow.
    fake = IndexedFakeAlluxio()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        names = dataset(fake, args.paths, rng)
        fake.prepare([HOT])
        fake.start()
        files = bodies(names, 4000, rng, Path(tmp))
        server = extender(fake.url, "--index-size", str(args.index_size), "--index-ttl", "10s",
                          "--max-staleness", "1m", "--log-level", "error")
        with server:
            pid = server.worker_pid()
            started = time.monotonic()
            samples = [sample(server, pid, started)]
            results: list[dict[str, Any]] = []
            generators = [threading.Thread(target=lambda i=i: results.append(run_tool("loadgen", {
                "kind": "paced", "port": server.port, "path": "/prioritize", "rate": args.rate,
                "duration": duration, "max_count": int(args.rate * duration) + 1, "warmup": 0,
                "body_files": files[i::2]}, Path(tmp), duration + 120, f"soak-{i}"))) for i in range(2)]
            for generator in generators:
                generator.start()
            while any(g.is_alive() for g in generators):
                time.sleep(min(args.every, max(0.1, duration + started - time.monotonic())))
                samples.append(sample(server, pid, started))
                print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
            for generator in generators:
                generator.join()
            samples.append(sample(server, pid, started))
            survived = server.worker_pid() == pid
        fake.stop()
    latencies = [x for r in results for x in r["latencies_ms"]]
    warm = next((s for s in samples if s["t_s"] >= 60), samples[-1])
    result = {
        "command": "python -m benchmarks.soak " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine.describe(), "cpu": window.close(),
        "settings": {"minutes": args.minutes, "rate_per_generator": args.rate, "generators": 2,
                     "paths": args.paths, "index_size": args.index_size, "index_ttl_s": 10},
        "answers": len(latencies), "errors": sum(r["errors"] for r in results),
        "error_samples": [e for r in results for e in r["error_samples"]][:5],
        "late": sum(r["late"] for r in results), "latency_ms": summary(latencies), "worker_survived": survived,
        "start": samples[0], "after_1_min": warm, "end": samples[-1],
        "max_rss_mib": max(s["rss_mib"] for s in samples), "samples": samples,
    }
    (args.out / "soak.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("machine", "samples")}, indent=2))
    return 0 if survived and result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
