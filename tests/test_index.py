import threading
import time
from typing import Any

import pytest

from scheduler_extender.index import LocationIndex
from scheduler_extender.locations.base import PathLocations, SourceError, worker_address
from scheduler_extender.metrics import Metrics
from tests.support.metrics import Samples
from tests.support.waiting import eventually

W1 = (worker_address("w1"),)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """An in-process source whose answers, failures and speed the test controls."""

    def __init__(self) -> None:
        self.bytes = 1
        self.calls: list[str] = []
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def fetch(self, path: str) -> PathLocations:
        with self.lock:
            self.calls.append(path)
        self.gate.wait(10)
        if self.fail:
            raise SourceError("down")
        return PathLocations(by_workers={W1: self.bytes}, total_bytes=self.bytes, files=1)

    def probe(self) -> None:
        if self.fail:
            raise SourceError("down")

    def workers(self):
        return []


METRICS: dict[int, Samples] = {}
"""The samples of each index's metrics, by the index's id."""


def make(source, clock, **kw):
    options: dict[str, Any] = dict(ttl=10.0, max_staleness=100.0, size=100, budget=1.0, refresh_ahead=0.8,
                                   fetch_threads=4, backoff=(1.0, 8.0))
    options.update(kw)
    metrics = Metrics()
    index = LocationIndex(source, metrics=metrics, clock=clock, **options)
    METRICS[id(index)] = Samples(metrics.registry)
    return index


def cached(found):
    return [None if f is None else f.by_workers[W1] for f in found]


def settle(index):
    """Wait for background fetches started by the last call to finish: their entries are stored."""
    eventually(lambda: METRICS[id(index)].value("scheduler_extender_index_fetches_in_flight") == 0, 5,
               interval=0.005, what="no fetch in flight")


def lookups(index, result):
    return METRICS[id(index)].value("scheduler_extender_index_lookups_total", result=result)


def test_miss_fetches_then_hits():
    source, clock = Source(), Clock()
    index = make(source, clock)
    assert cached(index.lookup(["/a", "/b"])) == [1, 1]
    assert cached(index.lookup(["/a"])) == [1]
    assert source.calls == ["/a", "/b"] or source.calls == ["/b", "/a"]
    assert index.ready and index.stats() == (2, 2)
    assert lookups(index, "hit") == 1 and lookups(index, "miss") == 2


def test_stale_entry_is_served_while_it_refreshes():
    source, clock = Source(), Clock()
    index = make(source, clock)
    index.lookup(["/a"])
    source.bytes = 2
    clock.now += 11
    assert cached(index.lookup(["/a"])) == [1]  # stale answer at once
    settle(index)
    assert cached(index.lookup(["/a"])) == [2]
    assert len(source.calls) == 2 and lookups(index, "stale") == 1


def test_refresh_ahead_only_for_entries_read_since_their_fetch():
    source, clock = Source(), Clock()
    index = make(source, clock)
    index.lookup(["/hot", "/cold"])
    clock.now += 7.9
    assert index.refresh_due() == 0  # not yet at 0.8 * ttl
    clock.now += 0.6
    assert index.refresh_due() == 2  # both read in this lifetime (the read that fetched them counts)
    settle(index)
    clock.now += 1
    index.lookup(["/hot"])
    clock.now += 7.5
    source.calls.clear()
    assert index.refresh_due() == 1  # /cold was not read since its refresh
    settle(index)
    assert source.calls == ["/hot"]


def test_refreshed_entry_never_goes_stale_under_reads():
    source, clock = Source(), Clock()
    index = make(source, clock)
    for _ in range(20):
        index.lookup(["/a"])
        clock.now += 2
        index.refresh_due()
        settle(index)
    assert lookups(index, "stale") == 0 and lookups(index, "hit") == 19


def test_concurrent_misses_make_one_call():
    source, clock = Source(), Clock()
    source.gate.clear()
    index = make(source, clock)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cached(index.lookup(["/a"])))) for _ in range(16)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    source.gate.set()
    for t in threads:
        t.join()
    assert source.calls == ["/a"] and results == [[1]] * 16


def test_request_waits_no_longer_than_the_budget():
    source, clock = Source(), Clock()
    source.gate.clear()
    index = make(source, clock, budget=0.05)
    start = time.monotonic()
    assert cached(index.lookup(["/slow"])) == [None]
    elapsed = time.monotonic() - start
    assert 0.04 <= elapsed < 0.5
    assert lookups(index, "late") == 1
    source.gate.set()
    settle(index)
    assert cached(index.lookup(["/slow"])) == [1]  # the fetch finished in the background
    assert source.calls == ["/slow"]


def test_zero_budget_never_waits():
    """A miss with no budget answers at once though its fetch is held up (a gate the test keeps shut), and the
    fetch still lands in the background."""
    source, clock = Source(), Clock()
    source.gate.clear()
    index = make(source, clock, budget=0.0)
    start = time.monotonic()
    assert cached(index.lookup(["/a", "/b"])) == [None, None]
    assert time.monotonic() - start < 0.5  # where a wait would be for the gate, up to 10 s
    assert lookups(index, "late") == 2
    source.gate.set()
    settle(index)
    assert cached(index.lookup(["/a", "/b"])) == [1, 1] and lookups(index, "hit") == 2


