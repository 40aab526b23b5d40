"""Reads Alluxio 2.x `URIStatus` JSON (as the REST proxy's list-status returns it) into PathLocations.

Shared by every source that speaks this format: the REST proxy and the snapshot file.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from .base import PathLocations, SourceError, WorkerAddress, WorkerSet, worker_address


def aggregate(statuses: Iterable[Any]) -> PathLocations:
    """Sum block lengths by the set of workers caching each block; folders only contribute their files.

    A folder's `length` is its child count, not bytes, so it is never added. A block cached in several
    tiers of one worker lists that worker several times; the set keeps it once.
    """
    by_workers: dict[WorkerSet, int] = {}
    interned: dict[WorkerSet, WorkerSet] = {}
    total = files = 0
    for status in statuses:
        if not isinstance(status, dict):
            raise SourceError(f"file status is {type(status).__name__}, expected an object")
        if status.get("folder"):
            continue
        files += 1
        total += _int(status.get("length", 0), "length")
        for block_info in _list(status.get("fileBlockInfos"), "fileBlockInfos"):
            block = _obj(block_info, "fileBlockInfos[]").get("blockInfo")
            block = _obj(block, "blockInfo")
            workers = _workers(_list(block.get("locations"), "blockInfo.locations"))
            if not workers:
                continue
            workers = interned.setdefault(workers, workers)
            by_workers[workers] = by_workers.get(workers, 0) + _int(block.get("length", 0), "blockInfo.length")
    return PathLocations(by_workers=by_workers, total_bytes=total, files=files)


_DECODER = json.JSONDecoder()
_NOT_SPACE = re.compile(r"[^ \t\n\r]")


def array_elements(text: str) -> Iterator[Any]:
    """The elements of a JSON array, decoded one at a time. A recursive listing of a directory of 10,000
    files is over 100 MB; parsed whole it is millions of small objects, and whatever the aggregation keeps
    lands among them and pins their allocator arenas (about 600 MB resident for one such directory, for
    17,000 worker sets kept). One element at a time, memory stays flat, the garbage collector has little
    to walk, and request threads get the GIL between elements. Raises ValueError (or RecursionError) for
    anything but one well-formed array."""
    i = _skip_space(text, 0)
    if text[i:i + 1] != "[":
        raise ValueError(f"expected a JSON array at char {i}")
    i = _skip_space(text, i + 1)
    if text[i:i + 1] != "]":
        while True:
            element, i = _DECODER.raw_decode(text, i)
            yield element
            i = _skip_space(text, i)
            if text[i:i + 1] == "]":
                break
            if text[i:i + 1] != ",":
                raise ValueError(f"expected ',' or ']' at char {i}")
            i = _skip_space(text, i + 1)
    if _skip_space(text, i + 1) != len(text):
        raise ValueError(f"extra data after the array at char {i + 1}")


def _skip_space(text: str, i: int) -> int:
    """The index of the first character at or after `i` that is not JSON whitespace; len(text) if none is."""
    found = _NOT_SPACE.search(text, i)
    return len(text) if found is None else found.start()


def _workers(locations: Iterable[Any]) -> WorkerSet:
    found: set[WorkerAddress] = set()
    for location in locations:
        address = _obj(_obj(location, "locations[]").get("workerAddress"), "workerAddress")
        host = address.get("host")
        if not isinstance(host, str) or not host:
            raise SourceError("workerAddress.host is missing or not a string")
        container_host = address.get("containerHost") or ""
        if not isinstance(container_host, str):
            raise SourceError("workerAddress.containerHost is not a string")
        found.add(worker_address(host, container_host))
    return tuple(sorted(found))


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SourceError(f"{what} is {type(value).__name__}, expected a list")
    return value


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SourceError(f"{what} is {type(value).__name__}, expected an object")
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SourceError(f"{what} is {value!r}, expected a non-negative integer")
    return value
