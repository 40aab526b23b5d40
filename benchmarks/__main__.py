"""The benchmark runner: every section in one run, one Markdown and one JSON table.

    python -m benchmarks                 # full size: 1,000,000 blocks, 100 / 1,000 / 5,000 / 10,000 nodes
    python -m benchmarks --quick         # smoke run: 10,000 blocks, 100 / 1,000 nodes, short windows
    python -m benchmarks --sections http,naive --nodes 1000 --duration 10

Writes OUT/results.json and OUT/results.md (OUT defaults to benchmarks/results, or benchmarks/results-quick
with --quick). Sections: http (the served extender over loopback), inprocess (the same bodies without HTTP),
naive (the index-less peer), memory and sync (one 1M-block index load of a fresh server), refresh (paced calls
while a 100,000-block directory refreshes every 5 s, against no refresh), floor (against a minimal Go
extender), slow-clients (100 stalled clients during calls), scheduler (pods/s through a real
kube-scheduler, with the extender, without it and with the Go floor as its extender, at 1,000 and 5,000 nodes;
needs the e2e control plane binaries), body (the worker's peak RSS for one 200 MiB body), webhook (POST /mutate,
the admission webhook, with every node of a watched cluster as the candidates), volcano (pods/s through a
real vc-scheduler, with and without the extender plugin; needs tests/volcano/build-volcano.sh's build too),
cluster (real Spark executors reading through real Alluxio workers in network namespaces, default
kube-scheduler against ours: tests/cluster/; needs root; run only when named).

    python -m benchmarks cluster         # sections may also be named as arguments
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import (
    body_bench,
    cluster_bench,
    env,
    floor_bench,
    index_bench,
    machine,
    refresh_bench,
    report,
    scheduler_bench,
    served_bench,
    slow_clients,
    volcano_bench,
    webhook_bench,
)
from .common import Context
from .dataset import FULL, QUICK

SECTIONS: dict[str, Callable[[Context], Any]] = {
    "http": served_bench.http, "inprocess": served_bench.inprocess, "naive": served_bench.naive,
    "memory": index_bench.memory, "sync": index_bench.sync, "refresh": refresh_bench.refresh,
    "floor": floor_bench.floor_section, "slow-clients": slow_clients.slow_clients,
    "scheduler": scheduler_bench.scheduler, "body": body_bench.body, "webhook": webhook_bench.webhook,
    "volcano": volcano_bench.volcano, "cluster": cluster_bench.cluster,
}
ON_REQUEST = ("cluster",)
"""Sections run only when named: the one-box cluster needs root and takes about 45 minutes (50 real Spark jobs)."""
NEEDS_DATASET = {"http", "inprocess", "naive", "memory", "sync", "refresh", "floor", "slow-clients", "webhook"}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small dataset and short windows (a smoke run)")
    parser.add_argument("named", nargs="*", metavar="SECTION", help="sections to run (as --sections)")
    parser.add_argument("--sections", default=",".join(s for s in SECTIONS if s not in ON_REQUEST),
                        help=f"comma-separated, from {', '.join(SECTIONS)} (default: all but "
                             f"{', '.join(ON_REQUEST)})")
    parser.add_argument("--nodes", help="candidate node counts (default 100,1000,5000,10000; quick 100,1000)")
    parser.add_argument("--duration", type=float, help="seconds per latency window (default 5; quick 1)")
    parser.add_argument("--out", type=Path, help="output directory")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process handler per cell")
    parser.add_argument("--volcano-pods", type=int,
                        help="executor pods per round of the volcano section (default: as many as nodes, 1,000; quick "
                             "100), for a reduced run at 1,000 nodes")
    args = parser.parse_args(argv)
    args.sections = args.named or [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    default_nodes = "100,1000" if args.quick else "100,1000,5000,10000"
    try:
        args.nodes = [int(n) for n in (args.nodes or default_nodes).split(",")]
    except ValueError:
        parser.error(f"--nodes takes comma-separated integers, not {args.nodes!r}")
    args.duration = args.duration or (1.0 if args.quick else 5.0)
    args.out = args.out or env.ROOT / "benchmarks" / ("results-quick" if args.quick else "results")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    spec = QUICK if args.quick else FULL
    results: dict[str, Any] = {"machine": machine.describe(), "dataset": spec.as_dict(), "nodes": args.nodes,
                               "duration_s": args.duration, "quick": args.quick, "sections": {}, "errors": {}}
    tmp = Path(tempfile.mkdtemp(prefix="benchmarks-"))
    fake = None
    try:
        truth = None
        if NEEDS_DATASET & set(args.sections):
            from . import fake as fake_module
            print(f"loading the fake Alluxio with {spec.blocks:,} blocks over {spec.files:,} files", flush=True)
            fake, truth, loaded = fake_module.load(spec)
            results["fake_alluxio"] = loaded
            print(f"  loaded in {loaded['build_s'] + loaded['encode_files_s'] + loaded['join_directories_s']:.0f}s",
                  flush=True)
        ctx = Context(spec=spec, fake=fake, truth=truth, nodes=args.nodes, duration=args.duration, quick=args.quick,
                      out=args.out, tmp=tmp, profile=args.profile, log=lambda line: print(line, flush=True),
                      volcano_pods=args.volcano_pods)
        for name in args.sections:
            print(f"[{name}]", flush=True)
            started = time.perf_counter()
            try:
                results["sections"][name] = SECTIONS[name](ctx)
            except Exception:  # one section failing must not lose the others' figures
                results["errors"][name] = traceback.format_exc()
                print(results["errors"][name], file=sys.stderr, flush=True)
            print(f"  ({time.perf_counter() - started:.0f}s)", flush=True)
    finally:
        if fake is not None:
            fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["loadavg_at_end"] = machine.loadavg()
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.md").write_text(report.markdown(results))
    print(f"wrote {args.out / 'results.md'} and results.json", flush=True)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
