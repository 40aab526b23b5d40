"""Each version's control plane is the one its kubernetes-versions.txt line names, stamped as upstream stamps it."""
from __future__ import annotations

import subprocess

from tests.support.control_plane import ControlPlane, Rest
from tests.support.kube_versions import KubeVersion


def version_of(control_plane: ControlPlane, binary: str) -> str:
    return subprocess.run([str(control_plane.bin / binary), "--version"], check=True, capture_output=True,
                          text=True, timeout=30).stdout


def test_the_binaries_are_the_version_under_test(control_plane: ControlPlane, rest: Rest,
                                                 kube_version: KubeVersion) -> None:
    served = rest.get("/version")
    assert served["gitVersion"] == kube_version.kubernetes
    assert (served["major"], served["minor"]) == tuple(kube_version.minor.split("."))
    assert served["gitTreeState"] == "archive" and served["buildDate"] != "1970-01-01T00:00:00Z"  # stamped
    assert version_of(control_plane, "kube-scheduler").split() == ["Kubernetes", kube_version.kubernetes]
    assert f"etcd Version: {kube_version.etcd.removeprefix('v')}\n" in version_of(control_plane, "etcd")
