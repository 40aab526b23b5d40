"""Fixtures of the end-to-end suite (marker `e2e`): a real control plane, the extender as deployed by
manifests/ (its ServiceAccount, RBAC and scheduler configuration), a fake Alluxio, and a cluster whose
Alluxio workers run in each deployment mode."""
from __future__ import annotations

import time
from typing import Iterator

import pytest

from loopback_control_plane import ControlPlane, Rest, control_plane_binaries
from e2e_cluster import (MANIFESTS, NAMESPACE, SCHEDULER, Extender, Layout, Schedulers, build_layout,
                         create_cluster, load_alluxio, scheduler_config)
from fake_alluxio import FakeAlluxio


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def layout() -> Layout:
    return build_layout()


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    bin_dir = control_plane_binaries()
    plane = ControlPlane(bin_dir, tmp_path_factory.mktemp("control-plane"))
    try:
        plane.start()
        for manifest in ("namespace.yaml", "extender-rbac.yaml", "scheduler-rbac.yaml"):
            plane.apply(MANIFESTS / manifest, {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                               "Role", "RoleBinding"})
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def rest(control_plane: ControlPlane) -> Rest:
    return control_plane.rest()


@pytest.fixture(scope="session")
def alluxio(layout: Layout) -> Iterator[FakeAlluxio]:
    with FakeAlluxio() as fake:
        load_alluxio(fake, layout)
        yield fake


@pytest.fixture(scope="session")
def extender(control_plane: ControlPlane, rest: Rest, layout: Layout, alluxio: FakeAlluxio) -> Iterator[Extender]:
    create_cluster(rest, layout)
    token = control_plane.service_account_token(NAMESPACE, "alluxio-locality-extender")
    kubeconfig = control_plane.kubeconfig(token, "alluxio-locality-extender")
    running = Extender(["--alluxio-proxy", alluxio.url, "--alluxio-master", alluxio.url,
                        "--kubernetes", "kubeconfig", "--kubeconfig", str(kubeconfig), "--request-budget", "500ms"])
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def schedulers(control_plane: ControlPlane, extender: Extender) -> Iterator[Schedulers]:
    token = control_plane.service_account_token(NAMESPACE, SCHEDULER)
    ours = control_plane.start_scheduler(SCHEDULER, scheduler_config(extender.url), token)
    default = control_plane.start_scheduler("default-scheduler", {
        "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
        "leaderElection": {"leaderElect": False}}, control_plane.scheduler_token)
    time.sleep(1)
    for process in (ours, default):
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
    yield Schedulers(ours, default)
