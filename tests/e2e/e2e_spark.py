"""Real Spark for the end-to-end suite: examples/spark/spark-submit.sh run as it is, against the suite's API server,
with pyspark from PyPI (tests/e2e/fetch-spark.sh) as the Spark home; the pods it makes; and the figure the Spark
tests report, the share of the input an executor finds on its own node.

No kubelet runs: the executors Spark asks for are created and bound, but never start, so they never register
with the driver. The driver (client mode) or spark-submit (cluster mode) is stopped once its pods are placed.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler_extender.scoring import deficits, scores
from tests.e2e.e2e_pods import NS, delete_pods
from tests.support.control_plane import ControlPlane, Rest
from tests.support.served import stop_process_group
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spark" / "spark-submit.sh"
FETCH_SCRIPT = Path(__file__).resolve().parent / "fetch-spark.sh"
VERSIONS_FILE = Path(__file__).resolve().parent / "spark-versions.txt"
CACHE_ENV = "SCHEDULER_EXTENDER_SPARK_CACHE"
"""Env var naming the cache dir fetch-spark.sh printed (.ci/run sets it; unset, the fixture runs the script)."""
SERVICE_ACCOUNT = "spark"
"""The example's default SERVICE_ACCOUNT: the driver and spark-submit authenticate as it. Spark's Kubernetes guide
binds it to the built-in `edit` role, whose rules only kube-controller-manager's aggregation fills in (none runs
here), so it gets a Role of what Spark's Kubernetes client asks for: its pods, their ConfigMaps, the driver's
Service and, from Spark 4.1, NetworkPolicy, executors' claims."""
_VERBS = ["create", "get", "list", "watch", "patch", "update", "delete", "deletecollection"]
SPARK_ROLE_RULES = [{"apiGroups": [""], "resources": ["pods", "services", "configmaps", "persistentvolumeclaims"],
                     "verbs": _VERBS},
                    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": _VERBS}]


def versions() -> list[str]:
    """The Spark releases of spark-versions.txt, newest first."""
    return [line.split("#", 1)[0].strip() for line in VERSIONS_FILE.read_text().splitlines()
            if line.split("#", 1)[0].strip()]


def spark_cache(env: Mapping[str, str] = os.environ) -> Path:
    """$SCHEDULER_EXTENDER_SPARK_CACHE when it holds every version, else what fetch-spark.sh prints."""
    given = env.get(CACHE_ENV)
    if given and all((Path(given) / v / "complete").exists() for v in versions()):
        return Path(given)
    run = subprocess.run(["bash", str(FETCH_SCRIPT)], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{FETCH_SCRIPT} exited {run.returncode}:\n{run.stderr[-4000:]}")
    return Path(run.stdout.strip().splitlines()[-1])


def java_problem() -> str | None:
    """Why the `java` on PATH cannot run Spark 4 (it needs Java 17 or later), or None."""
    try:
        run = subprocess.run(["java", "-XshowSettings:properties", "-version"], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"no java on PATH to run: {err}"
    found = re.search(r"java\.specification\.version = (\d+)", run.stderr)
    if not found or int(found[1]) < 17:
        return f"Spark 4 needs Java 17 or later; `java` on PATH is {found[1] if found else 'unknown'}"
    return None


def grant_spark_account(control_plane: ControlPlane) -> str:
    """The `spark` ServiceAccount with its Role in the Spark namespace; a token of it."""
    rest = control_plane.rest()
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SERVICE_ACCOUNT, "namespace": NS}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "spark", "namespace": NS}, "rules": SPARK_ROLE_RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "spark", "namespace": NS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "spark"},
         "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NS}]}]
    for obj in objects:
        rest.request("POST", rest.collection(obj["kind"], NS), obj, ok=(201, 409))  # 409: granted already
    return control_plane.service_account_token(NS, SERVICE_ACCOUNT)


@dataclass(frozen=True)
class SparkCluster:
    """What every submission needs: a Spark home, the API server and the `spark` account's token file."""

    home: Path
    version: str
    control_plane: ControlPlane
    token_file: Path
    work: Path


