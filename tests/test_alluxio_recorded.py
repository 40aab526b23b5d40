"""The fast suite against answers a real Alluxio 2.9.6 gave (tests/data/alluxio, recorded from the dataset of
tests/alluxio/dataset.py): our client reads them as Alluxio placed the blocks, and the fake Alluxio that the
other tests use answers in the same shape."""
from __future__ import annotations

import orjson
import pytest
import urllib3

from scheduler_extender.locations.alluxio_rest import AlluxioRestSource
from scheduler_extender.locations.base import PathLocations
from scheduler_extender.locations.base import worker_address as W
from scheduler_extender.locations.snapshot import SnapshotSource
from scheduler_extender.metrics import SourceMetrics
from tests.support.fake_alluxio import GET_STATUS, LIST_STATUS, MASTER_INFO, Block, Loc
from tests.support.recorded_alluxio import RECORDED, recorded, recorded_json, shape

A, B = W("127.0.0.1"), W("localhost", "127.0.0.2")
"""The recording's two workers: B's containerHost is set, as a worker pod's IP is."""
MIB = 1 << 20
MONTH = "/data/sales/2026-11"

# What the recorded cluster cached (its dataset.FILES, with round robin having put part-00001's blocks on B, A, B):
#   2026-11/part-00000.bin  3 MiB + 1000 on A          2026-11/part-00001.bin  1 MiB + 0.5 MiB on B, 1 MiB on A
#   2026-11/part-00002.bin  5,000,000: 1 MiB on A and B, 2 MiB on A, 1,854,272 uncached (ufsLocations 127.0.0.1)
#   2026-11/part-00003.bin  4,000,000 uncached         2026-11/_SUCCESS  empty
#   2026-11/ssd/part-00004.bin  1.5 MiB on B (SSD)     2026-11/small-blocks/part-00005.bin  700 KiB on B
#   2026-10/part-00000.bin  2 MiB on B                 2026-10/part-00001.bin  349,525 on B
#   odd name/ü 100%/x#y+z;a=b&c.bin  1500 on A
EXPECTED = {
    "/": PathLocations({(A,): 1500 + 3 * MIB + 1000 + MIB + 2 * MIB,
                        (B,): 2 * MIB + 349_525 + 3 * MIB // 2 + 3 * MIB // 2 + 700 * 1024,
                        (A, B): MIB}, total_bytes=19_506_009, files=10),
    MONTH: PathLocations({(A,): 3 * MIB + 1000 + MIB + 2 * MIB, (B,): 3 * MIB // 2 + 3 * MIB // 2 + 700 * 1024,
                          (A, B): MIB}, total_bytes=17_057_832, files=7),
    f"{MONTH}/part-00002.bin": PathLocations({(A, B): MIB, (A,): 2 * MIB}, total_bytes=5_000_000, files=1),
    f"{MONTH}/part-00003.bin": PathLocations({}, total_bytes=4_000_000, files=1),
    f"{MONTH}/_SUCCESS": PathLocations({}, total_bytes=0, files=1),
    f"{MONTH}/ssd": PathLocations({(B,): 3 * MIB // 2}, total_bytes=3 * MIB // 2, files=1),
    "/data/sales/2026-10": PathLocations({(B,): 2 * MIB + 349_525}, total_bytes=2 * MIB + 349_525, files=2),
    "/data/odd name/ü 100%/x#y+z;a=b&c.bin": PathLocations({(A,): 1500}, total_bytes=1500, files=1),
    "/data/empty-dir": PathLocations(),
    "/data/sales/1999-01": PathLocations(),
}


def source(fake):
    return AlluxioRestSource(fake.url, timeout=2, retries=2, metrics=SourceMetrics())


def answer(fake, endpoint, path, body=b""):
    """The fake's answer to one call, as (status, decoded JSON)."""
    url = f"{fake.url}/api/v1/master/info" if endpoint == MASTER_INFO else \
        f"{fake.url}/api/v1/paths/{path}/{'list-status' if endpoint == LIST_STATUS else 'get-status'}"
    response = urllib3.request("GET" if endpoint == MASTER_INFO else "POST", url, body=body,
                               headers={"Content-Type": "application/json"})
    return response.status, orjson.loads(response.data)


# -- our client reads the recorded answers ----------------------------------------------------------------------

def test_the_recorded_listing_reads_as_alluxio_placed_the_blocks(fake_alluxio):
    fake_alluxio.inject(endpoint=LIST_STATUS, body=recorded("list-status-root.json"))

    assert source(fake_alluxio).fetch("/") == EXPECTED["/"]


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_the_recorded_listing_as_a_locations_file(path):
    assert SnapshotSource(RECORDED / "list-status-root.json").fetch(path) == EXPECTED[path]


def test_ufs_locations_of_uncached_blocks_are_not_cached_bytes():
    """Alluxio names the UFS's hosts of an uncached block in `ufsLocations`; here that is worker A's own host."""
    [status] = [s for s in recorded_json("list-status-root.json") if s["path"] == f"{MONTH}/part-00003.bin"]
    assert {host for info in status["fileBlockInfos"] for host in info["ufsLocations"]} == {A[0]}
    assert all(info["blockInfo"]["locations"] == [] for info in status["fileBlockInfos"])

    assert SnapshotSource(RECORDED / "list-status-root.json").fetch(status["path"]).by_workers == {}


def test_the_recorded_not_found_is_an_empty_path_asked_once(fake_alluxio):
    assert recorded_json("recordings.json")["calls"]["list-status-missing.json"]["status"] == 500
    fake_alluxio.inject(endpoint=LIST_STATUS, body=recorded("list-status-missing.json"))

    assert source(fake_alluxio).fetch("/data/sales/1999-01") == PathLocations()
    assert fake_alluxio.calls(LIST_STATUS) == 1


def test_the_recorded_root_status_is_a_passing_proxy_probe(fake_alluxio):
    fake_alluxio.inject(endpoint=GET_STATUS, body=recorded("get-status-root.json"))

    source(fake_alluxio).probe()
    assert fake_alluxio.calls(GET_STATUS) == 1


# -- the fake answers as the real Alluxio does ------------------------------------------------------------------

ONLY_REAL = {"$[].fileBlockInfos[].ufsLocations[]:string", "$[].fileInfo.fileBlockInfos[].ufsLocations[]:string"}
"""Shapes the fake never makes: its UFS is an object store, which names no hosts for a block."""


@pytest.fixture
def like_the_recording(fake_alluxio):
    """The fake loaded with the kinds of things the recording holds: blocks on a worker with and without a
    containerHost, on both, in two tiers, uncached; an empty file, an empty and a nested directory."""
    a, b, b_ssd = Loc(*A), Loc(*B), Loc(*B, "SSD")
    fake_alluxio.add_file(f"{MONTH}/part-00002.bin", Block(MIB, b, a), Block(MIB, a), MIB)
    fake_alluxio.add_file(f"{MONTH}/ssd/part-00004.bin", Block(MIB, b_ssd))
    fake_alluxio.add_file(f"{MONTH}/_SUCCESS")
    fake_alluxio.add_dir("/data/empty-dir")
    return fake_alluxio


def test_the_fakes_listing_has_the_real_shape(like_the_recording):
    status, listing = answer(like_the_recording, LIST_STATUS, "/", b'{"recursive": true}')

    assert status == 200
    assert shape(listing) == shape(recorded_json("list-status-root.json")) - ONLY_REAL


def test_the_fakes_root_status_has_the_real_shape(like_the_recording):
    status, root = answer(like_the_recording, GET_STATUS, "/", b"{}")

    assert status == 200
    assert shape(root) == shape(recorded_json("get-status-root.json"))


def test_the_fakes_master_info_has_the_real_shape(like_the_recording):
    like_the_recording.add_worker("gone", lost=True)
    status, info = answer(like_the_recording, MASTER_INFO, None)
    real = recorded_json("master-info.json")

    assert status == 200
    lost = info.pop("lostWorkers")
    assert shape(info) == shape({k: v for k, v in real.items() if k != "lostWorkers"})
    assert real["lostWorkers"] == [] and lost[0]["state"] == "LOST"
    assert shape(lost) == shape(real["workers"])  # a lost worker is the same WorkerInfo


def test_the_fakes_not_found_is_the_real_one(fake_alluxio):
    assert answer(fake_alluxio, LIST_STATUS, "/data/sales/1999-01", b'{"recursive": true}') == (
        500, recorded_json("list-status-missing.json"))
