"""Section `body`: what one large body costs the served worker in memory. A body of full Node objects (as
kube-scheduler sends them with nodeCacheCapable: false) of --size MiB goes to /prioritize and then /filter of
`scheduler-extender serve` with its defaults; the worker's peak RSS (VmHWM, reset before each call through
/proc/PID/clear_refs) less its RSS before, against the body's size. Issue 22's target: at most 1.2x for
/prioritize. /filter echoes every Node object it passes, so its answer is as large again."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.support.full_nodes import full_node, nodes_body_size
from tests.support.raw_http import RawConnection
from tests.support.served import Served

from . import env, machine
from .common import Context

SIZE_MIB = 200


def body_of(size: int) -> bytes:
    """A Nodes body of full Node objects, at least `size` bytes."""
    count = next(n for n in range(size // 20_000, size) if nodes_body_size(n) >= size)
    pod = json.loads((env.DATA / "prioritize-nodecachecapable-true.json").read_text())["Pod"]
    items = [full_node(f"ip-10-{i // 65536}-{i // 256 % 256}-{i % 256}.ec2.internal") for i in range(count)]
    return json.dumps({"Pod": pod, "Nodes": {"metadata": {}, "items": items}, "NodeNames": None},
                      separators=(",", ":")).encode()


def body(ctx: Context) -> dict[str, Any]:
    size = (16 if ctx.quick else SIZE_MIB) << 20
    sent = body_of(size)
    out: dict[str, Any] = {"body_mib": round(len(sent) / 2**20, 1)}
    with Served("--locations-file", str(env.ROOT / "examples" / "demo" / "locations.json"),
                "--log-level", "error") as served:
        pid = served.worker_pid()
        for verb in ("prioritize", "filter"):
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM from the current RSS on
            before = machine.status_kib(pid, "VmRSS")
            with RawConnection(served.port, timeout=300) as conn:
                started = time.perf_counter()
                conn.send(b"POST /%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d"
                          b"\r\n\r\n" % (verb.encode(), len(sent)) + sent)
                answer = conn.answer()
                seconds = time.perf_counter() - started
            peak = machine.status_kib(pid, "VmHWM")
            out[verb] = {"status": answer.status, "seconds": round(seconds, 2),
                         "answer_mib": round(len(answer.body) / 2**20, 1),
                         "rss_before_mib": round(before / 1024, 1), "peak_rss_mib": round(peak / 1024, 1),
                         "peak_over_body": round((peak - before) * 1024 / len(sent), 2)}
            ctx.log(f"  {verb}: {out[verb]}")
    return out
