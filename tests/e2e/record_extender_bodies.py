"""Record the request bodies a real kube-scheduler sends an HTTP extender, for tests/data (see its README):

    .venv/bin/python -m tests.e2e.record_extender_bodies [VERSION]     # default: the newest tested version

A control plane of that version on loopback (tests/e2e/build-control-plane.sh), five Ready Node objects in two
zones, and one kube-scheduler with two extenders that both point at a recorder on loopback: one sends node
names (`nodeCacheCapable: true`) to /prioritize, the other whole Node objects (`nodeCacheCapable: false`) to
/filter. Then an executor-like pod (`spark-role=executor`, as `kubectl create` makes it). The first body of
each verb is written byte for byte to tests/data/prioritize-nodecachecapable-true.json and
filter-nodecachecapable-false.json.
"""
from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tests.support.control_plane import ControlPlane, Process, control_plane_binaries
from tests.support.kube_versions import KubeVersion, find, newest
from tests.support.loopback import LoopbackServer, TrackedHandler
from tests.support.objects import make_executor, make_node
from tests.support.paths import DATA
from tests.support.waiting import eventually

FILES = {"prioritize": "prioritize-nodecachecapable-true.json", "filter": "filter-nodecachecapable-false.json"}
ZONES = {"node-1": "zone-a", "node-2": "zone-a", "node-3": "zone-a", "node-4": "zone-b", "node-5": "zone-b"}


class _Recorder(TrackedHandler):
    """Keeps the first body of each verb (the path's last part) and answers it as the recorder's `answer` says."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        verb = self.path.rsplit("/", 1)[-1]
        recorder: Recorder = self.server.fake
        with recorder.lock:
            recorder.bodies.setdefault(verb, body)
        self.send_body(200, recorder.answer(verb, body))


def neutral_answer(verb: str, body: bytes) -> bytes:
    """extender/v1: every node passes, in the form the nodes came, and none scores."""
    args = json.loads(body)
    answer: Any = [] if verb == "prioritize" else {
        "Nodes": args["Nodes"], "NodeNames": args["NodeNames"], "FailedNodes": {},
        "FailedAndUnresolvableNodes": {}, "Error": ""}
    return json.dumps(answer).encode()


class Recorder(LoopbackServer):
    def __init__(self, answer: Callable[[str, bytes], bytes] = neutral_answer) -> None:
        super().__init__(_Recorder, "extender-body-recorder")
        self.answer = answer
        self.lock = threading.Lock()
        self.bodies: dict[str, bytes] = {}

    def wait_for(self, verbs: Iterable[str], scheduler: Process) -> dict[str, bytes]:
        """The first body of each verb, once all came; raises with the scheduler's log if they do not in 60 s."""
        try:
            eventually(lambda: set(self.bodies) >= set(verbs), 60, interval=0.1, failure=RuntimeError,
                       what="a body of each verb")
        except RuntimeError as error:
            raise RuntimeError(f"{error}:\n{scheduler.tail()}") from None
        return dict(self.bodies)


def node(name: str) -> dict[str, Any]:
    """A Ready node as a test creates one: no kubelet, so its status is written with it."""
    return make_node(name, hostname=name, cpu="8", memory="32Gi",
                     labels={"kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": ZONES[name]})


def executor_pod() -> dict[str, Any]:
    return make_executor("exec-1", namespace="default", scheduler="locality-scheduler", cpu="500m", memory="1Gi")


def record(version: KubeVersion) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="record-bodies-") as tmp, Recorder() as recorder:
        plane = ControlPlane(control_plane_binaries(version), Path(tmp))
        plane.start()
        try:
            rest = plane.rest()
            for name in ZONES:  # as `kubectl create` would, for the managedFields the scheduler passes on
                rest.post("/api/v1/nodes?fieldManager=kubectl-create", node(name))
            extender = {"urlPrefix": recorder.url, "weight": 1, "httpTimeout": "5s", "ignorable": False}
            plane.start_scheduler("locality-scheduler", {
                "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
                "leaderElection": {"leaderElect": False}, "percentageOfNodesToScore": 100,
                "profiles": [{"schedulerName": "locality-scheduler"}],
                "extenders": [{**extender, "filterVerb": "filter", "nodeCacheCapable": False},
                              {**extender, "prioritizeVerb": "prioritize", "nodeCacheCapable": True}]},
                plane.scheduler_token)
            time.sleep(2)  # the scheduler's informers have listed the nodes
            rest.post("/api/v1/namespaces/default/pods?fieldManager=kubectl-create", executor_pod())
            return recorder.wait_for(FILES, plane.processes[-1])
        finally:
            plane.stop()


def main(argv: list[str]) -> int:
    version = find(argv[0]) if argv else newest()
    for verb, body in record(version).items():
        (DATA / FILES[verb]).write_bytes(body)
        print(f"kube-scheduler {version.kubernetes}: {verb} -> tests/data/{FILES[verb]} ({len(body)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
