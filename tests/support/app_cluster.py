"""A served extender watching a fake cluster of three nodes that cache one input 75% / 25% / 0 (issue 24's
shape): for each front end's test that an application's executors are scored by its deficits."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .fake_alluxio import Block, FakeAlluxio, Loc
from .fake_kube import FakeKube, kubeconfig_file
from .objects import make_node
from .served import Served

NODES = ("n1", "n2", "n3")
INPUT = "/apps/input"
"""48 MiB cached on n1, 16 MiB on n2, none on n3."""


@contextmanager
def app_cluster(tmp_path: Path, alluxio: FakeAlluxio, *flags: str) -> Iterator[tuple[Served, FakeKube]]:
    """The extender serving from `alluxio` with the Kubernetes watch of a FakeKube holding NODES (workers name
    themselves by node IP), and the FakeKube, to which a test may add bound executors. `flags`: more settings."""
    mib = 1 << 20
    with FakeKube() as kube:
        for i, node in enumerate(NODES, 1):
            kube.add("node", make_node(node, internal_ip=f"10.0.0.{i}", hostname=node))
        alluxio.add_file(f"{INPUT}/part-0", Block(48 * mib, Loc("10.0.0.1", "")), Block(16 * mib, Loc("10.0.0.2", "")))
        with Served("--alluxio-proxy", alluxio.url, "--kubernetes", "kubeconfig", "--kubeconfig",
                    kubeconfig_file(kube, tmp_path), "--request-budget", "2s", *flags) as served:
            yield served, kube
