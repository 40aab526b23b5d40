import os
from typing import Any

import pytest

from tests.support.fake_alluxio import FakeAlluxio
from tests.support.figures import SECTIONS
from tests.support.kube_versions import selected

VERSION_ENV = "SCHEDULER_EXTENDER_E2E_VERSION"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--k8s-version", default=os.environ.get(VERSION_ENV, "all"),
                     help=f"Kubernetes minor(s) of kubernetes-versions.txt the e2e suite runs against, comma-separated, "
                          f"or 'all' (default: ${VERSION_ENV}, else all)")


def pytest_configure(config: pytest.Config) -> None:
    try:
        selected(config.getoption("k8s_version"))
    except ValueError as err:
        raise pytest.UsageError(str(err)) from None


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
