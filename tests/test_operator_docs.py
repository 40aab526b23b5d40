"""What the README, docs/ and examples/ tell an operator to run, checked against what it does: the faster test run
leaves out the slow suites, every example names Alluxio in one namespace, and the Alluxio values turn on what the
extender reads (the REST proxy, with the two properties 2.9.3 and later need)."""
from __future__ import annotations

import re
import subprocess
import sys

import yaml

from tests.support.paths import ROOT

README = (ROOT / "README.md").read_text()
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted(path for path in (ROOT / "examples").rglob("*") if path.suffix in {".md", ".yaml", ".sh"})]
ALLUXIO_NAMESPACE = "alluxio"


def test_the_faster_run_leaves_out_the_suites_that_start_a_control_plane_or_java() -> None:
    found = re.search(r'A faster run .*?`\.venv/bin/python -m pytest -m "([^"]+)"`', README, flags=re.S)
    assert found, "README has no faster run"
    slow = ["tests/e2e", "tests/alluxio", "tests/alluxio3"]
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                "-m", found[1], *slow], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert collected.returncode == 5 and re.search(r"no tests collected \(\d+ deselected\)", collected.stdout), \
        collected.stdout[-2000:]
    rest = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-m", found[1], "tests/test_scoring.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert rest.returncode == 0, rest.stdout[-2000:]  # and the fast tests stay in


def test_every_example_finds_alluxio_in_one_namespace() -> None:
    found: dict[str, set[str]] = {}
    for path in DOCUMENTS:
        text = path.read_text()
        names = re.findall(r"alluxio-(?:master-\d+|proxy|etcd)\.([a-z0-9-]+)[.:]", text)
        names += re.findall(r"\{name: alluxio-proxy, namespace: ([a-z0-9-]+)\}", text)
        for name in names:
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert set(found) == {ALLUXIO_NAMESPACE}, found


def test_the_alluxio_values_turn_on_the_proxy_the_extender_reads() -> None:
    values = yaml.safe_load((ROOT / "examples" / "spark" / "alluxio-values.yaml").read_text())
    assert values["proxy"]["enabled"] is True
    assert values["properties"] == {"alluxio.proxy.s3.v2.version.enabled": "false",
                                    "alluxio.proxy.s3.v2.async.processing.enabled": "false"}
    assert values["shortCircuit"] == {"enabled": True, "policy": "uuid", "volumeType": "hostPath",
                                      "hostPath": "/tmp/alluxio-domain"}
