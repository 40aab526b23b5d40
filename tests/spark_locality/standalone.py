"""A real Spark standalone cluster on loopback whose executors stand where Kubernetes puts them: on a node (an
Alluxio worker's host, its "node IP") but advertising another address (their "pod IP").

One standalone Worker per node, started with `--host <pod IP>`: Spark's standalone ExecutorRunner gives its
executors the worker's host as `--hostname`, so they register with the pod IP, as KubernetesExecutorBackend does
with $SPARK_EXECUTOR_POD_IP. The worker's environment carries what a pod template gives an executor pod, and its
executors inherit it (CommandUtils.buildProcessBuilder starts them with a ProcessBuilder, whose environment is the
worker's, plus the application's spark.executorEnv.*):
  - SPARK_EXECUTOR_ATTRIBUTE_NODE_IP=<node IP> (status.hostIP in the pod template): the executor reports it to the
    driver as its attribute NODE_IP (CoarseGrainedExecutorBackend.extractAttributes);
  - JAVA_TOOL_OPTIONS=-Dalluxio.user.hostname=<node IP>: the per-pod value examples/spark/ gives the executors'
    Alluxio client with -Dalluxio.user.hostname=$(ALLUXIO_CLIENT_HOSTNAME); here a per-worker environment is the
    only per-node channel into an executor's JVM, as spark.executor.extraJavaOptions is one for all;
  - SPARK_LOCAL_IP=<pod IP>: every server of the worker and of its executors binds that address.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.alluxio.real_alluxio import Process, free_port
from tests.support.waiting import eventually

REGISTERED = re.compile(r"Registering worker (\S+)")
START_TIMEOUT = 180.0
"""Seconds for every worker to register: JVMs start slowly on 2 shared cores."""


@dataclass(frozen=True)
class Node:
    ip: str
    """The node's IP: its Alluxio worker's host."""
    pod_ip: str
    """The address its Spark worker and executors advertise."""


class StandaloneSpark:
    """A master on 127.0.0.1 and one worker per node, each of `cores` cores; `with` starts and stops them."""

    def __init__(self, spark_home: Path, work: Path, nodes: Iterable[Node], *, cores: int = 1,
                 memory: str = "1g", node_attribute: bool = True) -> None:
        self.home = spark_home
        self.work = work
        self.nodes = list(nodes)
        self.cores, self.memory = cores, memory
        self.node_attribute = node_attribute
        self.port, self.web_port = free_port(), free_port()
        self.processes: list[Process] = []

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts the master and the workers; returns when every worker has registered with the master."""
        self.work.mkdir(parents=True, exist_ok=True)
        try:
            self._spawn("master", "org.apache.spark.deploy.master.Master",
                                 ["--host", "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.web_port)],
                                 {"SPARK_LOCAL_IP": "127.0.0.1"})
            for i, node in enumerate(self.nodes):
                env = {"SPARK_LOCAL_IP": node.pod_ip, "JAVA_TOOL_OPTIONS": f"-Dalluxio.user.hostname={node.ip}"}
                if self.node_attribute:
                    env["SPARK_EXECUTOR_ATTRIBUTE_NODE_IP"] = node.ip
                self._spawn(f"worker-{i}", "org.apache.spark.deploy.worker.Worker",
                            ["--host", node.pod_ip, "--webui-port", str(free_port()), "--cores", str(self.cores),
                             "--memory", self.memory, "--work-dir", str(self.work / f"worker-{i}"), self.url], env)
            eventually(lambda: self._registered() == len(self.nodes) or self._dead(), START_TIMEOUT,
                       what=f"{len(self.nodes)} workers registered with the master", interval=0.5)
            dead = self._dead()
            if dead:
                raise RuntimeError(f"{dead.name} exited {dead.popen.returncode}:\n{dead.tail()}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stops the workers (their executors with them) and the master, each by its own pid; then whatever is left
        of each one's process group (an executor its worker did not stop), by the group's id, the worker's pid."""
        for process in reversed(self.processes):
            process.stop()
            try:
                os.killpg(process.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.processes.clear()

    def __enter__(self) -> StandaloneSpark:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, main: str, args: list[str], env: dict[str, str]) -> Process:
        log = self.work / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen([str(self.home / "bin" / "spark-class"), main, *args],
                                     env={**os.environ, "SPARK_HOME": str(self.home), **env},
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=self.work,
                                     start_new_session=True)
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def _registered(self) -> int:
        """How many workers the master has registered (a worker that retried, as under load, is logged twice)."""
        log = self.work / "master.log"
        return len(set(REGISTERED.findall(log.read_text(errors="replace")))) if log.exists() else 0

    def _dead(self) -> Process | None:
        return next((p for p in self.processes if not p.alive()), None)
