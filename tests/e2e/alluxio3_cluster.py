"""Alluxio 3 for the end-to-end suite: a real etcd of its own (the binary build-control-plane.sh builds, on loopback
ports apart from the control plane's), and stand-in workers that join it the way Alluxio 3 workers do
(EtcdMembershipManager.join: the entry under /DHT/<cluster>/AUTHORIZED/, then under /ServiceDiscovery/<cluster>/
bound to a lease the worker keeps alive; a worker that stops lets its lease lapse)."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import urllib3

from tests.support.control_plane import Process
from tests.support.fake_alluxio3 import FakeWorker3
from tests.support.served import free_port
from tests.support.waiting import eventually

CLUSTER = "DefaultAlluxioCluster"


class EtcdError(RuntimeError):
    """etcd answered a call with an HTTP error."""


class LoopbackEtcd:
    """`start()`, `stop()` (data kept, so `start()` again is a restart), and the KV calls of etcd's JSON gateway."""

    def __init__(self, bin_dir: Path, workdir: Path) -> None:
        self._bin, self._dir = bin_dir, workdir
        self.port, self._peer = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: Process | None = None
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=10))

    def start(self) -> None:
        peer = f"http://127.0.0.1:{self._peer}"
        self._process = Process("etcd-alluxio3", [
            str(self._bin / "etcd"), "--name", "alluxio3", "--data-dir", str(self._dir / "data"),
            "--listen-client-urls", self.url, "--advertise-client-urls", self.url, "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer, "--initial-cluster", f"alluxio3={peer}", "--log-level", "warn",
            "--unsafe-no-fsync"], self._dir)
        process = self._process

        def answering() -> bool:
            if not process.alive():
                raise RuntimeError(f"etcd exited {process.popen.returncode}")
            self.call("kv/range", {"key": _b64("/")})
            return True

        try:
            eventually(answering, 30, interval=0.1, ignoring=(urllib3.exceptions.HTTPError, EtcdError),
                       failure=RuntimeError, what="etcd answering")
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{process.tail()}") from None

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def call(self, method: str, body: dict[str, Any]) -> Any:
        answer = self._http.request("POST", f"{self.url}/v3/{method}", body=json.dumps(body).encode())
        if answer.status != 200:
            raise EtcdError(f"etcd {method}: HTTP {answer.status}: {answer.data[:300]!r}")
        return json.loads(answer.data)

    def put(self, key: str, value: bytes, lease: str | None = None) -> int:
        """The revision of the write."""
        body = {"key": _b64(key), "value": base64.b64encode(value).decode(), **({"lease": lease} if lease else {})}
        return int(self.call("kv/put", body)["header"]["revision"])

    def delete(self, key: str) -> None:
        self.call("kv/deleterange", {"key": _b64(key)})

    def grant(self, ttl: int = 600) -> str:
        return str(self.call("lease/grant", {"TTL": str(ttl)})["ID"])

    def revoke(self, lease: str) -> None:
        self.call("lease/revoke", {"ID": lease})

    def compact(self, revision: int) -> None:
        self.call("kv/compaction", {"revision": str(revision), "physical": True})


def join(etcd: LoopbackEtcd, worker: FakeWorker3, cluster: str = CLUSTER) -> str:
    """Register `worker` as a live Alluxio 3 worker; the lease that keeps it live."""
    value = json.dumps(worker.entry()).encode()
    etcd.put(f"/DHT/{cluster}/AUTHORIZED/{worker.name}", value)
    lease = etcd.grant()
    etcd.put(f"/ServiceDiscovery/{cluster}/{worker.name}", value, lease)
    return lease


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
