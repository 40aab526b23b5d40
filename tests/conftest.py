from typing import Any

import pytest

from fake_alluxio import FakeAlluxio
from figures import SECTIONS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for section, lines in SECTIONS.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def fake_alluxio():
    """A started fake Alluxio (proxy and master on one port), stopped after the test."""
    with FakeAlluxio() as fake:
        yield fake
