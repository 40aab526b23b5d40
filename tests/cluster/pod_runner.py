"""The kubelet of the one-box cluster: it registers the Node objects and runs every pod bound to them as a process
inside its node's network namespace (tests/cluster/network.py), with the pod's own IP.

What it does, as a kubelet does:
- Nodes: Ready, with the capacity given, InternalIP = the node's IP.
- Pods (a watch on every pod; one bound to one of its nodes starts once): the pod gets an IP of its node's pod range
  (the node's IP with hostNetwork); its first container's env is resolved from the spec (values with $(VAR)
  expanded from the variables before them, downward-API fieldRefs: metadata.name/namespace/uid, labels and
  annotations, spec.nodeName, spec.serviceAccountName, status.podIP(s), status.hostIP(s)); $(VAR) is expanded in
  its command and args; its hostPath volumes are directories of the node's own (node A's /tmp/x is not node B's),
  its emptyDir volumes a directory of the pod's, each bind-mounted at its mountPath in the process's own mount
  namespace. Status: Running with podIP, hostIP and Ready once started; Succeeded or Failed with the exit code.
- A pod deleted, or marked for deletion, has its process ended (TERM, then KILL after 10 s), and a marked one is
  then deleted for good, as a kubelet confirms a graceful deletion.

A container without a command runs its image's entrypoint: `images` maps an image name to the argv it runs for a
container (tests/cluster/images.py: Spark's, as Spark's image runs an executor). An unknown image fails the pod.

What it does not do: images (the host's files are every pod's root), cgroups (requests and limits are the
scheduler's only), probes, restarts, init containers, ConfigMap/Secret/projected volumes (skipped), a second
container. Mount points that do not exist on the host are made for the pod and removed after it.
"""
from __future__ import annotations

import json
import logging
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.alluxio.executor_client import expand
from tests.cluster.network import Network, Node
from tests.support.control_plane import Rest
from tests.support.objects import make_node
from tests.support.served import stop_process_group

LOG = logging.getLogger("pod-runner")
Image = Callable[[Mapping[str, str]], list[str]]
"""An image's entrypoint: the argv it runs for a container with this environment and no command."""


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Running:
    """A pod this runner started."""
    pod: dict[str, Any]
    node: Node
    pod_ip: str
    popen: subprocess.Popen[bytes]
    log: Path
    made: list[Path] = field(default_factory=list)
    """Mount points made on the host for this pod, removed after it."""
    ended: bool = False


