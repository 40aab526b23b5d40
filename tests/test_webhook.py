"""The admission webhook (POST /mutate) as the API server meets it: the served extender over HTTP(S), its
JSONPatch applied by an RFC 6902 implementation of its own."""
from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from scheduler_extender.affinity import PREFERRED, REQUIRED
from tests.support.app_cluster import INPUT, app_cluster
from tests.support.bodies import admission_review
from tests.support.certs import Pki, make_pki
from tests.support.fake_alluxio import Block, Loc
from tests.support.fake_kube import FakeKube, kubeconfig_file
from tests.support.objects import make_executor, make_node, make_pod
from tests.support.served import Served
from tests.support.waiting import eventually
from tests.test_http import expected_bytes
from tests.test_tls import client, tls_flags

DEMO = Path(__file__).parent.parent / "examples" / "demo" / "locations.json"
SOURCE = ("--locations-file", str(DEMO))
SALES = "/data/sales/2026-11"
M = 1 << 20


@pytest.fixture(scope="module")
def demo():
    with Served(*SOURCE) as served:
        yield served


def mutated(served: Served, pod: dict[str, Any], **review: Any) -> dict[str, Any] | None:
    """The pod as the API server would store it after our answer (None: admitted unchanged)."""
    status, answer = served.post("/mutate", admission_review(pod, uid="uid-1", **review))
    assert status == 200, answer
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    response = answer["response"]
    assert response["uid"] == "uid-1" and response["allowed"] is True
    if "patch" not in response:
        assert "patchType" not in response
        return None
    assert response["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(response["patch"]))
    return jsonpatch.JsonPatch(ops).apply(copy.deepcopy(pod))


def node_terms(pod: dict[str, Any] | None, kind: str = PREFERRED) -> Any:
    """The pod's node-affinity terms of `kind`; fails the test for a pod admitted unchanged."""
    assert pod is not None, "admitted unchanged"
    return pod["spec"]["affinity"]["nodeAffinity"][kind]


def targets(terms: list[dict[str, Any]]) -> dict[str, int]:
    """node -> weight of the terms naming one node each."""
    found = {}
    for term in terms:
        (field,) = term["preference"]["matchFields"]
        assert field["key"] == "metadata.name" and len(field["values"]) == 1
        found[field["values"][0]] = term["weight"]
    return found


def demo_weights(prefix: str) -> dict[str, int]:
    held = expected_bytes(json.loads(DEMO.read_text()), prefix)
    best = max(held.values())
    return {node: max(1, int(100 * size / best + 0.5)) for node, size in held.items()}


def test_an_executor_is_steered_toward_the_nodes_caching_its_input_by_bytes(demo):
    pod = make_executor("app-exec-1", paths=SALES)
    patched = mutated(demo, pod)
    assert patched is not None
    terms = node_terms(patched)
    assert {t["preference"]["matchFields"][0]["operator"] for t in terms} == {"In"}
    assert targets(terms) == demo_weights(SALES)
    assert [t["weight"] for t in terms] == sorted((t["weight"] for t in terms), reverse=True)
    assert REQUIRED not in patched["spec"]["affinity"]["nodeAffinity"]


def test_affinity_the_pod_has_is_kept(demo):
    pod = make_executor("app-exec-2", paths=SALES)
    own = {"weight": 3, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}
    pod["spec"]["affinity"] = {"nodeAffinity": {PREFERRED: [own]}, "podAntiAffinity": {}}
    patched = mutated(demo, pod)
    assert patched is not None and node_terms(patched)[0] == own
    assert targets(node_terms(patched)[1:]) == demo_weights(SALES)
    assert patched["spec"]["affinity"]["podAntiAffinity"] == {}


def test_a_driver_is_steered_away_from_the_nodes_caching_its_input(demo):
    pod = make_pod("app-driver", namespace="spark", labels={"spark-role": "driver"},
                   annotations={"alluxio-locality.io/paths": SALES})
    terms = node_terms(mutated(demo, pod))
    assert {t["preference"]["matchFields"][0]["operator"] for t in terms} == {"NotIn"}

    def score(node):  # what kube-scheduler's NodeAffinity adds up for a node
        return sum(t["weight"] for t in terms if node not in t["preference"]["matchFields"][0]["values"])

    weights = demo_weights(SALES)
    ranked = sorted(weights, key=lambda node: weights[node])
    assert score("node-3") > score(ranked[0]) > score(ranked[-1])


@pytest.mark.parametrize("change, review", [
    (lambda pod: pod["metadata"].pop("annotations"), {}),
    (lambda pod: pod["spec"].update(schedulerName="alluxio-locality-scheduler"), {}),
    (lambda pod: pod["spec"].update(nodeName="node-2"), {}),
    (lambda pod: None, {"operation": "UPDATE"}),
    (lambda pod: None, {"resource": "pods/ephemeralcontainers"}),
    (lambda pod: pod["metadata"]["annotations"].update({"alluxio-locality.io/paths": "/data/raw/cold.csv"}), {}),
])
def test_pods_that_are_not_ours_to_steer_are_admitted_unchanged(demo, change, review):
    pod = make_executor("app-exec-3", paths=SALES)
    change(pod)
    assert mutated(demo, pod, **review) is None


@pytest.mark.parametrize("body, reason", [
    (b"not json", "not valid JSON"),
    (b"[]", "JSON array"),
    (b'{"apiVersion": "admission.k8s.io/v1", "kind": "Pod", "request": {"uid": "u"}}', "kind is 'Pod'"),
    (b'{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "u"}}',
     "admissionReviewVersions: [v1]"),
    (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', "request is null"),
    (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"object": {}}}',
     "request.uid is null"),
    (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": ""}}',
     "request.uid is empty"),
    (json.dumps(admission_review({"metadata": {"name": "p"}, "spec": "x"})).encode(),
     "request.object.spec is string"),
    (json.dumps(admission_review({"metadata": {"name": "p"}, "spec": {}}) | {"request": 7}).encode(),
     "request is number"),
])
def test_a_bad_admission_review_is_a_400_with_the_reason(demo, body, reason):
    bad = demo.metrics().sum("scheduler_extender_requests_total", verb="mutate", outcome="bad_request")
    status, answer = demo.post("/mutate", body)
    assert status == 400 and answer["Error"].startswith("bad AdmissionReview: ") and reason in answer["Error"]
    assert demo.metrics().sum("scheduler_extender_requests_total", verb="mutate", outcome="bad_request") == bad + 1


