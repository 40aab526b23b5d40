"""Our Alluxio 3 ring against Alluxio's own: for 12,000 paths (Unicode, very long, special characters, every form
Alluxio normalises) under two UFS roots, the key Alluxio's client hashes and the worker its WorkerLocationPolicy
picks, over 13 worker sets (added, removed and readdressed workers, other virtual-node counts, colliding
identities, master-assigned ids, static membership, malformed entries), must be ours exactly. And murmur3 itself
must be Guava's."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scheduler_extender.locations.alluxio3_membership import Member, MembershipError, etcd_members, static_members
from scheduler_extender.locations.alluxio3_ring import Ring, WorkerIdentity, murmur3_32, signed32
from scheduler_extender.locations.alluxio3_uri import ufs_key
from tests.alluxio3.cases import COLLIDING_HOSTS, UFS_ROOTS, hash_inputs, paths, worker_sets
from tests.support.figures import report

PATHS = paths()
Oracle = Callable[[dict[str, Any]], dict[str, Any]]


def note(line: str) -> None:
    report("Alluxio 3 ring oracle", line)


@pytest.fixture(scope="session")
def sets(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return worker_sets(tmp_path_factory.mktemp("worker-sets"))


@pytest.fixture(scope="session")
def answers(oracle: Oracle, sets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Alluxio's answers per UFS root; the first also hashes hash_inputs()."""
    return {root: oracle({"ufsRoot": root, "paths": PATHS, "sets": sets,
                          "hashes": [data.hex() for data in hash_inputs()] if root == UFS_ROOTS[0] else []})
            for root in UFS_ROOTS}


def our_members(workers: dict[str, Any]) -> tuple[Member, ...]:
    if "staticFile" in workers:
        return static_members(workers["staticFile"])
    return etcd_members(value.encode() for value in workers["etcd"])


def our_key(path: str, root: str) -> str | None:
    try:
        return ufs_key(path, root)
    except ValueError:
        return None


def test_murmur3_is_guavas(answers: dict[str, dict[str, Any]]) -> None:
    theirs = answers[UFS_ROOTS[0]]["hashes"]
    ours = [signed32(murmur3_32(data)) for data in hash_inputs()]
    assert len(theirs) == len(ours) == 2200
    assert [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b] == []


@pytest.mark.parametrize("root", UFS_ROOTS)
def test_keys_are_alluxios(answers: dict[str, dict[str, Any]], root: str) -> None:
    theirs = answers[root]["keys"]
    mismatches = [(path, our_key(path, root), key) for path, key in zip(PATHS, theirs, strict=True)
                  if our_key(path, root) != key]
    note(f"UFS root {root}: {len(PATHS)} paths, {len(mismatches)} keys differ from Alluxio's "
         f"({sum(key is None for key in theirs)} paths Alluxio refuses)")
    assert mismatches[:5] == []


@pytest.mark.parametrize("root", UFS_ROOTS)
def test_owners_are_alluxios(answers: dict[str, dict[str, Any]], sets: list[dict[str, Any]], root: str) -> None:
    answer = answers[root]
    keys = [our_key(path, root) for path in PATHS]
    compared = 0
    mismatches = []
    for workers in sets:
        name = workers["name"]
        if name in answer["errors"]:
            continue
        ring = Ring(our_members(workers), workers.get("virtualNodes", 5))
        ours = [None if key is None else ring.owner(key).host for key in keys]
        mismatches += [(name, path, a, b) for path, a, b in zip(PATHS, ours, answer["owners"][name], strict=True)
                       if a != b]
        compared += 1
    note(f"UFS root {root}: {len(mismatches)} owners differ from Alluxio's over {len(PATHS)} paths x {compared} "
         f"worker sets")
    assert compared == len(sets) - 1 and len(PATHS) >= 10_000
    assert mismatches[:5] == []


def test_a_membership_entry_without_address_fails_the_membership_like_alluxio(
        answers: dict[str, dict[str, Any]], sets: list[dict[str, Any]]) -> None:
    assert set(answers[UFS_ROOTS[0]]["errors"]) == {"no-address"}
    [workers] = [w for w in sets if w["name"] == "no-address"]
    with pytest.raises(MembershipError, match="without WorkerNetAddress"):
        our_members(workers)


def test_the_later_of_two_colliding_workers_takes_the_shared_slots(answers: dict[str, dict[str, Any]]) -> None:
    """The colliding pair shares two ring entries; the paths landing on them go to whichever worker comes later
    in the membership's order. The comparisons above check that tie-break against Alluxio; this checks that they
    meet it."""
    first, second = (set(WorkerIdentity.from_host_name(host).entry_hashes(5)) for host in COLLIDING_HOSTS)
    assert len(first & second) == 2
    owners = answers[UFS_ROOTS[0]]["owners"]
    forward = sum(a != b for a, b in zip(owners["colliding"], owners["colliding-reversed"], strict=True))
    assert forward > 100  # the shared slots' paths changed hands with the order


def test_the_sets_differ_where_they_should(answers: dict[str, dict[str, Any]]) -> None:
    """The worker sets are not all one ring: a check that the comparisons above compare something."""
    owners = answers[UFS_ROOTS[0]]["owners"]
    moved = sum(a != b for a, b in zip(owners["base"], owners["added"], strict=True))
    readdressed = {(a, b) for a, b in zip(owners["base"], owners["readdressed"], strict=True) if a}
    assert 0 < moved < len(PATHS) / 2  # consistent hashing: adding 3 to 12 moves a minority of paths
    assert len(readdressed) == 12  # the same identities own the same paths under their new host names
    assert len(set(owners["removed"]) - {None}) == 8

