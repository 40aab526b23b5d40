"""The gunicorn worker class serving the extender: gunicorn's arbiter starts, supervises and restarts it,
and it serves with http_server.Server, which reads whole requests without a thread per connection."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

from gunicorn import sock as gunicorn_sock
from gunicorn.workers.base import Worker

from .connection import Limits
from .http_server import Server

if TYPE_CHECKING:
    from .cli import ExtenderServer


class ExtenderWorker(Worker):
    """`self.app` is the gunicorn application (cli.ExtenderServer): its `settings` give --read-timeout and
    --max-body-size; gunicorn's `threads`, `keepalive`, `worker_connections`, `graceful_timeout` and TLS
    settings apply as they would to its threaded worker."""

    def run(self) -> None:
        settings = cast("ExtenderServer", self.app).settings
        limits = Limits(read_timeout=settings.read_timeout, keepalive=self.cfg.keepalive,
                        max_body=settings.max_body_size, max_buffered=settings.max_buffered_bytes,
                        threads=self.cfg.threads,
                        max_connections=self.cfg.worker_connections, graceful_timeout=self.cfg.graceful_timeout)
        ssl_context = gunicorn_sock.ssl_context(self.cfg) if self.cfg.is_ssl else None
        # self.PIPE is the signal wake-up pipe base.Worker set up: a SIGTERM wakes the sweeping thread at once.
        # gunicorn's listeners are its sock.BaseSocket objects, the socket in `.sock`; types-gunicorn calls them
        # sockets.
        listeners = [listener.sock for listener in self.sockets]  # type: ignore[attr-defined]
        server = Server(listeners, self.wsgi, limits, ssl_context=ssl_context, wake=self.PIPE[0])
        server.serve(running=self._running, beat=self.notify)

    def _running(self) -> bool:
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            self.alive = False
        return bool(self.alive)
