"""A location source read from a file: the JSON list that the Alluxio proxy's recursive list-status returns.

It runs the extender with no Alluxio (the embedded demo, tests, air-gapped trials), and a snapshot of a
real cluster is one `curl` away: POST /api/v1/paths//list-status with `{"recursive": true}`. The file is
read again when it changes, so a snapshot refreshed by a job is picked up; one that cannot be read (a job
caught mid-write, a bad copy) leaves the last good one in use until the file is fixed.
"""
from __future__ import annotations

import bisect
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .base import PathLocations, SourceError, merge
from .uri_status import aggregate

if TYPE_CHECKING:  # checked by the arbiter too, which need not hold Prometheus
    from ..metrics import SourceMetrics

log = logging.getLogger(__name__)

_Stamp = tuple[int, int, int] | None
"""(mtime in ns, size, inode) of the file, None if it cannot be stat-ed: any change means read it again."""


class SnapshotSource:
    """Per-file PathLocations computed at load; a directory lookup merges the files beneath it. Raises
    SourceError at construction if the file cannot be read: the command then stops with the reason."""

    def __init__(self, path: str | Path, *, metrics: SourceMetrics | None = None, recheck: float = 1.0) -> None:
        self._path = Path(path)
        self._metrics = metrics
        self._recheck = recheck
        self._lock = threading.Lock()
        self._stamp = _stamp(self._path)
        self._checked_at = time.monotonic()
        self._data = _load(self._path)
        """(PathLocations per file, the file names sorted), replaced whole so readers need no lock."""
        self._count("ok")

    def fetch(self, path: str) -> PathLocations:
        self._reload_if_changed()
        files, names = self._data
        exact = files.get(path)
        prefix = path.rstrip("/") + "/"
        start = bisect.bisect_left(names, prefix)
        beneath = []
        for name in names[start:]:
            if not name.startswith(prefix):
                break
            beneath.append(files[name])
        return merge([exact, *beneath] if exact else beneath)

    def probe(self) -> None:
        """Loaded at construction, so always answering."""

    def start(self) -> None:
        """Nothing runs beside the calls: a changed file is noticed by the next fetch."""

    def _reload_if_changed(self) -> None:
        """At most every `recheck` seconds: stat the file, and read it again if it changed."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self._recheck:
                return
            self._checked_at = now
            stamp = _stamp(self._path)
            if stamp == self._stamp:
                return
            self._stamp = stamp
        try:
            self._data = _load(self._path)
        except SourceError as err:
            self._count("error")
            log.warning("%s; still serving the last good snapshot", err)
            return
        self._count("ok")
        log.info("locations file %s read again: %d files", self._path, len(self._data[0]))

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.snapshot_loads.labels(outcome).inc()


def _stamp(path: Path) -> _Stamp:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def _load(path: Path) -> tuple[dict[str, PathLocations], list[str]]:
    try:
        statuses = orjson.loads(path.read_bytes())
    except (OSError, ValueError) as err:
        raise SourceError(f"locations file {path}: cannot read it as JSON: {err}") from None
    if not isinstance(statuses, list):
        raise SourceError(f"locations file {path}: expected a JSON list of Alluxio file statuses")
    files: dict[str, PathLocations] = {}
    for i, status in enumerate(statuses):
        name = status.get("path") if isinstance(status, dict) else None
        if not isinstance(name, str) or not name.startswith("/"):
            raise SourceError(f"locations file {path}: entry {i} has no absolute 'path'")
        try:
            files[name.rstrip("/") or "/"] = aggregate([status])
        except SourceError as err:
            raise SourceError(f"locations file {path}: entry {i} ({name}): {err}") from None
    return files, sorted(files)
