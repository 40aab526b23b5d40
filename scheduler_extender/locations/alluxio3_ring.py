"""Alluxio 3.x's consistent-hash ring: which worker a client reads a file through. Pure.

Alluxio 3 has no block master: a client hashes the file's UFS path onto a ring of workers and reads through the
worker it lands on, which is the one that caches the file's pages. Everything here follows the 313 client
(alluxio-core-client-fs and alluxio-core-common from Maven Central, read in their sources jars):

- `alluxio.user.worker.selection.policy` defaults to CONSISTENT, `ConsistentHashPolicy` over
  `ConsistentHashProvider` (alluxio/client/file/dora/ConsistentHashProvider.java).
- Each worker gets `alluxio.user.consistent.hash.virtual.node.count.per.worker` (default 5) entries: the 32-bit
  murmur3 (Guava's `murmur3_32_fixed`, seed 0) of the worker identity as `WorkerIdentity.HashFunnel` writes it
  (the identifier bytes, then the identity version as a little-endian int32), then the entry number 0..n-1 as a
  little-endian int32. Entries are kept in a `TreeMap<Integer, WorkerIdentity>`: ordered as signed ints, and where
  two entries collide the worker put later (later in the membership's iteration order) keeps the slot.
- A key is looked up as murmur3 of its UTF-8 bytes then the attempt number (1 for the first choice) as a
  little-endian int32: the entry at or above it (`ceilingEntry`), wrapping to the lowest.
"""
from __future__ import annotations

import bisect
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

_C1, _C2 = 0xCC9E2D51, 0x1B873593
_MASK = 0xFFFFFFFF
_FIRST_ATTEMPT = struct.pack("<i", 1)


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 of `data` as an unsigned 32-bit value, from the algorithm's definition (Appleby):
    4-byte little-endian blocks mixed into the state, the 1-3 tail bytes mixed in without the state rotation,
    the length xored in, and the fmix32 finaliser. A rotation's result is not masked before it is multiplied:
    the low 32 bits of a product depend only on the low 32 bits of its factors (a third fewer operations)."""
    h = seed & _MASK
    length = len(data)
    body = length - length % 4
    for (k,) in struct.iter_unpack("<I", data[:body]):
        k = (k * _C1) & _MASK
        h ^= ((k << 15 | k >> 17) * _C2) & _MASK
        h = ((h << 13 | h >> 19) * 5 + 0xE6546B64) & _MASK
    if body < length:
        k = (int.from_bytes(data[body:], "little") * _C1) & _MASK
        h ^= ((k << 15 | k >> 17) * _C2) & _MASK
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    return h ^ (h >> 16)


def signed32(value: int) -> int:
    """The value as Java's `int` (what `HashCode.asInt()` gives and the TreeMap orders by)."""
    return value - (1 << 32) if value & 0x80000000 else value


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    """`alluxio.wire.WorkerIdentity`: version 1 is a UUID (16 bytes, big-endian), version 0 a worker id that a
    master assigned (a long, 8 bytes big-endian)."""

    identifier: bytes
    version: int

    @classmethod
    def from_uuid_hex(cls, text: str) -> WorkerIdentity:
        """Version 1 from a UUID, with or without dashes."""
        raw = bytes.fromhex(text.replace("-", ""))
        if len(raw) != 16:
            raise ValueError(f"a UUID has 16 bytes, {text!r} has {len(raw)}")
        return cls(raw, 1)

    @classmethod
    def from_host_name(cls, host: str) -> WorkerIdentity:
        """What static membership gives a worker listed by name: `UUID.nameUUIDFromBytes(host as UTF-8)`, the
        MD5 of the name with the version nibble set to 3 and the IETF variant bits (StaticMembershipManager)."""
        digest = bytearray(hashlib.md5(host.encode("utf-8", "replace")).digest())
        digest[6] = (digest[6] & 0x0F) | 0x30
        digest[8] = (digest[8] & 0x3F) | 0x80
        return cls(bytes(digest), 1)

    def entry_hashes(self, virtual_nodes: int) -> list[int]:
        """The worker's ring entries, as signed ints."""
        prefix = self.identifier + struct.pack("<i", self.version)
        return [signed32(murmur3_32(prefix + struct.pack("<i", i))) for i in range(virtual_nodes)]


def key_hash(key: str) -> int:
    """Where a key's first choice lands: murmur3 of its UTF-8 bytes and attempt 1, as a signed int. Java encodes
    an unpaired surrogate as '?', and so does 'replace'."""
    return signed32(murmur3_32(key.encode("utf-8", "replace") + _FIRST_ATTEMPT))


class _Identified(Protocol):
    @property
    def identity(self) -> WorkerIdentity: ...


Member = TypeVar("Member", bound=_Identified)


class Ring(Generic[Member]):
    """The ring over `members` in the membership's iteration order. Immutable once built; `owner` is safe from
    any thread."""

    def __init__(self, members: Sequence[Member], virtual_nodes: int) -> None:
        if not members:
            raise ValueError("an Alluxio 3 ring needs at least one worker")
        slots: dict[int, Member] = {}
        for member in members:
            for entry in member.identity.entry_hashes(virtual_nodes):
                slots[entry] = member  # TreeMap.put: a later worker takes a colliding slot
        self._points = sorted(slots)
        self._owners = [slots[point] for point in self._points]
        self.members = tuple(members)

    def owner(self, key: str) -> Member:
        """The worker a client reads `key` (a UFS path, as the client hashes it) through."""
        i = bisect.bisect_left(self._points, key_hash(key))
        return self._owners[i if i < len(self._owners) else 0]
