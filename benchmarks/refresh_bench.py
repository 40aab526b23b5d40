"""Section `refresh`: what refreshing the index costs the scheduling calls.

Paced /prioritize (one keep-alive connection each, 20 req/s, 1,000 candidate names) over a hot set, on two
servers side by side, measured at the same time: one refreshing its hot set every 5 s (`--index-ttl 5s`;
the directory hot set is 100,000 blocks over 1,000 workers, a 115 MB list-status answer), one never
(`--index-ttl 1h`). Whatever loads the machine meanwhile (other work on it, and the refreshing server's
sync process decoding and the fake Alluxio sending) then loads both alike, and the difference between
the two is what refreshing costs the serving process itself. 3 windows of 10 s. Reported: p50 / p99 /
max over the windows, refreshes seen, and the CPU each process of the refreshing server spent per
refresh beyond the other's.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

from scheduler_extender.entries import decode, encode
from scheduler_extender.locations.base import PathLocations
from scheduler_extender.placement import Placement
from scheduler_extender.sync.frames import Channel
from tests.support.served import children

from . import machine, servers
from .common import Cell, Context, loadgen
from .dataset import candidates, generate, node_name, workload_paths
from .stats import summary

RATE = 20.0
REFRESH_TTL = ["--index-ttl", "5s"]
NO_REFRESH = ["--index-ttl", "1h", "--max-staleness", "2h"]
HOT_SETS = {"one directory": ("dir", 1), "files": ("paths20", 10)}
"""Hot set -> (workload, pods of it): pod 0 of `dir` reads /data/d0; the 10 `paths20` pods 200 files."""


def _refreshes(server: Any) -> float:
    return servers.scrape(server).sum("scheduler_extender_index_refreshes_total", trigger="refresh")


def _cpu(server: Any) -> dict[str, float]:
    """CPU seconds of the worker and of the sync process (its child) so far."""
    worker = server.worker_pid()
    out = {"worker": machine.cpu_seconds(worker)}
    for child in children(worker):
        out["sync process"] = out.get("sync process", 0.0) + machine.cpu_seconds(child)
    return out


def _paced(ctx: Context, port: int, cell: Cell, pods: int, window: float, results: dict[str, Any],
           label: str) -> None:
    results[label] = loadgen(ctx, port, cell, kind="paced", duration=window, max_count=int(RATE * window) + 1,
                             rate=RATE, warmup=3, pods=pods)


def _hot_set(ctx: Context, name: str, workload: str, pods: int, rounds: int, window: float) -> list[dict[str, Any]]:
    paths = [p for pod in workload_paths(ctx.spec, workload)[:pods] for p in pod]
    cell = Cell("prioritize", "names", 1000, workload)
    configs = {"ttl 5s": REFRESH_TTL, "ttl 1h (no refresh)": NO_REFRESH}
    with servers.extender(ctx.fake.url, *REFRESH_TTL) as refreshing, \
            servers.extender(ctx.fake.url, *NO_REFRESH) as still:
        running = dict(zip(configs, (refreshing, still), strict=True))
        for server in running.values():
            servers.warm(server, paths, timeout=600)
        rows: dict[str, dict[str, Any]] = {
            label: {"latencies": [], "refreshes": 0.0, "late": 0, "calls": 0, "wall": 0.0, "rounds": [], "cpu": {}}
            for label in configs}
        for _ in range(rounds):
            before = {label: (_refreshes(server), _cpu(server)) for label, server in running.items()}
            calls0, t0 = ctx.fake.calls("list_status"), time.perf_counter()
            results: dict[str, dict[str, Any]] = {}
            threads = [threading.Thread(target=_paced, args=(ctx, server.port, cell, pods, window, results, label))
                       for label, server in running.items()]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall, calls = time.perf_counter() - t0, ctx.fake.calls("list_status") - calls0
            for label, server in running.items():
                row, result, (refreshes0, cpu0) = rows[label], results[label], before[label]
                row["wall"] += wall
                row["latencies"] += result["latencies_ms"]
                row["late"] += result["late"]
                row["calls"] += calls if server is refreshing else 0
                row["refreshes"] += _refreshes(server) - refreshes0
                for process, seconds in _cpu(server).items():
                    row["cpu"][process] = row["cpu"].get(process, 0.0) + seconds - cpu0.get(process, 0.0)
                row["rounds"].append({k: summary(result["latencies_ms"])[k] for k in ("p50", "p99", "max")})
    out = []
    for label, row in rows.items():
        latency = summary(row["latencies"])
        out.append({"hot_set": name, "hot_paths": len(paths), "config": label, "flags": configs[label],
                    "rate_rps": RATE, "window_s": row["wall"], "requests": latency["n"], "late": row["late"],
                    "refreshes": row["refreshes"], "alluxio_calls_per_s": row["calls"] / row["wall"],
                    "latency": latency, "rounds": row["rounds"],
                    "cpu_s_per_s": {k: v / row["wall"] for k, v in row["cpu"].items()}})
    with_refresh, without = out
    if with_refresh["refreshes"]:
        with_refresh["cpu_ms_per_refresh"] = {
            process: (seconds - without["cpu_s_per_s"].get(process, 0.0)) * with_refresh["window_s"] * 1000
            / with_refresh["refreshes"] for process, seconds in with_refresh["cpu_s_per_s"].items()}
    for row in out:
        ctx.log(f"  {name} {row['config']}: {row['refreshes']:.0f} refreshes, p50 {row['latency']['p50']:.2f} "
                f"p99 {row['latency']['p99']:.2f} max {row['latency']['max']:.2f} ms (n={row['requests']})")
    return out


def refresh(ctx: Context) -> dict[str, Any]:
    rounds, window = (1, 6.0) if ctx.quick else (3, 10.0)
    window_cpu = machine.CpuWindow()
    rows = [row for name, (workload, pods) in HOT_SETS.items()
            for row in _hot_set(ctx, name, workload, pods, rounds, window)]
    return {"rounds": rounds, "window_s": window, "rows": rows, "cpu": window_cpu.close(),
            "serving_cost": serving_cost(ctx)}


def serving_cost(ctx: Context, runs: int = 20) -> dict[str, Any]:
    """What one refresh of a 100,000-block directory over 1,000 workers costs the serving process, timed in
    this process on the same code path: read the sync process's message off a socket pair, decode the
    entry, give it its node table (and the node bytes for the latest 1,000 candidate names). Thread CPU
    time: all of it is spent holding the GIL. Also the sync process's own encoding, for scale."""
    by_workers: dict[tuple[tuple[str, str], ...], int] = {}
    for d, _, blocks in generate(ctx.spec):
        if d:
            break
        for length, holders in blocks:
            workers = tuple(sorted((node_name(w), "") for w in holders))
            by_workers[workers] = by_workers.get(workers, 0) + length
    locations = PathLocations(by_workers=by_workers)
    started = time.thread_time()
    payload = encode(locations)
    encode_ms = (time.thread_time() - started) * 1000
    placement = Placement([])
    names = candidates(ctx.spec, 1000)
    placement.node_bytes([placement.prepare(decode(payload))], names)  # the latest scheduling call's names
    costs, firsts = [], []
    for _ in range(runs):
        ours, theirs = socket.socketpair()
        sender = threading.Thread(target=Channel(theirs).send, args=(("ok", 1, payload, None),))
        sender.start()
        started = time.thread_time()
        message = Channel(ours).receive()
        entry = placement.prepare(decode(message[2]))
        costs.append((time.thread_time() - started) * 1000)
        started = time.perf_counter()
        placement.node_bytes([entry], names)  # the first call after the refresh
        firsts.append((time.perf_counter() - started) * 1000)
        sender.join()
        ours.close()
        theirs.close()
        assert entry.table is not None and entry.table.request is not None
    costs.sort()
    firsts.sort()
    lists = []
    for n in range(runs):  # a new candidate list each time: the names of one node dropped, as nodes fill up
        started = time.thread_time()
        placement.node_bytes([entry], names[:n] + names[n + 1:])
        lists.append((time.thread_time() - started) * 1000)
    lists.sort()
    out = {"blocks": ctx.spec.files_per_dir * ctx.spec.blocks_per_file, "worker_sets": len(by_workers),
           "workers": len(entry.workers), "message_bytes": len(payload), "runs": runs,
           "serving_ms_median": costs[len(costs) // 2], "serving_ms_max": costs[-1], "sync_encode_ms": encode_ms,
           "new_candidates_ms_median": lists[len(lists) // 2], "first_call_ms_median": firsts[len(firsts) // 2]}
    ctx.log(f"  serving-process cost of one refresh of a {out['blocks']:,}-block directory: "
            f"{out['serving_ms_median']:.2f} ms median, {out['serving_ms_max']:.2f} ms max (thread CPU)")
    return out
