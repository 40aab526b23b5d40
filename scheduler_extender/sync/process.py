"""The sync process seen from the serving process: started, watched, restarted, and asked for entries.

It is a child of the serving process (the gunicorn worker), not a sibling under gunicorn's arbiter: its
lifetime is then the worker's (a worker that dies or is replaced takes it along, and its index, in
memory, is gone anyway), nothing has to find it, and the arbiter stays what gunicorn made it. It is
started with `subprocess` (fork and exec in one step, safe in a process running threads), never `fork`
alone, and exits by itself as soon as its end of the socket pair closes, however the worker ended.

Failures degrade, never block: a child that exits is started again after a backoff (1 s, doubling up to
30 s, back to 1 s once one has run for a minute); one that answers no ping for `hang_after` seconds is
killed and started again; every call waiting on either fails at once with SourceError, so the index
serves the last good entries (up to --max-staleness) and backs off the paths. While no child answers,
/readyz is 503 and scheduler_extender_sync_process_up is 0.
"""
from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..background import Loop
from ..config import Settings
from ..entries import PathEntry, decode
from ..locations.base import SourceError
from ..metrics import Metrics
from .frames import Channel
from .relay import Relay

log = logging.getLogger(__name__)

START_TIMEOUT = 30.0
"""Seconds a new child may take to answer its first ping (interpreter start and imports, on a busy node)."""
WAIT_FOR_CHILD = 10.0
"""Seconds a fetch or probe waits for a child that is starting before it fails."""
RESET_AFTER = 60.0
"""A child that ran this long before it exited restarts the backoff from its first step."""


class _Child:
    def __init__(self, popen: subprocess.Popen[bytes], channel: Channel) -> None:
        self.popen = popen
        self.channel = channel
        self.started = self.heard = time.monotonic()
        self.up = False
        """True once it answered: started and able to read its settings."""
        self.pending: dict[int, Future[Any]] = {}


