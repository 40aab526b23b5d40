"""Records the answers of a real Alluxio 2.9 to the calls our client makes, for the fast suite (tests/data/alluxio).

    .venv/bin/python -m tests.alluxio.recording      # starts a cluster, lays out dataset.FILES, writes the files

The real-Alluxio suite compares what the live cluster answers with these recordings (test_recordings_are_current),
so they are re-recorded when Alluxio's answers change shape.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tests.alluxio.dataset import MISSING, WORKERS, lay_out
from tests.alluxio.real_alluxio import RealAlluxio, fetch, http, paths_url
from tests.support.recorded_alluxio import OPAQUE, RECORDED

CALLS: dict[str, tuple[str, str | None, str | None, dict[str, object] | None]] = {
    "list-status-root.json": ("proxy", "/", "list-status", {"recursive": True}),
    "list-status-missing.json": ("proxy", MISSING, "list-status", {"recursive": True}),
    "get-status-root.json": ("proxy", "/", "get-status", {}),
    "master-info.json": ("master", None, None, None),
}
"""File name: (server, Alluxio path, paths API action, JSON body) of each call our client makes."""


def answers(cluster: RealAlluxio) -> dict[str, tuple[int, bytes]]:
    """{file name: (HTTP status, body)} of each call, the master info with its OPAQUE maps emptied."""
    found = {}
    for name, (_, path, action, body) in CALLS.items():
        if path is None or action is None:  # the master's info
            status, raw = http("GET", f"{cluster.master_url}/api/v1/master/info")
            info = json.loads(raw)
            info.update({key: {} for key in OPAQUE})
            found[name] = (status, json.dumps(info, ensure_ascii=False).encode())
        else:
            found[name] = http("POST", paths_url(cluster.proxy_url, path, action), json.dumps(body).encode())
    return found


def describe(name: str, status: int) -> dict[str, object]:
    _, path, action, body = CALLS[name]
    request = ("GET {master}/api/v1/master/info" if path is None or action is None
               else f"POST {{proxy}}{paths_url('', path, action)} {json.dumps(body)}")
    return {"request": request, "status": status}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="alluxio-record-") as work:
        with RealAlluxio(fetch(), Path(work), workers=WORKERS) as cluster:
            lay_out(cluster)
            calls = {}
            for name, (status, body) in answers(cluster).items():
                (RECORDED / name).write_bytes(body)
                calls[name] = describe(name, status)
                print(f"{name}: HTTP {status}, {len(body)} bytes", file=sys.stderr)
            index = {"alluxio": cluster.version.splitlines()[0], "calls": calls}
    (RECORDED / "recordings.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
