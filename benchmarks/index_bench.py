"""Sections `memory` (RSS of the served worker with the 1M-block index loaded) and `sync` (time and Alluxio
calls of a full index build, and the cost of refresh-ahead at steady state). Both use one index-load run of
the real server; `sync` adds the refresh runs."""
from __future__ import annotations

import time
from typing import Any

from . import machine, servers
from .bodies import pod_body
from .common import Cell, Context, loadgen, post
from .dataset import dir_path, file_path, workload_paths

LOAD_FLAGS = ["--index-ttl", "1h", "--max-staleness", "2h"]


def _entries(server: Any) -> float:
    return servers.metric(servers.scrape(server), "scheduler_extender_index_entries")


def _settle_rss(pid: int, seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return machine.status_kib(pid, "VmRSS")


def _load(ctx: Context, server: Any, worker: int, paths: list[str], *, per_request: int, timeout: float,
          progress_every: float = 1.0) -> dict[str, Any]:
    """POST pods reading `paths` (each fetched by the index in the background once the request's budget
    is spent), then wait until the index holds them all or `timeout`; calls, time, CPU, progress."""
    start_entries = _entries(server)
    calls0, cpu0 = ctx.fake.calls("list_status"), machine.cpu_seconds(worker)
    t0 = time.perf_counter()
    for i in range(0, len(paths), per_request):
        status, answer = post(server.url + "/prioritize", pod_body(paths[i:i + per_request], ["node-0"]))
        if status != 200:
            raise RuntimeError(f"/prioritize answered {status}: {answer}")
    posted = time.perf_counter() - t0
    target = start_entries + len(paths)
    progress = []
    entries = _entries(server)
    while entries < target and time.perf_counter() - t0 < timeout:
        time.sleep(progress_every)
        entries = _entries(server)
        progress.append((round(time.perf_counter() - t0, 2), int(entries - start_entries)))
    elapsed = time.perf_counter() - t0
    loaded = int(entries - start_entries)
    return {"paths": len(paths), "loaded": loaded, "complete": loaded >= len(paths), "seconds": elapsed,
            "post_seconds": posted, "list_status_calls": ctx.fake.calls("list_status") - calls0,
            "server_cpu_s": machine.cpu_seconds(worker) - cpu0, "paths_per_s": loaded / elapsed if elapsed else None,
            "timeout_s": timeout, "progress": progress[-20:]}


def index_load(ctx: Context) -> dict[str, Any]:
    """Once per run: a fresh server, RSS empty, after the 10 directories, after every file."""
    if "_index_load" in ctx.results:
        return ctx.results["_index_load"]
    spec = ctx.spec
    size = spec.files + spec.dirs + 1000
    flags = [*LOAD_FLAGS, "--index-size", str(size)]
    window = machine.CpuWindow()
    with servers.extender(ctx.fake.url, *flags) as server:
        worker = servers.worker_pid(server)
        # Touch every route once (imports, Flask's first-request work) before the baseline.
        post(server.url + "/prioritize", pod_body([], ["node-0"]))
        servers.get(server, "/locality?path=/none-yet")
        servers.scrape(server)
        rss = {"empty": _settle_rss(worker)}
        dirs = _load(ctx, server, worker, [dir_path(d) for d in range(spec.dirs)], per_request=spec.dirs,
                     timeout=900 if not ctx.quick else 120, progress_every=0.25)
        rss["directories"] = _settle_rss(worker)
        hwm_dirs = machine.status_kib(worker, "VmHWM")
        files = [file_path(d, i) for d in range(spec.dirs) for i in range(spec.files_per_dir)]
        file_load = _load(ctx, server, worker, files, per_request=1000, timeout=120 if ctx.quick else 600)
        rss["files"] = _settle_rss(worker)
        samples = servers.scrape(server)
        result = {
            "server": "python -m scheduler_extender serve " + " ".join(flags), "flags": flags,
            "rss_kib": rss, "vmhwm_kib_after_directories": hwm_dirs, "vmhwm_kib": machine.status_kib(worker, "VmHWM"),
            "index_entries": servers.metric(samples, "scheduler_extender_index_entries"),
            "index_cached_bytes": servers.metric(samples, "scheduler_extender_index_cached_bytes"),
            "directories": dirs, "files": file_load, "blocks": spec.blocks,
            "fetch_threads": 4, "cpu": window.close()}
    ctx.results["_index_load"] = result
    return result


def memory(ctx: Context) -> dict[str, Any]:
    load = index_load(ctx)
    rss = load["rss_kib"]
    blocks = ctx.spec.blocks
    files_complete = load["files"]["complete"]
    dirs_delta = (rss["directories"] - rss["empty"]) * 1024
    files_delta = (rss["files"] - rss["directories"]) * 1024
    loaded_blocks = load["files"]["loaded"] * ctx.spec.blocks_per_file
    out = {
        "rss_mib": {k: round(v / 1024, 1) for k, v in rss.items()},
        "peak_rss_mib": round(load["vmhwm_kib"] / 1024, 1),
        "peak_rss_mib_after_directories": round(load["vmhwm_kib_after_directories"] / 1024, 1),
        "index_entries": load["index_entries"],
        "blocks": blocks,
        "bytes_per_block_directory_entries": dirs_delta / blocks,
        "bytes_per_block_file_entries": files_delta / loaded_blocks if loaded_blocks else None,
        "bytes_per_block_total": (rss["files"] - rss["empty"]) * 1024 / blocks if files_complete else None,
        "files_complete": files_complete,
        "note": ("RSS of the gunicorn worker (/proc/PID/status VmRSS), 1 s after each step settles. 'directories': "
                 f"the {ctx.spec.dirs} directory entries, which aggregate all {blocks:,} blocks by worker set; 'files': "
                 f"plus one entry per file ({ctx.spec.files:,}), so every block is then held twice (under its "
                 "file and its directory). Peak = VmHWM, the transient of parsing list-status answers."),
    }
    ctx.log(f"  RSS MiB {out['rss_mib']}, peak {out['peak_rss_mib']}; bytes/block total "
            f"{out['bytes_per_block_total']}")
    return out


def sync(ctx: Context) -> dict[str, Any]:
    load = index_load(ctx)
    out: dict[str, Any] = {"build": {"directories": load["directories"], "files": load["files"],
                                     "server": load["server"]}}
    d, f = load["directories"], load["files"]
    ctx.log(f"  build: {d['loaded']} directories in {d['seconds']:.1f}s ({d['list_status_calls']} calls, "
            f"{d['server_cpu_s']:.1f} CPU s); {f['loaded']} files in {f['seconds']:.1f}s "
            f"({f['list_status_calls']} calls)")
    out["refresh"] = refresh(ctx)
    return out


def refresh(ctx: Context) -> list[dict[str, Any]]:
    """Refresh-ahead at steady state: a paced /prioritize stream over hot paths, with a short TTL and with a
    1 h TTL (no refresh) on otherwise identical servers; the difference is what refreshing costs."""
    ttl = 2.0 if ctx.quick else 5.0
    window = 6.0 if ctx.quick else 30.0
    rate = 20.0
    hot_sets = {
        "files": ("paths20", len(workload_paths(ctx.spec, "paths20"))),
        "one directory": ("dir", 1),
    }
    rows = []
    for name, (workload, pods) in hot_sets.items():
        paths = [p for pod in workload_paths(ctx.spec, workload)[:pods] for p in pod]
        for label, flags in ((f"ttl {ttl:g}s", ["--index-ttl", f"{ttl:g}s"]), ("ttl 1h (no refresh)", LOAD_FLAGS)):
            with servers.extender(ctx.fake.url, *flags) as server:
                worker = servers.worker_pid(server)
                servers.warm(server, paths, timeout=600)
                time.sleep(ttl)  # a first refresh round, so the window sees the steady state
                cell = Cell("prioritize", "names", 1000, workload)
                before = servers.scrape(server)
                calls0, cpu0, t0 = ctx.fake.calls("list_status"), machine.cpu_seconds(worker), time.perf_counter()
                cpu_window = machine.CpuWindow()
                result = _paced(ctx, server, cell, pods, rate, window)
                wall = time.perf_counter() - t0
                calls, cpu = ctx.fake.calls("list_status") - calls0, machine.cpu_seconds(worker) - cpu0
                after = servers.scrape(server)
                refreshes = (servers.metric(after, "scheduler_extender_index_refreshes_total", trigger="refresh")
                             - servers.metric(before, "scheduler_extender_index_refreshes_total", trigger="refresh"))
                stale = (servers.metric(after, "scheduler_extender_index_lookups_total", result="stale")
                         - servers.metric(before, "scheduler_extender_index_lookups_total", result="stale"))
                row = {"hot_set": name, "hot_paths": len(paths), "config": label, "flags": flags,
                       "rate_rps": rate, "window_s": wall, "requests": result["count"],
                       "alluxio_calls_per_s": calls / wall, "refreshes": refreshes, "stale_lookups": stale,
                       "server_cpu_s_per_s": cpu / wall, "latency": result["latency"], "late": result["late"],
                       "cpu": cpu_window.close()}
                rows.append(row)
                ctx.log(f"  refresh {name} {label}: {row['alluxio_calls_per_s']:.2f} Alluxio calls/s, "
                        f"{row['server_cpu_s_per_s']:.3f} CPU s/s, p99 {row['latency']['p99']:.2f} ms")
    return rows


def _paced(ctx: Context, server: Any, cell: Cell, pods: int, rate: float, window: float) -> dict[str, Any]:
    from .stats import summary
    result = loadgen(ctx, server.port, cell, kind="paced", duration=window, max_count=int(rate * window) + 1,
                     rate=rate, warmup=0, pods=pods)
    return {"count": result["count"], "late": result["late"], "latency": summary(result["latencies_ms"])}