class SyncProcess:
    """The location source of the serving process (`fetch`, `probe`), kept running in a child process."""

    def __init__(self, settings: Settings, metrics: Metrics, relay: Relay, *, hang_after: float = 5.0,
                 ping_every: float = 1.0, backoff: tuple[float, float] = (1.0, 30.0)) -> None:
        self._settings = settings
        self._metrics = metrics
        self._relay = relay
        self._hang_after = hang_after
        self._backoff_base, self._backoff_max = backoff
        # Past Alluxio's own timeouts and retries, decoding a large answer on a busy node takes a while.
        self._answer_timeout = (settings.alluxio_retries + 1) * (settings.alluxio_timeout + 1) + 60
        self._ids = itertools.count()
        self._changed = threading.Condition()
        self._child: _Child | None = None
        self._starts = 0
        self._failures = 0
        self._restart_at = 0.0
        self._last_exit: str | None = None
        self._closed = False
        self._loop = Loop("sync-process", self._supervise, every=ping_every)

    def start(self) -> None:
        self._loop.start()

    def close(self) -> None:
        """Stop supervising and end the child: it exits when its end closes; killed if it has not in 2 s."""
        self._closed = True
        self._loop.close()
        child = self._child
        if child is not None:
            child.channel.close()
            try:
                child.popen.wait(2)
            except subprocess.TimeoutExpired:
                child.popen.kill()
                child.popen.wait()

    def state(self) -> str | None:
        """None while a child answers; else what is wrong, as /readyz says it."""
        child = self._child
        if child is not None and child.up:
            return None
        if child is not None or self._last_exit is None:
            return "the sync process (which fetches locations) is starting"
        wait = max(0.0, self._restart_at - time.monotonic())
        return f"the sync process (which fetches locations) {self._last_exit}; starting another in {wait:.0f}s"

    def fetch(self, path: str) -> PathEntry:
        payload = self._call("fetch", path)
        try:
            return decode(payload)
        except ValueError as err:
            raise SourceError(f"the sync process answered {path} with {err}") from None

    def probe(self) -> None:
        self._call("probe")

    def _call(self, kind: str, *args: Any) -> Any:
        child = self._answering_child()
        ident = next(self._ids)
        future: Future[Any] = Future()
        child.pending[ident] = future
        try:
            child.channel.send((kind, ident, *args))
            return future.result(self._answer_timeout)
        except OSError:
            raise SourceError("the sync process went away before it was asked") from None
        except FutureTimeout:
            raise SourceError(f"the sync process did not answer in {self._answer_timeout:.0f}s") from None
        finally:
            child.pending.pop(ident, None)

    def _answering_child(self) -> _Child:
        deadline = time.monotonic() + WAIT_FOR_CHILD
        with self._changed:
            while not self._closed:
                child = self._child
                if child is not None and child.up:
                    return child
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
        raise SourceError(self.state() or "the sync process is stopped")

    def _supervise(self) -> None:
        """One round: start a child when due, else ping it, and kill it if it has stopped answering."""
        if self._closed:
            return
        child = self._child
        if child is None:
            if time.monotonic() >= self._restart_at:
                self._spawn()
            return
        silent = time.monotonic() - child.heard
        if silent > (self._hang_after if child.up else START_TIMEOUT):
            log.error("the sync process (pid %d) answered nothing for %.0fs: killing it", child.popen.pid, silent)
            child.popen.kill()  # its reader then sees the end of the stream and records the exit
            return
        try:
            child.channel.send(("ping", next(self._ids)))
        except OSError:
            pass  # it is gone: its reader records that

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            popen = subprocess.Popen([sys.executable, "-m", "scheduler_extender.sync.child", str(theirs.fileno())],
                                     pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=_child_env())
        except OSError as err:
            ours.close()
            self._exited(None, f"could not be started ({err})")
            return
        finally:
            theirs.close()
        child = _Child(popen, Channel(ours))
        with self._changed:
            self._child = child
            self._starts += 1
        if self._starts > 1:
            self._metrics.sync_restarts.inc()
        threading.Thread(target=self._read, args=(child,), name="sync-reader", daemon=True).start()
        try:
            child.channel.send(("start", asdict(self._settings)))
            child.channel.send(("ping", next(self._ids)))
        except OSError:
            pass

    def _read(self, child: _Child) -> None:
        """Hand each answer to its caller until the child's end closes; then record the exit."""
        while True:
            try:
                kind, ident, value, metrics = child.channel.receive()
            except (EOFError, OSError, ValueError):
                break
            child.heard = time.monotonic()
            if metrics is not None:
                self._relay.update(metrics)
            if not child.up:
                with self._changed:
                    child.up = True
                    self._changed.notify_all()
                self._metrics.sync_up.set(1)
            future = child.pending.get(ident)
            if future is not None and not future.done():
                if kind == "ok":
                    future.set_result(value)
                else:
                    future.set_exception(SourceError(value))
        child.channel.close()
        try:
            code = child.popen.wait(5)
        except subprocess.TimeoutExpired:
            child.popen.kill()
            code = child.popen.wait()
        reason = f"exited with status {code}" if code >= 0 else f"was killed by signal {_signal_name(-code)}"
        self._exited(child, reason)
        for future in list(child.pending.values()):
            if not future.done():
                future.set_exception(SourceError(f"the sync process {reason} before it answered"))

    def _exited(self, child: _Child | None, reason: str) -> None:
        lived = time.monotonic() - child.started if child is not None else 0.0
        with self._changed:
            if child is not None and self._child is child:
                self._child = None
            self._failures = 1 if lived >= RESET_AFTER else self._failures + 1
            delay = min(self._backoff_max, self._backoff_base * 2 ** (self._failures - 1))
            self._restart_at = time.monotonic() + delay
            self._last_exit = reason
            self._changed.notify_all()
        self._metrics.sync_up.set(0)
        self._relay.restarted()
        if not self._closed:
            pid = child.popen.pid if child is not None else "-"
            log.error("the sync process (pid %s) %s; starting another in %.0fs", pid, reason, delay)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _child_env() -> dict[str, str]:
    """This environment, with this package importable however the serving process found it."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{path}" if path else root}
