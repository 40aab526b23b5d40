"""Section `slow-clients`: 100 stalled clients connected while well-formed calls are timed, side by side
with the same calls and none stalled, in one run.

The server runs as shipped (default --read-timeout and --threads). A window without stalled clients, one
with 100 of them (benchmarks/stall.py: each sends headers and 10 bytes of a body, then nothing; when the
server drops one it stalls on a new connection, so 100 are stalled throughout), and another without. The
well-formed calls are /prioritize at 1,000 names for the `paths20` pods over one keep-alive connection.
Reported: calls answered, their p50, p99 and slowest against the unloaded p99, and how long after
stalling each stalled connection was dropped.
"""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from scheduler_extender.config import Settings
from tests.support.waiting import eventually

from . import env, servers
from .common import Cell, Context, check_answer, loadgen
from .dataset import workload_paths
from .served_bench import SERVER_FLAGS
from .stats import summary

STALLED = 100
CELL = Cell("prioritize", "names", 1000, "paths20")
DROPPED = "scheduler_extender_connections_dropped_total"


def slow_clients(ctx: Context) -> dict[str, Any]:
    read_timeout = Settings().read_timeout
    window = max(ctx.duration, 2.5 * read_timeout)  # every stalled connection is dropped at least twice
    with servers.extender(ctx.fake.url, *SERVER_FLAGS) as server:
        servers.warm(server, [p for pod in workload_paths(ctx.spec, CELL.workload) for p in pod], timeout=600)
        before = servers.scrape(server)
        calm = [_calls(ctx, server, window)]
        stall_spec = ctx.tmp / "stall-spec.json"
        ready, out = ctx.tmp / "stall-ready", ctx.tmp / "stall-out.json"
        stall_spec.write_text(json.dumps({"port": server.port, "clients": STALLED, "reconnect": True,
                                          "duration": window + read_timeout + 5, "ready_file": str(ready)}))
        staller = subprocess.Popen([sys.executable, "-m", "benchmarks.stall", str(stall_spec), str(out)],
                                   cwd=env.ROOT, env=env.child_env())
        try:
            eventually(lambda: ready.exists() or staller.poll() is not None, 60, interval=0.05, failure=RuntimeError,
                       what="the stalled clients connected")
            stalled = _calls(ctx, server, window)
            staller.wait(timeout=window + read_timeout + 120)
        finally:
            if staller.poll() is None:
                staller.kill()
        stalls = json.loads(out.read_text())
        calm.append(_calls(ctx, server, window))
        answer = check_answer(ctx, server, CELL)
        after = servers.scrape(server)
    dropped_before = before.by_label(DROPPED, "reason")
    unloaded_p99 = max(run["latency"]["p99"] for run in calm)
    result = {
        "server": "python -m scheduler_extender serve " + " ".join(SERVER_FLAGS), "read_timeout_s": read_timeout,
        "stalled_clients": STALLED, "window_s": window, "cell": CELL.key, "unloaded": calm, "stalled": stalled,
        "stalls": stalls, "answer": answer,
        "slowest_over_unloaded_p99": stalled["latency"]["max"] / unloaded_p99 if unloaded_p99 else None,
        "dropped_by_server": {reason: value - dropped_before.get(reason, 0.0)
                              for reason, value in after.by_label(DROPPED, "reason").items()},
        "drop_delay_over_read_timeout": stalls["drop_delay_s"]["max"] / read_timeout
        if stalls["drop_delay_s"]["max"] else None,
    }
    ctx.log(f"  stalled: {stalled['count']} of {stalled['sent']} answered, p99 {stalled['latency']['p99']:.2f} ms, "
            f"slowest {stalled['latency']['max']:.2f} ms against an unloaded p99 of {unloaded_p99:.2f} ms; "
            f"{stalls['dropped']} stalled connections dropped after {stalls['drop_delay_s']['p50']:.2f} s "
            f"(slowest {stalls['drop_delay_s']['max']:.2f} s), {stalls['answered_408']} with a 408")
    return result


def _calls(ctx: Context, server: Any, window: float) -> dict[str, Any]:
    run = loadgen(ctx, server.port, CELL, kind="latency", duration=window, max_count=1_000_000, warmup=3)
    return {"sent": run["count"] + run["errors"], "count": run["count"], "errors": run["errors"],
            "error_samples": run["error_samples"], "latency": summary(run["latencies_ms"])}
