"""Alluxio 3 membership from a real etcd: both key spaces listed and watched, through joins, leaves, compaction,
an etcd restart and entries Alluxio cannot read."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scheduler_extender.locations.alluxio3_etcd import EtcdMembership
from scheduler_extender.locations.alluxio3_http import JsonHttp
from scheduler_extender.locations.alluxio3_membership import Member, MembershipError
from scheduler_extender.metrics import SourceMetrics
from tests.e2e.alluxio3_cluster import CLUSTER, LoopbackEtcd
from tests.support import waiting
from tests.support.control_plane import control_plane_binaries
from tests.support.fake_alluxio3 import membership_entry
from tests.support.kube_versions import newest


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[LoopbackEtcd]:
    server = LoopbackEtcd(control_plane_binaries(newest()), tmp_path)  # Alluxio's etcd, not the API server's
    server.start()
    yield server
    server.stop()


def watcher(etcd: LoopbackEtcd, *, live: bool = True, cluster: str = CLUSTER, idle: float = 30) -> EtcdMembership:
    membership = EtcdMembership([etcd.url], cluster, JsonHttp(timeout=2, retries=1, metrics=SourceMetrics()), live=live,
                                idle=idle)
    membership.start()
    return membership


def eventually(check: Callable[[], object], timeout: float = 10) -> None:
    """Until `check()` holds, a membership not known yet counting as not yet."""
    waiting.eventually(check, timeout, ignoring=(MembershipError,))


def hosts(members: tuple[Member, ...]) -> list[str]:
    return [member.host for member in members]


def worker(i: int, etcd: LoopbackEtcd, cluster: str = CLUSTER, *, live: bool = True) -> str:
    """Worker i joins (authorized; live unless told otherwise); the lease of its live entry, or ''."""
    identity = uuid.UUID(int=i)
    value = json.dumps(membership_entry(identity, f"10.0.0.{i}")).encode()
    etcd.put(f"/DHT/{cluster}/AUTHORIZED/worker-{identity}", value)
    if not live:
        return ""
    lease = etcd.grant()
    etcd.put(f"/ServiceDiscovery/{cluster}/worker-{identity}", value, lease)
    return lease


def test_both_key_spaces_are_listed_then_followed(etcd: LoopbackEtcd) -> None:
    leases = [worker(i, etcd) for i in (1, 2, 3)]
    live, every = watcher(etcd), watcher(etcd, live=False)
    try:
        eventually(lambda: hosts(live.members()) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        worker(4, etcd)
        worker(5, etcd, live=False)
        eventually(lambda: hosts(live.members()) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"])
        eventually(lambda: len(every.members()) == 5)
        etcd.revoke(leases[1])  # worker 2 stops: its live entry goes, it stays authorized
        eventually(lambda: hosts(live.members()) == ["10.0.0.1", "10.0.0.3", "10.0.0.4"])
        assert len(every.members()) == 5
    finally:
        live.close()
        every.close()


def test_the_live_prefix_has_no_trailing_slash_as_in_alluxio(etcd: LoopbackEtcd) -> None:
    """ServiceDiscoveryRecipe lists `/ServiceDiscovery/<cluster>`: a cluster `a3` also sees cluster `a3x`'s keys."""
    worker(1, etcd, cluster="a3")
    worker(2, etcd, cluster="a3x")
    membership = watcher(etcd, cluster="a3")
    try:
        eventually(lambda: hosts(membership.members()) == ["10.0.0.1", "10.0.0.2"])
    finally:
        membership.close()


def test_compaction_and_an_etcd_restart_lose_nothing(etcd: LoopbackEtcd) -> None:
    worker(1, etcd)
    membership = watcher(etcd, idle=1)
    try:
        eventually(lambda: hosts(membership.members()) == ["10.0.0.1"])
        etcd.stop()
        time.sleep(1.5)  # the watch breaks, listing fails: the last membership stays in use
        assert hosts(membership.members()) == ["10.0.0.1"]
        etcd.start()
        worker(2, etcd)
        eventually(lambda: hosts(membership.members()) == ["10.0.0.1", "10.0.0.2"], timeout=20)
        for i in range(3, 30):  # many revisions, then compacted away under the watch
            revision = etcd.put(f"/other/{i}", b"x")
        worker(30, etcd)
        etcd.compact(revision)
        worker(31, etcd)
        eventually(lambda: hosts(membership.members())[-2:] == ["10.0.0.30", "10.0.0.31"], timeout=20)
    finally:
        membership.close()


def test_an_entry_alluxio_cannot_read_keeps_the_last_membership(etcd: LoopbackEtcd) -> None:
    worker(1, etcd)
    membership = watcher(etcd)
    try:
        eventually(lambda: hosts(membership.members()) == ["10.0.0.1"])
        etcd.put(f"/ServiceDiscovery/{CLUSTER}/worker-bad", b'{"Identity": {"version": 1, "identifier": "%s"}}'
                 % (b"ab" * 16))  # no address: Alluxio's listing fails as a whole
        worker(2, etcd)
        time.sleep(1)
        assert hosts(membership.members()) == ["10.0.0.1"]
        etcd.delete(f"/ServiceDiscovery/{CLUSTER}/worker-bad")
        eventually(lambda: hosts(membership.members()) == ["10.0.0.1", "10.0.0.2"])
    finally:
        membership.close()


def test_close_ends_the_watch_at_once(etcd: LoopbackEtcd) -> None:
    before = set(threading.enumerate())
    membership = watcher(etcd)
    worker(1, etcd)
    eventually(lambda: membership.members())
    assert {thread.name for thread in set(threading.enumerate()) - before} == {"etcd-live", "etcd-authorized"}
    started = time.monotonic()
    membership.close()
    assert time.monotonic() - started < 2
    assert set(threading.enumerate()) <= before  # its watch threads have ended


def test_no_membership_until_etcd_answers() -> None:
    http = JsonHttp(timeout=1, retries=0, metrics=SourceMetrics())
    membership = EtcdMembership(["http://127.0.0.1:9"], CLUSTER, http)
    membership.start()
    try:
        with pytest.raises(MembershipError, match="no live Alluxio workers read from etcd"):
            membership.members()
    finally:
        membership.close()
