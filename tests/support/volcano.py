"""A real Volcano scheduler on a ControlPlane: vc-scheduler and its CRDs from tests/volcano/build-volcano.sh, the
`default` Queue open, a volcano-scheduler.conf with or without the extender plugin. No vc-controller-manager,
webhook or kubelet: vc-scheduler binds pods without them; a test makes the PodGroups Spark or a controller would.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from .control_plane import ControlPlane, Process, Rest
from .paths import ROOT
from .served import free_port
from .waiting import eventually

BUILD_SCRIPT = ROOT / "tests" / "volcano" / "build-volcano.sh"
QUEUES = "/apis/scheduling.volcano.sh/v1beta1/queues"
GROUP_ANNOTATION = "scheduling.k8s.io/group-name"
"""The annotation naming a pod's PodGroup (Spark's VolcanoFeatureStep sets it, as Volcano's controllers do)."""


def volcano_dir() -> Path:
    """The directory holding vc-scheduler and crds/, built (or, when up to date, only found) by the script."""
    out = subprocess.run(["bash", str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def extender_arguments(url: str, *, predicate: bool = True, timeout: str = "1s") -> dict[str, Any]:
    """The extender plugin's arguments for our extender at `url` (its root): what the chart renders too."""
    arguments: dict[str, Any] = {"extender.urlPrefix": f"{url}/volcano", "extender.httpTimeout": timeout,
                                 "extender.prioritizeVerb": "prioritize", "extender.ignorable": True}
    if predicate:
        arguments["extender.predicateVerb"] = "predicate"
    return arguments


def scheduler_conf(extender: dict[str, Any] | None) -> dict[str, Any]:
    """Volcano's default volcano-scheduler.conf (its chart's), plus the extender plugin with these arguments."""
    second = [{"name": "overcommit"}, {"name": "drf", "enablePreemptable": False}, {"name": "predicates"},
              {"name": "proportion"}, {"name": "nodeorder"}, {"name": "binpack"}]
    if extender is not None:
        second.append({"name": "extender", "arguments": extender})
    return {"actions": "enqueue, allocate, backfill", "tiers": [
        {"plugins": [{"name": "priority"}, {"name": "gang", "enablePreemptable": False}, {"name": "conformance"}]},
        {"plugins": second}]}


def install_crds(plane: ControlPlane, volcano: Path) -> None:
    """The CRDs vc-scheduler lists and watches, established before it starts."""
    rest = plane.rest()
    names = []
    for path in sorted((volcano / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        rest.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        names.append(crd["metadata"]["name"])

    def established() -> bool:
        for name in names:
            got = rest.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            # until the apiextensions controller has looked at a new CRD, its status says `conditions: null`
            conditions = (got.get("status") or {}).get("conditions") or ()
            if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return False
        return True

    eventually(established, 30, what="Volcano's CRDs established", interval=0.2, failure=RuntimeError)


def start_vc_scheduler(plane: ControlPlane, volcano: Path, name: str, conf: dict[str, Any],
                       period: str = "200ms") -> Process:
    """vc-scheduler placing the pods whose schedulerName is `name`, as cluster admin, every `period`."""
    # vc-scheduler watches its configuration's directory and reloads on every event there: in the control plane's
    # directory, its own log's writes would make it reload (and log that) without end.
    path = plane.dir / f"{name}-conf" / "volcano-scheduler.conf"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(conf))
    process = plane.spawn(name, [
        str(volcano / "vc-scheduler"), f"--kubeconfig={plane.kubeconfig(plane.admin_token, name)}",
        f"--scheduler-conf={path}", f"--scheduler-name={name}", f"--schedule-period={period}",
        "--leader-elect=false", f"--listen-address=127.0.0.1:{free_port()}",
        f"--healthz-address=127.0.0.1:{free_port()}", "--cache-dumper=false", "--v=2"])
    open_default_queue(plane.rest(), process)
    return process


def open_default_queue(rest: Rest, scheduler: Process) -> None:
    """vc-scheduler creates the `default` Queue; vc-controller-manager would open it. A Queue not Open takes no
    jobs, so its status is set Open here."""
    def created() -> bool:
        if not scheduler.alive():
            raise RuntimeError(f"{scheduler.name} exited:\n{scheduler.tail()}")
        return rest.request("GET", f"{QUEUES}/default", ok=(200, 404)).get("kind") == "Queue"

    eventually(created, 60, what="the default Queue created", interval=0.2, failure=RuntimeError)
    rest.request("PATCH", f"{QUEUES}/default/status", {"status": {"state": "Open"}},
                 content_type="application/merge-patch+json")


def pod_group(name: str, namespace: str, min_member: int = 1) -> dict[str, Any]:
    """A PodGroup in the `default` Queue, as Spark's VolcanoFeatureStep makes one for an application."""
    return {"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "PodGroup",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"minMember": min_member, "queue": "default"}}


def create_pod_group(rest: Rest, group: dict[str, Any]) -> None:
    namespace = group["metadata"]["namespace"]
    rest.post(f"/apis/scheduling.volcano.sh/v1beta1/namespaces/{namespace}/podgroups", group)
