"""One background loop for every component that works beside the requests (index sync, cluster view,
prefetch, placement, the sync process's supervisor), so each says only what a round does and when."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Loop:
    """Runs `round` on a daemon thread: when woken, and also every `every` seconds if given (then once at
    start too); at most once per `pause` seconds, so a burst of wake-ups (a rolling restart changing
    thousands of pods) costs one round, not thousands. A round that raises is logged and the loop goes on."""

    def __init__(self, name: str, round: Callable[[], object], *, every: float | None = None,
                 pause: float = 0.0) -> None:
        self.name = name
        self._round = round
        self._every = every
        self._pause = pause
        self._woken = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if every is not None:
            self._woken.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._woken.set()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._woken.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._woken.wait(self._every)
            if self._stop.is_set():
                return
            self._woken.clear()
            try:
                self._round()
            except Exception:  # the loop must outlive any one bad round
                log.exception("%s: round failed", self.name)
            if self._pause and self._stop.wait(self._pause):
                return
