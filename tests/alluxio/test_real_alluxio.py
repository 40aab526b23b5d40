"""Our client, index and served extender against a real Alluxio 2.9: for every file and directory of the dataset,
the bytes cached per worker and per node must be what Alluxio itself says (its workers' block stores, its CLI)."""
from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from scheduler_extender.entries import decode, encode, worker_bytes
from scheduler_extender.index import LocationIndex
from scheduler_extender.locations.alluxio_rest import AlluxioRestSource
from scheduler_extender.locations.base import PathLocations, SourceError
from scheduler_extender.metrics import Metrics, SourceMetrics
from scheduler_extender.nodes import AddressBook
from scheduler_extender.placement import Placement
from tests.alluxio.dataset import (
    ADDRESSES,
    FILES,
    MISSING,
    MONTH,
    PATHS,
    A,
    B,
    Blocks,
    addresses_from_cli,
    beneath,
    expected_locations,
    expected_node_bytes,
    layout_problems,
)
from tests.alluxio.real_alluxio import Inventory, RealAlluxio, free_port, http, paths_url
from tests.alluxio.recording import answers
from tests.support.recorded_alluxio import recorded, recorded_json, shape
from tests.support.served import Served

pytestmark = pytest.mark.alluxio

NODE_OF = {A: "node-a", B: "node-b"}
NODE_MAP = {A: "node-a", ADDRESSES[B][1]: "node-b"}
"""Worker A by its host, worker B by its containerHost: the two ways an operator's map can name a worker."""


# -- the witnesses agree, and the data is laid out as the tests need ------------------------------------------

def test_the_files_are_cached_fully_partly_and_not_at_all_as_described(cli_blocks: dict) -> None:
    assert list(layout_problems(cli_blocks)) == []


def test_alluxios_cli_and_its_workers_agree_on_every_block(cli_blocks: dict, worker_blocks: dict[str, Blocks]) -> None:
    """The master's block locations (read by Alluxio's own client over gRPC) are what the workers store."""
    assert set(worker_blocks) <= set(FILES)
    for path in FILES:
        length, blocks = cli_blocks[path]
        assert sum(size for size, _ in blocks.values()) == length == FILES[path].size
        cached = {block: (size, hosts) for block, (size, hosts) in blocks.items() if hosts}
        assert cached == worker_blocks.get(path, {}), path


# -- our client, index and served extender read what Alluxio says ----------------------------------------------

@pytest.mark.parametrize("path", PATHS)
def test_our_client_reads_the_bytes_alluxio_caches_on_each_worker(
        source: AlluxioRestSource, worker_blocks: dict[str, Blocks], inventories: dict[str, Inventory],
        path: str) -> None:
    got = source.fetch(path)

    assert got == expected_locations(path, worker_blocks)
    per_worker = {ADDRESSES[host]: sum(size for file in beneath(path) for size, _ in inventory.get(file, {}).values())
                  for host, inventory in inventories.items()}
    assert worker_bytes([decode(encode(got))]) == {worker: size for worker, size in per_worker.items() if size}


def test_the_index_gives_alluxios_bytes_per_node(source: AlluxioRestSource, worker_blocks: dict[str, Blocks]) -> None:
    """Through the index, as the extender asks, in the form the sync process sends: per node with each
    worker on its own node, and with both on one node (a block cached on both counts once there)."""
    index = LocationIndex(source, ttl=60, max_staleness=600, size=100, budget=60, refresh_ahead=0.8,
                          fetch_threads=2, metrics=Metrics())
    try:
        entries = index.lookup(PATHS)
    finally:
        index.close()
    one_node = {A: "node-x", B: "node-x"}
    for path, entry in zip(PATHS, entries, strict=True):
        assert entry is not None, path
        for book, node_of in ((AddressBook(NODE_MAP.items()), NODE_OF), (AddressBook(one_node.items()), one_node)):
            placed = Placement([book]).node_bytes([decode(encode(entry))], [])
            assert placed == expected_node_bytes(path, worker_blocks, node_of), (path, node_of)


def test_the_served_extender_reports_alluxios_bytes_per_node(cluster: RealAlluxio, worker_blocks: dict[str, Blocks],
                                                            tmp_path) -> None:
    node_map = tmp_path / "node-map.json"
    node_map.write_text(json.dumps(NODE_MAP))
    flags = ("--alluxio-proxy", cluster.proxy_url, "--node-map", str(node_map), "--request-budget", "30s",
             "--alluxio-timeout", "30s")
    with Served(*flags) as served:
        for path in PATHS:
            status, report = served.get("/locality?" + urlencode([("path", path), ("node", "node-a"),
                                                                  ("node", "node-b")]))
            assert status == 200, report
            expected = expected_node_bytes(path, worker_blocks, NODE_OF)
            assert {n["node"]: n["cachedBytes"] for n in report["nodes"]} == {
                node: expected.get(node, 0) for node in ("node-a", "node-b")}, path
            assert report["unresolvedWorkers"] == []


def test_our_workers_are_the_ones_alluxio_lists(cluster: RealAlluxio, source: AlluxioRestSource,
                                                 stat_output: str) -> None:
    """The workers named by the block locations we read (each caches some of the dataset)."""
    ours = {worker for workers in source.fetch("/").by_workers for worker in workers}

    assert sorted(ours) == sorted(ADDRESSES.values())
    report = cluster.fsadmin("report", "capacity").stdout
    assert set(re.findall(r"^(\S+)\s+ACTIVE\s", report, re.MULTILINE)) == {host for host, _ in ours}
    assert addresses_from_cli(stat_output) == set(ours)  # containerHost included


def test_a_path_alluxio_does_not_have_is_empty_and_both_probes_pass(cluster: RealAlluxio,
                                                                    source: AlluxioRestSource) -> None:
    assert source.fetch(MISSING) == PathLocations()
    source.probe()  # the master's info
    AlluxioRestSource(cluster.proxy_url, timeout=30, retries=0, metrics=SourceMetrics()).probe()  # the proxy


# -- what README.md and the recordings say about this Alluxio ---------------------------------------------------

def test_a_proxy_without_the_readme_settings_answers_the_paths_api_with_nothing(cluster: RealAlluxio) -> None:
    """README.md: on 2.9.3+ the proxy's paths API answers 200 with an empty body unless the s3 v2 settings are
    off; our client then reports an unreadable answer instead of scoring as if nothing were cached."""
    port = free_port()
    proxy = cluster.start_proxy("proxy-s3-v2", port, {})
    try:
        url = f"http://127.0.0.1:{port}"
        assert http("POST", paths_url(url, MONTH, "list-status"), b'{"recursive": true}') == (200, b"")
        with pytest.raises(SourceError, match="invalid JSON"):
            AlluxioRestSource(url, timeout=30, retries=0, metrics=SourceMetrics()).fetch(MONTH)
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def live_answers(cluster: RealAlluxio) -> dict[str, tuple[int, bytes]]:
    return answers(cluster)


@pytest.mark.parametrize("name", sorted(recorded_json("recordings.json")["calls"]))
def test_the_recordings_are_current(live_answers: dict[str, tuple[int, bytes]], name: str) -> None:
    """The fast suite's recordings have the status and JSON shape this Alluxio answers now."""
    status, body = live_answers[name]
    assert status == recorded_json("recordings.json")["calls"][name]["status"]
    assert shape(json.loads(body)) == shape(json.loads(recorded(name)))
