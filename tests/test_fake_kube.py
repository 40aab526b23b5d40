"""The fake kube-apiserver against the official Python client, and the Kubernetes data files it serves."""
from __future__ import annotations

import http.client
import ipaddress
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from tests.support.fake_kube import (
    ADDED,
    BOOKMARK,
    DELETED,
    ERROR,
    LIST,
    MODIFIED,
    NODES,
    OTHER,
    PODS,
    WATCH,
    FakeKube,
    kube_config,
)
from tests.support.objects import make_node, make_pod
from tests.support.waiting import eventually

KUBE_DATA = Path(__file__).parent / "data" / "kube"
WORKER_FILES = ("workers-hostnetwork.json", "workers-nodeip.json", "workers-podip.json")
EXPIRED = re.compile(r"^too old resource version: (\d+) \((\d+)\)$")


def status_of(error: ApiException) -> Any:
    """The Status object an ApiException carries as its body."""
    assert error.body is not None, error
    return json.loads(error.body)


@pytest.fixture
def kube():
    with FakeKube() as fake:
        yield fake


@pytest.fixture
def api(kube):
    api_client = client.ApiClient(kube_config(kube))
    yield client.CoreV1Api(api_client)
    api_client.close()


def data(name: str) -> dict[str, Any]:
    return json.loads((KUBE_DATA / name).read_text())


def load_all(kube: FakeKube) -> None:
    kube.load(KUBE_DATA / "nodes.json")
    for name in WORKER_FILES:
        kube.load(KUBE_DATA / name)


def raw_events(response) -> list[dict]:
    """Read a watch response to its end, as our reflector does."""
    try:
        return [json.loads(line) for line in iter_resp_lines(response) if line.strip()]
    finally:
        response.close()
        response.release_conn()


def later(action, *args) -> threading.Thread:
    thread = threading.Thread(target=action, args=args, daemon=True)
    thread.start()
    return thread


# -- list -----------------------------------------------------------------------------------------------------


def test_list_answers_the_real_wire_format(kube, api):
    kube.load(KUBE_DATA / "nodes.json")
    response = api.list_node(_preload_content=False)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    doc = json.loads(response.data)
    assert doc["kind"] == "NodeList" and doc["apiVersion"] == "v1"
    assert doc["metadata"] == {"resourceVersion": str(kube.resource_version)}
    assert "continue" not in doc["metadata"]
    names = [item["metadata"]["name"] for item in doc["items"]]
    assert names == sorted(names) and len(names) == 4
    for item in doc["items"]:
        assert "kind" not in item and "apiVersion" not in item  # as the real server sends list items
        assert item["metadata"]["uid"]
        assert int(item["metadata"]["resourceVersion"]) <= kube.resource_version
    # the uid from the file is kept, the resourceVersion is the fake's own
    first = data("nodes.json")["items"][0]["metadata"]
    assert doc["items"][0]["metadata"]["uid"] == first["uid"]
    assert doc["items"][0]["metadata"]["resourceVersion"] != first["resourceVersion"]


def test_the_client_deserializes_every_data_file(kube, api):
    load_all(kube)
    nodes = api.list_node()
    assert isinstance(nodes, client.V1NodeList) and nodes.metadata is not None
    assert nodes.metadata.resource_version == str(kube.resource_version)
    first = nodes.items[0]
    assert isinstance(first, client.V1Node) and first.status is not None and first.status.addresses is not None
    assert {(a.type, a.address) for a in first.status.addresses} >= {
        ("InternalIP", "10.0.1.11"), ("ExternalIP", "54.210.33.17"), ("Hostname", "ip-10-0-1-11.ec2.internal")}
    pods = api.list_namespaced_pod("alluxio")
    assert len(pods.items) == 8 and all(isinstance(p, client.V1Pod) for p in pods.items)
    by_name = {p.metadata.name: p for p in pods.items}
    assert by_name["alluxio-worker-7xk2p"].spec.host_network is True
    assert by_name["alluxio-worker-7xk2p"].status.pod_ip == by_name["alluxio-worker-7xk2p"].status.host_ip
    assert by_name["alluxio-worker-h4b7c"].spec.node_name is None
    assert by_name["alluxio-worker-0"].spec.hostname == "alluxio-worker-0"
    assert by_name["alluxio-worker-0"].metadata.owner_references[0].kind == "StatefulSet"


