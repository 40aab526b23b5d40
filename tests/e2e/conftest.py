"""Fixtures of the end-to-end suite (marker `e2e`): a real control plane per Kubernetes version of
kubernetes-versions.txt, the extender as deployed by manifests/ (its ServiceAccount, RBAC and scheduler
configuration), a fake Alluxio, and a cluster whose Alluxio workers run in each deployment mode.

Every test that uses `control_plane` (or a fixture built on it: `rest`, `extender`, `schedulers`) runs once
per version, collected as `test_x[1.37]`, `test_x[1.36]`, ...; `--k8s-version 1.37` (or
$SCHEDULER_EXTENDER_E2E_VERSION) picks some. One version's fixtures are torn down before the next one's
start, so one control plane runs at a time. Tests of this directory and its subdirectories get all this by
naming the fixtures; tests/e2e/README.md lists them.
"""
from __future__ import annotations

import time
from collections.abc import Generator, Iterator

import pytest

from tests.e2e.e2e_cluster import Extender, Layout, Schedulers, build_layout, create_cluster, load_alluxio, note
from tests.support.control_plane import ControlPlane, Rest, control_plane_binaries
from tests.support.deployment import SCHEDULER, apply_access, extender_kubeconfig, scheduler_config, start_scheduler
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.kube_versions import KubeVersion, selected


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


_PLANES: list[ControlPlane] = []
"""The control planes running now, whose schedulers' logs are read after each test."""
_RUN: dict[KubeVersion, list[float]] = {}
"""Per version: its tests' count and seconds, setup (its control plane's start) and teardown included."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    started = time.monotonic()
    try:
        return (yield)
    finally:
        callspec = getattr(item, "callspec", None)
        version = callspec.params.get("kube_version") if callspec is not None else None
        if version is not None:
            run = _RUN.setdefault(version, [0, 0.0])
            run[0] += 1
            run[1] += time.monotonic() - started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test during which RBAC refused a scheduler anything fails, naming the refusals (the manifests lack a
    grant that scheduler's version needs)."""
    report: pytest.TestReport = yield
    if call.when == "call":
        refused = {process.name: lines for plane in _PLANES for process in plane.processes
                   if process.name not in ("etcd", "kube-apiserver") and (lines := process.new_refusals())}
        if refused and report.passed:
            report.outcome = "failed"
            report.longrepr = f"RBAC refused the schedulers meanwhile: {refused}"
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    for version, (tests, seconds) in _RUN.items():
        note(version, f"Kubernetes {version.kubernetes} (etcd {version.etcd}): {tests} e2e tests in {seconds:.0f}s")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kube_version" in metafunc.fixturenames:
        versions = selected(metafunc.config.getoption("k8s_version"))
        metafunc.parametrize("kube_version", versions, ids=[v.minor for v in versions], indirect=True,
                             scope="session")


@pytest.fixture(scope="session")
def kube_version(request: pytest.FixtureRequest) -> KubeVersion:
    """The Kubernetes version this test runs against (a line of kubernetes-versions.txt)."""
    return request.param


@pytest.fixture(scope="session")
def layout() -> Layout:
    return build_layout()


@pytest.fixture(scope="session")
def control_plane(kube_version: KubeVersion, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd and kube-apiserver of `kube_version` on loopback, with the manifests' namespace and RBAC applied."""
    bin_dir = control_plane_binaries(kube_version)
    plane = ControlPlane(bin_dir, tmp_path_factory.mktemp(f"control-plane-{kube_version.minor}"))
    try:
        plane.start()
        apply_access(plane)
        _PLANES.append(plane)
        yield plane
    finally:
        if plane in _PLANES:
            _PLANES.remove(plane)
        plane.stop()


@pytest.fixture(scope="session")
def rest(control_plane: ControlPlane) -> Rest:
    """The API server as cluster admin."""
    return control_plane.rest()


@pytest.fixture(scope="session")
def alluxio(layout: Layout) -> Iterator[FakeAlluxio]:
    with FakeAlluxio() as fake:
        load_alluxio(fake, layout)
        yield fake


@pytest.fixture(scope="session")
def extender(control_plane: ControlPlane, rest: Rest, layout: Layout, alluxio: FakeAlluxio) -> Iterator[Extender]:
    """The served extender under its manifests' ServiceAccount, on a cluster of nodes and Alluxio workers."""
    create_cluster(rest, layout)
    kubeconfig = extender_kubeconfig(control_plane, "alluxio-locality-extender")
    running = Extender(["--alluxio-proxy", alluxio.url, "--kubernetes", "kubeconfig", "--kubeconfig", str(kubeconfig),
                        "--request-budget", "500ms"])
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def schedulers(control_plane: ControlPlane, extender: Extender) -> Iterator[Schedulers]:
    """Our kube-scheduler (manifests/scheduler-config.yaml, under the manifests' ServiceAccount and RBAC)
    calling `extender`, and a default scheduler beside it. No scheduler may be refused anything by RBAC: a
    `forbidden` in one's log fails the test during which it was logged (pytest_runtest_makereport)."""
    ours = start_scheduler(control_plane, SCHEDULER, scheduler_config(extender.url))
    default = control_plane.start_scheduler("default-scheduler", {
        "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
        "leaderElection": {"leaderElect": False}}, control_plane.scheduler_token)
    time.sleep(1)
    for process in (ours, default):
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
    yield Schedulers(ours, default)
