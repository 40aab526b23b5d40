"""`scheduler-extender serve --kubernetes kubeconfig` against a fake kube-apiserver and a fake Alluxio, both real
HTTP servers: workers resolve through the Node/Pod watch, require-local-worker filters, driver pods prefetch."""
import subprocess
import time

import pytest

from tests.support.bodies import names_body
from tests.support.fake_alluxio import Block, Loc
from tests.support.fake_kube import FakeKube, kubeconfig_file
from tests.support.objects import make_node, make_pod
from tests.support.served import SERVE, Served
from tests.support.waiting import eventually

M = 1 << 20
WORKER = {"role": "alluxio-worker"}
REQUIRE = {"alluxio-locality.io/require-local-worker": "true"}


@pytest.fixture
def kube():
    with FakeKube() as fake:
        for i in (1, 2, 3):
            fake.add("node", make_node(f"n{i}", internal_ip=f"10.0.0.{i}", hostname=f"n{i}"))
        # the Helm chart without hostNetwork: workers report host = node IP, containerHost = pod IP
        fake.add("pod", make_pod("alluxio-worker-1", namespace="alluxio", node="n1", pod_ip="10.244.1.5",
                                 host_ip="10.0.0.1", labels=WORKER))
        fake.add("pod", make_pod("alluxio-worker-3", namespace="alluxio", node="n3", pod_ip="10.244.3.5",
                                 host_ip="10.0.0.3", labels=WORKER, ready=False))
        yield fake


def serve(tmp_path, kube, alluxio, *flags):
    return Served("--alluxio-proxy", alluxio.url, "--kubernetes", "kubeconfig",
                  "--kubeconfig", kubeconfig_file(kube, tmp_path), *flags)


def with_annotations(body, annotations):
    body["Pod"]["metadata"].setdefault("annotations", {}).update(annotations)
    return body


def test_names_mode_resolves_workers_through_the_watch(tmp_path, kube, fake_alluxio):
    fake_alluxio.add_file("/d/f", Block(64 * M, Loc("10.0.0.1", "10.244.1.5")),
                          Block(32 * M, Loc("10.0.0.3", "10.244.3.5")))
    with serve(tmp_path, kube, fake_alluxio, "--request-budget", "2s") as served:
        status, ranking = served.post("/prioritize", names_body(["n3", "n2", "n1"], "/d"))
        assert status == 200
        assert ranking == [{"Host": "n3", "Score": 5}, {"Host": "n1", "Score": 10}]


def test_require_local_worker_keeps_pods_on_nodes_with_a_ready_worker(tmp_path, kube, fake_alluxio):
    with serve(tmp_path, kube, fake_alluxio) as served:
        status, result = served.post("/filter", with_annotations(names_body(["n1", "n2", "n3"]), REQUIRE))
        assert status == 200
        assert result["NodeNames"] == ["n1"] and result["Nodes"] is None and result["FailedNodes"] == {}
        assert set(result["FailedAndUnresolvableNodes"]) == {"n2", "n3"}
        assert "no ready Alluxio worker" in result["FailedAndUnresolvableNodes"]["n2"]
        # without the annotation every node passes
        assert served.post("/filter", names_body(["n1", "n2", "n3"]))[1]["NodeNames"] == ["n1", "n2", "n3"]
        # a worker becoming ready on n3 lets pods there
        kube.modify("pod", make_pod("alluxio-worker-3", namespace="alluxio", node="n3", pod_ip="10.244.3.5",
                                    host_ip="10.0.0.3", labels=WORKER))
        eventually(lambda: served.post("/filter", with_annotations(names_body(["n1", "n2", "n3"]), REQUIRE))[1][
            "NodeNames"] == ["n1", "n3"], interval=0.1, what="n3 passing once its worker is ready")


def rechecks(kube):
    """Lists of worker pods narrowed to one node: what /filter asks before it refuses every candidate."""
    return [r.params["fieldSelector"] for r in kube.received
            if r.verb == "list" and r.params.get("fieldSelector", "").startswith("spec.nodeName=")]


def test_worker_turning_ready_passes_its_node_though_the_watch_lags(tmp_path, kube, fake_alluxio):
    # kube-scheduler retries a refused pod on the worker pod's own Ready event, often before our watch has it
    with serve(tmp_path, kube, fake_alluxio) as served:
        kube.wait_watches(3)
        kube.inject(verb="watch", delay=30)  # every watch re-opened from now on is answered 30 s late
        kube.drop_watches()
        kube.modify("pod", make_pod("alluxio-worker-3", namespace="alluxio", node="n3", pod_ip="10.244.3.5",
                                    host_ip="10.0.0.3", labels=WORKER))
        status, result = served.post("/filter", with_annotations(names_body(["n2", "n3"]), REQUIRE))
        assert status == 200 and result["NodeNames"] == ["n3"]
        assert set(result["FailedAndUnresolvableNodes"]) == {"n2"}
        assert rechecks(kube) == ["spec.nodeName=n3"]  # n2 runs no worker pod: nothing to recheck
        # a candidate passing already needs no recheck
        assert served.post("/filter", with_annotations(names_body(["n1", "n2"]), REQUIRE))[1]["NodeNames"] == ["n1"]
        assert len(rechecks(kube)) == 1


