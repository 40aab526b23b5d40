"""The extender against a real Alluxio 2.9.6 HA pair on loopback: two masters on the embedded journal (one
primary, one standby whose web port stays closed, as Alluxio leaves it), a worker and the REST proxy. An extender
named the masters (the chart named alluxio-master-0) and, pointed at the standby, stayed unready for good; its
readiness and scores follow the proxy now, which finds the primary itself. The standby's web port takes each
connection and closes it unanswered: tests/support/loopback.StandbyWebPort stands in for it in the quick suites."""
from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from tests.alluxio.conftest import note, usable_cache
from tests.alluxio.real_alluxio import MIB, RealAlluxio, http
from tests.support.loopback import StandbyWebPort
from tests.support.served import Served

pytestmark = pytest.mark.alluxio

WORKER = ("127.0.0.1", "")


@pytest.fixture(scope="module")
def ha_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealAlluxio]:
    cache = usable_cache()
    began = time.monotonic()
    with RealAlluxio(cache, tmp_path_factory.mktemp("alluxio-ha"), workers=[WORKER], masters=2) as cluster:
        note(f"HA pair (embedded journal), a worker and the proxy answering in {time.monotonic() - began:.1f} s")
        yield cluster


def closed_unanswered(url: str) -> bool:
    """The server took the connection and reset or closed it before answering (urllib says so in two ways)."""
    try:
        http("GET", url, timeout=10)
    except urllib.error.URLError as err:
        return isinstance(err.reason, ConnectionResetError)
    except ConnectionResetError:  # http.client.RemoteDisconnected included
        return True
    return False


def test_the_standby_closes_its_web_ports_connections_unanswered(ha_pair: RealAlluxio) -> None:
    primary = ha_pair.master_url
    assert http("GET", f"{primary}/api/v1/master/info")[0] == 200
    (standby,) = [m for m in ha_pair.masters if m.web_url != primary]
    assert all(closed_unanswered(f"{standby.web_url}/api/v1/master/info") for _ in range(3))
    with StandbyWebPort() as stand_in:  # what the quick suites put in its place answers alike
        assert all(closed_unanswered(f"{stand_in.url}/api/v1/master/info") for _ in range(3))


def test_the_extender_is_ready_and_scores_through_the_proxy_whatever_the_masters(ha_pair: RealAlluxio,
                                                                                tmp_path) -> None:
    ha_pair.fs("mkdir", "/ha")
    ha_pair.write("/ha/part-0", 3 * MIB, client_host=WORKER[0])
    (standby,) = [m for m in ha_pair.masters if m.web_url != ha_pair.master_url]
    node_map = tmp_path / "node-map.json"
    node_map.write_text(json.dumps({WORKER[0]: "node-a"}))
    # the masters as settings written for HA name them, the standby first: ignored
    masters = f"{standby.web_url},{ha_pair.master_url}"
    with Served("--alluxio-proxy", ha_pair.proxy_url, "--alluxio-master", masters, "--node-map", str(node_map),
                "--request-budget", "30s", "--alluxio-timeout", "30s") as served:
        assert served.get("/readyz") == (200, {"status": "ready"})
        status, report = served.get("/locality?" + urlencode([("path", "/ha"), ("node", "node-a")]))
        assert status == 200 and report["nodes"] == [{"node": "node-a", "cachedBytes": 3 * MIB, "score": 10}]
        assert "--alluxio-master is ignored" in served.output()