@pytest.mark.parametrize("selector, expected", [
    ("app=alluxio,role=alluxio-worker", 8),
    ("app==alluxio,heritage=Helm", 6),
    ("statefulset.kubernetes.io/pod-name", 2),
    ("!statefulset.kubernetes.io/pod-name", 6),
    ("controller-revision-hash in (6d4f9b8c57, alluxio-worker-7b9c6d5f48)", 4),
    ("controller-revision-hash notin (5c7d8f9b64)", 4),
    ("chart!=alluxio-0.6.54", 2),  # != also matches pods without the label, as in Kubernetes
    ("role=alluxio-worker,release in (alluxio),!pod-template-generation", 2),
    ("app=spark", 0),
])
def test_label_selectors(kube, api, selector, expected):
    load_all(kube)
    pods = api.list_pod_for_all_namespaces(label_selector=selector, _preload_content=False)
    assert len(json.loads(pods.data)["items"]) == expected
    assert kube.received[-1].params["labelSelector"] == selector


def test_a_bad_selector_is_a_400_status(kube, api):
    with pytest.raises(ApiException) as err:
        api.list_pod_for_all_namespaces(label_selector="app in ()")
    assert err.value.status == 400
    assert status_of(err.value)["reason"] == "BadRequest"
    with pytest.raises(ApiException) as err:
        api.list_pod_for_all_namespaces(field_selector="spec.nope=x")
    assert err.value.status == 400
    assert status_of(err.value)["message"] == "field label not supported: spec.nope"


def test_field_selectors(kube, api):
    load_all(kube)
    on_node = api.list_pod_for_all_namespaces(field_selector="spec.nodeName=ip-10-0-1-11.ec2.internal")
    assert sorted(p.metadata.name for p in on_node.items) == [
        "alluxio-worker-1", "alluxio-worker-2xq9d", "alluxio-worker-7xk2p"]
    unscheduled = api.list_pod_for_all_namespaces(field_selector="spec.nodeName=")
    assert [p.metadata.name for p in unscheduled.items] == ["alluxio-worker-h4b7c"]
    running = api.list_pod_for_all_namespaces(field_selector="status.phase!=Pending,metadata.namespace=alluxio")
    assert len(running.items) == 7


def test_namespaced_and_cluster_wide_pod_lists(kube, api):
    kube.add("Pod", make_pod("a", namespace="alluxio", node="n1"))
    kube.add("Pod", make_pod("b", namespace="spark", node="n1"))
    kube.add("Pod", make_pod("c"))
    assert [p.metadata.name for p in api.list_namespaced_pod("alluxio").items] == ["a"]
    assert [p.metadata.namespace for p in api.list_pod_for_all_namespaces().items] == ["alluxio", "default", "spark"]
    assert api.list_namespaced_pod("nowhere").items == []  # an unknown namespace lists empty, as for real
    assert [(r.verb, r.resource, r.namespace, r.path) for r in kube.received] == [
        (LIST, PODS, "alluxio", "/api/v1/namespaces/alluxio/pods"),
        (LIST, PODS, None, "/api/v1/pods"),
        (LIST, PODS, "nowhere", "/api/v1/namespaces/nowhere/pods")]


def test_get_one_object_and_not_found(kube, api):
    kube.load(KUBE_DATA / "nodes.json")
    assert api.read_node("ip-10-0-2-13.ec2.internal").spec.taints[0].key == "node.kubernetes.io/unreachable"
    with pytest.raises(ApiException) as err:
        api.read_node("ip-10-9-9-9.ec2.internal")
    assert err.value.status == 404
    assert status_of(err.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'nodes "ip-10-9-9-9.ec2.internal" not found', "reason": "NotFound",
        "details": {"name": "ip-10-9-9-9.ec2.internal", "kind": "nodes"}, "code": 404}


def test_unknown_paths_get_the_real_404_status(kube, api):
    with pytest.raises(ApiException) as err:
        api.list_namespace()
    assert err.value.status == 404
    assert status_of(err.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server could not find the requested resource", "reason": "NotFound", "details": {},
        "code": 404}
    connection = http.client.HTTPConnection("127.0.0.1", kube.port, timeout=5)
    connection.request("GET", "/apis/apps/v1/daemonsets")
    response = connection.getresponse()
    assert response.status == 404 and json.loads(response.read())["reason"] == "NotFound"
    connection.request("DELETE", "/api/v1/nodes/x")
    response = connection.getresponse()
    assert response.status == 405 and json.loads(response.read())["reason"] == "MethodNotAllowed"
    connection.close()
    assert kube.calls(OTHER) == 3


