"""Where the repository's files are, for the modules that read them."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
"""Bodies a real kube-scheduler sent, Kubernetes objects, answers a real Alluxio gave (tests/data/README.md)."""
MANIFESTS = ROOT / "manifests"
EXAMPLES = ROOT / "examples"
