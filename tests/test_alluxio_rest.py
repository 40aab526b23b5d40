import json
import re
import threading
import time

import pytest
import urllib3

from scheduler_extender.locations.alluxio3_etcd import EtcdMembership
from scheduler_extender.locations.alluxio3_http import JsonHttp
from scheduler_extender.locations.alluxio3_membership import MasterMembership
from scheduler_extender.locations.alluxio_rest import AlluxioRestSource
from scheduler_extender.locations.base import PathLocations, SourceError
from scheduler_extender.locations.base import worker_address as W
from scheduler_extender.locations.uri_status import array_elements
from scheduler_extender.metrics import SourceMetrics
from tests.support.fake_alluxio import GET_STATUS, LIST_STATUS, MASTER_INFO, Block, Loc
from tests.support.metrics import Samples


def source(fake, *, timeout=2.0, retries=2, metrics=None):
    return AlluxioRestSource(fake.url, timeout=timeout, retries=retries, metrics=metrics or SourceMetrics())


def errors(metrics, operation, reason):
    return Samples(metrics.registry).value("scheduler_extender_alluxio_call_errors_total", operation=operation,
                                           reason=reason)


def observed(metrics, operation):
    return Samples(metrics.registry).value("scheduler_extender_alluxio_call_duration_seconds_count",
                                           operation=operation)


def raw_list_status(fake, path):
    response = urllib3.request("POST", f"{fake.url}/api/v1/paths/{path}/list-status", body=b'{"recursive": true}',
                               headers={"Content-Type": "application/json"})
    assert response.status == 200
    return response.json()


# -- what fetch() reads ---------------------------------------------------------------------------------------

def test_file_is_listed_as_itself_with_its_blocks(fake_alluxio):
    fake_alluxio.add_file("/data/f", Block(100, Loc("w1")), Block(50, Loc("w2")), 30)

    assert source(fake_alluxio).fetch("/data/f") == PathLocations(
        by_workers={(W("w1"),): 100, (W("w2"),): 50}, total_bytes=180, files=1)
    [request] = fake_alluxio.received
    assert (request.endpoint, request.path, request.options) == (LIST_STATUS, "/data/f", {"recursive": True})


def test_directory_sums_every_file_beneath_by_worker_set(fake_alluxio):
    fake_alluxio.add_file("/data/t/a", Block(100, Loc("w1")), Block(10, Loc("w2")))
    fake_alluxio.add_file("/data/t/sub/b", Block(7, Loc("w1")))
    fake_alluxio.add_file("/data/t/sub/deeper/c", Block(3, Loc("w2")), 1000)
    fake_alluxio.add_file("/data/other", Block(999, Loc("w1")))  # beside, not beneath

    assert source(fake_alluxio).fetch("/data/t") == PathLocations(
        by_workers={(W("w1"),): 107, (W("w2"),): 13}, total_bytes=1120, files=3)


def test_nested_file_info_duplicate_is_not_counted_again(fake_alluxio):
    fake_alluxio.add_file("/d/f", Block(64, Loc("w1")))
    [status] = raw_list_status(fake_alluxio, "/d")
    assert status["fileInfo"]["fileBlockInfos"] == status["fileBlockInfos"] != []  # the duplicate is really there

    assert source(fake_alluxio).fetch("/d").by_workers == {(W("w1"),): 64}


def test_folder_length_is_a_child_count_not_bytes(fake_alluxio):
    for name in ("x", "y", "z"):
        fake_alluxio.add_dir(f"/d/empty/{name}")
    fake_alluxio.add_file("/d/f", Block(5, Loc("w1")))
    folders = [s for s in raw_list_status(fake_alluxio, "/d") if s["folder"]]
    assert [(s["path"], s["length"]) for s in folders if s["path"] == "/d/empty"] == [("/d/empty", 3)]

    assert source(fake_alluxio).fetch("/d") == PathLocations(by_workers={(W("w1"),): 5}, total_bytes=5, files=1)


def test_uncached_blocks_count_only_in_total_bytes(fake_alluxio):
    fake_alluxio.add_file("/d/cold", 400, 100)
    fake_alluxio.add_file("/d/warm", Block(50, Loc("w1")), 25)

    assert source(fake_alluxio).fetch("/d") == PathLocations(
        by_workers={(W("w1"),): 50}, total_bytes=575, files=2)


def test_block_on_several_workers_is_keyed_by_the_sorted_worker_set(fake_alluxio):
    fake_alluxio.add_file("/d/f", Block(100, Loc("w2"), Loc("w1", "node-1")), Block(20, Loc("w1", "node-1")))

    assert source(fake_alluxio).fetch("/d/f").by_workers == {
        (W("w1", "node-1"), W("w2")): 100, (W("w1", "node-1"),): 20}


def test_block_in_several_tiers_of_one_worker_counts_once(fake_alluxio):
    fake_alluxio.add_file("/d/f", Block(100, Loc("w1", tier="MEM"), Loc("w1", tier="SSD"), Loc("w1", tier="HDD")))

    assert source(fake_alluxio).fetch("/d/f") == PathLocations(
        by_workers={(W("w1"),): 100}, total_bytes=100, files=1)


