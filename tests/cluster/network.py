"""Nodes as network namespaces on one host bridge, their links rate-limited: the network of the one-box cluster.

Node i (from 1) is the namespace `sxc-node-<i>`, joined to the bridge `sxc-br0` (198.18.0.1/16 on the host) by the
veth pair `sxc-h<i>` (host side) / `sxc-n<i>` (node side). Its node IP is 198.18.0.<10+i>; the IPs of its pods are
198.19.<i>.<n>/32, added on its interface as a CNI would give each pod its own address, routed from the host and
from every other node through the node's IP. Every address is in 198.18.0.0/15 (RFC 2544's benchmark range), and
nothing routes beyond these namespaces and this host: no forwarding, no NAT.

`shape(rate)` puts a token bucket (tbf) on both ends of every link, so each node sends and receives at most
`rate`; it can come after the data is loaded. netem (delay) is not available on this kernel: bandwidth only.

Needs root. `clean()` removes whatever a crashed run left under these names (processes in the namespaces first).
"""
from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

PREFIX = "sxc"
BRIDGE = f"{PREFIX}-br0"
HOST_IP = "198.18.0.1"
NODE_NET = "198.18.0.0/16"
POD_NET = "198.19.0.0/16"


def iproute2(tool: str, *args: str, netns: str | None = None) -> str:
    """`ip ARGS` or `tc ARGS` (inside `netns` when given); raises with the tool's message when it fails."""
    command = [tool, *(["-n", netns] if netns else []), *args]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` exited {run.returncode}: {run.stderr.strip()}")
    return run.stdout


def ip(*args: str, netns: str | None = None) -> str:
    return iproute2("ip", *args, netns=netns)


def tc(*args: str, netns: str | None = None) -> str:
    return iproute2("tc", *args, netns=netns)


@dataclass(frozen=True)
class Node:
    index: int

    @property
    def name(self) -> str:
        """The Node object's name (and its namespace's)."""
        return f"{PREFIX}-node-{self.index}"

    @property
    def netns(self) -> str:
        return self.name

    @property
    def ip(self) -> str:
        return f"198.18.0.{10 + self.index}"

    @property
    def host_veth(self) -> str:
        return f"{PREFIX}-h{self.index}"

    @property
    def node_veth(self) -> str:
        return f"{PREFIX}-n{self.index}"

    @property
    def pod_net(self) -> str:
        return f"198.19.{self.index}.0/24"

    def pod_ip(self, n: int) -> str:
        """The n-th pod IP of this node (n from 0)."""
        if not 0 <= n < 250:
            raise ValueError(f"node {self.name} has no room for a pod IP #{n}")
        return str(ipaddress.ip_network(self.pod_net)[n + 2])


class Network:
    """`up()` makes the bridge and the nodes, `down()` removes them (and kills what still runs inside)."""

    def __init__(self, count: int) -> None:
        if not 1 <= count <= 200:
            raise ValueError(f"1 to 200 nodes, not {count}")
        self.nodes = [Node(i) for i in range(1, count + 1)]
        self.rate: str | None = None

    def up(self) -> None:
        clean()
        try:
            ip("link", "add", BRIDGE, "type", "bridge")
            ip("addr", "add", f"{HOST_IP}/16", "dev", BRIDGE)
            ip("link", "set", BRIDGE, "up")
            for node in self.nodes:
                self._add(node)
            for node in self.nodes:  # each node reaches the others' pods through their node IPs
                for other in self.nodes:
                    if other != node:
                        ip("route", "add", other.pod_net, "via", other.ip, netns=node.netns)
        except BaseException:
            self.down()
            raise

    def _add(self, node: Node) -> None:
        ip("netns", "add", node.netns)
        ip("link", "add", node.host_veth, "type", "veth", "peer", "name", node.node_veth)
        ip("link", "set", node.node_veth, "netns", node.netns)
        ip("link", "set", node.host_veth, "master", BRIDGE)
        ip("link", "set", node.host_veth, "up")
        ip("link", "set", "lo", "up", netns=node.netns)
        ip("addr", "add", f"{node.ip}/16", "dev", node.node_veth, netns=node.netns)
        ip("link", "set", node.node_veth, "up", netns=node.netns)
        ip("route", "add", node.pod_net, "via", node.ip, "dev", BRIDGE)

    def add_pod_ip(self, node: Node, address: str) -> None:
        ip("addr", "add", f"{address}/32", "dev", node.node_veth, netns=node.netns)

    def remove_pod_ip(self, node: Node, address: str) -> None:
        ip("addr", "del", f"{address}/32", "dev", node.node_veth, netns=node.netns)

    def shape(self, rate: str) -> None:
        """Each node's link carries at most `rate` (tc's units: 200mbit) each way: tbf on both veth ends."""
        for node in self.nodes:
            for dev, netns in ((node.host_veth, None), (node.node_veth, node.netns)):
                tc("qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate, "burst", "256kb",
                   "latency", "100ms", netns=netns)
        self.rate = rate

    def down(self) -> None:
        clean()


def namespaces() -> list[str]:
    """This prefix's namespaces that exist now (a crashed run's among them)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listed.splitlines() if line.startswith(f"{PREFIX}-node-")]


def kill_inside(netns: str, grace: float = 10) -> None:
    """Ends every process in `netns` (they are this cluster's: only it starts any there): TERM, then KILL."""
    def pids() -> Sequence[int]:
        out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not pids():
            return


def clean() -> None:
    """Removes this prefix's namespaces (their processes ended first), veths and bridge, if any are left."""
    for netns in namespaces():
        kill_inside(netns)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(f"{PREFIX}-h") or name == BRIDGE:
            subprocess.run(["ip", "link", "del", name], capture_output=True)