def test_decisions_are_counted(demo):
    before = demo.metrics()
    mutated(demo, make_executor("app-exec-4", paths=SALES))
    mutated(demo, make_executor("app-exec-5"))
    after = demo.metrics()
    for decision in ("patched", "no_paths"):
        assert after.sum("scheduler_extender_webhook_pods_total", decision=decision) == \
            before.sum("scheduler_extender_webhook_pods_total", decision=decision) + 1
    assert after.sum("scheduler_extender_request_duration_seconds_count", verb="mutate") == \
        before.sum("scheduler_extender_request_duration_seconds_count", verb="mutate") + 2


def test_required_affinity_for_schedulers_that_ignore_preferences():
    with Served(*SOURCE, "--webhook-affinity", "required") as served:
        pod = make_executor("app-exec-6", paths=SALES)
        patched = mutated(served, pod)
        terms = node_terms(patched, REQUIRED)["nodeSelectorTerms"]
        assert {term["matchFields"][0]["values"][0] for term in terms} == set(demo_weights(SALES))
        pod["spec"]["affinity"] = {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "group", "operator": "In", "values": ["main"]}]}]}}}
        assert node_terms(mutated(served, pod), REQUIRED) == pod["spec"]["affinity"]["nodeAffinity"][REQUIRED]


