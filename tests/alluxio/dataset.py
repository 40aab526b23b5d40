"""The files the real-Alluxio tests put in Alluxio, how each is cached, and what Alluxio's own witnesses (the
workers' block stores, the `alluxio fs stat` CLI) say that makes: the expected answers our client must give.

Blocks are 1 MiB unless said otherwise. Worker A calls itself 127.0.0.1; worker B calls itself localhost and has
the containerHost 127.0.0.2, as a worker pod of the Helm chart has the pod IP.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scheduler_extender.locations.base import PathLocations, WorkerAddress, worker_address
from tests.alluxio.real_alluxio import MIB, Inventory, RealAlluxio

KIB = 1 << 10
A, B = "127.0.0.1", "localhost"
WORKERS = ((A, ""), (B, "127.0.0.2"))
"""(host, containerHost) of each worker."""
ADDRESSES = {host: worker_address(host, container) for host, container in WORKERS}

ROUND_ROBIN = None
"""A placement Alluxio picks at random (RoundRobinPolicy shuffles the workers): each block on one worker, in turn."""


@dataclass(frozen=True)
class Spec:
    size: int
    how: str
    placement: tuple[frozenset[str], ...] | None
    """The workers that hold each block, in order, or ROUND_ROBIN."""
    tier: str = "MEM"
    in_ufs: bool = False
    """Put straight into the UFS (Alluxio loads it from there), rather than written through Alluxio."""


def _blocks(*hosts: str) -> tuple[frozenset[str], ...]:
    """One block per argument: "A", "B", "AB" or "" (nowhere)."""
    return tuple(frozenset({"A": A, "B": B}[c] for c in spec) for spec in hosts)


MONTH = "/data/sales/2026-11"
ODD = "/data/odd name/ü 100%/x#y+z;a=b&c.bin"
"""A path whose every awkward character (space, %, #, +, ;, =, &, non-ASCII) must reach Alluxio percent-encoded.
A `?` is left out: Alluxio 2.9 does not list a UFS file whose name has one, and cuts a path it is asked for at
the `?` (`/q/a?b` answers NOT_FOUND for `/q/a`)."""
PARTLY = f"{MONTH}/part-00002.bin"

FILES = {
    f"{MONTH}/part-00000.bin": Spec(3 * MIB + 1000, "written through Alluxio from A: 4 blocks on A",
                                    _blocks("A", "A", "A", "A")),
    f"{MONTH}/part-00001.bin": Spec(5 * MIB // 2, "written through Alluxio round robin: 3 blocks, A and B in turn",
                                    ROUND_ROBIN),
    PARTLY: Spec(5_000_000, "its first byte read from B, then 2.5 MiB from A: partly cached",
                 _blocks("AB", "A", "A", "", ""), in_ufs=True),
    f"{MONTH}/part-00003.bin": Spec(4_000_000, "never read: not cached", _blocks("", "", "", ""), in_ufs=True),
    f"{MONTH}/_SUCCESS": Spec(0, "empty: no block", (), in_ufs=True),
    f"{MONTH}/ssd/part-00004.bin": Spec(3 * MIB // 2, "written through Alluxio from B into the SSD tier",
                                        _blocks("B", "B"), tier="SSD"),
    f"{MONTH}/small-blocks/part-00005.bin": Spec(700 * KIB, "written from B with 256 KiB blocks",
                                                 _blocks("B", "B", "B")),
    "/data/sales/2026-10/part-00000.bin": Spec(2 * MIB, "`fs load --local` on B", _blocks("B", "B"), in_ufs=True),
    "/data/sales/2026-10/part-00001.bin": Spec(MIB // 3, "`fs load --local` on B", _blocks("B"), in_ufs=True),
    ODD: Spec(1500, "`fs load --local` on A", _blocks("A"), in_ufs=True),
}
EMPTY_DIR = "/data/empty-dir"
DIRS = ["/", "/data", "/data/sales", MONTH, f"{MONTH}/ssd", f"{MONTH}/small-blocks", "/data/sales/2026-10",
        "/data/odd name", "/data/odd name/ü 100%", EMPTY_DIR]
MISSING = "/data/sales/1999-01"
PATHS = [*FILES, *DIRS, MISSING]
"""Every path the tests ask about: each file, each directory, and one that does not exist."""


def lay_out(cluster: RealAlluxio) -> dict[str, Inventory]:
    """Puts FILES in place and caches them as described there; returns the settled worker inventories."""
    for path, spec in FILES.items():
        if spec.in_ufs:
            cluster.put_ufs(path, spec.size)
    for directory in (f"{MONTH}/ssd", f"{MONTH}/small-blocks", EMPTY_DIR):
        cluster.mkdir_ufs(directory)
    cluster.fs("ls", "-R", "/")  # loads the UFS tree into Alluxio's namespace, so files can be written into it
    for path, how in ((f"{MONTH}/part-00000.bin", {"client_host": A}),
                      (f"{MONTH}/part-00001.bin", {"client_host": A, "round_robin": True}),
                      (f"{MONTH}/ssd/part-00004.bin", {"client_host": B, "tier": 1}),
                      (f"{MONTH}/small-blocks/part-00005.bin", {"client_host": B, "block_size": 256 * KIB})):
        cluster.write(path, FILES[path].size, **how)
    cluster.load("/data/sales/2026-10", client_host=B)
    cluster.load(ODD, client_host=A)
    # B reads one byte: it caches block 0 asynchronously. Once it has, A reads 2.5 MiB: block 0 copied from B,
    # block 1 from the UFS, block 2 (read in part) cached asynchronously; blocks 3 and 4 stay uncached.
    cluster.read_head(PARTLY, 1, client_host=B)
    cluster.settle(lambda inv: PARTLY in inv[B])
    cluster.read_head(PARTLY, 5 * MIB // 2, client_host=A)
    return cluster.settle(lambda inv: len(inv[A].get(PARTLY, {})) == 3)


# -- what Alluxio's witnesses say ---------------------------------------------------------------------------

Blocks = dict[int, tuple[int, dict[str, str]]]
"""One file's blocks: {block id: (length, {worker host: tier alias})}; uncached blocks have no hosts."""


def blocks_from_workers(inventories: Mapping[str, Inventory]) -> dict[str, Blocks]:
    """Every file's cached blocks as the workers' own block stores say (uncached blocks are not in them)."""
    found: dict[str, Blocks] = {}
    for host, inventory in inventories.items():
        for path, blocks in inventory.items():
            for block_id, (length, tier) in blocks.items():
                found.setdefault(path, {}).setdefault(block_id, (length, {}))[1][host] = tier
    return found


_STATUS = re.compile(r"URIStatus\{info=FileInfo\{fileId=-?\d+, name=.*?, path=(?P<path>.*?), ufsPath=.*?, "
                     r"length=(?P<length>\d+), .*?folder=(?P<folder>true|false), .*?"
                     r"fileBlockInfos=\[(?P<blocks>.*?)\], mountId=")
_BLOCK = re.compile(r"BlockInfo\{id=(?P<id>\d+), length=(?P<length>\d+), locations=\[(?P<locations>[^\]]*)\]\}")
_ADDRESS = re.compile(r"WorkerNetAddress\{host=(?P<host>[^,]*), containerHost=(?P<container>[^,]*),")
_LOCATION = re.compile(r"address=WorkerNetAddress\{host=(?P<host>[^,]*), .*?tierAlias=(?P<tier>[^,}]*)")


def blocks_from_cli(stat_output: str) -> dict[str, tuple[int, Blocks]]:
    """{file path: (length, blocks)} from what `alluxio fs stat` printed (URIStatus.toString, one per line):
    the master's block locations as Alluxio's own client reads them over gRPC. Folders are left out."""
    found = {}
    for match in _STATUS.finditer(stat_output):
        if match["folder"] == "true":
            continue
        found[match["path"]] = (int(match["length"]), {
            int(block["id"]): (int(block["length"]),
                               {loc["host"]: loc["tier"] for loc in _LOCATION.finditer(block["locations"])})
            for block in _BLOCK.finditer(match["blocks"])})
    return found


def addresses_from_cli(stat_output: str) -> set[WorkerAddress]:
    """Every worker address that `alluxio fs stat` printed in a block location."""
    return {worker_address(m["host"], m["container"]) for m in _ADDRESS.finditer(stat_output)}


def stat_globs() -> list[str]:
    """`fs stat` patterns that together match every file of FILES (one pattern per depth)."""
    return [f"/{'/'.join(['*'] * depth)}" for depth in sorted({path.count("/") for path in FILES})]


def beneath(path: str) -> list[str]:
    """The files of FILES that a listing of `path` covers: the file itself, or every file below the directory."""
    prefix = path.rstrip("/") + "/"
    return [f for f in FILES if f == path or f.startswith(prefix)]


def expected_locations(path: str, blocks: Mapping[str, Blocks]) -> PathLocations:
    """The PathLocations a correct client reads for `path`: the witnessed blocks of the files beneath it, summed by
    the set of workers holding each, and the files' sizes as written."""
    by_workers: dict[tuple[WorkerAddress, ...], int] = {}
    for file in beneath(path):
        for length, hosts in blocks.get(file, {}).values():
            if hosts:
                key = tuple(sorted(ADDRESSES[h] for h in hosts))
                by_workers[key] = by_workers.get(key, 0) + length
    files = beneath(path)
    return PathLocations(by_workers=by_workers, total_bytes=sum(FILES[f].size for f in files), files=len(files))


def expected_node_bytes(path: str, blocks: Mapping[str, Blocks], node_of: Mapping[str, str]) -> dict[str, int]:
    """Bytes beneath `path` cached on each node (worker host -> node by `node_of`), each block once per node."""
    totals: dict[str, int] = {}
    for file in beneath(path):
        for length, hosts in blocks.get(file, {}).values():
            for node in {node_of[h] for h in hosts}:
                totals[node] = totals.get(node, 0) + length
    return totals


def layout_problems(blocks: Mapping[str, tuple[int, Blocks]]) -> Iterable[str]:
    """Where the CLI's view of every file differs from FILES: sizes, block counts, placement and tiers."""
    for path, spec in FILES.items():
        length, file_blocks = blocks.get(path, (None, {}))
        if length != spec.size:
            yield f"{path}: length {length}, wanted {spec.size}"
            continue
        placed = [(frozenset(hosts), set(hosts.values())) for _, (_, hosts) in sorted(file_blocks.items())]
        tiers = set().union(*(t for _, t in placed)) if placed else set()
        if tiers - {spec.tier}:
            yield f"{path}: tiers {tiers}, wanted {spec.tier}"
        if spec.placement is ROUND_ROBIN:
            hosts = [h for h, _ in placed]
            if any(len(h) != 1 for h in hosts) or any(a == b for a, b in itertools.pairwise(hosts)):
                yield f"{path}: blocks on {hosts}, wanted each on one worker, in turn"
        elif [h for h, _ in placed] != list(spec.placement):
            yield f"{path}: blocks on {[sorted(h) for h, _ in placed]}, wanted {[sorted(h) for h in spec.placement]}"
