"""The deployment manifests/ ships, as the e2e suite and the benchmarks put it on a control plane: its namespace,
ServiceAccounts and RBAC, and its KubeSchedulerConfiguration pointed at an extender on loopback."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .control_plane import ControlPlane, Process
from .paths import MANIFESTS

NAMESPACE = "alluxio-locality"
SCHEDULER = "alluxio-locality-scheduler"
"""The scheduler's name and its ServiceAccount's."""
EXTENDER = "alluxio-locality-extender"
"""The extender's ServiceAccount."""
_ACCESS_KINDS = {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def apply_access(plane: ControlPlane) -> None:
    """The manifests' namespace, ServiceAccounts and RBAC, created on `plane`."""
    for manifest in ("namespace.yaml", "extender-rbac.yaml", "scheduler-rbac.yaml"):
        plane.apply(MANIFESTS / manifest, _ACCESS_KINDS)


def scheduler_config(extender_url: str) -> dict[str, Any]:
    """The KubeSchedulerConfiguration shipped in manifests/, pointed at the extender at `extender_url`."""
    configmap = yaml.safe_load((MANIFESTS / "scheduler-config.yaml").read_text())
    config: dict[str, Any] = yaml.safe_load(configmap["data"]["config.yaml"])
    config["extenders"][0]["urlPrefix"] = extender_url
    return config


def start_scheduler(plane: ControlPlane, name: str, config: dict[str, Any]) -> Process:
    """A kube-scheduler named `name` reading `config`, under the manifests' scheduler ServiceAccount (and so under
    the manifests' RBAC)."""
    return plane.start_scheduler(name, config, plane.service_account_token(NAMESPACE, SCHEDULER))


def extender_kubeconfig(plane: ControlPlane, name: str) -> Path:
    """A kubeconfig file (named for `name`) authenticating as the manifests' extender ServiceAccount."""
    return plane.kubeconfig(plane.service_account_token(NAMESPACE, EXTENDER), name)
