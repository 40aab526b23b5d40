"""A stand-in Alluxio 3 (DORA) worker: a real HTTP server on a loopback address answering the worker HTTP API, and
the membership entry such a worker writes to etcd. No 3.x worker can run here (its server jars are not on Maven
Central), so this follows Alluxio's source (Alluxio/alluxio, dora/core/server/worker/.../http/):

- HttpRequestUtil/HttpRequestUri: the request target is cut at `?`; the third `/` field is the mapping (`/v1/files`
  -> `files`); the query is split on `&` and then `=`, and nothing is percent-decoded except that
  HttpServerHandler.handleReservedCharacters turns `%2F`, `%3A`, `%3F` back into `/`, `:`, `?`.
- HttpServerHandler: `GET /v1/info?path=P` -> `[ResponseFileInfo of P]`; `GET /v1/files?path=P` -> one for each
  child of P. When the handler fails (a missing path among others) it returns null, the channel handler throws,
  and netty closes the connection without an answer.
- ResponseFileInfo, written by Gson from its fields: mType ("file" or "directory"), mName, mPath (Alluxio path),
  mUfsPath, mLastModificationTimeMs, mLength, mHumanReadableFileSize.
- The master's `GET /api/v1/master/info` (AlluxioMasterRestServiceHandler.getInfo): an AlluxioMasterInfo written by
  Jackson, whose `workers` and `lostWorkers` are WorkerInfo objects (alluxio-core-common 313, bean getters):
  id, identity {version, identifier}, address {host, containerHost, rpcPort, ..., httpServerPort}, state, ...
- WorkerServiceEntity (alluxio-core-common 313), written by Gson: Identity {version, identifier (hex)},
  WorkerNetAddress {Host, ContainerHost, RpcPort, DataPort, SecureRpcPort, NettyDataPort, WebPort,
  DomainSocketPath, HttpServerPort}, State, GenerationNumber, ServiceEntityName (`worker-<uuid>`).

Every worker answers for any path, as a real one does (it asks the path's owner itself). `received` lists the
(mapping, path) of each request; faults (faults.py) match by `mapping` and `path`: `delay`, and `drop` (no answer,
as when the handler fails).
"""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from .loopback import LoopbackServer, TrackedHandler

_MTIME = 1_700_000_000_000


@dataclass
class Namespace:
    """The Alluxio namespace the workers serve: files by Alluxio path, under one UFS root."""

    ufs_root: str
    files: dict[str, int] = field(default_factory=dict)
    """Alluxio path -> length."""

    def add(self, path: str, length: int) -> None:
        self.files[path] = length

    def ufs_path(self, path: str) -> str:
        return self.ufs_root.rstrip("/") + path

    def info(self, path: str) -> dict[str, Any] | None:
        path = path.rstrip("/") or "/"
        if path in self.files:
            return self._file_info(path)
        if path == "/" or any(name.startswith(path + "/") for name in self.files):
            return self._dir_info(path)
        return None

    def children(self, path: str) -> list[dict[str, Any]] | None:
        path = path.rstrip("/")
        if self.info(path or "/") is None or path in self.files:
            return None
        names = {name[len(path) + 1:].split("/", 1)[0] for name in self.files if name.startswith(path + "/")}
        return [self.info(f"{path}/{name}") for name in sorted(names)]  # type: ignore[misc]

    def _file_info(self, path: str) -> dict[str, Any]:
        length = self.files[path]
        return {"mType": "file", "mName": path.rsplit("/", 1)[1], "mPath": path, "mUfsPath": self.ufs_path(path),
                "mLastModificationTimeMs": _MTIME, "mLength": length, "mHumanReadableFileSize": f"{length}B"}

    def _dir_info(self, path: str) -> dict[str, Any]:
        return {"mType": "directory", "mName": path.rsplit("/", 1)[1], "mPath": path,
                "mUfsPath": self.ufs_path(path), "mLastModificationTimeMs": _MTIME, "mLength": 0,
                "mHumanReadableFileSize": "0B"}


