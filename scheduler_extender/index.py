"""The block-location index: a TTL cache of one entry per Alluxio path over a source of them.

The serving process's source is the sync process (sync/process.py), whose entries placement has given
their node tables before they arrive here (serve.py); the index itself only decides when to ask.

A scheduling call must never wait on Alluxio for long, so:
- a miss starts a fetch and waits for it at most `budget`; past that the call answers without the path
  and the fetch finishes in the background (single-flight: one fetch per path however many callers);
- an entry older than `ttl` is served as it is while a background fetch refreshes it;
- a background syncer refreshes entries that were read since they were fetched once they reach
  `refresh_ahead * ttl`, so paths in use are refreshed before they go stale (each read buys one refresh;
  the first read since a fetch queues the entry by its refresh time, so a round looks only at what is due);
- when fetches fail, the last good entry keeps being served until `max_staleness` after it was fetched,
  and the path is retried with exponential backoff.
"""
from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from cachetools import TTLCache

from .background import Loop
from .metrics import Metrics

log = logging.getLogger(__name__)


class Located(Protocol):
    """What the index holds per path: anything that says how many cached bytes it describes."""

    @property
    def cached_bytes(self) -> int: ...


E = TypeVar("E", bound=Located)
E_co = TypeVar("E_co", bound=Located, covariant=True)


class Source(Protocol[E_co]):
    """Where entries come from: a LocationSource, or the sync process standing for one."""

    def fetch(self, path: str) -> E_co:
        """The entry of `path`; raises (SourceError) when it cannot be had."""
        ...

    def probe(self) -> None:
        """Raises unless the source answers."""
        ...


@dataclass(slots=True)
class _Entry(Generic[E]):
    locations: E
    cached_bytes: int
    fetched_at: float
    due: float | None = None
    """When refresh-ahead is due, once the entry was read since its fetch (and so queued); else None."""


@dataclass(frozen=True, slots=True)
class _Failure:
    count: int
    retry_at: float


class _Held(TTLCache[str, _Entry[Any]]):
    """The index's entries, with the bytes they describe summed as entries come and go: summed on demand
    under the lock (every /metrics scrape), 100,000 entries took 100 ms that every lookup waited. Entries
    come by assignment, which may replace one, and leave through cachetools' two documented ways: `expire`
    (past the max staleness) and `popitem` (the least recently used, past the size)."""

    def __init__(self, maxsize: int, ttl: float, timer: Callable[[], float]) -> None:
        super().__init__(maxsize=maxsize, ttl=ttl, timer=timer)
        self.cached_bytes = 0

    def __setitem__(self, key: str, value: _Entry[Any]) -> None:
        old = self.get(key)  # None if absent or expired (then the expire the assignment starts with drops it)
        super().__setitem__(key, value)
        self.cached_bytes += value.cached_bytes - (old.cached_bytes if old is not None else 0)

    def popitem(self) -> tuple[str, _Entry[Any]]:
        key, value = super().popitem()
        self.cached_bytes -= value.cached_bytes
        return key, value

    def expire(self, time: float | None = None) -> list[tuple[str, _Entry[Any]]]:
        expired = list(super().expire(time))
        for _, value in expired:
            self.cached_bytes -= value.cached_bytes
        return expired


