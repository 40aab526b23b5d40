import os
from collections.abc import Iterator
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.support")  # before the first import of it: its asserts explain themselves

from tests.support.fake_alluxio import FakeAlluxio  # noqa: E402
from tests.support.fault_probe import Figure, alluxio_data, report_figures  # noqa: E402
from tests.support.figures import SECTIONS  # noqa: E402
from tests.support.kube_versions import selected  # noqa: E402

VERSION_ENV = "SCHEDULER_EXTENDER_E2E_VERSION"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--k8s-version", default=os.environ.get(VERSION_ENV, "all"),
                     help=f"Kubernetes minor(s) of kubernetes-versions.txt the e2e suite runs against, "
                          f"comma-separated, or 'all' (default: ${VERSION_ENV}, else all)")


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
def fake_alluxio() -> Iterator[FakeAlluxio]:
    """A started fake Alluxio (proxy and master on one port), stopped after the test."""
    with FakeAlluxio() as fake:
        yield fake


@pytest.fixture
def seeded_alluxio() -> Iterator[FakeAlluxio]:
    """A started fake Alluxio holding the fault suites' DATA and WARM (support/fault_probe.py)."""
    with FakeAlluxio() as fake:
        alluxio_data(fake)
        yield fake


@pytest.fixture(scope="module")
def fault_figures() -> Iterator[list[Figure]]:
    """Where a fault test puts its Figure; the module's figures are reported after its last test."""
    found: list[Figure] = []
    yield found
    report_figures(found)
