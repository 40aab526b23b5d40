"""Alluxio 3 membership from etcd, listed and then watched, over etcd's v3 JSON gateway (no gRPC dependency).

Alluxio's etcd membership (313: alluxio/membership/EtcdMembershipManager.java, ServiceDiscoveryRecipe.java,
AlluxioEtcdClient.java) keeps two key spaces per cluster (`alluxio.cluster.name`):
- `/DHT/<cluster>/AUTHORIZED/worker-<id>`: every worker that ever joined (`getAllMembers`);
- `/ServiceDiscovery/<cluster>/worker-<id>`: the live ones, each key bound to the worker's lease
  (`getLiveMembers`). The client lists it with the prefix `/ServiceDiscovery/<cluster>`, without a trailing
  slash, so a cluster named `a` also sees the keys of a cluster named `ab`; mirrored here.
The ring is the live key space (`alluxio.user.dynamic.consistent.hash.ring.enabled`, default true) or, with it
off, the authorized one. Both are watched; the log says how many workers each holds.

The gateway (etcd's api/etcdserverpb/rpc.proto over grpc-gateway): `POST /v3/kv/range {"key", "range_end"}` with
base64 keys and int64s as strings, and `POST /v3/watch {"create_request": {...}}`, which streams one JSON object
a line (`{"result": {"header", "events": [{"type", "kv"}], "canceled", "compact_revision"}}`; a PUT's type is
omitted, being the enum's zero).
"""
from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import urllib3

from ..urls import base_url
from .alluxio3_http import JsonHttp
from .alluxio3_membership import Member, MembershipError, etcd_members
from .base import SourceError

log = logging.getLogger(__name__)

_RETRY = (0.2, 10.0)
"""Seconds between attempts to list and watch again after a failure, doubling up to the second figure."""


@dataclass
class _KeySpace:
    name: str
    prefix: bytes
    values: dict[bytes, bytes] = field(default_factory=dict)
    members: tuple[Member, ...] | None = None
    """Ring members read from `values` the last time that succeeded, in key order."""