def test_a_cold_index_admits_unchanged_within_the_budget_and_warms():
    with Served(*SOURCE, "--request-budget", "0s") as served:
        pod = make_executor("app-exec-7", paths="/data/clicks")
        assert mutated(served, pod) is None
        patched = eventually(lambda: mutated(served, pod), 10, what="the index warmed")
        assert targets(node_terms(patched)) == demo_weights("/data/clicks")
        assert served.metrics().sum("scheduler_extender_webhook_pods_total", decision="no_cached_bytes") >= 1


def test_a_body_over_the_limit_is_a_413_with_a_reason():
    with Served(*SOURCE, "--max-body-size", "1Ki") as served:
        pod = make_executor("app-exec-8", paths=",".join(f"/data/p{i}" for i in range(200)))
        status, answer = served.post("/mutate", admission_review(pod))
        assert status == 413 and "--max-body-size" in answer["Error"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("webhook-pki"))


def test_over_https_mutate_needs_no_client_certificate_where_the_scheduling_verbs_do(pki):
    with Served(*SOURCE, *tls_flags(pki, client_ca=True), tls=client(pki)) as served:
        assert targets(node_terms(mutated(served, make_executor("app-exec-9", paths=SALES)))) == \
            demo_weights(SALES)
        status, _ = served.post("/prioritize", {"Pod": {}, "NodeNames": ["node-1"]})
        assert status == 403


def test_with_the_watch_the_candidates_are_every_node_it_knows(tmp_path, fake_alluxio):
    """Workers name themselves by node IP and pod IP; the patch names the nodes."""
    with FakeKube() as kube:
        for i in (1, 2, 3):
            kube.add("node", make_node(f"n{i}", internal_ip=f"10.0.0.{i}", hostname=f"n{i}"))
        kube.add("pod", make_pod("alluxio-worker-3", namespace="alluxio", node="n3", pod_ip="10.244.3.5",
                                 host_ip="10.0.0.3", labels={"role": "alluxio-worker"}))
        fake_alluxio.add_file("/d/f", Block(64 * M, Loc("10.0.0.1", "10.244.1.5")),
                              Block(32 * M, Loc("10.244.3.5", "")))
        with Served("--alluxio-proxy", fake_alluxio.url, "--kubernetes", "kubeconfig", "--kubeconfig",
                    kubeconfig_file(kube, tmp_path), "--request-budget", "2s") as served:
            assert targets(node_terms(mutated(served, make_executor("app-exec-10", paths="/d")))) == \
                {"n1": 100, "n3": 50}


def steered(served: Served, name: str, app: str = "a", **review: Any) -> dict[str, int]:
    return targets(node_terms(mutated(served, make_executor(name, app=app, paths=INPUT), **review)))


def test_an_apps_later_executors_are_steered_by_its_deficits(tmp_path, fake_alluxio):
    """The webhook sees a burst of executors before any is bound: each one it patched counts on the node it
    weighed most until the watch sees it bound. With 75% / 25% cached on n1 / n2, the second executor is due
    0.5 on each, the third 2.25 on n1 and 0.75 on n2, which holds one already."""
    with app_cluster(tmp_path, fake_alluxio) as (served, kube):
        assert steered(served, "a-0", dry_run=True) == {"n1": 100, "n2": 33}  # never stored: counted nowhere
        assert steered(served, "a-1") == {"n1": 100, "n2": 33}  # the first as any pod
        assert steered(served, "a-2") == {"n1": 100, "n2": 100}
        assert steered(served, "a-3") == {"n1": 100}
        assert steered(served, "b-1", app="b") == {"n1": 100, "n2": 33}  # another app starts afresh
        kube.add("pod", make_executor("c-1", app="c", node="n2"))  # bound by a scheduler: the watch tells
        eventually(lambda: steered(served, "c-2", app="c") == {"n1": 100}, what="c-1 seen bound on n2")


def test_without_app_placement_each_executor_is_steered_alone(tmp_path, fake_alluxio):
    with app_cluster(tmp_path, fake_alluxio, "--app-placement", "off") as (served, _):
        assert [steered(served, name) for name in ("a-1", "a-2", "a-3")] == [{"n1": 100, "n2": 33}] * 3
