"""The alert rules and the Grafana dashboard, proven against a real Prometheus (Debian's package, which .ci/run
installs with tests/monitoring/install-prometheus.sh): promtool checks the rule file and its PrometheusRule
rendering and runs the unit tests in tests/monitoring/alerts-test.yaml; then a Prometheus on loopback scrapes
the real served extender (a fake Alluxio and a fake kube-apiserver behind it), evaluates the rules, and
answers every dashboard query, while Alluxio and then the extender go away."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.bodies import names_body, with_paths
from tests.support.chart import CHART, one, render
from tests.support.fake_alluxio import Block, FakeAlluxio, Loc
from tests.support.fake_kube import WATCH, FakeKube, kubeconfig_file
from tests.support.objects import make_node, make_pod
from tests.support.served import Served, free_port, stop_process
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent
RULES = CHART / "files" / "alerts.yaml"
DASHBOARD = CHART / "files" / "dashboard.json"
UNIT_TESTS = ROOT / "tests" / "monitoring" / "alerts-test.yaml"
SCRAPE_CONFIGS = ROOT / "examples" / "monitoring" / "scrape-configs.yaml"
JOB_EXTENDER, JOB_SCHEDULER = "alluxio-locality-extender", "alluxio-locality-scheduler"
JOB = "kubernetes-pods"
"""The live Prometheus's job: not the extender's name, as a Prometheus discovering pods by annotation names it; the
rules and the dashboard name no job."""
SCHEDULER_ROW = "Second kube-scheduler"
"""The dashboard row of kube-scheduler's own metrics, which the live test has no scheduler to export."""

pytestmark = pytest.mark.prometheus


