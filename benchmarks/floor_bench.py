"""Section `floor`: our served extender against the Go floor (floor.py), side by side in one run.

Both serve /prioritize at 1,000 candidate names for the same pods (`dir`, `paths20`), from the same load
generator, alternating, three rounds (two with --quick): throughput over one keep-alive connection (closed
loop, as kube-scheduler calls) and over four, p99 of each. A ratio is the median of the rounds' ratios,
so one round that other load on the machine slowed does not decide it. Every answer of both is checked
against the dataset.
Then Nodes mode: one pod with 1,000 full Node objects (tests/support/full_nodes.py, 18 MB), p50 over HTTP for both,
and Go's typed decode of that body alone (a json.Decoder into the floor's ExtenderArgs: names, addresses).
"""
from __future__ import annotations

import statistics
from typing import Any

from . import floor, servers
from .bodies import full_nodes_body
from .common import Cell, Context, check_answer, expected_scores, loadgen
from .dataset import candidates, workload_paths
from .served_bench import SERVER_FLAGS
from .stats import summary

NAMES = 1000
ROUNDS = 3
CONNECTIONS = 4


def _scores(ctx: Context, workloads: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """What the floor answers: per pod (by its paths annotation), the dataset's scores above 0."""
    names = candidates(ctx.spec, NAMES)
    table: dict[str, dict[str, int]] = {}
    for workload in workloads:
        cell = Cell("prioritize", "names", NAMES, workload)
        for k, paths in enumerate(workload_paths(ctx.spec, workload)):
            table[",".join(paths)] = {n: s for n, s in zip(names, expected_scores(ctx, cell, k), strict=True) if s}
    return table


def _run(ctx: Context, server: Any, cell: Cell, window: float) -> dict[str, Any]:
    one = loadgen(ctx, server.port, cell, kind="latency", duration=window, max_count=ctx.max_count, warmup=20)
    four = loadgen(ctx, server.port, cell, kind="throughput", duration=window, max_count=1_000_000,
                   connections=CONNECTIONS, warmup=5)
    return {"one": {"rps": one["throughput_rps"], "errors": one["errors"], **summary(one["latencies_ms"])},
            "four": {"rps": four["throughput_rps"], "errors": four["errors"], **summary(four["latencies_ms"])}}


def _ratio(ours: list[dict[str, Any]], go: list[dict[str, Any]], conn: str, key: str) -> float | None:
    """Median over the rounds of ours / the floor's."""
    ratios = sorted(mine[conn][key] / theirs[conn][key] for mine, theirs in zip(ours, go, strict=True)
                    if mine[conn][key] is not None and theirs[conn][key])
    return float(statistics.median(ratios)) if ratios else None


def floor_section(ctx: Context) -> dict[str, Any]:
    workloads = ("dir", "paths20")
    window = ctx.duration
    cells = [Cell("prioritize", "names", NAMES, w) for w in workloads]
    with servers.extender(ctx.fake.url, *SERVER_FLAGS) as ours, floor.serve(_scores(ctx, workloads), ctx.tmp) as go:
        warm = servers.warm(ours, [p for w in workloads for pod in workload_paths(ctx.spec, w) for p in pod],
                            timeout=600)
        ctx.log(f"  warm: {warm['paths']} paths in {warm['seconds']:.1f}s")
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {w: {"ours": [], "floor": []} for w in workloads}
        rounds = 2 if ctx.quick else ROUNDS
        for _ in range(rounds):
            for cell in cells:
                for who, server in (("ours", ours), ("floor", go)):
                    row = _run(ctx, server, cell, window)
                    runs[cell.workload][who].append(row)
                    ctx.log(f"  {who} {cell.key}: 1 conn {row['one']['rps']:.0f} req/s p99 {row['one']['p99']:.2f}"
                            f" ms, {CONNECTIONS} conns {row['four']['rps']:.0f} req/s p99 {row['four']['p99']:.2f} ms")
        rows = []
        for cell in cells:
            mine, theirs = runs[cell.workload]["ours"], runs[cell.workload]["floor"]
            rows.append({"workload": cell.workload, "n": NAMES, "runs": runs[cell.workload],
                         "answer": {"ours": check_answer(ctx, ours, cell), "floor": check_answer(ctx, go, cell)},
                         "rps_ratio_one": _ratio(mine, theirs, "one", "rps"),
                         "rps_ratio_four": _ratio(mine, theirs, "four", "rps"),
                         "p99_ratio_one": _ratio(mine, theirs, "one", "p99"),
                         "p99_ratio_four": _ratio(mine, theirs, "four", "p99")})
        nodes = _nodes_mode(ctx, ours, go)
    return {"server": "python -m scheduler_extender serve " + " ".join(SERVER_FLAGS),
            "floor": "benchmarks/floor/main.go (Go standard library)", "rounds": rounds,
            "connections": CONNECTIONS, "window_s": window, "cells": rows, "nodes_mode": nodes}


def _nodes_mode(ctx: Context, ours: Any, go: Any) -> dict[str, Any]:
    """p50 of /prioritize with 1,000 full Node objects, ours and the floor's, and Go's decode alone."""
    count = 6 if ctx.quick else 30
    out: dict[str, Any] = {"nodes": NAMES, "cells": []}
    for workload in ("dir", "paths20"):
        body = full_nodes_body(ctx.spec, NAMES, workload)
        path = ctx.tmp / f"full-nodes-{workload}.json"
        path.write_bytes(body)
        cell = Cell("prioritize", "nodes", NAMES, workload)
        row: dict[str, Any] = {"workload": workload, "body_bytes": len(body)}
        for who, server in (("ours", ours), ("floor", go)):
            run = loadgen(ctx, server.port, cell, kind="latency", duration=ctx.duration * 4, max_count=count,
                          warmup=2, body_files=[path])
            row[who] = {"errors": run["errors"], **summary(run["latencies_ms"])}
            row[f"{who}_answer"] = check_answer(ctx, server, cell, body)
        row["go_decode"] = floor.decode_times(body, ctx.tmp, count)
        decode = row["go_decode"]["p50_ms"]
        row["p50_over_go_decode"] = row["ours"]["p50"] / decode if decode and row["ours"]["p50"] else None
        row["p50_over_floor"] = (row["ours"]["p50"] / row["floor"]["p50"]
                                 if row["ours"]["p50"] and row["floor"]["p50"] else None)
        ctx.log(f"  nodes mode {workload}: ours p50 {row['ours']['p50']:.1f} ms, "
                f"floor p50 {row['floor']['p50']:.1f} ms, "
                f"Go decode p50 {decode:.1f} ms; answers {row['ours_answer']} / {row['floor_answer']}")
        out["cells"].append(row)
    return out
