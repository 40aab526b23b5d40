"""Fixtures of the real-Alluxio suite (marker `alluxio`): one Alluxio 2.9 cluster per session on loopback, laid
out as dataset.FILES says, and what Alluxio's own witnesses say about it. Skipped only when the fetched Java
cannot start, with Java's own reason printed in the summary; a failed fetch or start is a failure."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler_extender.locations.alluxio_rest import AlluxioRestSource
from scheduler_extender.metrics import SourceMetrics
from tests.alluxio.dataset import WORKERS, Blocks, blocks_from_cli, blocks_from_workers, lay_out, stat_globs
from tests.alluxio.real_alluxio import Inventory, RealAlluxio, fetch, java_problem
from tests.support.figures import report


def note(line: str) -> None:
    """A figure or skip reason, printed after the run."""
    report("real Alluxio", line)


def usable_cache() -> Path:
    """The fetched Alluxio and Java; the test is skipped (the reason noted) when that Java cannot start."""
    began = time.monotonic()
    cache = fetch()
    note(f"fetch (cached after the first run): {time.monotonic() - began:.1f} s, {cache}")
    problem = java_problem(cache)
    if problem:
        note(f"SKIPPED: Java cannot start: {problem}")
        pytest.skip(f"Java cannot start: {problem}")
    return cache


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealAlluxio]:
    """A started Alluxio holding dataset.FILES, stopped (every process it started) after the session."""
    began = time.monotonic()
    cache = usable_cache()
    alluxio = RealAlluxio(cache, tmp_path_factory.mktemp("alluxio"), workers=WORKERS)
    try:
        alluxio.start()
        note(f"{alluxio.version.replace(chr(10), '; ')}")
        note(f"format {alluxio.timings.format:.1f} s; master, {len(alluxio.workers)} workers and proxy "
             f"answering in {alluxio.timings.servers:.1f} s; MEM tier on "
             f"{'/dev/shm' if alluxio.mem_on_shm else 'the temp dir'}")
        laid = time.monotonic()
        lay_out(alluxio)
        note(f"dataset written and cached in {time.monotonic() - laid:.1f} s "
             f"({len(alluxio.timings.commands)} CLI calls and settles)")
        yield alluxio
    finally:
        stopping = time.monotonic()
        alluxio.stop()
        note(f"stopped in {time.monotonic() - stopping:.1f} s; "
             f"cluster fixture {time.monotonic() - began:.1f} s in all")


@pytest.fixture(scope="session")
def inventories(cluster: RealAlluxio) -> dict[str, Inventory]:
    """What each worker's own block store holds, by worker host."""
    return cluster.inventories()


@pytest.fixture(scope="session")
def worker_blocks(inventories: dict[str, Inventory]) -> dict[str, Blocks]:
    return blocks_from_workers(inventories)


@pytest.fixture(scope="session")
def stat_output(cluster: RealAlluxio) -> str:
    """What `alluxio fs stat` printed for every file of the dataset."""
    return "\n".join(cluster.fs("stat", pattern).stdout for pattern in stat_globs())


@pytest.fixture(scope="session")
def cli_blocks(stat_output: str) -> dict[str, tuple[int, Blocks]]:
    return blocks_from_cli(stat_output)


@pytest.fixture(scope="session")
def source(cluster: RealAlluxio) -> AlluxioRestSource:
    """Our client, pointed at the real proxy and master."""
    return AlluxioRestSource(cluster.proxy_url, timeout=30, retries=2, metrics=SourceMetrics())