def tool(name: str) -> str:
    """The path of `prometheus` or `promtool`; CI fails without it, a developer's run skips."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed: bash tests/monitoring/install-prometheus.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("promtool"), *args], capture_output=True, text=True, timeout=60)


def alert_names() -> list[str]:
    return [rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


# --------------------------------------------------------------------------------------------------- promtool

@pytest.mark.helm
def test_promtool_accepts_the_rule_file_and_the_prometheus_rule(tmp_path):
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0 and f"SUCCESS: {len(alert_names())} rules found" in checked.stdout, checked.stdout
    chart = render("1.37", "--set", "metrics.prometheusRule.enabled=true", release="spark")
    spec = one(chart, "PrometheusRule")["spec"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(spec))
    rendered = promtool("check", "rules", str(tmp_path / "rules.yaml"))
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr


def test_promtool_unit_tests_of_the_rules_pass():
    result = promtool("test", "rules", str(UNIT_TESTS))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_the_unit_tests_can_fail(tmp_path):
    (tmp_path / "alerts.yaml").write_text(RULES.read_text().replace("> 0.01", "> 0.1"))
    tests = yaml.safe_load(UNIT_TESTS.read_text())
    tests["rule_files"] = ["alerts.yaml"]
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(tests))
    result = promtool("test", "rules", str(tmp_path / "test.yaml"))
    assert result.returncode != 0 and "AlluxioLocalityExtenderErrors" in result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing_and_quiet():
    tested: dict[str, set[bool]] = {}
    for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]:
        for check in case["alert_rule_test"]:
            tested.setdefault(check["alertname"], set()).add(bool(check.get("exp_alerts")))
    assert {name: {True, False} for name in alert_names()} == tested


def test_promtool_accepts_the_documented_scrape_configs(tmp_path):
    """examples/monitoring/scrape-configs.yaml as a prometheus.yml. Debian's Prometheus is built without Kubernetes
    discovery, so each job's pod discovery is checked here and swapped for a static target for promtool, which
    checks the rest (relabelling, scheme, TLS, credentials: their token file made here, as promtool wants it)."""
    config = yaml.safe_load(SCRAPE_CONFIGS.read_text())
    token = tmp_path / "token"
    token.write_text("t")
    for job in config["scrape_configs"]:
        assert job.pop("kubernetes_sd_configs") == [{"role": "pod", "namespaces": {"names": ["alluxio-locality"]}}]
        job["static_configs"] = [{"targets": ["127.0.0.1:1"]}]
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    assert {job["job_name"] for job in config["scrape_configs"]} == {JOB_EXTENDER, JOB_SCHEDULER}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    checked = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


# ---------------------------------------------------------------------------------------------- documentation

def declared_metrics() -> set[str]:
    """Every metric name scheduler_extender/metrics.py declares."""
    return set(re.findall(r'"(scheduler_extender_[a-z_]+)"', (ROOT / "scheduler_extender" / "metrics.py").read_text()))


def test_every_metric_the_code_declares_is_documented():
    assert len(declared_metrics()) >= 15
    for doc in (ROOT / "docs" / "monitoring.md", ROOT / "README.md"):
        text = doc.read_text()
        assert not [name for name in declared_metrics() if f"`{name}" not in text], f"{doc.name} misses some"


# ------------------------------------------------------------------------------------------ a live Prometheus

class Prometheus:
    """A real Prometheus on a loopback port with a config of its own, storage in a temp dir."""

    def __init__(self, workdir: Path, target: str, rules: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        config = {"global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
                  "rule_files": [str(rules)],
                  "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [target]}]}]}
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self._log = (workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [tool("prometheus"), f"--config.file={workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address={self.url.removeprefix('http://')}",
             "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT)
        self.log = workdir / "prometheus.log"
        eventually(self._ready, 60, what="Prometheus ready", interval=0.25, failure=RuntimeError)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"prometheus exited {self.process.returncode}:\n{self.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        with urllib.request.urlopen(url, timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", (expr, data)
        return data["result"]

    def firing(self) -> dict[str, list[dict[str, str]]]:
        """Alert name -> the label sets of its firing alerts."""
        alerts: dict[str, list[dict[str, str]]] = {}
        for alert in self.api("alerts")["alerts"]:
            if alert["state"] == "firing":
                alerts.setdefault(alert["labels"]["alertname"], []).append(alert["labels"])
        return alerts

    def wait_firing(self, names: set[str], timeout: float) -> dict[str, list[dict[str, str]]]:
        """The firing alerts once every one of `names` is among them."""
        def firing() -> dict[str, list[dict[str, str]]] | None:
            alerts = self.firing()
            return alerts if names <= set(alerts) else None

        try:
            return eventually(firing, timeout, interval=0.25, what=f"{sorted(names)} firing")
        except AssertionError as error:
            raise AssertionError(f"{error}; firing: {self.firing()}") from None

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


def without_waiting(rules: Path, out: Path) -> Path:
    """The rule file with every `for` at 0s, so an alert fires at the first evaluation its expression holds:
    the expressions, windows and thresholds are the shipped ones (the unit tests check the `for`s)."""
    doc = yaml.safe_load(rules.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule["for"] = "0s"
    out.write_text(yaml.safe_dump(doc))
    return out


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(row title, panel title, PromQL) of every panel target, with Grafana's variables as the panel would resolve
    them for all instances."""
    queries, row = [], ""
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        if panel["type"] == "row":
            row = panel["title"]
            continue
        queries += [(row, panel["title"], target["expr"].replace("$__rate_interval", "1m").replace("$instance", ".*"))
                    for target in panel["targets"]]
    return queries


class Load:
    """Scheduler-like calls in a loop until stopped: pods with paths, a pod with an unreadable path, a pod
    requiring a local worker, a malformed body (a bad_request in every round), and a connection that is not HTTP."""

    def __init__(self, served: Served) -> None:
        good = names_body(["n1", "n2", "n3"], "/data/sales")
        bodies = [("/prioritize", json.dumps(good).encode()),
                  ("/prioritize", json.dumps(with_paths(good, "s3://bucket/sales")).encode()),
                  ("/filter", json.dumps(_require_local(good)).encode()),
                  ("/prioritize", b"{\"Pod\": ")]
        self._stop = threading.Event()

        def run() -> None:
            while not self._stop.is_set():
                try:
                    for path, body in bodies:
                        served.request("POST", path, body)
                    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
                        sock.sendall(b"NOT HTTP\r\n\r\n")  # connections_dropped_total{reason="bad_request"}
                        sock.recv(1024)
                except OSError:  # the extender is being stopped
                    pass
                self._stop.wait(0.1)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)


