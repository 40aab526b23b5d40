"""Who is on an Alluxio 3 worker ring, read the way the 313 client reads its membership.

`alluxio.worker.membership.manager.type` says where a client learns its workers; each kind has a reader here:
- ETCD: one JSON value per worker (`WorkerServiceEntity`, written by Gson; alluxio/membership/
  WorkerServiceEntity.java, DefaultServiceEntity.java, alluxio/wire/WorkerIdentity.java GsonSerde,
  WorkerNetAddress.java, WorkerInfo.java), e.g. `{"Identity":{"version":1,"identifier":"411f8c3d..."},
  "WorkerNetAddress":{"Host":"10.0.0.7","ContainerHost":"","RpcPort":29999,...,"HttpServerPort":28080},"State":"AUTHORIZED",
  "GenerationNumber":-1,"ServiceEntityName":"worker-411f8c3d-..."}`. `etcd_members` reads them, the watcher in
  alluxio3_etcd keeps them.
- STATIC: a file of worker host names (`StaticMembershipManager`): one a line, trimmed, `#` comments and blank
  lines skipped, each identity `UUID.nameUUIDFromBytes(host)`.
- MASTER (the default): the master's `GET /api/v1/master/info` (AlluxioMasterRestServiceHandler.getInfo, an
  `AlluxioMasterInfo` written by Jackson): `workers` are the live `WorkerInfo`s, `lostWorkers` the lost ones, each
  with `identity` `{"version":0,"identifier":"<the master's worker id, 8 bytes hex>"}` and `address` `{"host",
  "containerHost","httpServerPort",...}`.

The order matters only where two workers' ring entries collide (the later one keeps the slot), and is the order
the client iterates in: etcd keys in byte order, a static file in Java HashSet order, the master's lists as sent.
"""
from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from ..urls import base_url
from .alluxio3_http import JsonHttp
from .alluxio3_ring import WorkerIdentity
from .base import SourceError, WorkerAddress, worker_address

DEFAULT_HTTP_PORT = 28080
"""alluxio.worker.http.server.port's default: where a worker listed by name alone serves its HTTP API."""
_ID_BYTES = {0: 8, 1: 16}
"""Identifier length per identity version (WorkerIdentity.ParserV0, ParserV1); other versions are refused."""
_LEGACY_ZERO = WorkerIdentity(bytes(8), 0)
_INTS = ("RpcPort", "DataPort", "SecureRpcPort", "NettyDataPort", "WebPort")
"""WorkerNetAddress's other int fields, which Gson reads too."""
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")


class MembershipError(SourceError):
    """The membership cannot be read as Alluxio reads it; Alluxio's clients then keep their last worker list."""


@dataclass(frozen=True, slots=True)
class Member:
    """A worker on the ring: its identity (what is hashed) and its address (where it is)."""

    identity: WorkerIdentity
    host: str
    container_host: str = ""
    http_port: int = DEFAULT_HTTP_PORT

    @property
    def address(self) -> WorkerAddress:
        return worker_address(self.host, self.container_host)


class Membership(Protocol):
    """The workers a 3.x client would put on its ring now, in its iteration order."""

    def members(self) -> tuple[Member, ...]:
        """Raises SourceError while it is not known."""
        ...

    def start(self) -> None: ...

    def close(self) -> None: ...


def etcd_members(values: Iterable[bytes]) -> tuple[Member, ...]:
    """The ring members in etcd values (key order), read as EtcdMembershipManager reads them: an entry Gson
    cannot read is skipped; one whose address is missing, or two with one identity, fail the whole listing
    (WorkerInfo.setAddress, WorkerClusterView refuse them), raised as MembershipError."""
    members: dict[WorkerIdentity, Member] = {}
    for raw in values:
        member = value_member(raw)
        if member is not None and members.setdefault(member.identity, member) is not member:
            raise MembershipError(f"two membership entries are worker {member.identity}")
    return tuple(members.values())