def test_recheck_failing_keeps_the_watchs_answer(tmp_path, kube, fake_alluxio):
    with serve(tmp_path, kube, fake_alluxio) as served:
        kube.inject(verb="list", status=500)
        status, result = served.post("/filter", with_annotations(names_body(["n3"]), REQUIRE))
        assert status == 200 and result["NodeNames"] == [] and set(result["FailedAndUnresolvableNodes"]) == {"n3"}
        assert rechecks(kube) == ["spec.nodeName=n3"]
        kube.clear_faults()
        kube.inject(verb="list", delay=2)  # past the request budget
        started = time.monotonic()
        status, result = served.post("/filter", with_annotations(names_body(["n3"]), REQUIRE))
        assert status == 200 and result["NodeNames"] == [] and time.monotonic() - started < 1


def test_kubernetes_down_at_start_is_not_ready_and_never_blocks(tmp_path, kube, fake_alluxio):
    kube.stop()
    with Served("--alluxio-proxy", fake_alluxio.url, "--kubernetes", "kubeconfig",
                "--kubeconfig", kubeconfig_file(kube, tmp_path), ready=False) as served:
        time.sleep(0.5)
        assert served.get("/readyz")[0] == 503
        status, result = served.post("/filter", with_annotations(names_body(["n1", "n2"]), REQUIRE))
        assert status == 200 and result["NodeNames"] == ["n1", "n2"]  # unknown: pass, never block
        assert served.metrics().value("scheduler_extender_local_worker_unchecked_total") == 1
        kube.start()
        served.wait_ready()
        assert served.post("/filter", with_annotations(names_body(["n1", "n2"]), REQUIRE))[1]["NodeNames"] == ["n1"]


def test_driver_pod_prefetches_its_paths_before_any_scheduling_call(tmp_path, kube, fake_alluxio):
    fake_alluxio.add_file("/sales/part-0", Block(64 * M, Loc("10.0.0.1", "10.244.1.5")))
    with serve(tmp_path, kube, fake_alluxio, "--request-budget", "0ms") as served:
        kube.wait_watches(3)
        driver = make_pod("spark-pi-driver", namespace="spark", labels={"spark-role": "driver"})
        driver["metadata"]["annotations"] = {"alluxio-locality.io/paths": "/sales"}
        kube.add("pod", driver)
        eventually(lambda: fake_alluxio.calls("list_status"), what="the driver's paths fetched")
        assert fake_alluxio.calls("list_status") == 1
        time.sleep(0.3)
        # a zero budget never waits, so only a prefetched path can score on the very first call
        status, ranking = served.post("/prioritize", names_body(["n2", "n1"], "/sales"))
        assert ranking == [{"Host": "n1", "Score": 10}]
        assert fake_alluxio.calls("list_status") == 1


def test_namespace_scoped_watching_lists_and_watches_pods_only_where_it_is_told(tmp_path, kube, fake_alluxio):
    """--worker-namespace and --prefetch-namespaces: pods are asked for in those namespaces only (what Roles there
    allow), never cluster-wide; Nodes stay cluster-wide. Workers resolve, and drivers prefetch, as before."""
    fake_alluxio.add_file("/sales/part-0", Block(64 * M, Loc("10.0.0.1", "10.244.1.5")))
    fake_alluxio.add_file("/other/part-0", Block(64 * M, Loc("10.0.0.1", "10.244.1.5")))
    kube.add("pod", make_pod("alluxio-worker-2", namespace="elsewhere", node="n2", pod_ip="10.244.2.5",
                             host_ip="10.0.0.2", labels=WORKER))  # a worker pod of another namespace: not watched
    with serve(tmp_path, kube, fake_alluxio, "--request-budget", "0ms", "--worker-namespace", "alluxio",
               "--prefetch-namespaces", "spark-a,spark-b") as served:
        kube.wait_watches(4)
        for namespace, path in (("spark-b", "/sales"), ("default", "/other")):
            driver = make_pod(f"driver-{namespace}", namespace=namespace, labels={"spark-role": "driver"})
            driver["metadata"]["annotations"] = {"alluxio-locality.io/paths": path}
            kube.add("pod", driver)
        eventually(lambda: fake_alluxio.calls("list_status"), what="the spark-b driver's paths fetched")
        time.sleep(0.3)
        assert [r.path for r in fake_alluxio.received if r.endpoint == "list_status"] == ["/sales"]
        assert served.post("/prioritize", names_body(["n2", "n1"], "/sales"))[1] == [{"Host": "n1", "Score": 10}]
        status, result = served.post("/filter", with_annotations(names_body(["n1", "n2"]), REQUIRE))
        assert result["NodeNames"] == ["n1"]  # n2's worker pod is in a namespace not watched
    asked = {(r.resource, r.namespace) for r in kube.received if r.verb in ("list", "watch")}
    assert asked == {("nodes", None), ("pods", "alluxio"), ("pods", "spark-a"), ("pods", "spark-b")}


def test_namespaces_need_the_kubernetes_watch(fake_alluxio):
    result = subprocess.run([*SERVE, "--alluxio-proxy", fake_alluxio.url, "--prefetch-namespaces", "spark"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr == (
        'scheduler-extender: --prefetch-namespaces: "spark" is only used with --kubernetes in-cluster or '
        "kubeconfig\n")