class PodRunner:
    """`start()` registers the nodes and watches; `stop()` ends every pod's process and the watch."""

    def __init__(self, api: client.ApiClient, rest: Rest, network: Network, work: Path, *, cpu: str, memory: str,
                 images: Mapping[str, Image], base_env: Mapping[str, str]) -> None:
        """`api` watches pods and writes their status; `rest` registers the nodes (a JSON body, as made for
        every test)."""
        self.core = client.CoreV1Api(api)
        self.rest = rest
        self.network = network
        self.work = work
        self.cpu, self.memory = cpu, memory
        self.images = images
        self.base_env = dict(base_env)
        """The environment every process starts from (PATH, JAVA_HOME...), the pod's own env over it."""
        self.nodes = {node.name: node for node in network.nodes}
        self.running: dict[str, Running] = {}
        self.node_of_ip = {node.ip: node.name for node in network.nodes}
        """Every IP a pod of this run had, and each node's own: the node it was on (IPs are never reused)."""
        self.seen: set[str] = set()
        self._next_ip = dict.fromkeys(self.nodes, 0)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._loop, name="pod-runner", daemon=True)

    def host_dir(self, node: Node, path: str) -> Path:
        """Where a hostPath of `node` lives on this machine."""
        return self.work / "nodes" / node.name / "root" / path.lstrip("/")

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        for node in self.network.nodes:
            self.rest.create(make_node(node.name, internal_ip=node.ip, hostname=node.name, cpu=self.cpu,
                                       memory=self.memory))
        self._thread.start()

    def stop(self) -> None:
        """Ends the watch and every pod's process (a pod that was never started has none)."""
        self._stopping.set()
        self._watch.stop()
        with self._lock:
            pods = list(self.running.values())
        for running in pods:
            self._end(running.pod, running)
        self._thread.join(10)

    # -- the watch --------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                for event in self._watch.stream(self.core.list_pod_for_all_namespaces, timeout_seconds=60,
                                                _request_timeout=90):
                    self._on(event["type"], event["object"].to_dict() if hasattr(event["object"], "to_dict")
                             else event["object"])
                    if self._stopping.is_set():
                        return
            except Exception:  # a broken watch is made again, as a kubelet's is
                if not self._stopping.is_set():
                    LOG.exception("pod watch broke; watching again")
                    time.sleep(0.5)

    def _on(self, kind: str, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        node = self.nodes.get(pod["spec"].get("node_name") or "")
        if node is None:
            return
        if kind == "DELETED" or pod["metadata"].get("deletion_timestamp"):
            with self._lock:
                running = self.running.get(uid)
            confirm = kind != "DELETED"  # marked for deletion: gone for good once its process is
            if running is not None or confirm:
                threading.Thread(target=self._end, args=(pod, running, confirm), daemon=True).start()
            return
        with self._lock:
            if uid in self.seen or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return
            self.seen.add(uid)
        try:
            self._run(pod, node)
        except Exception as err:  # the pod fails, as one whose container cannot start
            LOG.exception("pod %s failed to start", pod["metadata"]["name"])
            self._patch(pod, {"phase": "Failed", "reason": "StartError", "message": str(err)[:1000]})

    # -- one pod ----------------------------------------------------------------------------------------------

    def _run(self, pod: dict[str, Any], node: Node) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        if spec.get("host_network"):
            pod_ip = node.ip
        else:
            with self._lock:
                pod_ip = node.pod_ip(self._next_ip[node.name])
                self._next_ip[node.name] += 1
            self.network.add_pod_ip(node, pod_ip)
            self.node_of_ip[pod_ip] = node.name
        container = spec["containers"][0]
        env = resolve_env(pod, container.get("env") or [], pod_ip=pod_ip, host_ip=node.ip)
        argv = [expand(a, env) for a in (container.get("command") or [])]
        args = [expand(a, env) for a in (container.get("args") or [])]
        if not argv:
            image = self.images.get(container.get("image") or "")
            if image is None:
                raise RuntimeError(f"no entrypoint known for image {container.get('image')!r}")
            argv = image(env)
        else:
            argv = argv + args
        pod_dir = self.work / "pods" / f"{meta['namespace']}-{meta['name']}-{meta['uid'][:8]}"
        pod_dir.mkdir(parents=True, exist_ok=True)
        mounts = self._mounts(spec, container, node, pod_dir)
        made = mount_points([dst for _src, dst in mounts])
        log = pod_dir / "container.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                in_node(node, mounts, argv, name=meta["name"]), env={**self.base_env, **env},
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=container.get("working_dir") or pod_dir, start_new_session=True)
        running = Running(pod, node, pod_ip, popen, log, made)
        with self._lock:
            self.running[meta["uid"]] = running
        LOG.info("pod %s/%s on %s as %s: pid %d", meta["namespace"], meta["name"], node.name, pod_ip, popen.pid)
        ips = {"podIP": pod_ip, "podIPs": [{"ip": pod_ip}], "hostIP": node.ip, "hostIPs": [{"ip": node.ip}]}
        self._patch(pod, {
            "phase": "Running", **ips, "startTime": now(),
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": now()}
                           for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
            "containerStatuses": [{"name": container["name"], "image": container.get("image") or "", "imageID": "",
                                   "ready": True, "restartCount": 0, "started": True,
                                   "state": {"running": {"startedAt": now()}}}]})
        threading.Thread(target=self._reap, args=(running,), daemon=True).start()

    def _mounts(self, spec: dict[str, Any], container: dict[str, Any], node: Node,
                pod_dir: Path) -> list[tuple[Path, str]]:
        """(source on this machine, mountPath) of each volume mount."""
        sources: dict[str, Path] = {}
        for volume in spec.get("volumes") or []:
            if volume.get("host_path"):
                sources[volume["name"]] = self.host_dir(node, volume["host_path"]["path"])
                sources[volume["name"]].mkdir(parents=True, exist_ok=True)  # Directory(OrCreate): the node has it
            elif volume.get("empty_dir") is not None:
                sources[volume["name"]] = pod_dir / "volumes" / volume["name"]
                sources[volume["name"]].mkdir(parents=True, exist_ok=True)
        return [(sources[mount["name"]], mount["mount_path"]) for mount in container.get("volume_mounts") or []
                if mount["name"] in sources]

    def run_on(self, node: Node, argv: Sequence[str],
               host_paths: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        """A command run to its end on `node` as a pod's would be, with these hostPaths (path: mountPath)."""
        mounts = [(self.host_dir(node, path), target) for path, target in host_paths.items()]
        for source, _target in mounts:
            source.mkdir(parents=True, exist_ok=True)
        made = mount_points([target for _source, target in mounts])
        try:
            return subprocess.run(in_node(node, mounts, argv, name="run-on"), capture_output=True, text=True,
                                  env={**self.base_env}, stdin=subprocess.DEVNULL)
        finally:
            remove(made)

    def _reap(self, running: Running) -> None:
        code = running.popen.wait()
        if running.ended:
            return
        self._cleanup(running)
        container = running.pod["spec"]["containers"][0]["name"]
        self._patch(running.pod, {
            "phase": "Succeeded" if code == 0 else "Failed",
            "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": now()}],
            "containerStatuses": [{"name": container, "ready": False, "restartCount": 0, "image": "", "imageID": "",
                                   "state": {"terminated": {"exitCode": code, "finishedAt": now(),
                                                            "reason": "Completed" if code == 0 else "Error"}}}]})

    def _end(self, pod: dict[str, Any], running: Running | None, confirm: bool = False) -> None:
        """Ends the pod's process if it has one; with `confirm`, deletes the pod marked for deletion at once."""
        if running is not None:
            running.ended = True
            stop_process_group(running.popen)
            self._cleanup(running)
        if confirm:
            meta = pod["metadata"]
            try:
                self.core.delete_namespaced_pod(meta["name"], meta["namespace"], grace_period_seconds=0)
            except ApiException as err:
                if err.status != 404:
                    LOG.warning("deleting pod %s: %s", meta["name"], err)

    def _cleanup(self, running: Running) -> None:
        with self._lock:
            if self.running.pop(running.pod["metadata"]["uid"], None) is None:
                return
        if running.pod_ip != running.node.ip:
            self.network.remove_pod_ip(running.node, running.pod_ip)
        remove(running.made)

    def _patch(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        meta = pod["metadata"]
        try:
            self.core.patch_namespaced_pod_status(meta["name"], meta["namespace"], {"status": status})
        except ApiException as err:
            if err.status != 404:  # deleted meanwhile
                raise

    def logs(self, pod_name: str) -> str:
        """The output of a running pod's process (for a failure's message)."""
        for running in list(self.running.values()):
            if running.pod["metadata"]["name"] == pod_name:
                return running.log.read_text(errors="replace")[-4000:]
        return ""


def in_node(node: Node, mounts: Sequence[tuple[Path, str]], argv: Sequence[str], *, name: str) -> list[str]:
    """The command that runs `argv` in the node's network namespace and a mount namespace of its own (`ip netns
    exec` makes one, its mounts not propagating to the host's), each source bind-mounted at its target there."""
    script = "".join(f"mount --bind {shlex.quote(str(src))} {shlex.quote(dst)} && " for src, dst in mounts)
    return ["ip", "netns", "exec", node.netns, "sh", "-c", script + 'exec "$@"', name, *argv]


def mount_points(targets: Sequence[str]) -> list[Path]:
    """Each target made a directory on the host (a bind mount needs one); the directories made, deepest first."""
    made: list[Path] = []
    for target in map(Path, targets):
        made += [p for p in [target, *target.parents] if not p.exists()]
        target.mkdir(parents=True, exist_ok=True)
    return made


def remove(made: Sequence[Path]) -> None:
    """The mount points `mount_points` made, removed when nothing else uses them."""
    for path in made:
        try:
            path.rmdir()
        except OSError:
            pass  # another pod's mount point too, or not empty: left for it


_FIELDS: dict[str, Callable[[dict[str, Any], str, str], str]] = {
    "metadata.name": lambda pod, _p, _h: pod["metadata"]["name"],
    "metadata.namespace": lambda pod, _p, _h: pod["metadata"]["namespace"],
    "metadata.uid": lambda pod, _p, _h: pod["metadata"]["uid"],
    "spec.nodeName": lambda pod, _p, _h: pod["spec"]["node_name"],
    "spec.serviceAccountName": lambda pod, _p, _h: pod["spec"].get("service_account_name") or "",
    "status.podIP": lambda _pod, pod_ip, _h: pod_ip,
    "status.podIPs": lambda _pod, pod_ip, _h: pod_ip,
    "status.hostIP": lambda _pod, _p, host_ip: host_ip,
    "status.hostIPs": lambda _pod, _p, host_ip: host_ip,
}


def field_value(pod: dict[str, Any], path: str, *, pod_ip: str, host_ip: str) -> str:
    """A downward-API fieldRef's value, as the kubelet resolves it."""
    for prefix, key in (("metadata.labels['", "labels"), ("metadata.annotations['", "annotations")):
        if path.startswith(prefix) and path.endswith("']"):
            return (pod["metadata"].get(key) or {}).get(path[len(prefix):-2], "")
    if path not in _FIELDS:
        raise ValueError(f"fieldRef {path!r} is not one the pod runner resolves")
    return _FIELDS[path](pod, pod_ip, host_ip)


def resolve_env(pod: dict[str, Any], env: Sequence[Mapping[str, Any]], *, pod_ip: str, host_ip: str
                ) -> dict[str, str]:
    """The container's environment: each value with $(VAR) expanded from the variables before it, fieldRefs
    resolved; other sources (ConfigMaps, Secrets, resource fields) are not."""
    resolved: dict[str, str] = {}
    for var in env:
        source = var.get("value_from") or {}
        if source.get("field_ref"):
            resolved[var["name"]] = field_value(pod, source["field_ref"]["field_path"], pod_ip=pod_ip,
                                                host_ip=host_ip)
        elif source:
            raise ValueError(f"env {var['name']}: only values and fieldRefs are resolved, not {json.dumps(source)}")
        else:
            resolved[var["name"]] = expand(var.get("value") or "", resolved)
    return resolved
