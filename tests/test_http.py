"""The extender as operators run it: `scheduler-extender serve` under gunicorn, spoken to over HTTP."""
import http.client
import json
import time
from pathlib import Path

import pytest

from tests.support.bodies import names_body, recorded, scores_of, with_paths
from tests.support.fake_alluxio import Block, Loc
from tests.support.objects import make_node
from tests.support.served import Served
from tests.support.waiting import eventually

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "examples" / "demo"
M = 1 << 20


def expected_bytes(statuses, prefix):
    """An independent reading of a snapshot: per host, bytes of the blocks beneath `prefix` it caches."""
    found: dict[str, int] = {}
    for status in statuses:
        if status["folder"] or not (status["path"] + "/").startswith(prefix.rstrip("/") + "/"):
            continue
        for info in status["fileBlockInfos"]:
            for host in {loc["workerAddress"]["host"] for loc in info["blockInfo"]["locations"]}:
                found[host] = found.get(host, 0) + info["blockInfo"]["length"]
    return found


@pytest.fixture(scope="module")
def demo():
    with Served("--locations-file", str(DEMO / "locations.json")) as served:
        yield served


def test_demo_request_ranks_nodes_by_cached_bytes(demo):
    status, ranking = demo.post("/prioritize", json.loads((DEMO / "prioritize-request.json").read_text()))
    assert status == 200
    # node-3 and node-5 cache none of it: left out, which kube-scheduler reads as 0
    assert ranking == [{"Host": "node-1", "Score": 2}, {"Host": "node-4", "Score": 4},
                       {"Host": "node-2", "Score": 10}]
    held = expected_bytes(json.loads((DEMO / "locations.json").read_text()), "/data/sales/2026-11")
    best = max(held.values())
    assert {r["Host"]: r["Score"] for r in ranking} == \
        {host: max(1, int(10 * b / best + 0.5)) for host, b in held.items()}


def test_nodes_mode_body_from_a_real_scheduler(demo):
    body = with_paths(recorded("filter-nodecachecapable-false"), "/data/clicks, /data/models/embeddings.bin")
    status, ranking = demo.post("/prioritize", body)
    assert status == 200
    # clicks: 4 x 64 MiB on node-3, 4 x 30 MiB on node-5; embeddings: 4 x 64 MiB on node-5
    candidates = [n["metadata"]["name"] for n in body["Nodes"]["items"]]
    assert dict(zip(candidates, scores_of(ranking, candidates), strict=True)) == {"node-1": 0, "node-2": 0, "node-3": 7,
                                                                    "node-4": 0, "node-5": 10}


def test_filter_echoes_candidates_in_the_form_they_came(demo):
    names = with_paths(recorded("prioritize-nodecachecapable-true"), "/data/sales")
    status, result = demo.post("/filter", names)
    assert status == 200
    assert result == {"NodeNames": names["NodeNames"], "Nodes": None, "FailedNodes": {},
                      "FailedAndUnresolvableNodes": {}, "Error": ""}
    nodes = recorded("filter-nodecachecapable-false")
    status, result = demo.post("/filter", nodes)
    assert status == 200 and result["NodeNames"] is None
    assert result["Nodes"]["items"] == nodes["Nodes"]["items"]


def test_pod_without_annotation_scores_zero_everywhere(demo):
    status, ranking = demo.post("/prioritize", recorded("prioritize-nodecachecapable-true"))
    assert status == 200 and ranking == []


@pytest.mark.parametrize("body, reason", [
    (b"not json", "not valid JSON"),
    (b'{"Pod": {"metadata": {"name": "sp\xffark"}}, "NodeNames": []}',
     "body is not UTF-8, as JSON must be: byte 0xFF at offset 33 (invalid start byte)"),
    (b'{"Pod": {}, "NodeNames": [1]}', "NodeNames[0]"),
    (b'{"Pod": {}}', "neither Nodes nor NodeNames"),
])
@pytest.mark.parametrize("verb", ["filter", "prioritize"])
def test_malformed_body_is_a_400_with_a_json_reason(demo, verb, body, reason):
    status, answer = demo.post(f"/{verb}", body)
    assert status == 400 and reason in answer["Error"]


