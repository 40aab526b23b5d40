"""Sections `http` (the real server over HTTP), `inprocess` (the same bodies without HTTP) and `naive`
(the index-less peer over HTTP, same gunicorn settings)."""
from __future__ import annotations

from typing import Any

from . import machine, servers
from .common import Cell, Context, cells, check_answer, loadgen, run_tool
from .dataset import hot_paths, workload_paths
from .stats import bucket_quantile, histogram_delta, summary

BUCKETS = "scheduler_extender_request_duration_seconds_bucket"

THROUGHPUT_CONNECTIONS = 4
SERVER_FLAGS = ["--index-ttl", "1h", "--max-staleness", "2h"]
"""Long TTL: the window measures the index hit path; refresh-ahead's cost is measured by the sync section."""
SERVER_NOTE = ("index warmed with every path of the workloads before measuring; --index-ttl 1h so no "
               "refresh-ahead runs in the window (its cost: sync section); other settings default (4 gunicorn "
               "threads, 50 ms budget)")


def _measure_cell(ctx: Context, server: Any, cell: Cell, *, latency_duration: float, latency_count: int,
                  throughput_duration: float | None, warmup: int, histogram: bool) -> dict[str, Any]:
    worker = server.worker_pid()
    window = machine.CpuWindow()
    before = servers.scrape(server) if histogram else None
    cpu0 = machine.cpu_seconds(worker)
    lat = loadgen(ctx, server.port, cell, kind="latency", duration=latency_duration, max_count=latency_count,
                  warmup=warmup)
    cpu1 = machine.cpu_seconds(worker)
    row: dict[str, Any] = {**cell.as_dict(), "latency": summary(lat.pop("latencies_ms")),
                           "latency_run": {k: lat[k] for k in ("errors", "error_samples", "elapsed_s", "reconnects",
                                                               "body_bytes")},
                           "server_cpu_ms_per_request": (cpu1 - cpu0) * 1000 / lat["count"] if lat["count"] else None}
    if before is not None:
        after = servers.scrape(server)
        delta = histogram_delta(before.by_label(BUCKETS, "le", verb=cell.verb),
                                after.by_label(BUCKETS, "le", verb=cell.verb))
        row["server_histogram"] = {"p50_le_s": bucket_quantile(delta, 0.5), "p99_le_s": bucket_quantile(delta, 0.99),
                                   "p999_le_s": bucket_quantile(delta, 0.999), "count": delta.get("+Inf", 0)}
    if throughput_duration:
        thr = loadgen(ctx, server.port, cell, kind="throughput", duration=throughput_duration,
                      max_count=1_000_000, connections=THROUGHPUT_CONNECTIONS, warmup=1)
        row["throughput"] = {"rps": thr["throughput_rps"], "count": thr["count"], "errors": thr["errors"],
                             "connections": thr["connections"], "elapsed_s": thr["elapsed_s"],
                             "latency": summary(thr["latencies_ms"])}
    row["answer"] = check_answer(ctx, server, cell)
    row["cpu"] = window.close()
    return row


def http(ctx: Context) -> dict[str, Any]:
    with servers.extender(ctx.fake.url, *SERVER_FLAGS) as server:
        warm = servers.warm(server, hot_paths(ctx.spec), timeout=600)
        ctx.log(f"  warm: {warm['paths']} paths in {warm['seconds']:.1f}s")
        rows = []
        for cell in cells(ctx.nodes):
            # Every pod once before timing: a path's first request with a new candidate list builds its
            # node table (tens of ms for a directory without the Kubernetes watch), then never again.
            row = _measure_cell(ctx, server, cell, latency_duration=ctx.duration, latency_count=ctx.max_count,
                                throughput_duration=ctx.duration / 2,
                                warmup=len(workload_paths(ctx.spec, cell.workload)), histogram=True)
            rows.append(row)
            ctx.log(f"  {cell.key}: p50 {row['latency']['p50']:.2f} p99 {row['latency']['p99']:.2f} ms "
                    f"(n={row['latency']['n']}), {row['throughput']['rps']:.0f} req/s, answer {row['answer']}, "
                    f"other CPU {row['cpu']['other_cores']}")
        return {"server": "python -m scheduler_extender serve " + " ".join(SERVER_FLAGS), "note": SERVER_NOTE,
                "warm": warm, "throughput_connections": THROUGHPUT_CONNECTIONS, "cells": rows}


def naive(ctx: Context) -> dict[str, Any]:
    with servers.naive(ctx.fake.url) as server:
        rows = []
        for cell in cells(ctx.nodes, verbs=("prioritize",)):
            latency_duration = ctx.duration if cell.workload == "dir" else ctx.duration / 2
            thr = ctx.duration if (cell.n == 1000 or ctx.quick) else None
            row = _measure_cell(ctx, server, cell, latency_duration=latency_duration,
                                latency_count=30 if cell.workload == "dir" else 500, throughput_duration=thr,
                                warmup=1, histogram=False)
            rows.append(row)
            ctx.log(f"  naive {cell.key}: p50 {row['latency']['p50']:.1f} ms (n={row['latency']['n']})"
                    + (f", {row['throughput']['rps']:.2f} req/s" if "throughput" in row else "")
                    + f", answer {row['answer']}")
        return {"server": "python -m benchmarks.naive (gunicorn, scheduler_extender.cli.gunicorn_options)",
                "note": "no index: one recursive list-status per path per request, paths fetched one after another",
                "cells": rows}


def inprocess(ctx: Context) -> dict[str, Any]:
    flags = ["--alluxio-proxy", ctx.fake.url, *SERVER_FLAGS]
    spec: dict[str, Any] = {"flags": flags, "dataset": ctx.spec.__dict__, "warm_timeout": 600,
            "duration": max(ctx.duration / 2, 0.3), "max_count": ctx.max_count,
            "cells": [c.as_dict() for c in cells(ctx.nodes)],
            "profile_dir": str(ctx.out / "profiles") if ctx.profile else None,
            "profile_count": 50 if ctx.quick else 300}
    window = machine.CpuWindow()
    result = run_tool("inprocess", spec, ctx.tmp, timeout=len(spec["cells"]) * (ctx.duration * 3 + 60) + 900,
                      name="inprocess")
    result["cpu"] = window.close()
    for row in result["cells"]:
        ctx.log(f"  in-process {row['verb']}/{row['mode']}/{row['n']}/{row['workload']}: handler p50 "
                f"{row['handler']['p50']:.3f} p99 {row['handler']['p99']:.3f} ms, "
                f"flask p50 {row['flask']['p50']:.3f} ms")
    return result
