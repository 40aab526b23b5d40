"""The benchmark dataset and workloads, as pure deterministic functions of a `Spec` (no I/O).

Full size: 100,000 files x 10 blocks = 1,000,000 blocks, in 10 directories of 10,000 files
(`/data/d<k>/part-<i>.parquet`). Every block is cached; 80% on one worker, 15% on two, 5% on three.
Workers are `node-0`..`node-999` (their `host` is a node name, as hostNetwork workers name
themselves), chosen per block with Zipf-like weights (s = 0.8) over a per-directory random order of the
workers, so each directory is held unevenly and by a different set of favourite nodes.

Workloads (10 pods each, a request cycles over them):
- `dir`: pod k reads one directory of 10,000 files, `/data/d<k>`;
- `paths20`: pod k reads 20 separate files, two from each directory.
"""
from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

MiB = 1 << 20
BLOCK = 64 * MiB
REPLICAS = ((0.80, 1), (0.95, 2), (1.0, 3))
ZIPF_S = 0.8
WORKLOADS = ("dir", "paths20")
PODS_PER_WORKLOAD = 10


@dataclass(frozen=True)
class Spec:
    dirs: int = 10
    files_per_dir: int = 10_000
    blocks_per_file: int = 10
    workers: int = 1000
    seed: int = 72634

    @property
    def files(self) -> int:
        return self.dirs * self.files_per_dir

    @property
    def blocks(self) -> int:
        return self.files * self.blocks_per_file

    def as_dict(self) -> dict:
        return {**asdict(self), "files": self.files, "blocks": self.blocks}


QUICK = Spec(dirs=10, files_per_dir=100)
FULL = Spec()


def node_name(i: int) -> str:
    return f"node-{i}"


def dir_path(d: int) -> str:
    return f"/data/d{d}"


def file_path(d: int, i: int) -> str:
    return f"/data/d{d}/part-{i:05d}.parquet"


FileBlocks = list[tuple[int, tuple[int, ...]]]
"""One file: (length, indexes of the workers caching it) per block."""


def _picker(order: list[int], cumulative: list[float], rng: random.Random) -> Callable[[], int]:
    """Draws a worker of `order`, the one at rank r with weight 1 / (r + 1) ** ZIPF_S (`cumulative` weights)."""
    total = cumulative[-1]
    return lambda: order[min(bisect.bisect(cumulative, rng.random() * total), len(order) - 1)]


def generate(spec: Spec) -> Iterator[tuple[int, str, FileBlocks]]:
    """(directory index, file path, blocks) for every file, directory by directory, in path order."""
    for d in range(spec.dirs):
        rng = random.Random(spec.seed * 1000 + d)
        order = list(range(spec.workers))
        rng.shuffle(order)
        pick = _picker(order, list(itertools.accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(spec.workers))),
                       rng)

        for i in range(spec.files_per_dir):
            blocks: FileBlocks = []
            for b in range(spec.blocks_per_file):
                r = rng.random()
                copies = next(n for p, n in REPLICAS if r < p)
                holders: set[int] = set()
                while len(holders) < min(copies, spec.workers):
                    holders.add(pick())
                last = b == spec.blocks_per_file - 1
                blocks.append((rng.randint(1, 64) * MiB if last else BLOCK, tuple(sorted(holders))))
            yield d, file_path(d, i), blocks


def workload_paths(spec: Spec, workload: str) -> list[list[str]]:
    """The paths each of the workload's pods reads."""
    if workload == "dir":
        return [[dir_path(k % spec.dirs)] for k in range(PODS_PER_WORKLOAD)]
    if workload == "paths20":
        pods = []
        for k in range(PODS_PER_WORKLOAD):
            chosen: dict[str, None] = {}
            j = 0
            while len(chosen) < 20:
                d = (k + j) % spec.dirs
                i = (k * 7919 + j * 104_729 + j * j * 31) % spec.files_per_dir
                chosen.setdefault(file_path(d, i))
                j += 1
            pods.append(list(chosen))
        return pods
    raise ValueError(f"unknown workload {workload!r}")


def hot_paths(spec: Spec) -> list[str]:
    """Every path the workloads read."""
    return list(dict.fromkeys(p for w in WORKLOADS for pod in workload_paths(spec, w) for p in pod))


def candidates(spec: Spec, n: int) -> list[str]:
    """N candidate node names, as a scheduler would send them: every worker's node once N reaches the worker
    count (plus node names without a worker beyond it), else a random N of them; in a shuffled order."""
    rng = random.Random(n)
    if n <= spec.workers:
        names = [node_name(i) for i in rng.sample(range(spec.workers), n)]
    else:
        names = [node_name(i) for i in range(n)]
    rng.shuffle(names)
    return names
