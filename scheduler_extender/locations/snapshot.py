"""A location source read from a file: the JSON list that the Alluxio proxy's recursive list-status returns.

It runs the extender with no Alluxio (the embedded demo, tests, air-gapped trials), and a snapshot of a
real cluster is one `curl` away: POST /api/v1/paths//list-status with `{"recursive": true}`.
"""
from __future__ import annotations

import bisect
from pathlib import Path

import orjson

from .base import PathLocations, SourceError, WorkerAddress, merge
from .uri_status import aggregate


class SnapshotSource:
    """Per-file PathLocations computed once at load; a directory lookup merges the files beneath it."""

    def __init__(self, path: str | Path) -> None:
        try:
            statuses = orjson.loads(Path(path).read_bytes())
        except (OSError, ValueError) as err:
            raise SourceError(f"locations file {path}: cannot read it as JSON: {err}") from None
        if not isinstance(statuses, list):
            raise SourceError(f"locations file {path}: expected a JSON list of Alluxio file statuses")
        self._files: dict[str, PathLocations] = {}
        for i, status in enumerate(statuses):
            name = status.get("path") if isinstance(status, dict) else None
            if not isinstance(name, str) or not name.startswith("/"):
                raise SourceError(f"locations file {path}: entry {i} has no absolute 'path'")
            try:
                self._files[name.rstrip("/") or "/"] = aggregate([status])
            except SourceError as err:
                raise SourceError(f"locations file {path}: entry {i} ({name}): {err}") from None
        self._sorted = sorted(self._files)

    def fetch(self, path: str) -> PathLocations:
        exact = self._files.get(path)
        prefix = path.rstrip("/") + "/"
        start = bisect.bisect_left(self._sorted, prefix)
        beneath = []
        for name in self._sorted[start:]:
            if not name.startswith(prefix):
                break
            beneath.append(self._files[name])
        return merge([exact, *beneath] if exact else beneath)

    def probe(self) -> None:
        """Loaded at construction, so always answering."""

    def workers(self) -> list[WorkerAddress]:
        return sorted({w for loc in self._files.values() for workers in loc.by_workers for w in workers})
