"""A real kube-scheduler calling the extender over HTTPS with a client certificate, configured from
examples/tls/scheduler-config.yaml; and one without a certificate, which the extender refuses while the
pod still schedules (ignorable)."""
from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.e2e_cluster import verb_calls
from tests.e2e.e2e_pods import delete_pods, executor, schedule
from tests.support.certs import Pki, make_pki
from tests.support.control_plane import ControlPlane, Rest
from tests.support.deployment import extender_kubeconfig, start_scheduler
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.paths import EXAMPLES
from tests.support.served import Served, free_port

TLS_CONFIG = EXAMPLES / "tls" / "scheduler-config.yaml"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("extender-pki"))


@pytest.fixture(scope="module")
def tls_extender(control_plane: ControlPlane, extender: Any, alluxio: FakeAlluxio, pki: Pki) -> Iterator[Served]:
    """A second extender, like the session's (same ServiceAccount, cluster and Alluxio), serving HTTPS."""
    kubeconfig = extender_kubeconfig(control_plane, "alluxio-locality-extender-tls")
    context = ssl.create_default_context(cafile=str(pki.server_ca))
    context.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    with Served("--alluxio-proxy", alluxio.url, "--kubernetes", "kubeconfig",
                "--kubeconfig", str(kubeconfig), "--request-budget", "500ms",
                "--tls-cert-file", str(pki.server_cert), "--tls-private-key-file", str(pki.server_key),
                "--tls-client-ca-file", str(pki.client_ca), port=free_port(), tls=context) as served:
        yield served


def tls_scheduler(control_plane: ControlPlane, served: Served, pki: Pki, name: str, *, client_cert: bool) -> Any:
    """kube-scheduler with the example's configuration, pointed at `served` and the test PKI."""
    config = yaml.safe_load(yaml.safe_load(TLS_CONFIG.read_text())["data"]["config.yaml"])
    config["leaderElection"] = {"leaderElect": False}  # the session's scheduler holds the example's Lease
    config["profiles"][0]["schedulerName"] = name
    (extender,) = config["extenders"]
    extender["urlPrefix"] = f"https://localhost:{served.port}"
    extender["tlsConfig"] = {"caFile": str(pki.server_ca), **({"certFile": str(pki.client_cert),
                                                        "keyFile": str(pki.client_key)} if client_cert else {})}
    process = start_scheduler(control_plane, name, config)
    time.sleep(1)
    assert process.alive(), process.tail()
    return process


@pytest.fixture
def no_pods_left(rest: Rest) -> Iterator[None]:
    """The session's placement tests expect every node's CPU free."""
    yield
    delete_pods(rest)


def test_scheduler_with_a_client_certificate_places_by_cached_bytes(
        control_plane: ControlPlane, rest: Rest, tls_extender: Served, pki: Pki, schedulers: Any,
        no_pods_left: None) -> None:
    name = "alluxio-locality-scheduler-tls"
    process = tls_scheduler(control_plane, tls_extender, pki, name, client_cert=True)
    try:
        assert schedule(rest, executor(paths="/apps/one", scheduler=name)) == "n03"
        assert verb_calls(tls_extender, "prioritize", "ok") >= 1
        assert verb_calls(tls_extender, "prioritize", "refused") == 0
    finally:
        process.stop()


def test_scheduler_without_a_client_certificate_is_refused_but_still_schedules(
        control_plane: ControlPlane, rest: Rest, tls_extender: Served, pki: Pki, schedulers: Any,
        no_pods_left: None) -> None:
    name = "alluxio-locality-scheduler-nocert"
    process = tls_scheduler(control_plane, tls_extender, pki, name, client_cert=False)
    try:
        refused = verb_calls(tls_extender, "prioritize", "refused")
        assert schedule(rest, executor(paths="/apps/one", scheduler=name)) in {f"n0{i}" for i in range(1, 9)}
        assert verb_calls(tls_extender, "prioritize", "refused") > refused
        assert "403" in Path(process.log).read_text()
    finally:
        process.stop()
