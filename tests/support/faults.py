"""The fault injector every fake server shares: faults to apply to the requests they match, and the count of
the requests each fake received, by what the fake says identifies a request (an endpoint, a verb and a kind...).

A fake makes one `Faults` naming those attributes, asks `take(**request)` for each request it answers (which
counts it, and returns the first fault that matches and still applies), and plays the fault in its own wire
format: an Alluxio error body, a Kubernetes Status, a connection closed without an answer."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Fault:
    """What to do to matching requests instead of (or before) answering them normally."""

    status: int | None = None
    """Answer this HTTP status, with the error body of the fake's wire format."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    truncate: bool = False
    """Send only the first half of the answer (with a Content-Length that matches what is sent)."""
    garbage: bool = False
    """Send a body that is not JSON."""
    body: bytes | None = None
    """Send these bytes (as application/json, with the real status) instead of the real answer."""
    drop: bool = False
    """Close the connection without answering."""
    times: int | None = None
    """How many requests it applies to; None: until cleared."""
    match: dict[str, Any] = field(default_factory=dict)
    """The request attributes it applies to (e.g. `{"endpoint": "list_status"}`); one left out matches any."""

    def matches(self, request: dict[str, Any]) -> bool:
        return all(request.get(name) == value for name, value in self.match.items())


_FAULT_FIELDS = {f.name for f in fields(Fault)} - {"match"}


class Faults:
    """Thread-safe: the fake's handler threads take faults while a test injects and clears them."""

    def __init__(self, *attributes: str, unmodelled: tuple[str, ...] = ()) -> None:
        """`attributes`: what a fault may be told to match, as keyword arguments of `inject`. `unmodelled`: the
        Fault fields the fake does not play, refused by `inject`."""
        self._attributes = attributes
        self._unmodelled = unmodelled
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._calls: Counter[tuple[tuple[str, Any], ...]] = Counter()

    def inject(self, **given: Any) -> Fault:
        """Add a Fault: its fields (`status=500`, `delay=1.0`, `times=2`...) and the attributes it matches
        (`endpoint=...`; None or left out: any). The first matching fault applies to each request."""
        unknown = set(given) - _FAULT_FIELDS - set(self._attributes)
        if unknown:
            raise TypeError(f"no fault field or request attribute {sorted(unknown)}; this fake's requests have "
                            f"{list(self._attributes)}")
        refused = [name for name in self._unmodelled if given.get(name)]
        if refused:
            raise TypeError(f"this fake does not model {refused}")
        match = {name: given.pop(name) for name in self._attributes if given.get(name) is not None}
        given = {name: value for name, value in given.items() if name in _FAULT_FIELDS}
        fault = Fault(**given, match=match)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def count(self, **request: Any) -> None:
        """Count a request that no fault applies to."""
        with self._lock:
            self._calls[tuple(sorted(request.items()))] += 1

    def take(self, **request: Any) -> Fault | None:
        """Count the request; the fault it gets, one of whose `times` it spends, or None."""
        with self._lock:
            self._calls[tuple(sorted(request.items()))] += 1
            for fault in self._faults:
                if fault.matches(request) and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
            return None

    def calls(self, **request: Any) -> int:
        """How many requests with these attributes arrived (`calls()`: all of them)."""
        wanted = request.items()
        with self._lock:
            return sum(n for key, n in self._calls.items() if wanted <= dict(key).items())
