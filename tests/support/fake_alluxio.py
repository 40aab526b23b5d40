"""A fake Alluxio 2.9 that is a real HTTP server on 127.0.0.1, answering the REST calls the extender makes.

One server plays both the proxy (port 39999 in real life) and the master web server (19999):
- `POST /api/v1/paths/{path}/list-status` and `/get-status`: `{path}` is matched on the raw, still
  percent-encoded URL and then decoded, as Jersey does (bad UTF-8 becomes U+FFFD); a relative path is
  refused as Alluxio does. Answers are Jackson-shaped URIStatus objects, nested `fileInfo` duplicate included;
  a recursive listing returns every file and directory beneath the path (not the path itself), a file path
  returns that file. An uncached block has no `locations`; its `ufsLocations` are the UFS's hosts for it,
  none here (an object store), while a real local or HDFS UFS names hosts there that may be worker hosts.
- Errors are HTTP 500 with `{"statusCode": "<gRPC status>", "message": ...}`, e.g. NOT_FOUND for a missing path;
  the proxy's own HTTP errors (unknown route, wrong Content-Type) are HTTP 500 too, with a text body.
- `GET /api/v1/master/info`: AlluxioMasterInfo with `workers` (live) and `lostWorkers`.

Every field, with its name and JSON type, is one a real Alluxio 2.9.6 answers with, and the fake leaves none out
but the UFS hosts: tests/test_alluxio_recorded.py holds its answers to those recorded in tests/data/alluxio.

Build a dataset with `add_file` (blocks as `Block(length, Loc(...), ...)` or plain ints for uncached blocks),
`add_dir`, `add_worker`; inject faults with `inject(..., endpoint=LIST_STATUS)` (faults.py: a `status` is
answered with an Alluxio error body); count calls with `calls(endpoint)`; `received` lists every request.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .loopback import CuttableServer, LoopbackServer, TrackedHandler

LIST_STATUS, GET_STATUS, MASTER_INFO, OTHER = "list_status", "get_status", "master_info", "other"
_PATHS = re.compile(r"^/api/v1/paths/(.*)/(list-status|get-status)$")
_BLOCK_SIZE = 64 << 20
_START_MS = 1_700_000_000_000
_VERSION, _REVISION = "2.9.6", "f61a8b08ee0e0d0bbc357832f11fd84f401bc0cb"
_SEQUENCE_BITS = 24  # Alluxio block id = container id << 24 | sequence; a file id uses the max sequence


@dataclass(frozen=True)
class Loc:
    """One copy of a block: the worker (as it names itself) and the tier holding it."""

    host: str
    container_host: str = ""
    tier: str = "MEM"


@dataclass(frozen=True)
class Block:
    length: int
    locations: tuple[Loc, ...] = ()

    def __init__(self, length: int, *locations: Loc) -> None:
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "locations", locations)


@dataclass(frozen=True)
class Received:
    endpoint: str
    path: str | None
    """The Alluxio path after decoding, for the paths API."""
    options: Any


@dataclass
class _File:
    blocks: tuple[Block, ...]
    file_id: int
    block_ids: tuple[int, ...]


@dataclass
class _State:
    files: dict[str, _File] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: {"/"})
    workers: dict[tuple[str, str], tuple[int, bool]] = field(default_factory=dict)
    """(host, containerHost) -> (worker id, lost)."""
    next_container: int = 1


class FakeAlluxio(LoopbackServer):
    """Start with `with FakeAlluxio() as fake:`; `fake.url` is both the proxy and the master URL."""

    def __init__(self, *, keep_requests: bool = True) -> None:
        """`keep_requests`: list every request in `received` (a benchmark making 100,000 leaves it off)."""
        super().__init__(_Handler, "fake-alluxio", fault_attributes=("endpoint",))
        self._lock = threading.Lock()
        self._state = _State()
        self._keep_requests = keep_requests
        self.received: list[Received] = []

    # -- dataset ----------------------------------------------------------------------------------------------

    def add_file(self, path: str, *blocks: Block | int) -> None:
        """A complete file made of these blocks (an int is an uncached block of that length); parents implied."""
        made = tuple(b if isinstance(b, Block) else Block(b) for b in blocks)
        with self._lock:
            state = self._state
            container, state.next_container = state.next_container, state.next_container + 1
            base = container << _SEQUENCE_BITS
            state.files[path] = _File(made, base | ((1 << _SEQUENCE_BITS) - 1),
                                      tuple(base | i for i in range(len(made))))
            state.dirs.update(_ancestors(path))
            for block in made:
                for loc in block.locations:
                    self._register_locked(loc.host, loc.container_host, lost=False)

    def add_dir(self, path: str) -> None:
        """An (empty unless files are added beneath it) directory; parents implied."""
        with self._lock:
            self._state.dirs.update(_ancestors(path) | {path})

    def add_worker(self, host: str, container_host: str = "", *, lost: bool = False) -> None:
        """A worker the master knows, even with nothing cached; `lost` lists it under lostWorkers."""
        with self._lock:
            self._register_locked(host, container_host, lost=lost)

    def _register_locked(self, host: str, container_host: str, *, lost: bool) -> None:
        workers = self._state.workers
        worker_id = workers.get((host, container_host), (len(workers) + 1, lost))[0]
        workers[(host, container_host)] = (worker_id, lost)

    def files(self) -> list[str]:
        """Every file's path, sorted."""
        with self._lock:
            return sorted(self._state.files)

    def directories(self) -> list[str]:
        """Every directory's path (the root included), sorted."""
        with self._lock:
            return sorted(self._state.dirs)

    # -- counters ---------------------------------------------------------------------------------------------

    def calls(self, endpoint: str) -> int:
        """How many requests reached `endpoint` (LIST_STATUS, GET_STATUS, MASTER_INFO or OTHER)."""
        return self.faults.calls(endpoint=endpoint)

    def record(self, request: Received) -> None:
        if self._keep_requests:
            with self._lock:
                self.received.append(request)

    # -- answers ----------------------------------------------------------------------------------------------

    def answer_paths(self, path: str, action: str, options: Any) -> tuple[int, Any]:
        """(HTTP status, the JSON document or its bytes) the proxy answers `POST /api/v1/paths/{path}/{action}`."""
        if not path.startswith("/"):
            return 500, _error("INVALID_ARGUMENT", f'Path "{path}" is invalid.')
        path = "/" + "/".join(p for p in path.split("/") if p)  # AlluxioURI normalises repeated slashes
        recursive = isinstance(options, dict) and options.get("recursive") is True
        with self._lock:
            if path not in self._state.files and path not in self._state.dirs:
                return 500, _error("NOT_FOUND", f'Path "{path}" does not exist.')
            if action == "get-status" or path in self._state.files:
                listed = [path]
            else:
                listed = [p for p in sorted(self._state.files.keys() | self._state.dirs)
                          if p != path and _is_beneath(p, path) and (recursive or _parent(p) == path)]
            statuses = [self._status_locked(p) for p in listed]
        return 200, statuses[0] if action == "get-status" else statuses

    def status(self, path: str) -> dict[str, Any]:
        """The URIStatus of a file or directory the fake holds, as the proxy answers it."""
        with self._lock:
            return self._status_locked(path)

    def _status_locked(self, path: str) -> dict[str, Any]:
        """A URIStatus as Jackson writes it: every FileInfo getter at the top, and FileInfo again in `fileInfo`."""
        state = self._state
        file = state.files.get(path)
        name = path.rsplit("/", 1)[1]
        if file is None:
            children = sum(1 for p in state.files.keys() | state.dirs if p != "/" and _parent(p) == path)
            info = _info(path, name, file_id=_dir_id(path), folder=True, length=children, block_size=0,
                         block_ids=[], file_block_infos=[], in_alluxio=0, in_memory=0)
        else:
            length = sum(b.length for b in file.blocks)
            cached = sum(b.length for b in file.blocks if b.locations)
            in_memory = sum(b.length for b in file.blocks if any(loc.tier == "MEM" for loc in b.locations))
            file_block_infos, offset = [], 0
            for block_id, block in zip(file.block_ids, file.blocks, strict=True):
                file_block_infos.append({
                    "blockInfo": {"blockId": block_id, "length": block.length,
                                  "locations": [self._location_locked(loc) for loc in block.locations]},
                    "offset": offset, "ufsLocations": []})
                offset += block.length
            info = _info(path, name, file_id=file.file_id, folder=False, length=length, block_size=_BLOCK_SIZE,
                         block_ids=list(file.block_ids), file_block_infos=file_block_infos,
                         in_alluxio=_percent(cached, length), in_memory=_percent(in_memory, length))
        return {**info, "pinnedMediumTypes": [], "cacheContext": None, "fileInfo": {**info, "mediumTypes": []}}

    def _location_locked(self, loc: Loc) -> dict[str, Any]:
        worker_id = self._state.workers[(loc.host, loc.container_host)][0]
        return {"workerId": worker_id, "workerAddress": _address(loc.host, loc.container_host),
                "tierAlias": loc.tier, "mediumType": {"MEM": "MEM", "SSD": "SSD"}.get(loc.tier, "HDD")}

    def master_info(self) -> dict[str, Any]:
        """The AlluxioMasterInfo `GET /api/v1/master/info` answers."""
        with self._lock:
            workers = [(wid, host, ch, lost) for (host, ch), (wid, lost) in self._state.workers.items()]
        infos: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for wid, host, container_host, lost in sorted(workers):
            infos[lost].append({
                "address": _address(host, container_host), "blockCount": 0, "capacityBytes": 1 << 30,
                "capacityBytesOnTiers": {"MEM": 1 << 30}, "id": wid, "lastContactSec": 120 if lost else 0,
                "numVCpu": 8, "revision": _REVISION, "startTimeMs": _START_MS, "state": "LOST" if lost else "ACTIVE",
                "usedBytes": 0, "usedBytesOnTiers": {"MEM": 0}, "version": _VERSION})
        capacity = {"total": len(infos[False]) << 30, "used": 0}
        root_mount = {"mountId": 1, "properties": {}, "readOnly": False, "shared": False,
                      "ufsCapacityBytes": -1, "ufsType": "s3", "ufsUri": "s3://bucket", "ufsUsedBytes": -1}
        return {"capacity": capacity, "configuration": {}, "lostWorkers": infos[True], "metrics": {},
                "mountPoints": {"/": root_mount}, "revision": _REVISION, "rpcAddress": "alluxio-master-0:19998",
                "startTimeMs": _START_MS, "tierCapacity": {"MEM": capacity}, "ufsCapacity": {"total": -1, "used": -1},
                "uptimeMs": 60_000, "version": _VERSION, "workers": infos[False]}


