"""Runs the real `scheduler-extender serve` (gunicorn) in a subprocess on a free loopback port."""
from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .metrics import Samples
from .waiting import eventually


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stop_process_group(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """stop_process for a process started in a session of its own, and everything it started: its group. A group
    gone meanwhile (the process exited and another thread reaped it between poll and kill) is stopped already."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        except ProcessLookupError:
            process.wait()


SERVE = (sys.executable, "-m", "scheduler_extender", "serve")


class Served:
    """The extender as an operator runs it; `post`/`get` talk HTTP to it, `metrics()` reads its /metrics."""

    def __init__(self, *flags: str, ready: bool = True, port: int | None = None, tls: ssl.SSLContext | None = None,
                 command: Sequence[str] = SERVE, env: Mapping[str, str] | None = None) -> None:
        """Runs `command --bind 127.0.0.1:<port> flags...` and returns once it answers: /readyz 200, or without
        `ready` /healthz 200 (it may still be unready). `tls`: the client context to speak HTTPS with, for a
        server given --tls-cert-file. `command`: another server taking --bind (a benchmark's peer); `env`: its
        environment (default: this one's). Raises RuntimeError, with what the server printed, if it exits or
        does not answer in 30 s."""
        self.port = port or free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server must never block on it
        self.process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{self.port}", *flags], stdout=self._log, stderr=subprocess.STDOUT,
            env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"})
        try:
            self._wait_for("/readyz" if ready else "/healthz", 30, RuntimeError)
        except RuntimeError:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 30) -> None:
        """Until /readyz answers 200; fails the test if the server exits or is not ready in `timeout` seconds."""
        self._wait_for("/readyz", timeout, AssertionError)

    def _wait_for(self, path: str, timeout: float, failure: type[Exception]) -> None:
        def answered() -> bool:
            if self.process.poll() is not None:
                raise failure(f"extender exited {self.process.returncode}")
            try:
                return self.get(path)[0] == 200
            except OSError:
                return False

        try:
            eventually(answered, timeout, what=f"{path} answering 200", interval=0.05, failure=failure)
        except failure as error:
            raise failure(f"{error}\n{self.output()}") from None

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
        status, answer, _ = self.request("POST", path, body)
        return status, answer

    def get(self, path: str) -> tuple[int, Any]:
        status, answer, _ = self.request("GET", path)
        return status, answer

    def metrics(self) -> Samples:
        """Its /metrics now."""
        status, text = self.get("/metrics")
        assert status == 200, f"/metrics answered {status}: {text!r:.300}"
        return Samples.parse(text)

    def worker_pid(self, timeout: float = 10) -> int:
        """The gunicorn worker, the arbiter's one child: a new pid means the worker crashed or was killed."""
        return eventually(lambda: children(self.process.pid), timeout, what="a gunicorn worker")[0]

    def stop(self) -> None:
        stop_process(self.process)

    def output(self) -> str:
        """Everything the server printed so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()


def children(pid: int) -> list[int]:
    """The child processes of `pid`, whichever of its threads started them."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            pass
    return found