def _require_local(body: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    body["Pod"]["metadata"]["annotations"]["alluxio-locality.io/require-local-worker"] = "true"
    return body


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeAlluxio, FakeKube, str]]:
    """A fake Alluxio with a cached file, a fake kube-apiserver with three nodes and one ready worker, and the
    kubeconfig of it."""
    with FakeAlluxio() as alluxio, FakeKube() as kube:
        worker = {"role": "alluxio-worker"}
        for i in (1, 2, 3):
            kube.add("node", make_node(f"n{i}", internal_ip=f"10.0.0.{i}", hostname=f"n{i}"))
        kube.add("pod", make_pod("alluxio-worker-1", namespace="alluxio", node="n1", pod_ip="10.244.1.5",
                                 host_ip="10.0.0.1", labels=worker))
        alluxio.add_file("/data/sales/part-0", Block(64 << 20, Loc("10.0.0.1", "10.244.1.5")), 32 << 20)
        yield alluxio, kube, kubeconfig_file(kube, tmp_path)


def test_a_real_prometheus_alerts_on_the_served_extender_and_answers_every_dashboard_query(tmp_path, cluster):
    alluxio, kube, config = cluster
    alluxio.inject(status=500, times=1)  # one failed Alluxio call, retried
    served = Served("--alluxio-proxy", alluxio.url, "--kubernetes", "kubeconfig",
                    "--kubeconfig", config, "--index-ttl", "1s", "--max-staleness", "10m",
                    "--request-budget", "200ms", "--alluxio-timeout", "1s", "--alluxio-retries", "0")
    target = served.url.removeprefix("http://")
    prometheus = Prometheus(tmp_path, target, without_waiting(RULES, tmp_path / "rules.yaml"))
    load = Load(served)
    try:
        # Failed watches of pods, once Prometheus scrapes: a counter's first value shows no increase to rate().
        eventually(lambda: prometheus.query(f'up{{job="{JOB}"}} == 1'), 30, interval=0.25, what="the first scrape")
        kube.inject(status=500, verb=WATCH, kind="Pod", times=3)
        kube.drop_watches()
        # Healthy, but for the faults brought on purpose: a bad_request in every round of the load (over 1% of
        # calls) and the failed watches. Nothing else fires.
        expected = {"AlluxioLocalityExtenderErrors", "AlluxioLocalityKubernetesWatchFailing"}
        firing = prometheus.wait_firing(expected, 60)
        assert set(firing) == expected, firing
        watches = firing["AlluxioLocalityKubernetesWatchFailing"]
        assert {alert["watch"] for alert in watches} <= {"worker pods", "prefetch pods"}
        assert [{k: v for k, v in alert.items() if k != "watch"} for alert in watches] == [
            {"alertname": "AlluxioLocalityKubernetesWatchFailing", "job": JOB, "instance": target,
             "severity": "warning"}] * len(watches)

        # Every query is one Prometheus accepts; the extender's answer with series (the scheduler's have no
        # kube-scheduler here to export them).
        answered = {(row, title, expr): prometheus.query(expr) for row, title, expr in dashboard_queries()}
        empty = [(title, expr) for (row, title, expr), samples in answered.items()
                 if row != SCHEDULER_ROW and not any(sample["value"][1] != "NaN" for sample in samples)]
        assert not empty, f"dashboard queries without series: {empty}"

        # Alluxio goes away: its calls fail, and once none has succeeded for a minute the alert fires.
        alluxio.stop()
        gone = time.monotonic()
        firing = prometheus.wait_firing({"AlluxioLocalityAlluxioUnreachable"}, 150)
        # The minute counts from Alluxio's last answer, which came up to one refresh (--index-ttl 1s) before the
        # stop; an alert on the errors alone would have fired within seconds.
        assert time.monotonic() - gone >= 55, "fired before a minute without an answer from Alluxio"
        assert firing["AlluxioLocalityAlluxioUnreachable"] == [
            {"alertname": "AlluxioLocalityAlluxioUnreachable", "job": JOB, "instance": target, "severity": "warning"}]
        reasons = prometheus.query(f'sum by (reason) (scheduler_extender_alluxio_call_errors_total{{job="{JOB}"}})')
        assert "connection" in {sample["metric"]["reason"] for sample in reasons}, reasons

        # Then the extender itself.
        load.stop()
        served.stop()
        firing = prometheus.wait_firing({"AlluxioLocalityExtenderDown", "AlluxioLocalityExtenderAbsent"}, 30)
        assert firing["AlluxioLocalityExtenderDown"] == [
            {"alertname": "AlluxioLocalityExtenderDown", "job": JOB, "instance": target, "severity": "warning"}]
    finally:
        load.stop()
        served.stop()
        prometheus.stop()