def test_deeply_nested_node_objects_are_echoed_as_they_came(demo):
    """Node objects go back from the bytes they came in, however deep (Go's decoder takes 10,000 levels),
    not through an encoder with a depth limit of its own."""
    body = recorded("filter-nodecachecapable-false")
    deep: dict[str, object] = {}
    for _ in range(600):
        deep = {"x": deep}
    body["Nodes"]["items"][0]["metadata"]["annotations"] = {"deep": "x"}
    body["Nodes"]["items"][0]["status"]["extra"] = deep
    status, answer = demo.post("/filter", body)
    assert status == 200 and answer["Nodes"]["items"] == body["Nodes"]["items"]


def test_wrong_method_and_unknown_path_answer_json(demo):
    assert demo.get("/filter")[0] == 405 and "Error" in demo.get("/filter")[1]
    assert demo.get("/nope")[0] == 404 and "Error" in demo.get("/nope")[1]


def test_health_readiness_and_metrics(demo):
    assert demo.get("/healthz") == (200, {"status": "ok"})
    assert demo.get("/readyz") == (200, {"status": "ready"})
    demo.post("/prioritize", b"{")
    metrics = demo.metrics()
    assert metrics.value("scheduler_extender_requests_total", outcome="bad_request", verb="prioritize") >= 1
    assert metrics.sum("scheduler_extender_request_duration_seconds_count", verb="prioritize") >= 1
    assert metrics.value("scheduler_extender_sync_age_seconds") >= 0  # exported (a name it lacks fails)
    assert metrics.value("scheduler_extender_index_entries") >= 0
    assert metrics.value("process_resident_memory_bytes") > 0 and metrics.value("process_open_fds") > 0  # serving


def test_locality_explains_the_ranking(demo):
    status, report = demo.get("/locality?path=/data/sales/2026-11&path=s3://bucket/x")
    assert status == 200
    assert report["paths"] == [{"path": "/data/sales/2026-11", "known": True, "files": 8,
                                "totalBytes": 5 * 148 * M + 2 * 148 * M + 148 * M,
                                "cachedBytes": 7 * 148 * M + 128 * M}]
    assert [(n["node"], n["score"]) for n in report["nodes"]] == [("node-2", 10), ("node-4", 4), ("node-1", 2)]
    assert report["rejected"][0]["entry"] == "s3://bucket/x"
    assert demo.get("/locality")[0] == 400


def test_locality_with_an_empty_node_is_a_400_not_every_worker_unresolved(demo):
    status, answer = demo.get("/locality?path=/data/sales/2026-11&node=")
    assert status == 400 and answer["Error"].startswith("node= names no node")
    status, report = demo.get("/locality?path=/data/sales/2026-11&node=node-2&node=node-4")
    assert status == 200 and report["unresolvedWorkers"] == [
        {"host": "node-1", "containerHost": "", "cachedBytes": 128 * M}]  # its node was not asked about


def test_oversized_body_is_a_413_naming_the_limit_and_the_setting():
    with Served("--locations-file", str(DEMO / "locations.json"), "--max-body-size", "1Ki") as served:
        status, answer = served.post("/prioritize", names_body(["n"] * 200, "/data"))
        assert status == 413 and "over 1024 bytes, the limit --max-body-size sets" in answer["Error"]
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        body = json.dumps(names_body(["n"] * 200, "/data")).encode()
        connection.request("POST", "/filter", body=iter([body[:600], body[600:]]), encode_chunked=True,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 413 and "--max-body-size" in json.loads(response.read())["Error"]
        connection.close()


def test_corrupt_snapshot_stops_the_command_with_a_reason(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"path": "/a", "fileBlockInfos": 5}]')
    with pytest.raises(RuntimeError, match="--locations-file: .*fileBlockInfos is int, expected a list"):
        Served("--locations-file", str(bad))


# -- against a fake Alluxio proxy and master, real HTTP servers answering in the 2.x wire format --------------

def alluxio_dataset(fake):
    fake.add_file("/data/a/f1", Block(64 * M, Loc("10.0.0.1", "10.244.1.5")), Block(64 * M, Loc("10.0.0.2")))
    fake.add_file("/data/a/f2", Block(64 * M, Loc("10.0.0.1", "10.244.1.5", "MEM"),
                                      Loc("10.0.0.1", "10.244.1.5", "SSD")), 10 * M)
    fake.add_file("/data/a/sub/f3", Block(32 * M, Loc("10.0.0.2"), Loc("10.0.0.3")))


NODES = ["n1", "n2", "n3", "n4"]


