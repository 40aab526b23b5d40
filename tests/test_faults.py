"""Faults that must never block scheduling, one test each, against the served extender and real fakes.

In each: scheduling answers come back within the request budget (50 ms by default, plus the HTTP round
trip) with neutral scores where data is missing, /metrics shows the fault, and the service recovers by
itself once the fault clears. Each test records its worst answer time and its recovery time (fault
cleared → the healthy answer again); the figures are printed at the end of the run and, with
SCHEDULER_EXTENDER_FAULT_FIGURES=FILE, written there as JSON. The bounds asserted are loose on purpose
(never blocked, recovered at all): the figures are what to read, not the assertions.
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scheduler_extender.workload import REQUIRE_LOCAL_WORKER_ANNOTATION
from tests.support.bodies import names_body
from tests.support.fake_alluxio import LIST_STATUS, Block, FakeAlluxio, Loc
from tests.support.fake_kube import FakeKube, kubeconfig_file
from tests.support.fault_probe import DATA, HEALTHY, NEUTRAL, NODES, WARM, Figure, Probe, serve
from tests.support.loopback import StandbyWebPort
from tests.support.objects import make_node, make_pod
from tests.support.paths import EXAMPLES
from tests.support.served import Served, free_port
from tests.support.waiting import eventually

M = 1 << 20
DEMO = EXAMPLES / "demo" / "locations.json"
ERRORS = "scheduler_extender_alluxio_call_errors_total"
LOOKUPS = "scheduler_extender_index_lookups_total"


def alluxio_fault(served: Served, figure: Figure, start: Callable[[], object], clear: Callable[[], object]) -> None:
    """The common shape: a warm path keeps its scores through the fault (last good data), a cold one is
    neutral, and once the fault clears the cold one scores."""
    warm = Probe(served, figure, names_body(NODES, WARM))
    cold = Probe(served, figure, names_body(NODES, DATA))
    warm.until(HEALTHY, since=time.monotonic())
    start()
    cold.hold(1.5, NEUTRAL)
    warm.hold(0.3, HEALTHY)
    clear()
    cold.recover(HEALTHY, since=time.monotonic())


def test_alluxio_proxy_down(seeded_alluxio: FakeAlluxio, fault_figures: list[Figure]) -> None:
    figure = Figure("Alluxio proxy down")
    with serve(seeded_alluxio) as served:
        alluxio_fault(served, figure, seeded_alluxio.stop, seeded_alluxio.start)
        assert served.metrics().value(ERRORS, operation="list_status", reason="connection") > 0
        assert served.metrics().value(LOOKUPS, result="error") > 0
    fault_figures.append(figure)


def test_alluxio_answering_500s(seeded_alluxio: FakeAlluxio, fault_figures: list[Figure]) -> None:
    figure = Figure("Alluxio answering 500")
    with serve(seeded_alluxio) as served:
        alluxio_fault(served, figure, lambda: seeded_alluxio.inject(status=500, endpoint=LIST_STATUS),
                      seeded_alluxio.clear_faults)
        # retried twice per fetch
        assert served.metrics().value(ERRORS, operation="list_status", reason="http_500") >= 3
    fault_figures.append(figure)


@pytest.mark.parametrize("fault", ["truncate", "garbage"])
def test_alluxio_answering_truncated_or_invalid_json(seeded_alluxio: FakeAlluxio, fault_figures: list[Figure],
                                                     fault: str) -> None:
    figure = Figure(f"Alluxio answering {'truncated' if fault == 'truncate' else 'invalid'} JSON")
    with serve(seeded_alluxio) as served:
        alluxio_fault(served, figure, lambda: seeded_alluxio.inject(**{fault: True, "endpoint": LIST_STATUS}),
                      seeded_alluxio.clear_faults)
        assert served.metrics().value(ERRORS, operation="list_status", reason="bad_response") > 0
    fault_figures.append(figure)


def test_alluxio_slower_than_the_budget(seeded_alluxio: FakeAlluxio, fault_figures: list[Figure]) -> None:
    """Slow but answering: neutral within the budget while the fetch is out, scored as soon as it lands."""
    figure = Figure("Alluxio slow past the budget (1 s answers)")
    with serve(seeded_alluxio) as served:
        probe = Probe(served, figure, names_body(NODES, DATA))
        seeded_alluxio.inject(delay=1.0, endpoint=LIST_STATUS)
        started = time.monotonic()
        assert probe.ask() == NEUTRAL
        probe.recover(HEALTHY, since=started)
        figure.notes.append("recovery counted from the first call, while every answer stays slow")
        assert served.metrics().value(LOOKUPS, result="late") > 0
    fault_figures.append(figure)


def test_alluxio_slower_than_its_timeout(seeded_alluxio: FakeAlluxio, fault_figures: list[Figure]) -> None:
    figure = Figure("Alluxio slow past --alluxio-timeout (500 ms)")
    with serve(seeded_alluxio, "--alluxio-timeout", "500ms", "--alluxio-retries", "0") as served:
        alluxio_fault(served, figure, lambda: seeded_alluxio.inject(delay=2.0, endpoint=LIST_STATUS),
                      seeded_alluxio.clear_faults)
        assert served.metrics().value(ERRORS, operation="list_status", reason="timeout") > 0
    fault_figures.append(figure)


def test_ha_masters_whose_web_ports_are_closed_leave_readiness_and_scores_alone(
        seeded_alluxio: FakeAlluxio, fault_figures: list[Figure]) -> None:
    """Alluxio 2.9 HA: a standby master's web port closes every connection unanswered (its web server serves the
    primary only), and the chart named alluxio-master-0. With the proxy up and the master URL on a closed port,
    /readyz was 503 for good and the scheduler got no endpoint. Readiness follows the proxy now; the masters named
    (several, comma-separated, as settings written for HA name them) are ignored, said once."""
    figure = Figure("Alluxio HA: the master URLs a standby's web port and a closed port")
    started = time.monotonic()
    with StandbyWebPort() as standby, serve(seeded_alluxio, "--alluxio-master",
                                            f"{standby.url},http://127.0.0.1:{free_port()}") as served:
        figure.notes.append(f"ready {time.monotonic() - started:.2f}s after start")
        assert served.get("/readyz") == (200, {"status": "ready"})
        probe = Probe(served, figure, names_body(NODES, DATA))
        probe.recover(HEALTHY, since=time.monotonic())
        probe.hold(0.5, HEALTHY)
        assert served.metrics().value(ERRORS, operation="master_info", reason="connection") == 0
        assert served.output().count("--alluxio-master is ignored") == 1
    fault_figures.append(figure)


def test_extender_restarted_with_a_cold_index(seeded_alluxio: FakeAlluxio, fault_figures: list[Figure]) -> None:
    figure = Figure("extender restarted, cold index (Alluxio listing takes 300 ms)")
    seeded_alluxio.inject(delay=0.3, endpoint=LIST_STATUS)
    with serve(seeded_alluxio) as served:
        probe = Probe(served, figure, names_body(NODES, DATA))
        probe.recover(HEALTHY, since=time.monotonic())
        port = served.port
    restarted = time.monotonic()
    with serve(seeded_alluxio, port=port) as served:
        figure.notes.append(f"ready {time.monotonic() - restarted:.2f}s after the restart began")
        probe.served = served
        assert probe.ask() == NEUTRAL
        probe.recover(HEALTHY, since=restarted)
        assert served.metrics().value(LOOKUPS, result="late") >= 1
    fault_figures.append(figure)


def test_corrupt_location_snapshot(tmp_path: Path, fault_figures: list[Figure]) -> None:
    """A snapshot replaced by a corrupt file: the last good one keeps serving, /metrics counts the failed
    read, and the fixed file is read as soon as it is in place. (Corrupt at start, the command stops with
    the reason: tests/test_http.py.)"""
    figure = Figure("location snapshot corrupt")
    snapshot = tmp_path / "locations.json"
    shutil.copy(DEMO, snapshot)
    statuses = json.loads(DEMO.read_text())
    demo_nodes = ["node-1", "node-2", "node-3", "node-4", "node-5"]
    with Served("--locations-file", str(snapshot), "--index-ttl", "1s", "--max-staleness", "1m",
                "--log-level", "error") as served:
        probe = Probe(served, figure, names_body(demo_nodes, "/data/sales/2026-11"))
        good = [2, 10, 0, 4, 0]  # examples/demo: node-2 caches most of it, then node-4, then node-1
        probe.until(good, since=time.monotonic())
        snapshot.write_text(DEMO.read_text()[:5000])  # a copy cut short
        probe.hold(2.5, good)  # refreshed every second from the last good snapshot
        assert served.metrics().value("scheduler_extender_snapshot_loads_total", outcome="error") >= 1
        moved = [{**status, "fileBlockInfos": [_moved_to(info, "node-3") for info in status["fileBlockInfos"]]}
                 for status in statuses]
        fixed = time.monotonic()
        snapshot.write_text(json.dumps(moved))
        probe.recover([0, 0, 10, 0, 0], since=fixed)
        assert served.metrics().value("scheduler_extender_snapshot_loads_total", outcome="ok") == 2
    fault_figures.append(figure)


def _moved_to(info: dict[str, Any], host: str) -> dict[str, Any]:
    """A block info whose copies now all live on `host`."""
    block = info["blockInfo"]
    locations = [{**loc, "workerAddress": {**loc["workerAddress"], "host": host}} for loc in block["locations"]]
    return {**info, "blockInfo": {**block, "locations": locations[:1]}}


WORKER = {"role": "alluxio-worker"}
REQUIRE = {REQUIRE_LOCAL_WORKER_ANNOTATION: "true"}


def worker(node: str, ready: bool = True) -> dict[str, Any]:
    i = node[1:]
    return make_pod(f"alluxio-worker-{node}", namespace="alluxio", node=node, pod_ip=f"10.244.{i}.5",
                    host_ip=f"10.0.0.{i}", labels=WORKER, ready=ready)


def test_kubernetes_watch_dropped_then_410_gone(tmp_path: Path, seeded_alluxio: FakeAlluxio,
                                                fault_figures: list[Figure]) -> None:
    """Dropped watches resume; a watch whose version was compacted away gets 410 Gone and lists again.
    Meanwhile answers come from the last known nodes and workers, and changes made during the outage show
    once the lists catch up."""
    figure = Figure("Kubernetes watch dropped, then 410 Gone")
    seeded_alluxio.add_file("/by-ip/f", Block(64 * M, Loc("10.0.0.1", "10.244.1.5")),
                            Block(32 * M, Loc("10.0.0.2", "10.244.2.5")))
    with FakeKube() as kube:
        for node in NODES:
            kube.add("node", make_node(node, internal_ip=f"10.0.0.{node[1:]}", hostname=node))
        kube.add("pod", worker("n1"))
        kube.add("pod", worker("n2", ready=False))
        with serve(seeded_alluxio, "--kubernetes", "kubeconfig", "--kubeconfig",
                   kubeconfig_file(kube, tmp_path)) as served:
            scores = Probe(served, figure, names_body(NODES, "/by-ip"))
            scores.recover(HEALTHY, since=time.monotonic())
            local = Probe(served, figure, names_body(NODES))
            local.body["Pod"]["metadata"]["annotations"] = REQUIRE

            def passed() -> list[str]:
                start = time.perf_counter()
                status, result = served.post("/filter", local.body)
                figure.worst_answer_ms = max(figure.worst_answer_ms, (time.perf_counter() - start) * 1000)
                assert status == 200
                return result["NodeNames"]

            assert passed() == ["n1"]
            kube.wait_watches(3)
            kube.drop_watches()
            kube.modify("pod", worker("n2"))  # caught by the resumed watch
            eventually(lambda: passed() == ["n1", "n2"], what="n2 passing through the resumed watch")
            kube.stop()  # the watches break; meanwhile history moves on and is compacted away
            scores.hold(0.5, HEALTHY)
            outage = time.monotonic()
            kube.start()
            kube.add("pod", worker("n3"))
            kube.compact()
            eventually(lambda: passed() == ["n1", "n2", "n3"], 20, what="n3 passing once the lists catch up")
            figure.recovery_s = time.monotonic() - outage
            assert scores.ask() == HEALTHY
            failures = served.metrics()
            watch_failures = "scheduler_extender_kube_watch_failures_total"
            assert failures.value(watch_failures, reason="expired", watch="worker pods") >= 1
            assert failures.value(watch_failures, reason="error", watch="worker pods") >= 1
    figure.notes.append("recovery: API back → a worker added during the outage is seen")
    fault_figures.append(figure)