def test_last_good_data_is_served_until_max_staleness():
    source, clock = Source(), Clock()
    index = make(source, clock)
    index.lookup(["/a"])
    source.fail = True
    for _ in range(9):  # 99s after the fetch: still served
        clock.now += 11
        assert cached(index.lookup(["/a"])) == [1]
        settle(index)
    clock.now += 2  # 101s: dropped
    assert cached(index.lookup(["/a"])) == [None]


def test_failed_path_backs_off_exponentially_then_recovers():
    source, clock = Source(), Clock()
    source.fail = True
    index = make(source, clock)
    assert cached(index.lookup(["/a"])) == [None]
    assert len(source.calls) == 1
    assert cached(index.lookup(["/a"])) == [None]  # backing off: no call, no wait
    assert len(source.calls) == 1
    clock.now += 1.0
    index.lookup(["/a"])  # second failure: next retry after 2s
    clock.now += 1.5
    index.lookup(["/a"])
    assert len(source.calls) == 2
    source.fail = False
    clock.now += 0.5
    assert cached(index.lookup(["/a"])) == [1]
    assert len(source.calls) == 3 and lookups(index, "error") == 4


def test_size_is_bounded():
    source, clock = Source(), Clock()
    index = make(source, clock, size=3)
    for i in range(10):
        index.lookup([f"/p{i}"])
    assert index.stats()[0] == 3


def test_syncer_probes_until_the_source_answers():
    source = Source()
    source.fail = True
    index = make(source, time.monotonic, ttl=0.2, max_staleness=1.0)
    index.start()
    try:
        time.sleep(0.3)
        assert not index.ready
        source.fail = False
        eventually(lambda: index.ready, 5, interval=0.01, what="the index ready")
        assert index.sync_age() < 1
    finally:
        index.close()


def test_syncer_refreshes_hot_entries_in_the_background():
    source = Source()
    index = make(source, time.monotonic, ttl=0.2, max_staleness=1.0)
    index.start()
    try:
        index.lookup(["/a"])
        time.sleep(0.35)
        assert source.calls.count("/a") >= 2
    finally:
        index.close()


def test_ttl_must_not_exceed_max_staleness():
    with pytest.raises(ValueError):
        make(Source(), Clock(), ttl=10.0, max_staleness=5.0)


def test_prefetch_starts_fetches_without_waiting_and_skips_fresh_entries():
    source, clock = Source(), Clock()
    source.gate.clear()
    index = make(source, clock)
    start = time.monotonic()
    assert index.prefetch(["/a", "/b"]) == 2
    assert time.monotonic() - start < 0.5
    assert index.prefetch(["/a"]) == 0  # already in flight
    source.gate.set()
    settle(index)
    assert index.prefetch(["/a", "/b"]) == 0  # fresh
    clock.now += 8.5
    assert index.prefetch(["/a"]) == 1  # due for refresh
    settle(index)
    assert sorted(source.calls) == ["/a", "/a", "/b"]
    assert cached(index.lookup(["/a", "/b"])) == [1, 1] and lookups(index, "hit") == 2


def test_prefetched_paths_count_as_read_for_refresh_ahead():
    source, clock = Source(), Clock()
    index = make(source, clock)
    index.prefetch(["/a"])
    settle(index)
    clock.now += 8.5
    assert index.refresh_due() == 1
    settle(index)
    clock.now += 5
    index.prefetch(["/a"])  # still pending pods ask for it: keeps it warm
    clock.now += 3.5
    assert index.refresh_due() == 1


def test_stats_follow_entries_added_replaced_evicted_and_expired():
    """The cached-bytes sum is kept as entries come and go (never re-summed under the lock): check it against
    the entries themselves after each way an entry can come or go."""
    source, clock = Source(), Clock()
    index = make(source, clock, size=3)
    paths = [f"/p{i}" for i in range(4)]

    def summed():
        """The bytes of the entries the index holds, read through lookups that cannot change them: the source
        fails, so a missing path stays missing and a stale one keeps its entry."""
        source.fail = True
        try:
            return sum(found.by_workers[W1] for found in index.lookup(paths) if found is not None)
        finally:
            settle(index)
            source.fail = False

    for i, size in enumerate((5, 7, 11)):  # added
        source.bytes = size
        index.lookup([f"/p{i}"])
    assert index.stats() == (3, 23) and summed() == 23
    source.bytes = 100
    clock.now += 11
    index.lookup(["/p0"])  # stale: replaced by its refresh
    settle(index)
    assert index.stats() == (3, 118) == (3, summed())
    clock.now += 30  # past every backoff of the failed lookups
    index.lookup(["/p3"])  # evicted one to make room
    assert index.stats() == (3, summed()) and index.stats()[1] in (7 + 11 + 100, 100 + 11 + 100, 100 + 7 + 100)
    clock.now += 101  # past max staleness: expired
    assert index.stats() == (0, 0)