class EtcdMembership:
    """Start with `start()` (two daemon threads, one per key space), stop with `close()`. `members()` is the ring's
    key space as last seen: while etcd is unreachable the last good view stays in use, as Alluxio's clients keep
    their cached worker list."""

    def __init__(self, endpoints: Sequence[str], cluster: str, http: JsonHttp, *, live: bool = True,
                 idle: float = 30.0) -> None:
        """`idle`: seconds a watch may stay silent before it is opened again, which also finds a dead connection."""
        if not endpoints:
            raise ValueError("no etcd endpoint")
        self._endpoints = [base_url(endpoint) for endpoint in endpoints]
        self._http, self._idle = http, idle
        self._live = _KeySpace("live", f"/ServiceDiscovery/{cluster}".encode())
        self._all = _KeySpace("authorized", f"/DHT/{cluster}/AUTHORIZED/".encode())
        self._ring = self._live if live else self._all
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._streams: set[urllib3.BaseHTTPResponse] = set()
        self._pool = urllib3.PoolManager(maxsize=4, retries=False)
        self._turn = 0

    def members(self) -> tuple[Member, ...]:
        with self._lock:
            members = self._ring.members
        if members is None:
            raise MembershipError(f"no {self._ring.name} Alluxio workers read from etcd {self._endpoints} yet")
        return members

    def start(self) -> None:
        for space in (self._live, self._all):
            thread = threading.Thread(target=self._follow, args=(space,), name=f"etcd-{space.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.shutdown()  # wakes the thread blocked reading it
        for thread in self._threads:
            thread.join(timeout=5)

    def _follow(self, space: _KeySpace) -> None:
        """List, then watch from the next revision; after a failure or a compaction, list again."""
        failures = 0
        while not self._stop.is_set():
            try:
                revision: int | None = self._list(space)
                failures = 0
                while not self._stop.is_set() and revision is not None:
                    revision = self._watch(space, revision + 1)
            except (SourceError, urllib3.exceptions.HTTPError, ValueError, KeyError, TypeError) as err:
                if self._stop.is_set():
                    return
                failures += 1
                self._turn += 1  # the next endpoint, if there are several
                log.warning("etcd %s membership: %s; trying again", space.name, err)
                self._stop.wait(min(_RETRY[0] * 2 ** (failures - 1), _RETRY[1]))

    def _list(self, space: _KeySpace) -> int:
        url = f"{self._endpoint()}/v3/kv/range"
        answer = self._http.request("etcd_range", "POST", url, _range(space.prefix))
        if not isinstance(answer, dict) or not isinstance(answer.get("header"), dict):
            raise self._http.bad("etcd_range", url, f"no header: {answer!r:.200}")
        values = {_b64(kv["key"]): _b64(kv.get("value", "")) for kv in answer.get("kvs") or ()}
        self._update(space, values)
        return int(answer["header"]["revision"])

    def _watch(self, space: _KeySpace, start: int) -> int | None:
        """Applies events until the stream ends; the revision seen last (watch again after it), or None to list
        again (the revision was compacted away, or etcd cancelled the watch)."""
        url = f"{self._endpoint()}/v3/watch"
        body = {"create_request": {**_range(space.prefix), "start_revision": str(start)}}
        response = self._pool.request("POST", url, body=orjson.dumps(body), preload_content=False,
                                      timeout=urllib3.Timeout(connect=self._http.timeout, read=self._idle))
        with self._lock:
            self._streams.add(response)
        revision = start - 1
        try:
            if self._stop.is_set():  # closed while this watch was being opened
                return None
            if response.status != 200:
                raise SourceError(f"etcd watch {url}: HTTP {response.status}")
            for message in _lines(response):
                result = message.get("result") if isinstance(message, dict) else None
                if not isinstance(result, dict):
                    raise SourceError(f"etcd watch {url}: {message!r:.200}")
                if result.get("canceled") or result.get("compact_revision"):
                    return None
                events = result.get("events") or []
                if events:  # by the events' own revisions: a header's is etcd's, maybe past what is delivered
                    revision = max(revision, *(int(event["kv"]["mod_revision"]) for event in events))
                    with self._lock:
                        values = dict(space.values)
                    for event in events:
                        key = _b64(event["kv"]["key"])
                        if event.get("type") == "DELETE":
                            values.pop(key, None)
                        else:
                            values[key] = _b64(event["kv"].get("value", ""))
                    self._update(space, values)
        except urllib3.exceptions.ReadTimeoutError:
            pass  # silent for `idle` seconds: open the watch again from where it was
        finally:
            with self._lock:
                self._streams.discard(response)
            response.release_conn()
        return revision

    def _update(self, space: _KeySpace, values: dict[bytes, bytes]) -> None:
        """Keeps the values; reads the ring members from them unless one entry makes the whole read fail."""
        members: tuple[Member, ...] | None
        try:
            members = etcd_members(values[key] for key in sorted(values))
        except MembershipError as err:
            log.warning("etcd %s membership unreadable, keeping the last one: %s", space.name, err)
            members = None
        with self._lock:
            space.values = values
            changed = members is not None and members != space.members
            if members is not None:
                space.members = members
        if changed:
            log.info("Alluxio 3 membership from etcd: %d live, %d authorized workers",
                     len(self._live.members or ()), len(self._all.members or ()))

    def _endpoint(self) -> str:
        return self._endpoints[self._turn % len(self._endpoints)]


def _range(prefix: bytes) -> dict[str, str]:
    """A prefix as etcd's [key, range_end): the prefix with its last byte below 0xff raised by one."""
    end = prefix.rstrip(b"\xff")
    end = end[:-1] + bytes([end[-1] + 1]) if end else b"\0"
    return {"key": base64.b64encode(prefix).decode(), "range_end": base64.b64encode(end).decode()}


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"etcd sent {text!r:.100} for a key or value")
    return base64.b64decode(text, validate=True)


def _lines(response: urllib3.BaseHTTPResponse) -> Iterator[Any]:
    """The JSON messages of a watch stream, one a line, as they arrive."""
    pending = b""
    for chunk in response.stream(None):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield orjson.loads(line)