# -- watch ----------------------------------------------------------------------------------------------------


def test_watch_replays_history_then_streams_live_events(kube, api):
    kube.add("Node", make_node("a"))
    since = str(kube.resource_version)
    kube.add("Node", make_node("b"))
    kube.modify("Node", make_node("a", internal_ip="10.0.0.1"))

    def writes():
        assert kube.wait_watches(1, "nodes")
        kube.add("Pod", make_pod("not-a-node"))  # other kinds share the counter but not the stream
        kube.delete("Node", "b")

    later(writes)
    stream = watch.Watch().stream(api.list_node, resource_version=since, deserialize=False, timeout_seconds=1)
    events = list(stream)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        (ADDED, "b"), (MODIFIED, "a"), (DELETED, "b")]
    assert all(e["object"]["kind"] == "Node" and e["object"]["apiVersion"] == "v1" for e in events)
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[-1] == kube.resource_version
    assert versions[-1] - versions[-2] == 2  # the pod took the version in between: one counter, as etcd
    params = kube.received[-1].params
    assert params["watch"] in ("true", "True") and params["resourceVersion"] == since
    assert params["timeoutSeconds"] == "1"


def test_watch_without_version_starts_with_the_current_state(kube, api):
    kube.add("Node", make_node("b"))
    kube.add("Node", make_node("a"))
    events = list(watch.Watch().stream(api.list_node, timeout_seconds=1))  # deserialized this time
    assert [(e["type"], e["object"].metadata.name) for e in events] == [(ADDED, "a"), (ADDED, "b")]
    assert isinstance(events[0]["object"], client.V1Node)
    assert "resourceVersion" not in kube.received[-1].params


def test_watch_applies_the_selector_like_the_watch_cache(kube, api):
    kube.add("Pod", make_pod("w", node="n1", labels={"role": "alluxio-worker"}))
    since = kube.resource_version

    def writes():
        assert kube.wait_watches(1, "pods")
        kube.add("Pod", make_pod("spark-exec", node="n1", labels={"role": "executor"}))
        kube.modify("Pod", make_pod("w", node="n1", labels={"role": "retired"}))
        kube.modify("Pod", make_pod("w", node="n2", labels={"role": "alluxio-worker"}))
        kube.delete("Pod", "w")

    later(writes)
    response = api.list_pod_for_all_namespaces(watch=True, label_selector="role=alluxio-worker",
                                               resource_version=str(since), timeout_seconds=1,
                                               _preload_content=False)
    events = raw_events(response)
    assert [(e["type"], e["object"]["metadata"]["labels"]["role"]) for e in events] == [
        (DELETED, "alluxio-worker"),  # stopped matching: the last matching state, at the new version
        (ADDED, "alluxio-worker"), (DELETED, "alluxio-worker")]
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) == since + 2


def test_watch_ends_cleanly_at_timeout_seconds(kube, api):
    started = time.monotonic()
    response = api.list_node(watch=True, resource_version=str(kube.resource_version), timeout_seconds=1,
                             _preload_content=False)
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert raw_events(response) == []
    assert 0.9 <= time.monotonic() - started < 3


def test_bookmarks_reach_only_the_watches_that_asked(kube, api):
    kube.add("Node", make_node("a"))
    version = str(kube.resource_version)

    def bookmark():
        assert kube.wait_watches(2, "nodes")
        assert kube.send_bookmark() == 1

    later(bookmark)
    results: dict[str, list] = {}
    plain = threading.Thread(target=lambda: results.setdefault("plain", raw_events(api.list_node(
        watch=True, resource_version=version, timeout_seconds=1, _preload_content=False))))
    plain.start()
    results["bookmarks"] = raw_events(api.list_node(watch=True, resource_version=version,
                                                    allow_watch_bookmarks=True, timeout_seconds=1,
                                                    _preload_content=False))
    plain.join(5)
    assert results["plain"] == []
    assert results["bookmarks"] == [{"type": BOOKMARK, "object": {
        "kind": "Node", "apiVersion": "v1", "metadata": {"resourceVersion": version}}}]
    asked = [r.params.get("allowWatchBookmarks") for r in kube.received if r.verb == WATCH]
    assert sorted(asked, key=str) == sorted([None, "true"], key=str)


