"""LocationSource for Alluxio 3.x: a file's bytes are on the worker its UFS path hashes to on the worker ring.

Alluxio 3 has no block master to ask where blocks are. A client reads a file through the worker the ring assigns
it (alluxio3_ring), and that worker caches the pages it reads, so the ring's owner of a file is where its cache
is. What is exact and what is not:
- **Ownership is exact**: the same ring over the same members as Alluxio's client (checked against the 313 jars
  by tests/alluxio3), from the same membership (alluxio3_membership, alluxio3_etcd).
- **Cached bytes are estimated** unless the listing says: the workers' HTTP API reports a file's length but not
  how much of it is cached, so a file counts whole for its owner (what the owner holds once the file has been
  read once). A listing file may give `inAlluxioPercentage`; then that share of the length counts.
The workers' addresses go through the usual resolver: on Kubernetes a worker's host is its node's IP.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ..metrics import SourceMetrics
from .alluxio3_etcd import EtcdMembership
from .alluxio3_http import JsonHttp
from .alluxio3_listing import Listing, ListingFile, WorkerApiListing
from .alluxio3_membership import MasterMembership, Member, Membership, MembershipError, StaticMembership
from .alluxio3_ring import Ring
from .base import PathLocations, WorkerSet

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)


class Alluxio3Source:
    """Safe to call from several threads. `start()` starts the membership's watch, if it has one; `close()` stops
    it."""

    def __init__(self, membership: Membership, listing: Listing, *, virtual_nodes: int) -> None:
        self._membership, self._listing, self._virtual_nodes = membership, listing, virtual_nodes
        self._lock = threading.Lock()
        self._ring: Ring[Member] | None = None

    def start(self) -> None:
        self._membership.start()

    def close(self) -> None:
        self._membership.close()

    def ring(self) -> Ring[Member]:
        """The ring over the current members, built again only when they change. Raises SourceError."""
        members = self._membership.members()
        if not members:
            raise MembershipError("no Alluxio 3 worker is on the ring (no live worker)")
        with self._lock:
            ring = self._ring
            if ring is None or ring.members != members:
                ring = self._ring = Ring(members, self._virtual_nodes)
                log.info("Alluxio 3 ring: %d workers, %d virtual nodes each", len(members), self._virtual_nodes)
        return ring

    def fetch(self, path: str) -> PathLocations:
        """Bytes per owning worker of the files at or beneath `path`."""
        ring = self.ring()
        by_workers: dict[WorkerSet, int] = {}
        total = files = 0
        for entry in self._listing.files(path, ring):
            workers = (ring.owner(entry.ufs_path).address,)
            share = entry.length if entry.cached_percentage is None else entry.length * entry.cached_percentage // 100
            by_workers[workers] = by_workers.get(workers, 0) + share
            total += entry.length
            files += 1
        return PathLocations(by_workers=by_workers, total_bytes=total, files=files)

    def probe(self) -> None:
        """Answering once the membership is known and has a worker."""
        self.ring()


def open_source(settings: Settings, metrics: SourceMetrics) -> Alluxio3Source:
    """The source the Alluxio 3 settings describe. Opens no connection and starts no thread (see `start`).
    Raises SourceError for a static worker file or listing file that cannot be read."""
    http = JsonHttp(timeout=settings.alluxio_timeout, retries=settings.alluxio_retries, metrics=metrics)
    live = settings.alluxio3_hash_ring == "live"
    membership: Membership
    if settings.alluxio3_etcd:
        membership = EtcdMembership(settings.alluxio3_etcd, settings.alluxio3_cluster_name, http, live=live)
    elif settings.alluxio3_static_workers:
        membership = StaticMembership(settings.alluxio3_static_workers, settings.alluxio3_worker_http_port)
    else:
        assert settings.alluxio3_master is not None
        membership = MasterMembership(settings.alluxio3_master, http, live_only=live)
    assert settings.alluxio3_ufs_root is not None
    listing: Listing = (ListingFile(settings.alluxio3_listing_file) if settings.alluxio3_listing_file
                        else WorkerApiListing(http, settings.alluxio3_ufs_root))
    return Alluxio3Source(membership, listing, virtual_nodes=settings.alluxio3_virtual_nodes)


def check_files(settings: Settings) -> None:
    """Read the static worker file and the listing file as `open_source` will. Raises SourceError."""
    if settings.alluxio3_static_workers:
        StaticMembership(settings.alluxio3_static_workers, settings.alluxio3_worker_http_port)
    if settings.alluxio3_listing_file:
        ListingFile(settings.alluxio3_listing_file)
