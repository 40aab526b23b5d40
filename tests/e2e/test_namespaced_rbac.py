"""The chart's namespace-scoped pod reads under a real API server's RBAC: with extender.workerNamespace and
.prefetchNamespaces set, the extender's ServiceAccount may read pods only through the Roles the chart makes in
those namespaces, and the extender, told those namespaces, gets ready under them alone; told none, it cannot
list pods cluster-wide and stays unready."""
from __future__ import annotations

import time

from tests.support.chart import render
from tests.support.control_plane import ControlPlane, Rest
from tests.support.deployment import NAMESPACE
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.kube_versions import KubeVersion
from tests.support.served import Served

RELEASE = "scoped"
WORKERS, SPARK = "scoped-alluxio", "scoped-spark"
_RBAC = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def test_the_charts_roles_are_all_the_scoped_extender_needs(control_plane: ControlPlane, rest: Rest,
                                                            alluxio: FakeAlluxio, kube_version: KubeVersion) -> None:
    for namespace in (WORKERS, SPARK):
        rest.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    docs = render(kube_version.minor, "--set", f"extender.workerNamespace={WORKERS}",
                  "--set-json", f'extender.prefetchNamespaces=["{SPARK}"]', release=RELEASE, namespace=NAMESPACE)
    for doc in docs:
        if doc["kind"] in _RBAC and doc["metadata"]["name"].startswith(f"{RELEASE}-extender"):
            rest.create(doc)
    token = control_plane.service_account_token(NAMESPACE, f"{RELEASE}-extender")
    kubeconfig = str(control_plane.kubeconfig(token, f"{RELEASE}-extender"))
    access = ("--alluxio-proxy", alluxio.url, "--kubernetes", "kubeconfig", "--kubeconfig", kubeconfig)
    with Served(*access, "--worker-namespace", WORKERS, "--prefetch-namespaces", SPARK) as served:
        assert served.get("/readyz") == (200, {"status": "ready"})
    with Served(*access, ready=False) as everywhere:
        time.sleep(3)  # its lists of every namespace's pods are refused
        assert everywhere.get("/readyz") == (503, {"status": "waiting for the first list of nodes and Alluxio "
                                                            "worker pods"})
        assert "403" in everywhere.output() or "Forbidden" in everywhere.output()