def test_drop_watches_cuts_the_stream_mid_way(kube, api):
    kube.add("Node", make_node("a"))

    def drop():
        assert kube.wait_watches(1)
        kube.add("Node", make_node("b"))
        time.sleep(0.1)
        assert kube.drop_watches() == 1

    later(drop)
    response = api.list_node(watch=True, resource_version=str(kube.resource_version), timeout_seconds=30,
                             _preload_content=False, _request_timeout=(5, 10))
    seen = []
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.HTTPError):  # ProtocolError: the chunked body ended prematurely
        for line in iter_resp_lines(response):
            seen.append(json.loads(line)["object"]["metadata"]["name"])
    response.release_conn()
    assert seen == ["b"] and time.monotonic() - started < 5
    eventually(lambda: kube.open_watches() == 0, 2, what="the cut watch closed on the server")


def test_stop_and_start_keep_the_port_and_the_objects(kube, api):
    kube.add("Node", make_node("a"))
    port, version = kube.port, kube.resource_version
    outcome: dict[str, Any] = {}

    def watch_through_the_stop():
        response = api.list_node(watch=True, resource_version=str(version), timeout_seconds=30,
                                 _preload_content=False, _request_timeout=(5, 10))
        try:
            outcome["events"] = raw_events(response)
        except Exception as err:  # noqa: BLE001 - the cut is what we look for
            outcome["error"] = err

    watcher = later(watch_through_the_stop)
    assert kube.wait_watches(1)
    kube.stop()
    watcher.join(5)
    assert isinstance(outcome.get("error"), urllib3.exceptions.HTTPError)
    down = client.CoreV1Api(client.ApiClient(_no_retries(kube)))
    with pytest.raises(urllib3.exceptions.HTTPError):
        down.list_node(_request_timeout=2)
    kube.start()
    assert kube.port == port
    names = [n.metadata.name for n in api.list_node().items]
    assert names == ["a"] and kube.resource_version == version


def _no_retries(kube: FakeKube) -> client.Configuration:
    configuration = kube_config(kube)
    configuration.retries = False
    return configuration


# -- 410 Gone -------------------------------------------------------------------------------------------------


def test_an_expired_version_gets_http_200_and_one_error_event(kube):
    kube.add("Node", make_node("a"))
    old = kube.resource_version
    kube.add("Node", make_node("b"))
    floor = kube.compact()
    connection = http.client.HTTPConnection("127.0.0.1", kube.port, timeout=5)
    connection.request("GET", f"/api/v1/nodes?watch=true&resourceVersion={old}")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Type") == "application/json"
    body = response.read()  # the stream ends after the one event
    connection.close()
    lines = body.decode().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"type": ERROR, "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"too old resource version: {old} ({floor})", "reason": "Expired", "code": 410}}
    expired = EXPIRED.match(json.loads(lines[0])["object"]["message"])
    assert expired is not None and expired.groups() == (str(old), str(floor))


def test_python_client_watch_deserialize_false_raises_keyerror_on_410(kube, api):
    """kubernetes 37.x: the ERROR branch reads event['raw_object'], which only deserialize=True adds."""
    kube.add("Node", make_node("a"))
    old = str(kube.resource_version - 1)
    kube.compact()
    with pytest.raises(KeyError, match="raw_object"):
        list(watch.Watch().stream(api.list_node, resource_version=old, deserialize=False))
    assert kube.calls(WATCH, NODES) == 1


def test_python_client_watch_deserialized_with_timeout_raises_410_at_once(kube, api):
    kube.add("Node", make_node("a"))
    old = str(kube.resource_version - 1)
    floor = kube.compact()
    with pytest.raises(ApiException) as err:
        list(watch.Watch().stream(api.list_node, resource_version=old, timeout_seconds=5))
    assert err.value.status == 410
    assert err.value.reason == f"Expired: too old resource version: {old} ({floor})"
    assert kube.calls(WATCH, NODES) == 1


def test_python_client_watch_deserialized_without_timeout_retries_once_then_raises_410(kube, api):
    kube.add("Node", make_node("a"))
    old = str(kube.resource_version - 1)
    kube.compact()
    with pytest.raises(ApiException) as err:
        list(watch.Watch().stream(api.list_node, resource_version=old))
    assert err.value.status == 410
    assert kube.calls(WATCH, NODES) == 2
    assert [r.params["resourceVersion"] for r in kube.received] == [old, old]


def test_the_version_compacted_to_is_still_served(kube, api):
    kube.add("Node", make_node("a"))
    floor = kube.compact()

    def writes():
        assert kube.wait_watches(1)
        kube.add("Node", make_node("b"))

    later(writes)
    events = raw_events(api.list_node(watch=True, resource_version=str(floor), timeout_seconds=1,
                                      _preload_content=False))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [(ADDED, "b")]


