"""Volcano's extender plugin calling `scheduler-extender serve` under /volcano, with the bodies a real vc-scheduler
sent (tests/data/volcano): scores in proportion to cached bytes, drivers kept off, a pod requiring a local worker
kept on nodes with a ready one, bad bodies a 400 with a reason."""
import copy
import json
from pathlib import Path

import pytest

from scheduler_extender.workload import PATHS_ANNOTATION, REQUIRE_LOCAL_WORKER_ANNOTATION
from tests.support.app_cluster import INPUT, NODES, app_cluster
from tests.support.bodies import recorded
from tests.support.fake_alluxio import Block, Loc
from tests.support.fake_kube import FakeKube, kubeconfig_file
from tests.support.objects import make_executor, make_node, make_pod
from tests.support.served import Served
from tests.test_http import expected_bytes

DEMO = Path(__file__).parent.parent / "examples" / "demo"
PASSED = {"status": "", "code": 0}


@pytest.fixture(scope="module")
def demo():
    with Served("--locations-file", str(DEMO / "locations.json"), "--request-budget", "2s") as served:
        yield served


def volcano(name, annotations=None, labels=None):
    """A recorded body ('predicate' or 'prioritize') whose task's pod carries these annotations and labels."""
    body = copy.deepcopy(recorded(f"volcano/{name}"))
    metadata = body["task"]["Pod"]["metadata"]
    metadata.setdefault("annotations", {}).update(annotations or {})
    metadata.setdefault("labels", {}).update(labels or {})
    return body


def candidates(body):
    return [info["Name"] for info in body["nodes"]]


def test_recorded_bodies_carry_what_the_adapter_reads():
    """Go field names: the task's Pod, each NodeInfo's Name, Node (a v1.Node) and Tasks (the pods on it)."""
    prioritize, predicate = recorded("volcano/prioritize"), recorded("volcano/predicate")
    assert prioritize["task"]["Pod"]["metadata"]["labels"]["spark-role"] == "executor"
    assert candidates(prioritize) == sorted(candidates(prioritize)) and len(candidates(prioritize)) > 1
    for info in [*prioritize["nodes"], predicate["node"]]:
        assert info["Node"]["metadata"]["name"] == info["Name"]
        assert {"type": "Hostname", "address": info["Name"]} in info["Node"]["status"]["addresses"]
    with_tasks = [info for info in prioritize["nodes"] if info["Tasks"]]
    assert [info["Name"] for info in with_tasks] == ["node-1"]
    assert next(iter(with_tasks[0]["Tasks"].values()))["Pod"]["metadata"]["name"] == "running-1"


def test_prioritize_scores_in_proportion_to_cached_bytes(demo):
    body = volcano("prioritize", {PATHS_ANNOTATION: "/data/sales/2026-11"})
    status, answer = demo.post("/volcano/prioritize", body)
    assert status == 200 and answer["errorMessage"] == ""
    held = expected_bytes(json.loads((DEMO / "locations.json").read_text()), "/data/sales/2026-11")
    best = max(held.values())
    assert answer["nodeScore"] == pytest.approx({node: 10000 * size / best for node, size in held.items()})
    assert answer["nodeScore"]["node-2"] == 10000 and set(answer["nodeScore"]) == {"node-1", "node-2", "node-4"}


def test_the_scale_is_a_setting():
    with Served("--locations-file", str(DEMO / "locations.json"), "--request-budget", "2s",
                "--volcano-max-score", "100") as served:
        status, answer = served.post("/volcano/prioritize", volcano("prioritize", {PATHS_ANNOTATION: "/data/sales"}))
        assert status == 200 and max(answer["nodeScore"].values()) == 100


def test_driver_is_kept_off_the_nodes_caching_its_input(demo):
    body = volcano("prioritize", {PATHS_ANNOTATION: "/data/sales/2026-11"}, {"spark-role": "driver"})
    status, answer = demo.post("/volcano/prioritize", body)
    toward = demo.post("/volcano/prioritize", volcano("prioritize", {PATHS_ANNOTATION: "/data/sales/2026-11"}))[1]
    assert status == 200
    assert answer["nodeScore"] == pytest.approx(
        {node: 10000 - toward["nodeScore"].get(node, 0) for node in candidates(body)})
    assert answer["nodeScore"]["node-2"] == 0 and answer["nodeScore"]["node-3"] == 10000


def test_pods_reading_nothing_known_get_no_scores(demo):
    for body in (volcano("prioritize"), volcano("prioritize", {PATHS_ANNOTATION: "/nowhere"})):
        assert demo.post("/volcano/prioritize", body) == (200, {"nodeScore": {}, "errorMessage": ""})


