"""Sections `memory` (RSS of the served worker, and of all its processes, with the 1M-block index loaded) and
`sync` (time and Alluxio calls of a full index build). Both use one index-load run of the real server; what
refreshing costs the calls is the `refresh` section (refresh_bench.py)."""
from __future__ import annotations

import time
from typing import Any

from tests.support.served import children

from . import machine, servers
from .bodies import pod_body
from .common import Context, post
from .dataset import dir_path, file_path

LOAD_FLAGS = ["--index-ttl", "1h", "--max-staleness", "2h"]


def _entries(server: Any) -> float:
    return servers.scrape(server).sum("scheduler_extender_index_entries")


def _server_cpu(worker: int) -> float:
    """CPU seconds of the worker and its sync process."""
    return machine.cpu_seconds(worker) + sum(machine.cpu_seconds(child) for child in children(worker))


def _settle_rss(pid: int, seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return machine.status_kib(pid, "VmRSS")


def _load(ctx: Context, server: Any, worker: int, paths: list[str], *, per_request: int, timeout: float,
          progress_every: float = 1.0) -> dict[str, Any]:
    """POST pods reading `paths` (each fetched by the index in the background once the request's budget
    is spent), then wait until the index holds them all or `timeout`; calls, time, CPU, progress."""
    start_entries = _entries(server)
    calls0, cpu0, serving0 = ctx.fake.calls("list_status"), _server_cpu(worker), machine.cpu_seconds(worker)
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
            "server_cpu_s": _server_cpu(worker) - cpu0, "serving_process_cpu_s": machine.cpu_seconds(worker) - serving0,
            "paths_per_s": loaded / elapsed if elapsed else None,
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
        worker = server.worker_pid()
        # Touch every route once (imports, Flask's first-request work) before the baseline.
        post(server.url + "/prioritize", pod_body([], ["node-0"]))
        servers.get(server, "/locality?path=/none-yet")
        servers.scrape(server)
        rss = {"empty": _settle_rss(worker)}
        tree = {"empty": machine.tree_memory_kib(server.process.pid)}
        dirs = _load(ctx, server, worker, [dir_path(d) for d in range(spec.dirs)], per_request=spec.dirs,
                     timeout=900 if not ctx.quick else 120, progress_every=0.25)
        rss["directories"] = _settle_rss(worker)
        tree["directories"] = machine.tree_memory_kib(server.process.pid)
        hwm_dirs = machine.status_kib(worker, "VmHWM")
        files = [file_path(d, i) for d in range(spec.dirs) for i in range(spec.files_per_dir)]
        file_load = _load(ctx, server, worker, files, per_request=1000, timeout=120 if ctx.quick else 600)
        rss["files"] = _settle_rss(worker)
        tree["files"] = machine.tree_memory_kib(server.process.pid)
        samples = servers.scrape(server)
        result = {
            "server": "python -m scheduler_extender serve " + " ".join(flags), "flags": flags,
            "rss_kib": rss, "all_processes_kib": tree, "vmhwm_kib_after_directories": hwm_dirs,
            "vmhwm_kib": machine.status_kib(worker, "VmHWM"),
            "index_entries": samples.sum("scheduler_extender_index_entries"),
            "index_cached_bytes": samples.sum("scheduler_extender_index_cached_bytes"),
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
    tree = load["all_processes_kib"]
    out = {
        "rss_mib": {k: round(v / 1024, 1) for k, v in rss.items()},
        "all_processes_mib": {state: {"rss": round(t["rss"] / 1024, 1), "pss": round(t["pss"] / 1024, 1),
                                      "processes": {name: {k: round(v / 1024, 1) for k, v in m.items()}
                                                    for name, m in t["processes"].items()}}
                              for state, t in tree.items()},
        "peak_rss_mib": round(load["vmhwm_kib"] / 1024, 1),
        "peak_rss_mib_after_directories": round(load["vmhwm_kib_after_directories"] / 1024, 1),
        "index_entries": load["index_entries"],
        "blocks": blocks,
        "bytes_per_block_directory_entries": dirs_delta / blocks,
        "bytes_per_block_file_entries": files_delta / loaded_blocks if loaded_blocks else None,
        "bytes_per_block_total": (rss["files"] - rss["empty"]) * 1024 / blocks if files_complete else None,
        "files_complete": files_complete,
        "note": ("RSS of the gunicorn worker (/proc/PID/status VmRSS), 1 s after each step settles. 'directories': "
                 f"the {ctx.spec.dirs} directory entries, which aggregate all {blocks:,} blocks by worker set; "
                 "'files': "
                 f"plus one entry per file ({ctx.spec.files:,}), so every block is then held twice (under its "
                 "file and its directory). Peak = VmHWM of the worker. 'All processes': the arbiter, the worker "
                 "and the sync process (which parses the list-status answers), summed, as RSS (which counts twice "
                 "the pages the worker shares with the arbiter it was forked from) and as PSS (which splits them)."),
    }
    ctx.log(f"  RSS MiB {out['rss_mib']}, peak {out['peak_rss_mib']}; bytes/block total "
            f"{out['bytes_per_block_total']}; all processes {out['all_processes_mib']}")
    return out


def sync(ctx: Context) -> dict[str, Any]:
    load = index_load(ctx)
    out: dict[str, Any] = {"build": {"directories": load["directories"], "files": load["files"],
                                     "server": load["server"]}}
    d, f = load["directories"], load["files"]
    ctx.log(f"  build: {d['loaded']} directories in {d['seconds']:.1f}s ({d['list_status_calls']} calls, "
            f"{d['server_cpu_s']:.1f} CPU s); {f['loaded']} files in {f['seconds']:.1f}s "
            f"({f['list_status_calls']} calls)")
    return out