class _Handler(TrackedHandler):
    server: CuttableServer

    @property
    def fake(self) -> FakeAlluxio:
        fake: FakeAlluxio = self.server.fake
        return fake

    def do_GET(self) -> None:
        raw = self.path.split("?", 1)[0]
        if raw != "/api/v1/master/info":
            self._finish(OTHER, 404, b"<html><body>Not Found</body></html>", "text/html")
            return
        self.fake.record(Received(MASTER_INFO, None, None))
        self._answer(MASTER_INFO, 200, self.fake.master_info())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = _PATHS.match(self.path.split("?", 1)[0])
        if not match:
            self._finish(OTHER, 500, b"HTTP 404 Not Found", "text/plain")
            return
        endpoint = LIST_STATUS if match[2] == "list-status" else GET_STATUS
        path = unquote(match[1], errors="replace")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            self._finish(endpoint, 500, b"HTTP 415 Unsupported Media Type", "text/plain")
            return
        try:
            options = json.loads(body) if body else None
        except ValueError:
            self._finish(endpoint, 400, b"Bad Request", "text/plain")
            return
        self.fake.record(Received(endpoint, path, options))
        self._answer(endpoint, *self.fake.answer_paths(path, match[2], options))

    def _answer(self, endpoint: str, status: int, payload: Any) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self._finish(endpoint, status, body, "application/json")

    def _finish(self, endpoint: str, status: int, body: bytes, content_type: str) -> None:
        """Counts the call, applies any fault, and writes the response."""
        fault = self.take_fault(endpoint=endpoint)
        if fault:
            if fault.status is not None:
                status, content_type = fault.status, "application/json"
                body = json.dumps(_error("UNAVAILABLE", "injected failure") if fault.status == 500
                                  else {"message": "injected failure"}).encode()
            elif fault.truncate:
                body = body[:len(body) // 2]
            elif fault.garbage:
                body = b"<html>this is not JSON \xff</html>"
            elif fault.body is not None:
                body, content_type = fault.body, "application/json"
        self.send_body(status, body, content_type)


def _info(path: str, name: str, *, file_id: int, folder: bool, length: int, block_size: int,
          block_ids: list[int], file_block_infos: list[dict], in_alluxio: int, in_memory: int) -> dict[str, Any]:
    """FileInfo's getters as Jackson names them, with the values a real 2.9.6 gives a folder and a file."""
    mode = "rwxr-xr-x" if folder else "rw-r--r--"
    acl = {"owner": "alluxio", "owningGroup": "alluxio",
           "stringEntries": [f"user::{mode[:3]}", f"group::{mode[3:6]}", f"other::{mode[6:]}"]}
    default_acl: dict[str, Any] = {"owner": "alluxio" if folder else "", "owningGroup": "alluxio" if folder else "",
                   "stringEntries": []}
    return {
        "acl": acl, "blockIds": block_ids, "blockSizeBytes": block_size, "cacheable": not folder,
        "completed": True, "creationTimeMs": _START_MS, "defaultAcl": default_acl, "fileBlockInfos": file_block_infos,
        "fileId": file_id, "folder": folder, "group": "alluxio", "inAlluxioPercentage": in_alluxio,
        "inMemoryPercentage": in_memory, "lastAccessTimeMs": _START_MS, "lastModificationTimeMs": _START_MS,
        "length": length, "mode": 0o755 if folder else 0o644, "mountId": 1, "mountPoint": False, "name": name,
        "owner": "alluxio", "path": path, "persistenceState": "PERSISTED", "persisted": True, "pinned": False,
        "replicationMax": 0 if folder else -1, "replicationMin": 0, "ttl": -1, "ttlAction": "FREE",
        "ufsFingerprint": "" if folder else f"TYPE|FILE UFS|s3 OWNER|alluxio GROUP|alluxio MODE|420 ETAG|{file_id}",
        "ufsPath": "s3://bucket" + path, "xattr": {} if folder else {"s3_etag": f"etag-{file_id}"},
    }


def _address(host: str, container_host: str) -> dict[str, Any]:
    return {"host": host, "containerHost": container_host, "rpcPort": 29999, "dataPort": 29999, "webPort": 30000,
            "domainSocketPath": "",
            "tieredIdentity": {"tiers": [{"tierName": "node", "value": host}, {"tierName": "rack", "value": None}]}}


def _error(status_code: str, message: str) -> dict[str, str]:
    return {"statusCode": status_code, "message": message}


def _percent(part: int, whole: int) -> int:
    return 100 if whole == 0 else part * 100 // whole


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _ancestors(path: str) -> set[str]:
    found = set()
    while path != "/":
        path = _parent(path)
        found.add(path)
    return found


def _is_beneath(path: str, directory: str) -> bool:
    return directory == "/" or path.startswith(directory + "/")


def _dir_id(path: str) -> int:
    return (1 << 40) + sum(map(ord, path))