class LocationIndex(Generic[E]):
    """Thread-safe; one per process. `start()` runs the syncer, `close()` stops it."""

    def __init__(self, source: Source[E], *, ttl: float, max_staleness: float, size: int, budget: float,
                 refresh_ahead: float, fetch_threads: int, metrics: Metrics,
                 backoff: tuple[float, float] = (0.5, 60.0), clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < ttl <= max_staleness:
            raise ValueError("need 0 < ttl <= max_staleness")
        self._source = source
        self._ttl = ttl
        self._refresh_at = refresh_ahead * ttl
        self._budget = budget
        self._backoff_base, self._backoff_max = backoff
        self._clock = clock
        self._metrics = metrics
        self._lock = threading.Lock()
        self._entries = _Held(maxsize=size, ttl=max_staleness, timer=clock)
        self._due: list[tuple[float, str]] = []
        """(refresh-ahead time, path) of entries read since their fetch: a heap."""
        self._failures: TTLCache[str, _Failure] = TTLCache(maxsize=size, ttl=2 * self._backoff_max, timer=clock)
        self._inflight: dict[str, Future[E]] = {}
        self._pool = ThreadPoolExecutor(fetch_threads, thread_name_prefix="location-fetch")
        self._last_success: float | None = None
        self._syncer = Loop("index-sync", self._sync_round,
                            every=min(5.0, max(0.05, (self._ttl - self._refresh_at) / 2)))
        metrics.index_entries.set_function(lambda: self.stats()[0])
        metrics.index_bytes.set_function(lambda: self.stats()[1])
        metrics.index_fetching.set_function(lambda: len(self._inflight))  # started, the entry not stored yet
        metrics.sync_age.set_function(self.sync_age)

    @property
    def ready(self) -> bool:
        """True once the source has answered at least once."""
        return self._last_success is not None

    def sync_age(self) -> float:
        last = self._last_success
        return math.inf if last is None else self._clock() - last

    def stats(self) -> tuple[int, int]:
        """(entries, cached bytes they describe)."""
        with self._lock:
            self._entries.expire()
            return len(self._entries), self._entries.cached_bytes

    def lookup(self, paths: Sequence[str]) -> list[E | None]:
        """The entry of each path, None where the index has nothing usable within the budget."""
        now = self._clock()
        found: list[E | None] = [None] * len(paths)
        waiting: dict[int, Future[E]] = {}
        count = self._metrics.index_lookups
        hits = 0  # counted once per call: a pod may list hundreds of paths
        with self._lock:
            for i, path in enumerate(paths):
                entry = self._entries.get(path)
                if entry is not None:
                    self._read_locked(path, entry)
                    found[i] = entry.locations
                    if now - entry.fetched_at >= self._ttl:
                        self._fetch_locked(path, "stale", now)
                        count.labels("stale").inc()
                    else:
                        hits += 1
                    continue
                future = self._fetch_locked(path, "miss", now)
                if future is None:
                    count.labels("error").inc()
                else:
                    waiting[i] = future
        if hits:
            count.labels("hit").inc(hits)
        if waiting:
            wait(waiting.values(), timeout=self._budget)
            for i, future in waiting.items():
                if not future.done():
                    count.labels("late").inc()
                elif future.exception() is None:
                    found[i] = future.result()
                    count.labels("miss").inc()
                else:
                    count.labels("error").inc()
        return found

    def prefetch(self, paths: Sequence[str]) -> int:
        """Start fetches for paths that are missing or due for refresh, without waiting; count them as read,
        so refresh-ahead keeps them warm for the pods about to ask. Returns how many fetches started."""
        now = self._clock()
        started = 0
        with self._lock:
            for path in paths:
                entry = self._entries.get(path)
                if entry is not None:
                    self._read_locked(path, entry)
                    if now - entry.fetched_at < self._refresh_at:
                        continue
                if path not in self._inflight:
                    started += self._fetch_locked(path, "prefetch", now) is not None
        return started

    def refresh_due(self) -> int:
        """Start refreshes for entries read since their fetch that have reached the refresh-ahead age."""
        now = self._clock()
        started = 0
        with self._lock:
            while self._due and self._due[0][0] <= now:
                due, path = heapq.heappop(self._due)
                entry = self._entries.get(path)
                if entry is None or entry.due != due:  # gone, or replaced since it was queued
                    continue
                entry.due = None
                if path not in self._inflight:
                    started += self._fetch_locked(path, "refresh", now) is not None
        return started

    def start(self) -> None:
        """Run the syncer: probe the source until it answers, then refresh hot entries ahead of expiry."""
        self._syncer.start()

    def close(self) -> None:
        self._syncer.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _sync_round(self) -> None:
        if not self.ready:
            self._probe()
        self.refresh_due()

    def _probe(self) -> None:
        try:
            self._source.probe()
        except Exception as err:
            log.warning("location source not answering yet: %s", err)
        else:
            self._last_success = self._clock()

    def _read_locked(self, path: str, entry: _Entry[E]) -> None:
        """A read since the fetch buys the entry one refresh-ahead."""
        if entry.due is None:
            entry.due = entry.fetched_at + self._refresh_at
            heapq.heappush(self._due, (entry.due, path))

    def _fetch_locked(self, path: str, trigger: str, now: float) -> Future[E] | None:
        """The one fetch in flight for `path`, started if needed; None while the path is backing off."""
        future = self._inflight.get(path)
        if future is not None:
            return future
        failure = self._failures.get(path)
        if failure is not None and now < failure.retry_at:
            return None
        future = self._pool.submit(self._fetch, path, trigger)
        self._inflight[path] = future
        return future

    def _fetch(self, path: str, trigger: str) -> E:
        error: Exception | None = None
        try:
            locations = self._source.fetch(path)
        except Exception as err:  # a source bug must not wedge the path: record it like any failure
            error = err
        now = self._clock()
        with self._lock:
            del self._inflight[path]
            if error is None:
                new = path not in self._entries
                entry = self._entries[path] = _Entry(locations, locations.cached_bytes, now)
                if new:  # the read that fetched it counts
                    self._read_locked(path, entry)
                self._failures.pop(path, None)
                self._last_success = now
            else:
                previous = self._failures.get(path)
                count = previous.count + 1 if previous else 1
                delay = min(self._backoff_max, self._backoff_base * 2 ** (count - 1))
                self._failures[path] = _Failure(count, now + delay)
        self._metrics.index_refreshes.labels(trigger, "ok" if error is None else "error").inc()
        if error is not None:
            log.warning("fetching locations of %s failed (%s), retry in %.1fs", path, error, delay)
            raise error
        return locations