class _Handler(TrackedHandler):
    server: Any

    def do_GET(self) -> None:
        worker: FakeWorker3 = self.server.fake
        target, _, query = self.path.partition("?")
        fields = target.split("/")
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part) if query else {}
        mapping = fields[2] if len(fields) > 2 else ""
        path = params.get("path", "")
        for escape, char in (("%2F", "/"), ("%3A", ":"), ("%3F", "?")):
            path = path.replace(escape, char)
        worker.record(mapping, path)
        self.take_fault(mapping=mapping, path=path)
        if mapping == "info":
            info = worker.namespace.info(path)
            answer = None if info is None else [info]
        elif mapping == "files":
            answer = worker.namespace.children(path)
        else:
            answer = None
        if answer is None:
            self.close_connection = True  # what netty does when the handler fails: no answer at all
            return
        _send_json(self, answer)


class FakeWorker3(LoopbackServer):
    """One worker: `with FakeWorker3(namespace, host="127.0.3.1") as worker:`; `entry()` is its etcd value."""

    def __init__(self, namespace: Namespace, host: str = "127.0.0.1", identity: uuid.UUID | None = None,
                 container_host: str = "") -> None:
        super().__init__(_Handler, "fake-alluxio3-worker", host, fault_attributes=("mapping", "path"),
                         unmodelled_faults=("status", "truncate", "garbage", "body"))
        self.namespace = namespace
        self.identity = identity or uuid.uuid4()
        self.container_host = container_host
        self._lock = threading.Lock()
        self.received: list[tuple[str, str]] = []

    def record(self, mapping: str, path: str) -> None:
        with self._lock:
            self.received.append((mapping, path))

    def entry(self) -> dict[str, Any]:
        return membership_entry(self.identity, self.host, self.port, self.container_host)

    @property
    def name(self) -> str:
        return f"worker-{self.identity}"


def membership_entry(identity: uuid.UUID, host: str, http_port: int = 28080,
                     container_host: str = "") -> dict[str, Any]:
    """A worker's WorkerServiceEntity as Gson writes it, in Gson's field order."""
    return {"Identity": {"version": 1, "identifier": identity.hex},
            "WorkerNetAddress": {"Host": host, "ContainerHost": container_host, "RpcPort": 29999, "DataPort": 29997,
                                 "SecureRpcPort": 0, "NettyDataPort": 29997, "WebPort": 30000, "DomainSocketPath": "",
                                 "HttpServerPort": http_port},
            "State": "AUTHORIZED", "GenerationNumber": -1, "ServiceEntityName": f"worker-{identity}"}


class _MasterHandler(TrackedHandler):
    server: Any

    def do_GET(self) -> None:
        master: FakeMaster3 = self.server.fake
        if self.path.split("?")[0] != "/api/v1/master/info":
            self.send_error(404)
            return
        master.asked += 1
        _send_json(self, {"capacity": {"total": 0, "used": 0}, "configuration": {}, "metrics": {},
                          "mountPoints": {}, "rpcAddress": "alluxio-master-0/10.0.0.100:19998",
                          "startTimeMs": _MTIME, "tierCapacity": {}, "ufsCapacity": {"total": -1, "used": -1},
                          "uptimeMs": 1000, "version": "313", "revision": "",
                          "workers": [_worker_info(m, "LIVE") for m in master.live],
                          "lostWorkers": [_worker_info(m, "LOST") for m in master.lost]})


class FakeMaster3(LoopbackServer):
    """The 3.x master's web port: `live` and `lost` are the workers it reports (Member objects); `asked` counts the
    worker lists it gave."""

    def __init__(self) -> None:
        super().__init__(_MasterHandler, "fake-alluxio3-master")
        self.live: list[Any] = []
        self.lost: list[Any] = []
        self.asked = 0


def _worker_info(member: Any, state: str) -> dict[str, Any]:
    identity = member.identity
    return {"id": int.from_bytes(identity.identifier[-8:], "big", signed=True),
            "identity": {"version": identity.version, "identifier": identity.identifier.hex()},
            "address": {"host": member.host, "containerHost": member.container_host, "rpcPort": 29999,
                        "dataPort": 29997, "secureRpcPort": 0, "nettyDataPort": 29997, "webPort": 30000,
                        "domainSocketPath": "", "httpServerPort": member.http_port},
            "lastContactSec": 1, "state": state, "capacityBytes": 1 << 30, "usedBytes": 0, "startTimeMs": _MTIME,
            "capacityBytesOnTiers": {"MEM": 1 << 30}, "usedBytesOnTiers": {"MEM": 0}, "blockCount": 0,
            "version": "313", "revision": ""}


def _send_json(handler: TrackedHandler, answer: Any) -> None:
    handler.send_body(200, json.dumps(answer).encode())
