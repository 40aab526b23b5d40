"""The Helm chart as the tests render it: charts/generate.py's own functions, and helm 3 and 4 built by
charts/build-helm.sh (reused from $SCHEDULER_EXTENDER_HELM_BIN, which .ci/run sets)."""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import Any

import yaml

from charts import generate  # the repository root's charts/ (a namespace package), as the tests import tests

CHART = generate.CHART
MINORS = [minor for minor, _ in generate.tested_versions()]
HELMS = ("helm4", "helm3")


@functools.cache
def helm(name: str = "helm4") -> Path:
    return generate.helm_dir() / name


def run_helm(*args: str, name: str = "helm4") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm(name)), *args], capture_output=True, text=True, timeout=120)


def render(minor: str = MINORS[0], *values: str, name: str = "helm4", release: str = generate.RELEASE,
           namespace: str = generate.NAMESPACE) -> list[dict[str, Any]]:
    """The chart's documents for a cluster of this minor, with `--set`/`-f` arguments `values`."""
    text = generate.render(helm(name), minor, *values, release=release, namespace=namespace)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [doc for doc in by_kind(docs, kind) if name is None or doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]
