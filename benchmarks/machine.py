"""The machine, the checkout, and per-process CPU and memory from /proc."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.served import children

from .env import ROOT

CLK_TCK = os.sysconf("SC_CLK_TCK")


def describe() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": round(mem_kib / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(), "python_executable": sys.executable,
            "loadavg_at_start": loadavg(), "started_utc": datetime.datetime.now(datetime.UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ"), "busiest_other_processes": busiest_processes(), **git()}


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def git() -> dict[str, Any]:
    """Commit and whether the tree differs from it (read-only git commands only)."""
    def run(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""
    # Porcelain lines are "XY path": strip nothing before slicing, or " M path" loses a letter.
    changed = [line[3:] for line in run("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    return {"git_commit": run("rev-parse", "HEAD").strip() or "unknown",
            "git_subject": run("log", "-1", "--format=%s").strip(),
            "git_dirty_files": changed}


def busiest_processes(limit: int = 5) -> list[str]:
    """The processes using most CPU right now (ps' lifetime average), ours excluded, for the load note."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()[1:]
    except (OSError, subprocess.TimeoutExpired):
        return []
    mine = {os.getpid(), *descendants(os.getpid())}
    found = []
    for line in out:
        pid, pcpu, comm = line.split(None, 2)
        if int(pid) not in mine and float(pcpu) >= 1.0:
            found.append(f"{comm} {pcpu}%")
        if len(found) >= limit:
            break
    return found


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on


def cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime of a process (all its threads), and of its waited-for children if asked."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def status_kib(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status, e.g. VmRSS or VmHWM."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def tree_memory_kib(pid: int) -> dict[str, Any]:
    """RSS and PSS (shared pages split between the processes sharing them), in KiB, of `pid` and every
    descendant, each and summed: the serving process tree is gunicorn's arbiter, its worker and the sync
    process. Summed RSS counts twice what the worker shares with the arbiter it was forked from; PSS does not."""
    each = {}
    workers = children(pid)
    for member in [pid, *descendants(pid)]:
        try:
            pss = next(int(line.split()[1]) for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines()
                       if line.startswith("Pss:"))
            role = "arbiter" if member == pid else "worker" if member in workers else _name(member)
            each[role] = {"rss": status_kib(member, "VmRSS"), "pss": pss}
        except (OSError, StopIteration, KeyError):
            pass
    return {"rss": sum(m["rss"] for m in each.values()), "pss": sum(m["pss"] for m in each.values()),
            "processes": each}


def busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core), from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]  # idle + iowait
    return (sum(parts[:8]) - idle) / CLK_TCK


class CpuWindow:
    """Machine busy time, and the share of it not spent by this process and its descendants, over a window:
    what else (e.g. another workload on the host) competed for the cores while we measured."""

    def __init__(self) -> None:
        self.t0 = _now()
        self.busy0 = busy_seconds()
        self.ours0 = _ours()
        self.each0 = _each()

    def close(self) -> dict[str, Any]:
        wall = _now() - self.t0
        busy = busy_seconds() - self.busy0
        ours = _ours() - self.ours0
        each: dict[str, float] = {}
        for pid, (name, seconds) in _each().items():
            spent = seconds - self.each0.get(pid, (name, 0.0))[1]
            each[name] = round(each.get(name, 0.0) + spent, 2)
        return {"wall_s": round(wall, 3), "busy_cores": round(busy / wall, 2) if wall else 0.0,
                "ours_cores": round(ours / wall, 2) if wall else 0.0,
                "other_cores": round(max(0.0, busy - ours) / wall, 2) if wall else 0.0, "loadavg_end": loadavg(),
                "seconds_by_process": {k: v for k, v in sorted(each.items(), key=lambda kv: -kv[1]) if v > 0}}


def _now() -> float:
    import time
    return time.monotonic()


def _each() -> dict[int, tuple[str, float]]:
    """CPU seconds of this process and each descendant (its own threads, not its children), by a short name:
    the executable, or for Python the module or script it runs."""
    found = {}
    for pid in [os.getpid(), *descendants(os.getpid())]:
        try:
            found[pid] = (_name(pid), cpu_seconds(pid))
        except (OSError, ValueError):
            pass
    return found


def _name(pid: int) -> str:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    exe = Path(args[0].decode()).name
    if not exe.startswith("python") or len(args) < 2:
        return exe
    rest = [a.decode() for a in args[1:] if a]
    return rest[1] if rest[0] == "-m" and len(rest) > 1 else Path(rest[0]).name


def _ours() -> float:
    me = os.getpid()
    total = cpu_seconds(me, children=True)
    for pid in descendants(me):
        try:
            total += cpu_seconds(pid, children=True)
        except (OSError, ValueError):
            pass
    return total