def test_predicate_passes_every_node_without_a_worker_map(demo):
    """Without --kubernetes the workers' readiness is unknown: never block scheduling."""
    assert demo.post("/volcano/predicate", volcano("predicate")) == (200, PASSED)
    required = volcano("predicate", {REQUIRE_LOCAL_WORKER_ANNOTATION: "true"})
    assert demo.post("/volcano/predicate", required) == (200, PASSED)


def test_predicate_keeps_a_pod_requiring_a_local_worker_on_nodes_with_a_ready_one(tmp_path, fake_alluxio):
    with FakeKube() as kube:
        for name in ("node-1", "node-2"):
            kube.add("node", make_node(name, hostname=name))
        kube.add("pod", make_pod("alluxio-worker-1", namespace="alluxio", node="node-1",
                                 labels={"role": "alluxio-worker"}))
        with Served("--alluxio-proxy", fake_alluxio.url, "--kubernetes", "kubeconfig",
                    "--kubeconfig", kubeconfig_file(kube, tmp_path)) as served:
            required = volcano("predicate", {REQUIRE_LOCAL_WORKER_ANNOTATION: "true"})
            assert required["node"]["Name"] == "node-1"
            assert served.post("/volcano/predicate", required) == (200, PASSED)
            required["node"]["Name"] = "node-2"
            status, answer = served.post("/volcano/predicate", required)
            assert status == 200 and answer["code"] == 3 and "no ready Alluxio worker" in answer["status"]
            required["task"]["Pod"]["metadata"]["annotations"].clear()
            assert served.post("/volcano/predicate", required) == (200, PASSED)


def test_nodes_resolve_by_the_addresses_of_their_node_objects(tmp_path, fake_alluxio):
    """A worker known by a node's InternalIP only is placed through the NodeInfo's Node object."""
    fake_alluxio.add_file("/d/f", Block(64 << 20, Loc("10.9.0.3")))
    body = volcano("prioritize", {PATHS_ANNOTATION: "/d"})
    body["nodes"][2]["Node"]["status"]["addresses"].insert(0, {"type": "InternalIP", "address": "10.9.0.3"})
    with Served("--alluxio-proxy", fake_alluxio.url, "--request-budget", "2s") as served:
        assert served.post("/volcano/prioritize", body) == (200, {"nodeScore": {"node-3": 10000.0},
                                                                  "errorMessage": ""})


@pytest.mark.parametrize("verb, body, reason", [
    ("prioritize", b"not json", "not valid JSON"),
    ("prioritize", b'{"task": null, "nodes": []}', "task is null"),
    ("prioritize", b'{"task": {"Pod": {"metadata": []}}, "nodes": []}', "task.Pod.metadata is array"),
    ("prioritize", b'{"task": {"Pod": {}}, "nodes": [{"Name": 7}]}', "$.nodes[0].Name"),
    ("prioritize", b'{"task": {"Pod": {}}, "nodes": [{"Node": null}]}', "nodes[0].Name is missing"),
    ("predicate", b'{"task": {"Pod": {}}}', "node is null"),
    ("predicate", b'{"task": {"Pod": 1}, "node": {"Name": "n"}}', "$.task.Pod"),
    ("predicate", b"[]", "Expected `object`"),
])
def test_malformed_body_is_a_400_with_a_reason(demo, verb, body, reason):
    status, answer = demo.post(f"/volcano/{verb}", body)
    assert status == 400 and reason in answer["Error"], answer


def test_calls_are_counted_by_verb(demo):
    demo.post("/volcano/predicate", b"{")
    metrics = demo.metrics()
    assert metrics.value("scheduler_extender_requests_total", outcome="bad_request", verb="volcano/predicate") >= 1
    assert demo.get("/volcano/predicate")[0] == 405


def test_prioritize_scores_an_apps_executors_by_its_deficits(tmp_path, fake_alluxio):
    """As kube-scheduler's extender does (Extender.toward): the executor scored before counts where it scored
    highest, so with 75% / 25% cached on n1 / n2 the second scores both alike and the third n1 alone."""
    with app_cluster(tmp_path, fake_alluxio) as (served, _):
        def scores(name):
            body = {"task": {"Pod": make_executor(name, app="a", paths=INPUT)}, "nodes": [{"Name": n} for n in NODES]}
            status, answer = served.post("/volcano/prioritize", body)
            assert status == 200 and answer["errorMessage"] == "", answer
            return answer["nodeScore"]

        assert scores("a-1") == pytest.approx({"n1": 10000, "n2": 10000 / 3})
        assert scores("a-2") == {"n1": 10000, "n2": 10000}
        assert scores("a-3") == {"n1": 10000}