def nodes_body(paths):
    body = recorded("filter-nodecachecapable-false")
    body["Nodes"]["items"] = [make_node(name, internal_ip=f"10.0.0.{i}", hostname=name)
                              for i, name in enumerate(NODES, 1)]
    return with_paths(body, paths)


def test_scores_from_alluxio_by_node_ip_and_calls_it_once(fake_alluxio):
    alluxio_dataset(fake_alluxio)
    with Served("--alluxio-proxy", fake_alluxio.url, "--request-budget", "2s") as served:
        for _ in range(3):
            status, ranking = served.post("/prioritize", nodes_body("alluxio://master:19998/data/a"))
            assert status == 200
            # n1: 64 + 64 (two tiers, once) = 128 MiB; n2: 64 + 32 = 96; n3: 32; n4: nothing
            assert ranking == [{"Host": "n1", "Score": 10}, {"Host": "n2", "Score": 8}, {"Host": "n3", "Score": 3}]
        assert fake_alluxio.calls("list_status") == 1


def test_names_mode_resolves_ips_through_the_node_map(fake_alluxio, tmp_path):
    alluxio_dataset(fake_alluxio)
    node_map = tmp_path / "nodes.yaml"
    node_map.write_text("10.244.1.5: n1\n10.0.0.2: n2\n")
    with Served("--alluxio-proxy", fake_alluxio.url, "--node-map", str(node_map),
                "--request-budget", "2s") as served:
        status, ranking = served.post("/prioritize", names_body(["n3", "n2", "n1"], "/data/a/f1,/data/a/f2"))
        assert status == 200
        assert ranking == [{"Host": "n2", "Score": 5}, {"Host": "n1", "Score": 10}]


def test_alluxio_down_gives_neutral_scores_within_the_budget_then_recovers(fake_alluxio):
    alluxio_dataset(fake_alluxio)
    fake_alluxio.stop()
    with Served("--alluxio-proxy", fake_alluxio.url, "--request-budget", "100ms", ready=False) as served:
        assert served.get("/readyz")[0] == 503
        start = time.monotonic()
        status, ranking = served.post("/prioritize", nodes_body("/data/a"))
        assert time.monotonic() - start < 1.0
        assert status == 200 and ranking == []

        def failed() -> float:
            return served.metrics().value("scheduler_extender_alluxio_call_errors_total", operation="list_status",
                                          reason="connection")

        eventually(failed, what="a failed list_status counted")  # once the sync process has started
        fake_alluxio.start()
        served.wait_ready()
        # the path backs off after its failure, then is fetched again
        eventually(lambda: scores_of(served.post("/prioritize", nodes_body("/data/a"))[1], NODES) == [10, 8, 3, 0],
                   interval=0.2, what="the scores once Alluxio is back")
        assert failed() > 0


def test_slow_alluxio_answers_within_the_budget_and_fills_in_the_background(fake_alluxio):
    alluxio_dataset(fake_alluxio)
    fake_alluxio.inject(delay=1.0, endpoint="list_status", times=1)
    with Served("--alluxio-proxy", fake_alluxio.url, "--request-budget", "50ms") as served:
        start = time.monotonic()
        status, ranking = served.post("/prioritize", nodes_body("/data/a"))
        elapsed = time.monotonic() - start
        assert status == 200 and ranking == [] and elapsed < 0.8
        time.sleep(1.2)
        assert scores_of(served.post("/prioritize", nodes_body("/data/a"))[1], NODES) == [10, 8, 3, 0]
        assert fake_alluxio.calls("list_status") == 1


def test_a_pod_listing_too_many_paths_is_read_up_to_the_limit_and_counted(fake_alluxio):
    for i in range(5):
        fake_alluxio.add_file(f"/data/p{i}", Block(64 * M, Loc(f"n{i}")))
    with Served("--alluxio-proxy", fake_alluxio.url, "--request-budget", "2s", "--max-paths-per-pod", "2") as served:
        status, ranking = served.post("/prioritize", names_body([f"n{i}" for i in range(5)],
                                                                 ",".join(f"/data/p{i}" for i in range(5))))
        assert status == 200
        assert scores_of(ranking, [f"n{i}" for i in range(5)]) == [10, 10, 0, 0, 0]
        assert fake_alluxio.calls("list_status") == 2
        assert served.metrics().value("scheduler_extender_annotation_errors_total", reason="too_many_paths") == 1
