"""Waiting on what happens beside a test (a server's threads, a watch, a child process): a condition that comes
true within a timeout, or one that stays true for a while. Every wait in the tests is one of these two."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 10.0, *, what: str | None = None, interval: float = 0.02,
               ignoring: tuple[type[Exception], ...] = (), failure: type[Exception] = AssertionError) -> T:
    """The first truthy value `check()` returns, asked every `interval` seconds for up to `timeout`. Fails the
    test with `what` (or the check's docstring) and the last value when none comes. An exception from `check`
    fails it at once, so a check may assert what must hold meanwhile; those of the `ignoring` types count as
    "not yet". `failure`: what to raise when none comes; a fixture setting up or cleaning up raises an error
    (RuntimeError), which says the set-up broke rather than failing a test."""
    deadline = time.monotonic() + timeout
    while True:
        last: object
        try:
            last = value = check()
        except ignoring as error:
            last = error
        else:
            if value:
                return value
        if time.monotonic() >= deadline:
            raise failure(f"{_described(check, what)}: not so after {timeout:g} s (last: {last!r:.500})")
        time.sleep(interval)


def throughout(check: Callable[[], object], seconds: float, *, what: str | None = None,
               interval: float = 0.05) -> int:
    """`check()` is truthy every time it is asked, every `interval` seconds for `seconds`; fails the test at the
    first time it is not. Returns how many times it was asked (at least once)."""
    deadline = time.monotonic() + seconds
    asked = 0
    while True:
        value = check()
        asked += 1
        if not value:
            raise AssertionError(f"{_described(check, what)}: not so after {asked} checks (got {value!r:.500})")
        if time.monotonic() >= deadline:
            return asked
        time.sleep(interval)


def _described(check: Callable[..., object], what: str | None) -> str:
    return what or (check.__doc__ or "").strip() or str(getattr(check, "__qualname__", repr(check)))
