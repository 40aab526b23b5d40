"""The README is an operator's first contract: its commands and tables must match the code."""
import re
from pathlib import Path

from scheduler_extender.config import SPECS
from tests.support.kube_versions import matrix, newest

README = (Path(__file__).parent.parent / "README.md").read_text()
CI = (Path(__file__).parent.parent / ".ci" / "run").read_text()


def test_configuration_table_lists_every_setting_with_its_default():
    rows = dict(re.findall(r"^\| `(--[a-z0-9-]+)` \|\s*`?([^`|]*?)`?\s*\|", README, re.M))
    assert set(rows) == {spec.flag for spec in SPECS} | {"--config"}
    for spec in SPECS:
        assert rows[spec.flag] == (spec.default or ""), spec.flag


def test_ci_runs_the_readme_test_command():
    found = re.search(r"# 2\. Run the tests.*\n(.+)\n", README)
    assert found is not None, "README has no command 2"
    command = found[1]
    assert command in CI.splitlines()


def test_tested_versions_table_is_the_matrix_ci_runs():
    rows = re.findall(r"^\| (1\.\d+) \| `registry\.k8s\.io/kube-scheduler:(v[\d.]+)`[^|]* \| "
                      r"kube-apiserver and kube-scheduler (v[\d.]+), etcd (v[\d.]+) \|$", README, re.M)
    assert rows == [(v.minor, v.kubernetes, v.kubernetes, v.etcd) for v in matrix()]
    assert f"the default is `{newest().kubernetes}`" in README
    assert "bash tests/e2e/build-control-plane.sh --list" in CI  # CI builds every line
    assert "SCHEDULER_EXTENDER_E2E_VERSION" not in CI and "--k8s-version" not in CI  # and the e2e suite runs each
