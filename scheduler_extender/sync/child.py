"""The sync process: `python -m scheduler_extender.sync.child FD`, started by sync/process.py with one end of
a socket pair as FD. It opens the location source the settings name, answers fetches and probes with up to
--fetch-threads of them at once, and exits as soon as the serving process is gone (its end closes).

It lowers its own CPU priority: on a busy node the kernel then runs the serving process first, so
decoding a large answer delays a scheduling call by nothing, and the decoding only takes longer.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..config import Settings
from ..entries import encode
from ..locations.base import LocationSource, SourceError
from ..locations.configured import source_from_settings
from ..metrics import SourceMetrics
from .frames import Channel
from .relay import Snapshot, snapshot

NICENESS = 10

log = logging.getLogger("scheduler_extender.sync")


class Child:
    def __init__(self, channel: Channel, source: LocationSource, metrics: SourceMetrics) -> None:
        self._channel = channel
        self._source = source
        self._metrics = metrics
        self._sent: Snapshot | None = None
        self._lock = threading.Lock()

    def answer(self, kind: str, ident: int, value: Any) -> None:
        """Send one answer, with the metrics if they changed; exit if the serving process is gone."""
        with self._lock:
            now = snapshot(self._metrics.registry)
            changed, self._sent = now != self._sent, now
        try:
            self._channel.send((kind, ident, value, now if changed else None))
        except OSError:
            os._exit(0)

    def fetch(self, ident: int, path: str) -> None:
        try:
            self.answer("ok", ident, encode(self._source.fetch(path)))
        except SourceError as err:
            self.answer("error", ident, str(err))
        except Exception as err:  # a bug: the serving process still gets an answer, and the log the traceback
            log.exception("fetching %s failed", path)
            self.answer("error", ident, f"internal error in the sync process: {type(err).__name__}: {err}")

    def probe(self, ident: int) -> None:
        try:
            self._source.probe()
            self.answer("ok", ident, None)
        except Exception as err:
            self.answer("error", ident, str(err) if isinstance(err, SourceError) else f"{type(err).__name__}: {err}")


def main(argv: list[str]) -> None:
    channel = Channel(socket.socket(fileno=int(argv[1])))
    # A Ctrl-C in a terminal, `kill -- -PGID` and systemd's stop reach the whole process group. Killed by them
    # first, this process's end would be seen (and logged) as a failure while the serving process is still
    # stopping; the serving process's exit ends this one instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    try:
        kind, fields = channel.receive()
        assert kind == "start", kind
        settings = Settings(**fields)
    except (EOFError, OSError):
        return
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s (sync process): %(message)s")
    metrics = SourceMetrics()
    try:
        source = source_from_settings(settings, metrics)
    except SourceError as err:
        log.error("cannot open the location source: %s", err)
        raise SystemExit(1) from None
    source.start()
    child = Child(channel, source, metrics)
    pool = ThreadPoolExecutor(settings.fetch_threads + 1, thread_name_prefix="sync-fetch")
    while True:
        try:
            message = channel.receive()
        except (EOFError, OSError, ValueError):
            os._exit(0)  # the serving process is gone (or broken): so are we, at once
        kind, ident = message[0], message[1]
        if kind == "ping":
            child.answer("pong", ident, None)
        elif kind == "fetch":
            pool.submit(child.fetch, ident, message[2])
        elif kind == "probe":
            pool.submit(child.probe, ident)
        else:
            child.answer("error", ident, f"unknown request {kind!r}")


if __name__ == "__main__":
    main(sys.argv)
