"""Runs the real `scheduler-extender serve` (gunicorn) in a subprocess on a free loopback port."""
from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Served:
    """The extender as an operator runs it; `post`/`get` talk HTTP to it."""

    def __init__(self, *flags: str, wait_ready: bool = True, port: int | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        """`tls`: the client context to speak HTTPS with, for a server given --tls-cert-file."""
        self.port = port or free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server must never block on it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scheduler_extender", "serve", "--bind", f"127.0.0.1:{self.port}", *flags],
            stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._wait("/readyz" if wait_ready else "/healthz")

    def _wait(self, path: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"extender exited {self.process.returncode}:\n{self.output()}")
            try:
                if self.get(path)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"extender did not answer {path} in 30s:\n{self.output()}")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.tls) as resp:
                status, raw, head = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            status, raw, head = err.code, err.read(), dict(err.headers)
        is_json = head.get("Content-Type", "").startswith("application/json")
        return status, json.loads(raw) if is_json else raw.decode(), head

    def post(self, path: str, doc: Any) -> tuple[int, Any]:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return self.request("POST", path, body)[:2]

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)[:2]

    def worker_pid(self, timeout: float = 10) -> int:
        """The gunicorn worker, the arbiter's one child: a new pid means the worker crashed or was killed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.process.pid
            with open(f"/proc/{pid}/task/{pid}/children") as file:
                children = file.read().split()
            if children:
                return int(children[0])
            time.sleep(0.05)
        raise RuntimeError(f"no gunicorn worker in {timeout}s:\n{self.output()}")

    def stop(self) -> None:
        stop_process(self.process)

    def output(self) -> str:
        """Everything the server printed so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
