"""The README is an operator's first contract: its commands and tables must match the code."""
import re
from pathlib import Path

from scheduler_extender.config import SPECS

README = (Path(__file__).parent.parent / "README.md").read_text()
CI = (Path(__file__).parent.parent / ".ci" / "run").read_text()


def test_configuration_table_lists_every_setting_with_its_default():
    rows = dict(re.findall(r"^\| `(--[a-z0-9-]+)` \|\s*`?([^`|]*?)`?\s*\|", README, re.M))
    assert set(rows) == {spec.flag for spec in SPECS} | {"--config"}
    for spec in SPECS:
        assert rows[spec.flag] == (spec.default or ""), spec.flag


def test_ci_runs_the_readme_test_command():
    command = re.search(r"# 2\. Run the tests.*\n(.+)\n", README)[1]
    assert command in CI.splitlines()