def test_missing_path_is_empty_not_an_error_and_not_retried(fake_alluxio):
    metrics = SourceMetrics()
    fake_alluxio.add_file("/d/f", Block(1, Loc("w1")))

    assert source(fake_alluxio, metrics=metrics).fetch("/d/nope") == PathLocations()
    assert fake_alluxio.calls(LIST_STATUS) == 1
    assert errors(metrics, "list_status", "http_500") == 0
    assert observed(metrics, "list_status") == 1


@pytest.mark.parametrize("path", [
    "/data/a b", "/data/100%", "/data/50%25", "/data/x#y", "/data/what?now", "/data/a;b=c+d&e",
    "/data/ünïcødé/日本語", "/",
])
def test_awkward_paths_reach_alluxio_unchanged(fake_alluxio, path):
    fake_alluxio.add_file(path.rstrip("/") + "/part-0", Block(11, Loc("w1")))

    assert source(fake_alluxio).fetch(path) == PathLocations(by_workers={(W("w1"),): 11}, total_bytes=11, files=1)
    assert [r.path for r in fake_alluxio.received] == [path]


# -- probe() ------------------------------------------------------------------------------------------------

def test_probe_asks_the_proxy_for_the_root_and_never_a_master(fake_alluxio):
    source(fake_alluxio).probe()

    assert [(r.endpoint, r.path) for r in fake_alluxio.received] == [(GET_STATUS, "/")]
    assert fake_alluxio.calls(MASTER_INFO) == 0


def test_probe_of_a_proxy_answering_something_else_fails(fake_alluxio):
    metrics = SourceMetrics()
    fake_alluxio.inject(body=json.dumps(["not", "an object"]).encode())

    with pytest.raises(SourceError, match="get_status .* something other than a status object"):
        source(fake_alluxio, metrics=metrics).probe()
    assert errors(metrics, "get_status", "bad_response") == 1


def test_probe_of_an_alluxio_that_is_down_fails(fake_alluxio):
    metrics = SourceMetrics()
    probe_source = source(fake_alluxio, retries=1, metrics=metrics)
    fake_alluxio.stop()

    with pytest.raises(SourceError, match="get_status .*cannot connect"):
        probe_source.probe()
    assert errors(metrics, "get_status", "connection") == 2


# -- failures, retries, metrics -------------------------------------------------------------------------------

def test_5xx_is_retried_then_succeeds(fake_alluxio):
    metrics = SourceMetrics()
    fake_alluxio.add_file("/d/f", Block(8, Loc("w1")))
    fake_alluxio.inject(status=500, times=2)

    assert source(fake_alluxio, retries=2, metrics=metrics).fetch("/d/f").total_bytes == 8
    assert fake_alluxio.calls(LIST_STATUS) == 3
    assert errors(metrics, "list_status", "http_500") == 2
    assert observed(metrics, "list_status") == 3


def test_5xx_that_persists_fails_after_every_retry_with_alluxios_reason(fake_alluxio):
    metrics = SourceMetrics()
    fake_alluxio.inject(status=503)

    with pytest.raises(SourceError, match=r"list_status POST http://127\.0\.0\.1:\d+/api/v1/paths//d/list-status "
                                          r"failed after 3 attempt\(s\): HTTP 503"):
        source(fake_alluxio, retries=2, metrics=metrics).fetch("/d")
    assert fake_alluxio.calls(LIST_STATUS) == 3
    assert errors(metrics, "list_status", "http_503") == 3


def test_alluxio_error_body_is_in_the_message(fake_alluxio):
    fake_alluxio.inject(status=500)

    with pytest.raises(SourceError, match="HTTP 500 UNAVAILABLE: injected failure"):
        source(fake_alluxio, retries=0).fetch("/d")


@pytest.mark.parametrize("status", [400, 403, 404])
def test_4xx_is_not_retried(fake_alluxio, status):
    metrics = SourceMetrics()
    fake_alluxio.inject(status=status)

    with pytest.raises(SourceError, match=f"after 1 attempt\\(s\\): HTTP {status}"):
        source(fake_alluxio, retries=3, metrics=metrics).fetch("/d")
    assert fake_alluxio.calls(LIST_STATUS) == 1
    assert errors(metrics, "list_status", f"http_{status}") == 1


def test_timeout_fails_within_the_retry_budget(fake_alluxio):
    metrics = SourceMetrics()
    fake_alluxio.inject(delay=2.0)
    timeout, retries = 0.2, 2

    start = time.monotonic()
    with pytest.raises(SourceError, match="timed out"):
        source(fake_alluxio, timeout=timeout, retries=retries, metrics=metrics).fetch("/d")
    elapsed = time.monotonic() - start

    assert timeout * (retries + 1) <= elapsed < timeout * (retries + 1) + 0.5  # + backoff 0.05 + 0.1 + slack
    assert fake_alluxio.calls(LIST_STATUS) == 3
    assert errors(metrics, "list_status", "timeout") == 3