def test_history_limit_expires_old_versions_like_a_ring_buffer():
    with FakeKube(history_limit=2) as kube:
        api = client.CoreV1Api(client.ApiClient(kube_config(kube)))
        first = int(kube.add("Node", make_node("a"))["metadata"]["resourceVersion"])
        kube.add("Node", make_node("b"))
        kube.add("Node", make_node("c"))  # the ring holds b and c: the event at `first` fell out
        response = api.list_node(watch=True, resource_version=str(first - 1), timeout_seconds=1,
                                 _preload_content=False)
        (event,) = raw_events(response)
        assert event["type"] == ERROR and event["object"]["code"] == 410
        assert event["object"]["message"] == f"too old resource version: {first - 1} ({first})"
        kept = raw_events(api.list_node(watch=True, resource_version=str(first), timeout_seconds=1,
                                        _preload_content=False))
        assert [e["object"]["metadata"]["name"] for e in kept] == ["b", "c"]


# -- objects, counters, faults --------------------------------------------------------------------------------


def test_writes_stamp_versions_and_keep_uids(kube):
    added = kube.add("Node", make_node("a"))  # with kind and apiVersion, as a client sends it
    assert "kind" not in added and added["metadata"]["uid"]
    changed = kube.modify("node", make_node("a", internal_ip="10.0.0.9"))
    assert changed["metadata"]["uid"] == added["metadata"]["uid"]
    assert changed["metadata"]["creationTimestamp"] == added["metadata"]["creationTimestamp"]
    assert int(changed["metadata"]["resourceVersion"]) == int(added["metadata"]["resourceVersion"]) + 1
    gone = kube.delete("nodes", "a")
    assert int(gone["metadata"]["resourceVersion"]) == kube.resource_version
    assert kube.objects("Node") == []
    with pytest.raises(ValueError):
        kube.add("Service", make_node("x"))
    kube.add("Pod", make_pod("p"))
    with pytest.raises(ValueError, match="already exists"):
        kube.add("Pod", make_pod("p"))
    with pytest.raises(KeyError):
        kube.modify("Pod", make_pod("q"))
    with pytest.raises(KeyError):
        kube.delete("Pod", "p", namespace="elsewhere")


def test_versions_are_global_and_unique_under_concurrent_writers(kube, api):
    versions: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(25):
            kind, obj = ("Node", make_node(f"n{n}-{i}")) if i % 2 else ("Pod", make_pod(f"p{n}-{i}"))
            stamped = int(kube.add(kind, obj)["metadata"]["resourceVersion"])
            with lock:
                versions.append(stamped)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == list(range(min(versions), min(versions) + 200))
    listed = json.loads(api.list_pod_for_all_namespaces(_preload_content=False).data)
    assert listed["metadata"]["resourceVersion"] == str(max(versions))
    assert len(listed["items"]) == 104 and len(api.list_node().items) == 96


def test_counters_and_recorded_parameters(kube, api):
    api.list_node()
    api.list_node(label_selector="a=b")
    api.list_pod_for_all_namespaces(watch=True, timeout_seconds=1, allow_watch_bookmarks=True,
                                    label_selector="role=alluxio-worker", _preload_content=False).release_conn()
    assert kube.calls(LIST, NODES) == 2 and kube.calls(LIST, PODS) == 0
    assert kube.calls(WATCH, "Pod") == 1 and kube.calls(WATCH) == 1
    params = kube.received[-1].params
    assert params["labelSelector"] == "role=alluxio-worker"
    assert params["allowWatchBookmarks"] in ("true", "True") and params["timeoutSeconds"] == "1"


def test_injected_faults(kube, api):
    kube.add("Node", make_node("a"))
    kube.inject(status=503, verb=LIST, kind="Node", times=1)
    with pytest.raises(ApiException) as err:
        api.list_node()
    assert err.value.status == 503 and status_of(err.value)["reason"] == "ServiceUnavailable"
    assert [n.metadata.name for n in api.list_node().items] == ["a"]
    kube.inject(status=500, verb=WATCH)
    with pytest.raises(ApiException) as err:
        api.list_pod_for_all_namespaces(watch=True, timeout_seconds=1, _preload_content=False)
    assert err.value.status == 500
    kube.clear_faults()
    assert kube.calls(LIST, NODES) == 2 and kube.calls(WATCH, PODS) == 1