class Submission:
    """One run of examples/spark/spark-submit.sh in the background, its output in a log file. `stop()` ends it
    and every process it started (its own process group)."""

    def __init__(self, cluster: SparkCluster, *, deploy_mode: str, domain_socket: str, executors: int,
                 input_path: str, extra: Sequence[str] = (), env: Mapping[str, str] | None = None) -> None:
        """`env`: more of the script's variables, over the suite's (the one-box cluster's driver address, its
        application, its Alluxio masters)."""
        self.log = cluster.work / f"spark-submit-{time.monotonic_ns()}.log"
        local = cluster.work / "local"
        local.mkdir(exist_ok=True)
        variables = {
            "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
            "SPARK_HOME": str(cluster.home), "DEPLOY_MODE": deploy_mode, "DOMAIN_SOCKET": domain_socket,
            "K8S_API": cluster.control_plane.url, "K8S_CA_CERT": str(cluster.control_plane.dir / "ca.crt"),
            "K8S_TOKEN_FILE": str(cluster.token_file), "NAMESPACE": NS, "EXECUTORS": str(executors),
            "INPUT": input_path, "DRIVER_HOST": "127.0.0.1",
            # Nothing of this machine's own Kubernetes or Spark setup leaks in, and the driver listens on loopback.
            "KUBECONFIG": str(cluster.work / "no-kubeconfig"), "SPARK_CONF_DIR": str(cluster.work / "no-conf"),
            "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
        }
        if deploy_mode == "client":
            # pip's pyspark carries no examples jar: the driver runs Spark's own Python word count instead. Its
            # SparkSession waits for executors to register (spark.scheduler.maxRegisteredResourcesWaitingTime,
            # 30 s) before it reads anything, long enough for them to be created and placed.
            variables["APP"] = str(cluster.home / "examples" / "src" / "main" / "python" / "wordcount.py")
        variables.update(env or {})
        flags = ["--conf", "spark.ui.enabled=false", "--conf", f"spark.local.dir={local}", *extra]
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(["bash", str(EXAMPLE), *flags], env=variables, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"spark-submit still running after {timeout}s:\n{self.tail()}") from None

    def stop(self) -> None:
        stop_process_group(self.popen, 20)

    def __enter__(self) -> Submission:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spark_pods(rest: Rest, role: str) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = rest.get(f"/api/v1/namespaces/{NS}/pods?labelSelector=spark-role%3D{role}")["items"]
    return pods


def placed(rest: Rest, submission: Submission, role: str, count: int, timeout: float = 120) -> list[dict[str, Any]]:
    """The `count` pods of `role` Spark created, once a scheduler has bound them all (and never more of them)."""
    def all_bound() -> list[dict[str, Any]] | None:
        pods = spark_pods(rest, role)
        assert len(pods) <= count, f"Spark made {len(pods)} {role} pods, asked for {count}"
        exited = submission.popen.poll()
        assert exited in (None, 0), f"spark-submit exited {exited}:\n{submission.tail()}"
        return pods if len(pods) == count and all(p["spec"].get("nodeName") for p in pods) else None

    try:
        return eventually(all_bound, timeout, what=f"{count} {role} pods bound", interval=0.1)
    except AssertionError as failure:
        states = {p["metadata"]["name"]: p["spec"].get("nodeName") or p["status"].get("conditions")
                  for p in spark_pods(rest, role)}
        raise AssertionError(f"{failure}; placed: {states}\n{submission.tail()}") from None


def clean(rest: Rest) -> None:
    """Every Spark pod gone (as delete_pods makes sure) and the ConfigMaps Spark made for them."""
    delete_pods(rest)
    for config in rest.get(f"/api/v1/namespaces/{NS}/configmaps")["items"]:
        if re.fullmatch(r"spark-(exec|drv)-.*-conf-map", config["metadata"]["name"]):
            rest.delete_now("ConfigMap", config["metadata"]["name"], NS)


@dataclass(frozen=True)
class Request:
    cpu_milli: int
    memory: int

    @staticmethod
    def of(pod: Mapping[str, Any]) -> Request:
        """What the scheduler counts for a pod: its containers' requests summed."""
        cpu = memory = 0
        for container in pod["spec"]["containers"]:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu += _milli(requests.get("cpu", "0"))
            memory += _bytes(requests.get("memory", "0"))
        return Request(cpu, memory)


def _milli(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


_UNITS = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 10**3, "M": 10**6, "G": 10**9, "": 1}


def _bytes(quantity: str) -> int:
    parsed = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity)
    assert parsed, f"not a quantity: {quantity!r}"
    return int(float(parsed[1]) * _UNITS[parsed[2]])


