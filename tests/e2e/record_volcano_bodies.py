"""Record the request bodies a real vc-scheduler's extender plugin sends, for tests/data/volcano (see its README):

    .venv/bin/python -m tests.e2e.record_volcano_bodies

A control plane of the newest tested version on loopback, Volcano's CRDs, the five Ready nodes of
record_extender_bodies with a running pod bound to node-1 (so that a NodeInfo carries Tasks), and vc-scheduler
(tests/volcano/build-volcano.sh) whose extender plugin points at a recorder on loopback that passes every node and
scores none. Then a PodGroup and an executor-like pod in it. The first body of each verb is written byte for byte to
tests/data/volcano/predicate.json and prioritize.json.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e.record_extender_bodies import ZONES, Recorder, executor_pod, node
from tests.support.control_plane import ControlPlane, control_plane_binaries
from tests.support.kube_versions import newest
from tests.support.objects import make_pod
from tests.support.paths import DATA
from tests.support.volcano import (
    GROUP_ANNOTATION,
    create_pod_group,
    extender_arguments,
    install_crds,
    pod_group,
    scheduler_conf,
    start_vc_scheduler,
    volcano_dir,
)

VERBS = ("predicate", "prioritize")
SCHEDULER = "volcano"


def neutral_answer(verb: str, body: bytes) -> bytes:
    """Volcano's extender plugin: every node passes, none scores."""
    return b'{"status":"","code":0}' if verb == "predicate" else b'{"nodeScore":{},"errorMessage":""}'


def grouped_executor() -> dict[str, Any]:
    """record_extender_bodies' executor pod, for vc-scheduler and in the PodGroup `app-1`."""
    pod = executor_pod()
    pod["spec"]["schedulerName"] = SCHEDULER
    pod["metadata"].setdefault("annotations", {})[GROUP_ANNOTATION] = "app-1"
    return pod


def record() -> dict[str, bytes]:
    volcano = volcano_dir()
    with tempfile.TemporaryDirectory(prefix="record-volcano-") as tmp, Recorder(neutral_answer) as recorder:
        plane = ControlPlane(control_plane_binaries(newest()), Path(tmp))
        plane.start()
        try:
            rest = plane.rest()
            for name in ZONES:
                rest.post("/api/v1/nodes?fieldManager=kubectl-create", node(name))
            rest.create(make_pod("running-1", node="node-1", cpu="1", memory="1Gi"))
            install_crds(plane, volcano)
            scheduler = start_vc_scheduler(plane, volcano, SCHEDULER,
                                           scheduler_conf(extender_arguments(recorder.url, timeout="5s")))
            create_pod_group(rest, pod_group("app-1", "default"))
            rest.post("/api/v1/namespaces/default/pods?fieldManager=kubectl-create", grouped_executor())
            return recorder.wait_for(VERBS, scheduler)
        finally:
            plane.stop()


def main() -> int:
    (DATA / "volcano").mkdir(exist_ok=True)
    for verb, body in record().items():
        if verb in VERBS:
            (DATA / "volcano" / f"{verb}.json").write_bytes(body)
            print(f"vc-scheduler: {verb} -> tests/data/volcano/{verb}.json ({len(body)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
