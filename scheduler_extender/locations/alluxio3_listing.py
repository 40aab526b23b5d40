"""The files beneath an Alluxio 3 path and their lengths: from the workers' HTTP API, or from a listing file.

The worker HTTP server (`alluxio.worker.http.server.port`, 28080; Alluxio/alluxio
dora/core/server/worker/src/main/java/alluxio/worker/http/HttpServerHandler.java, ResponseFileInfo.java, and
HttpRequestUri.java for the URL; not in the Maven Central 313 jars, so read in Alluxio's repository):
- `GET /v1/info?path=P` answers `[ResponseFileInfo]` for P, `GET /v1/files?path=P` one for each child of a
  directory (not recursive). A ResponseFileInfo is written by Gson from its fields: `{"mType": "file" or
  "directory", "mName", "mPath" (the Alluxio path), "mUfsPath", "mLastModificationTimeMs", "mLength",
  "mHumanReadableFileSize"}`. Any worker answers for any path (it asks the path's owner itself); we ask the
  owner directly.
- The query is split on `&` and `=` and not percent-decoded, except `%2F`, `%3A` and `%3F` (`/`, `:`, `?`).
  A path that needs any other escape (a space, `%`, `&`, `=`, `#`, non-ASCII) cannot be asked for; use a listing
  file for such trees. A failure (a missing path too) gets no HTTP answer at all: the worker closes the
  connection.
- No field says how much of a file the worker caches (its gRPC GetStatus has `inAlluxioPercentage`; this API
  drops it), so a listing from it leaves the cached share unknown.

A listing file holds the same objects, for every file beneath the paths pods read (the answers of `/v1/files`
walked, or made by a job), and may add `inAlluxioPercentage` (alluxio.wire.FileInfo's field, 0-100) to a file.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from .alluxio3_http import JsonHttp
from .alluxio3_membership import Member
from .alluxio3_ring import Ring
from .alluxio3_uri import ufs_key
from .base import SourceError

_SENDABLE = re.compile(r"[A-Za-z0-9\-._~!$'()*+,;@/:?]*")
_ESCAPES = str.maketrans({"/": "%2F", ":": "%3A", "?": "%3F"})


@dataclass(frozen=True, slots=True)
class FileEntry:
    ufs_path: str
    """The file's `mUfsPath`: what a client reading it hashes (DoraCacheClient.getInStream, status.getUfsPath())."""
    length: int
    cached_percentage: int | None = None
    """How much of it the owner caches, where the listing says; None where it does not."""


class Listing(Protocol):
    def files(self, path: str, ring: Ring[Member]) -> list[FileEntry]:
        """Every file at or beneath the Alluxio path `path`; [] if there is none. Raises SourceError."""
        ...


def decode(answer: Any, where: str) -> tuple[list[FileEntry], list[str]]:
    """ResponseFileInfo objects to (their files, their directories' Alluxio paths). Raises SourceError."""
    if not isinstance(answer, list):
        raise SourceError(f"{where}: expected a JSON list of file infos, got {type(answer).__name__}")
    files, directories = [], []
    for info in answer:
        kind = info.get("mType") if isinstance(info, dict) else None
        if kind == "directory" and isinstance(info.get("mPath"), str):
            directories.append(info["mPath"])
            continue
        entry = _file(info) if kind == "file" else None
        if entry is None:
            raise SourceError(f"{where}: not a file or directory info: {info!r:.200}")
        files.append(entry)
    return files, directories


class WorkerApiListing:
    """Walks a tree through the workers' HTTP API, asking each directory's owner."""

    def __init__(self, http: JsonHttp, ufs_root: str) -> None:
        self._http, self._ufs_root = http, ufs_root

    def files(self, path: str, ring: Ring[Member]) -> list[FileEntry]:
        files, pending = self._ask(ring, "info", path)
        seen = set(pending)
        while pending:
            found, directories = self._ask(ring, "files", pending.pop())
            files.extend(found)
            pending.extend(d for d in directories if d not in seen)
            seen.update(directories)
        return files

    def _ask(self, ring: Ring[Member], action: str, path: str) -> tuple[list[FileEntry], list[str]]:
        if not _SENDABLE.fullmatch(path):
            raise SourceError(f"{path!r} cannot be asked for through the Alluxio 3 worker HTTP API, which decodes "
                              f"no escape but %2F %3A %3F; list such trees in --alluxio3-listing-file")
        try:
            owner = ring.owner(ufs_key(path, self._ufs_root))
        except ValueError as err:
            raise SourceError(f"Alluxio cannot map {path!r} to a UFS path: {err}") from None
        host = f"[{owner.host}]" if ":" in owner.host else owner.host
        url = f"http://{host}:{owner.http_port}/v1/{action}?path={path.translate(_ESCAPES)}"
        return decode(self._http.request(f"worker_{action}", "GET", url), url)


class ListingFile:
    """A listing file, read once at start. Raises SourceError if it cannot be read."""

    def __init__(self, path: str | Path) -> None:
        try:
            answer = orjson.loads(Path(path).read_bytes())
        except (OSError, orjson.JSONDecodeError) as err:
            raise SourceError(f"listing file {path}: cannot read it as JSON: {err}") from None
        if not isinstance(answer, list):
            raise SourceError(f"listing file {path}: expected a JSON list of file infos")
        by_path: dict[str, FileEntry] = {}
        for i, info in enumerate(answer):
            files, _ = decode([info], f"listing file {path}, entry {i}")
            if files:
                alluxio_path = info.get("mPath")
                if not isinstance(alluxio_path, str) or not alluxio_path.startswith("/"):
                    raise SourceError(f"listing file {path}, entry {i}: no absolute mPath")
                by_path[alluxio_path.rstrip("/") or "/"] = files[0]
        self._names = sorted(by_path)
        self._files = [by_path[name] for name in self._names]

    def files(self, path: str, ring: Ring[Member]) -> list[FileEntry]:
        """The file named `path`, or those beneath it."""
        start = bisect.bisect_left(self._names, path)
        if start < len(self._names) and self._names[start] == path:
            return [self._files[start]]
        beneath = path.rstrip("/") + "/"
        start = bisect.bisect_left(self._names, beneath)
        end = bisect.bisect_left(self._names, beneath[:-1] + chr(ord("/") + 1))
        return self._files[start:end]


def _file(info: dict[str, Any]) -> FileEntry | None:
    length, ufs_path, cached = info.get("mLength"), info.get("mUfsPath"), info.get("inAlluxioPercentage")
    if isinstance(length, int) and _count(length) and isinstance(ufs_path, str) and (
            cached is None or (_count(cached) and cached <= 100)):
        return FileEntry(ufs_path, length, cached)
    return None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