def value_member(raw: bytes) -> Member | None:
    """One etcd membership value as stored (a WorkerServiceEntity as Gson writes it, read back by Gson): None
    where Gson fails to read a field (Alluxio skips the entry), MembershipError where it reads the entry but
    Alluxio then fails (no address). An entry without Identity is the legacy worker id 0
    (WorkerInfo.getIdentity). Gson reads a number or a boolean into a string field as its text, and an integral
    number into an int field; so does this."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if value is not None and not isinstance(value, dict):
        return None
    entity = value or {}
    identity, address = entity.get("Identity"), entity.get("WorkerNetAddress")
    parsed = _LEGACY_ZERO if identity is None else _identity(identity)
    fields = address if isinstance(address, dict) else {}
    host, container_host = _gson_string(fields.get("Host")), _gson_string(fields.get("ContainerHost"))
    port = _gson_int(fields.get("HttpServerPort"))
    others = [_gson_string(entity.get("ServiceEntityName")), _gson_string(fields.get("DomainSocketPath")),
              _gson_int(entity.get("GenerationNumber")), *(_gson_int(fields.get(name)) for name in _INTS)]
    if (parsed is None or (address is not None and not isinstance(address, dict)) or host is None
            or container_host is None or port is None or None in others):
        return None
    if address is None:
        raise MembershipError(f"a membership entry without WorkerNetAddress: {raw[:200]!r}")
    return Member(parsed, host, container_host, port)


def master_members(info: Any, *, live_only: bool) -> tuple[Member, ...]:
    """The ring members in an AlluxioMasterInfo: `workers`, then `lostWorkers` unless `live_only`
    (FileSystemContext.getAllWorkers concatenates them). Raises MembershipError for anything else."""
    if not isinstance(info, dict):
        raise MembershipError("the master's info is not an object")
    members = []
    for field in ("workers",) if live_only else ("workers", "lostWorkers"):
        workers = info.get(field) or []
        if not isinstance(workers, list):
            raise MembershipError(f"the master's {field} is not a list")
        for worker in workers:
            identity = _identity(worker.get("identity")) if isinstance(worker, dict) else None
            address = worker.get("address") if isinstance(worker, dict) else None
            if identity is None or not isinstance(address, dict) or not isinstance(address.get("host"), str):
                raise MembershipError(f"a worker in the master's {field} without identity or host: {worker!r:.200}")
            port = address.get("httpServerPort", 0)
            members.append(Member(identity, address["host"], address.get("containerHost") or "",
                                  port if _is_int(port) else 0))
    return tuple(members)


def static_members(path: str | Path, http_port: int = DEFAULT_HTTP_PORT) -> tuple[Member, ...]:
    """The workers of a static membership file, in the order the client iterates them. Raises OSError,
    UnicodeDecodeError."""
    hosts: dict[str, None] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        host = line.strip()
        if host and not host.startswith("#"):
            hosts.setdefault(host)
    return tuple(Member(WorkerIdentity.from_host_name(host), host, "", http_port)
                 for host in java_hash_set_order(hosts))


def java_hash_set_order(items: Iterable[str]) -> list[str]:
    """Distinct strings in the order a java.util.HashSet they were added to (in this order) iterates them: by
    bucket (String.hashCode spread as HashMap.hash does, masked by the table size the count grew it to), then in
    insertion order within a bucket. A bucket of 9 or more (which HashMap turns into a tree) is not mirrored: with
    host names that is a one-in-millions event, and it would only change which of two colliding ring entries wins."""
    ordered = list(dict.fromkeys(items))
    size = 16
    while len(ordered) > size * 3 // 4:
        size *= 2
    return [item for _, item in sorted(((_java_hash(item) & (size - 1), i), item) for i, item in enumerate(ordered))]


class StaticMembership:
    """A static worker file, read once at start as the client reads it (StaticMembershipManager.create)."""

    def __init__(self, path: str | Path, http_port: int = DEFAULT_HTTP_PORT) -> None:
        try:
            self._members = static_members(path, http_port)
        except (OSError, UnicodeDecodeError) as err:
            raise MembershipError(f"static worker file {path}: {err}") from None
        if not self._members:
            raise MembershipError(f"static worker file {path} names no worker")

    def members(self) -> tuple[Member, ...]:
        return self._members

    def start(self) -> None:
        """Nothing runs in the background."""

    def close(self) -> None:
        """Nothing to stop."""


class MasterMembership:
    """The live (or all) workers of whichever of the masters answers, asked again once `refresh` seconds have
    passed since the last answer; while none does, the last good list is used. With several (HA) masters only the
    primary may answer on its web port: the one that answered last is asked first, the others in their order after."""

    def __init__(self, master_urls: Sequence[str], http: JsonHttp, *, live_only: bool, refresh: float = 10.0) -> None:
        self._urls = [f"{base_url(url)}/api/v1/master/info" for url in master_urls]
        self._http, self._live_only, self._refresh = http, live_only, refresh
        self._lock = threading.Lock()
        self._members: tuple[Member, ...] | None = None
        self._asked_at = -refresh

    def members(self) -> tuple[Member, ...]:
        with self._lock:
            if time.monotonic() - self._asked_at >= self._refresh:
                self._asked_at = time.monotonic()
                try:
                    self._members = self._ask()
                except SourceError:
                    if self._members is None:
                        raise
            if self._members is None:
                raise MembershipError(f"no worker list from {', '.join(self._urls)} yet")
            return self._members

    def _ask(self) -> tuple[Member, ...]:
        """The first answer of the masters in turn; the SourceError of each if none answers."""
        failures = []
        for url in list(self._urls):
            try:
                members = master_members(self._http.request("master_info", "GET", url), live_only=self._live_only)
            except SourceError as err:
                failures.append(str(err))
                continue
            self._urls.remove(url)
            self._urls.insert(0, url)
            return members
        raise SourceError("; ".join(failures))

    def start(self) -> None:
        """Asked on demand; nothing runs in the background."""

    def close(self) -> None:
        """Nothing to stop."""


def _identity(value: Any) -> WorkerIdentity | None:
    """WorkerIdentity from its JSON (Gson and Jackson both write `{"version": <number>, "identifier": <hex>}`)."""
    if not isinstance(value, dict):
        return None
    version, identifier = value.get("version"), value.get("identifier")
    if isinstance(version, float) and math.isfinite(version):
        version = int(version)  # Gson's getAsInt of 1.0, 1.5: BigDecimal.intValue
    if not _is_int(version) or version not in _ID_BYTES or not isinstance(identifier, str):
        return None
    if not _HEX.fullmatch(identifier) or len(identifier) != 2 * _ID_BYTES[version]:
        return None
    return WorkerIdentity(bytes.fromhex(identifier), version)


def _gson_string(value: Any) -> str | None:
    """What Gson reads into a String field: a string, or a number's or boolean's text ("" here for null, the
    field's initial value or Alluxio's default); None where it fails."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "" if value is None else None


def _gson_int(value: Any) -> int | None:
    """What Gson reads into an int field (0 for null: the field keeps its initial value); None where it fails."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if _is_int(value) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _java_hash(text: str) -> int:
    """HashMap.hash(String): String.hashCode over UTF-16 code units, xored with its upper half."""
    h = 0
    units = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h ^ (h >> 16)
