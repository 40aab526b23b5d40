"""`scheduler-extender locate`: the Alluxio 3 worker each path's reads go through, for operators and checks."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson

from .locations.alluxio3_membership import Member, MembershipError, etcd_members
from .locations.alluxio3_ring import Ring
from .locations.alluxio3_uri import parse, ufs_key


def members_from_file(path: str | Path) -> tuple[Member, ...]:
    """A JSON array of membership entries as etcd holds them (the values under /ServiceDiscovery/<cluster>/), in
    etcd's order: by key, that is by ServiceEntityName. Read as Alluxio reads them (`etcd_members`). Raises
    ValueError whose message names the file and says what is wrong with it in one line."""
    try:
        entries = orjson.loads(Path(path).read_bytes())
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror or error})") from None
    except orjson.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON array of Alluxio worker membership entries")
    ordered = sorted(entries, key=lambda entry: str(entry.get("ServiceEntityName", "")).encode()
                     if isinstance(entry, dict) else b"")
    try:
        members = etcd_members(orjson.dumps(entry) for entry in ordered)
    except MembershipError as error:
        raise ValueError(f"{path}: {error}") from None
    if not members:
        raise ValueError(f"{path}: no Alluxio worker membership entry in it")
    return members


def owners(members: Sequence[Member], paths: Sequence[str], *, ufs_root: str | None,
           virtual_nodes: int) -> Iterator[tuple[str, str | None, str]]:
    """(path, owner's host or None, why not) per path, in order. Without `ufs_root` a path is taken as the UFS path
    the client hashes, normalised as AlluxioURI does; with it, as an Alluxio path mapped onto that root."""
    ring = Ring(members, virtual_nodes)
    for path in paths:
        try:
            key = str(parse(path)) if ufs_root is None else ufs_key(path, ufs_root)
        except ValueError as err:
            yield path, None, str(err)
            continue
        yield path, ring.owner(key).host, ""