# -- the data files -------------------------------------------------------------------------------------------


def _nodes() -> dict[str, dict]:
    return {n["metadata"]["name"]: n for n in data("nodes.json")["items"]}


def _addresses(node: dict, kind: str) -> list[str]:
    return [a["address"] for a in node["status"]["addresses"] if a["type"] == kind]


def _env(pod: dict) -> dict[str, str]:
    worker = next(c for c in pod["spec"]["containers"] if c["name"] == "alluxio-worker")
    return {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in worker.get("env", ())}


def _ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", ()))


def test_nodes_file_models_the_four_nodes():
    nodes = _nodes()
    assert len(nodes) == 4
    assert all(re.fullmatch(r"ip-10-0-\d-\d\d\.ec2\.internal", name) for name in nodes)
    ready = {name: _ready(node) for name, node in nodes.items()}
    assert ready == {"ip-10-0-1-11.ec2.internal": True, "ip-10-0-1-12.ec2.internal": True,
                     "ip-10-0-2-13.ec2.internal": False, "ip-10-0-2-14.ec2.internal": True}
    assert [n for n, node in nodes.items() if _addresses(node, "ExternalIP")] == ["ip-10-0-1-11.ec2.internal"]
    hostnames = {n: _addresses(node, "Hostname") for n, node in nodes.items()}
    assert hostnames["ip-10-0-1-11.ec2.internal"] == ["ip-10-0-1-11.ec2.internal"]  # FQDN variant
    assert hostnames["ip-10-0-1-12.ec2.internal"] == ["ip-10-0-1-12"]  # short variant
    for name, node in nodes.items():
        assert _addresses(node, "InternalIP") == [name.split(".")[0][3:].replace("-", ".")]


@pytest.mark.parametrize("name", WORKER_FILES)
def test_worker_pods_are_consistent_with_their_nodes(name):
    nodes = _nodes()
    doc = data(name)
    assert doc["kind"] == "PodList"
    for pod in doc["items"]:
        labels = pod["metadata"]["labels"]
        assert labels["app"] == "alluxio" and labels["role"] == "alluxio-worker" and labels["release"] == "alluxio"
        node_name = pod["spec"].get("nodeName")
        if node_name is None:
            assert pod["status"]["phase"] == "Pending" and "podIP" not in pod["status"]
            continue
        node = nodes[node_name]
        status = pod["status"]
        assert status["hostIP"] == _addresses(node, "InternalIP")[0]
        assert status["hostIPs"] == [{"ip": status["hostIP"]}] and status["podIPs"] == [{"ip": status["podIP"]}]
        if pod["spec"].get("hostNetwork"):
            assert status["podIP"] == status["hostIP"]
        else:
            assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network(node["spec"]["podCIDR"])


def test_worker_env_follows_the_chart():
    for pod in data("workers-hostnetwork.json")["items"]:
        assert _env(pod) == {"ALLUXIO_WORKER_HOSTNAME": "status.hostIP"}
        assert pod["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"
    for pod in data("workers-nodeip.json")["items"]:
        assert _env(pod) == {"ALLUXIO_WORKER_HOSTNAME": "status.hostIP",
                             "ALLUXIO_WORKER_CONTAINER_HOSTNAME": "status.podIP"}
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
        assert {"name": "alluxio-domain", "hostPath": {"path": "/tmp/alluxio-domain", "type": "DirectoryOrCreate"}} \
            in pod["spec"]["volumes"]
    for pod in data("workers-podip.json")["items"]:
        assert _env(pod) == {"ALLUXIO_WORKER_HOSTNAME": "metadata.name"}
        assert pod["spec"]["hostname"] == pod["metadata"]["name"] and pod["spec"]["subdomain"] == "alluxio-worker"


def test_nodeip_file_has_one_unready_and_one_pending_worker():
    pods = {p["metadata"]["name"]: p for p in data("workers-nodeip.json")["items"]}
    assert [n for n, p in pods.items() if p["spec"].get("nodeName") and not _ready(p)] == ["alluxio-worker-t5wzn"]
    assert [n for n, p in pods.items() if not p["spec"].get("nodeName")] == ["alluxio-worker-h4b7c"]


def test_readme_table_names_every_pod():
    readme = (KUBE_DATA / "README.md").read_text()
    for name in WORKER_FILES:
        for pod in data(name)["items"]:
            assert f"| {name.removesuffix('.json')} | {pod['metadata']['name']}" in readme or \
                f"| {pod['metadata']['name']} (" in readme