def room(rest: Rest, nodes: Sequence[str], pod: Request, *, ignore: Sequence[dict[str, Any]] = (),
         extra: Mapping[str, Request] | None = None) -> dict[str, int]:
    """How many pods of request `pod` each node fits besides the pods bound there now, but for the `ignore` ones,
    and the `extra` request on a node (a driver it might get)."""
    free = {}
    for name in nodes:
        allocatable = rest.get(f"/api/v1/nodes/{name}")["status"]["allocatable"]
        free[name] = [_milli(allocatable["cpu"]), _bytes(allocatable["memory"])]
    skipped = {p["metadata"]["uid"] for p in ignore}
    taken = [(p["spec"].get("nodeName"), Request.of(p)) for p in rest.get("/api/v1/pods")["items"]
             if p["metadata"]["uid"] not in skipped]
    for node, used in [*taken, *(extra or {}).items()]:
        if node in free:
            free[node][0] -= used.cpu_milli
            free[node][1] -= used.memory
    return {n: max(0, min(cpu // pod.cpu_milli, memory // pod.memory)) for n, (cpu, memory) in free.items()}


def local_fraction(held: Mapping[str, int], nodes: Sequence[str]) -> float:
    """The mean share of the input cached on an executor's own node, over executors on `nodes`: what each reads
    locally when tasks spread evenly over the executors and each task's input is spread as the input is."""
    total = sum(held.values())
    return sum(held.get(node, 0) for node in nodes) / total / len(nodes)


def best_local_fraction(held: Mapping[str, int], room: Mapping[str, int], executors: int) -> float:
    """The highest local_fraction `executors` executors can reach with `room[n]` of them fitting on node n: every
    executor being alike, the best placement fills the nodes holding most first. The model leaves out the links,
    Spark's task assignment and passive caching (docs/placement.md): measured with real executors, that stacked
    placement reads no more locally than a spread one, and finishes later (issue 24's table)."""
    return local_fraction(held, stacked(held, room, executors))


def stacked(held: Mapping[str, int], room: Mapping[str, int], executors: int) -> list[str]:
    """The nodes of `executors` executors filling the nodes holding most first, `room[n]` fitting on node n."""
    ranked = sorted(room, key=lambda n: held.get(n, 0), reverse=True)
    best = [node for node in ranked for _ in range(room[node])][:executors]
    assert len(best) == executors, f"room for {len(best)} executors, not {executors}"
    return best


def shared_local_fraction(held: Mapping[str, int], nodes: Sequence[str]) -> float:
    """The share of the input read locally by executors on `nodes` when each reads an equal share of it and the
    executors on one node share what it caches: node n contributes min(held[n], its executors x input / their
    count). Per-application placement maximizes it; stacking executors where most is cached does not. Neither
    this nor local_fraction has links, Spark's task assignment or passive caching (docs/placement.md)."""
    total = sum(held.values())
    return sum(min(held.get(node, 0), count * total / len(nodes)) for node, count in Counter(nodes).items()) / total


def app_placement(held: Mapping[str, int], room: Mapping[str, int], executors: int) -> list[str]:
    """Where per-application placement puts an app's `executors` executors, one after another, with `room[n]` of
    them fitting on node n: each on the node with room scoring highest by its shortfall of its share
    (scoring.deficits, scored 0..10 by scoring.scores as the extender answers, so two shortfalls rounding to one
    score tie), a tie to the node holding fewer of them (as kube-scheduler's in-tree scores prefer the emptier
    node)."""
    where: dict[str, int] = {}
    for placed in range(executors):
        fits = [n for n in room if where.get(n, 0) < room[n]]
        assert fits, f"room for {placed} executors, not {executors}"
        score = dict(zip(fits, scores(fits, deficits(held, where, placed)), strict=True))
        node = max(fits, key=lambda n: (score[n], -where.get(n, 0)))
        where[node] = where.get(node, 0) + 1
    return [node for node, count in where.items() for _ in range(count)]


def env_order(pod: Mapping[str, Any]) -> Iterator[tuple[str, int, int]]:
    """For each env var of the executor container whose value refers to another one, $(NAME): the name, the index
    of the variable defining it and of the one referring. Kubernetes expands $(NAME) only from variables listed
    before, so a reference before its definition stays the literal text "$(NAME)"."""
    env = pod["spec"]["containers"][0].get("env") or []
    index = {var["name"]: i for i, var in enumerate(env)}
    for i, var in enumerate(env):
        for name in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", var.get("value") or ""):
            yield name, index.get(name, len(env)), i