def test_a_slow_answer_within_the_timeout_is_fine(fake_alluxio):
    fake_alluxio.add_file("/d/f", Block(8, Loc("w1")))
    fake_alluxio.inject(delay=0.1, times=1)

    assert source(fake_alluxio, timeout=1.0, retries=0).fetch("/d/f").total_bytes == 8


@pytest.mark.parametrize("fault", [{"truncate": True}, {"garbage": True}, {"body": b""}, {"body": b"[" * 100_000}])
def test_unreadable_json_is_a_source_error_and_not_retried(fake_alluxio, fault):
    metrics = SourceMetrics()
    fake_alluxio.add_file("/d/f", Block(8, Loc("w1")))
    fake_alluxio.inject(**fault)

    with pytest.raises(SourceError, match="list_status .* answered invalid JSON"):
        source(fake_alluxio, retries=2, metrics=metrics).fetch("/d")
    assert fake_alluxio.calls(LIST_STATUS) == 1
    assert errors(metrics, "list_status", "bad_response") == 1


@pytest.mark.parametrize("body", [
    {"not": "a list"},
    ["a string"],
    [{"length": 5, "fileBlockInfos": 5}],
    [{"length": 5, "fileBlockInfos": [{"blockInfo": {"length": 5, "locations": 7}}]}],
    [{"length": -1}],
    [{"length": 5, "fileBlockInfos": [{"blockInfo": {"length": 5, "locations": [{"workerAddress": {}}]}}]}],
])
def test_json_of_the_wrong_shape_is_a_source_error(fake_alluxio, body):
    metrics = SourceMetrics()
    fake_alluxio.add_dir("/d")
    fake_alluxio.inject(body=json.dumps(body).encode())

    with pytest.raises(SourceError, match="list_status"):
        source(fake_alluxio, metrics=metrics).fetch("/d")
    assert errors(metrics, "list_status", "bad_response") == 1


def test_proxy_down_is_a_connection_error_and_recovers_after_restart(fake_alluxio):
    metrics = SourceMetrics()
    fake_alluxio.add_file("/d/f", Block(8, Loc("w1")))
    rest = source(fake_alluxio, retries=1, metrics=metrics)
    assert rest.fetch("/d/f").total_bytes == 8  # leaves a pooled keep-alive connection behind

    fake_alluxio.stop()
    with pytest.raises(SourceError, match="failed after 2 attempt"):
        rest.fetch("/d/f")
    assert errors(metrics, "list_status", "connection") == 2

    fake_alluxio.start()
    assert rest.fetch("/d/f").total_bytes == 8


def test_concurrent_fetches_share_one_source(fake_alluxio):
    fake_alluxio.add_file("/d/f", Block(8, Loc("w1")), Block(4, Loc("w2")))
    fake_alluxio.inject(delay=0.05)
    rest, results = source(fake_alluxio), []

    threads = [threading.Thread(target=lambda: results.append(rest.fetch("/d"))) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [PathLocations(by_workers={(W("w1"),): 8, (W("w2"),): 4}, total_bytes=12, files=1)] * 12
    assert fake_alluxio.calls(LIST_STATUS) == 12


def test_a_url_that_is_not_http_is_refused_at_once():
    with pytest.raises(ValueError, match="proxy URL 'alluxio-proxy:39999'"):
        AlluxioRestSource("alluxio-proxy:39999", timeout=1, retries=0, metrics=SourceMetrics())


@pytest.mark.parametrize("text, expected", [
    ("[]", []), (" \n[ ]\r\n", []), ('[1,{"a":[2]} , "x"]', [1, {"a": [2]}, "x"]),
])
def test_array_elements_decodes_one_element_at_a_time(text, expected):
    assert list(array_elements(text)) == expected


@pytest.mark.parametrize("text", [
    "", "{}", "[1 2]", "[1,]", "[1", "[1]x", "[1][2]", "[\x01]", "[" * 100_000 + "]" * 100_000,
])
def test_array_elements_refuses_anything_but_one_well_formed_array(text):
    with pytest.raises((ValueError, RecursionError)):
        list(array_elements(text))


@pytest.mark.parametrize("url, says", [
    ("ftp://alluxio-proxy", "is not an http(s) URL"), ("http://proxy:99999", "is not a valid URL"),
    ("http://proxy/?a=1", "must not have a query or fragment"),
])
def test_every_alluxio_url_is_checked_the_one_way(url, says):
    """The 2.x proxy, Alluxio 3's master and etcd endpoints: the check config makes of the flags."""
    http = JsonHttp(timeout=1, retries=0, metrics=SourceMetrics())
    for make in (lambda: AlluxioRestSource(url, timeout=1, retries=0, metrics=SourceMetrics()),
                 lambda: MasterMembership([url], http, live_only=True), lambda: EtcdMembership([url], "c", http)):
        with pytest.raises(ValueError, match=re.escape(says)):
            make()
