"""`scheduler-extender serve` in which a request for /end-this-thread ends the serving thread answering it, as a
bug in the interpreter or a library could: the way to check that a worker left with a dead thread is replaced.
Run it as Served's `command` (FRAGILE); gunicorn forks its worker from this process, patched."""
from __future__ import annotations

import sys
from typing import Any

from scheduler_extender import answers, cli

END_THIS_THREAD = "/end-this-thread"
FRAGILE = (sys.executable, "-m", "tests.support.fragile_serve", "serve")


class ThreadEnded(BaseException):
    """Not an Exception: it passes the server's handlers for a bug of ours, and ends the thread."""


_respond = answers.respond


def _respond_or_end(app: Any, routes: Any, request: Any, **kwargs: Any) -> bytes:
    if request.head.target == END_THIS_THREAD:
        raise ThreadEnded
    return _respond(app, routes, request, **kwargs)


if __name__ == "__main__":
    answers.respond = _respond_or_end
    cli.main()
