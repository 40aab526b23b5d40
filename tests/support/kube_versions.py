"""The Kubernetes versions the project is tested on, read from kubernetes-versions.txt at the repository root
(one line per minor, newest first): the one place the e2e suite, the benchmarks, the manifest tests and the
README's table take a version from, as tests/e2e/build-control-plane.sh does."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .paths import ROOT

MATRIX_FILE = ROOT / "kubernetes-versions.txt"


@dataclass(frozen=True)
class KubeVersion:
    minor: str
    """'1.37': the id e2e tests are collected under (`test_x[1.37]`)."""
    kubernetes: str
    """'v1.37.2': the k8s.io/kubernetes release built and tested, and the kube-scheduler image tag."""
    etcd: str
    """'v3.7.0': the etcd server the control plane build pairs with it."""

    @property
    def scheduler_image(self) -> str:
        return f"registry.k8s.io/kube-scheduler:{self.kubernetes}"


def matrix(path: Path = MATRIX_FILE) -> list[KubeVersion]:
    """Every tested minor, newest first; fails on a line that is not `minor vX.Y.Z vA.B.C`."""
    versions = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) < 3 or not re.fullmatch(r"1\.\d+", fields[0]) or \
                not fields[1].startswith(f"v{fields[0]}.") or not re.fullmatch(r"v3\.\d+\.\d+", fields[2]):
            raise ValueError(f"{path}:{number}: not 'minor v<minor>.<patch> v<etcd>': {line!r}")
        versions.append(KubeVersion(*fields[:3]))
    if not versions:
        raise ValueError(f"{path}: no versions")
    return versions


def newest() -> KubeVersion:
    return matrix()[0]


def find(version: str) -> KubeVersion:
    """The matrix line of a minor, given as '1.37', 'v1.37' or its patch 'v1.37.2'."""
    wanted = version.removeprefix("v")
    for entry in matrix():
        if wanted in (entry.minor, entry.kubernetes.removeprefix("v")):
            return entry
    raise ValueError(f"Kubernetes {version!r} is not in {MATRIX_FILE.name} "
                     f"(tested: {', '.join(v.minor for v in matrix())})")


def selected(choice: str | None) -> list[KubeVersion]:
    """The versions a run covers: `all` (or nothing: the whole matrix, as CI runs) or comma-separated minors."""
    if not choice or choice.strip() == "all":
        return matrix()
    return [find(v.strip()) for v in choice.split(",") if v.strip()]
