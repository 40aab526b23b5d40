import pytest

from fake_alluxio import FakeAlluxio


@pytest.fixture
def fake_alluxio():
    """A started fake Alluxio (proxy and master on one port), stopped after the test."""
    with FakeAlluxio() as fake:
        yield fake
