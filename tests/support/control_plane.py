"""A real Kubernetes control plane on loopback for the end-to-end suite and the benchmarks: etcd, kube-apiserver
and kube-schedulers built from upstream (tests/e2e/build-control-plane.sh), with their own CA, tokens and
service-account keys in a temp dir. No kubelet and no controller-manager: `create_node` and `create_worker_pod`
make the Node objects and bound, Running Alluxio worker pods their kubelets would have, and what is removed is
force-deleted.
"""
from __future__ import annotations

import json
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import urllib3
import yaml

from .kube_versions import KubeVersion
from .objects import make_node, make_pod
from .paths import ROOT
from .served import free_port, stop_process
from .waiting import eventually

BUILD_SCRIPT = ROOT / "tests" / "e2e" / "build-control-plane.sh"
ISSUER = "https://kubernetes.default.svc.cluster.local"


def control_plane_binaries(version: KubeVersion) -> Path:
    """The directory holding etcd, kube-apiserver and kube-scheduler of `version`, built (or, when up to date,
    only found) by the script."""
    out = subprocess.run(["bash", str(BUILD_SCRIPT), version.minor], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return Path(out.strip().splitlines()[-1])


class _NotReady(RuntimeError):
    """A wait for the control plane ran out."""


class Process:
    """A child process whose output goes to a log file (never a pipe it could block on)."""

    def __init__(self, name: str, argv: list[str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        self._file = self.log.open("wb")
        self._read = 0
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def forbidden(self) -> list[str]:
        """Log lines where the API server refused it something (RBAC): a grant its manifests lack."""
        return _refusals(self.log.read_text(errors="replace"))

    def new_refusals(self) -> list[str]:
        """`forbidden` lines logged since the last call (whole lines only)."""
        with self.log.open("rb") as log:
            log.seek(self._read)
            data = log.read()
        whole = data[:data.rfind(b"\n") + 1]
        self._read += len(whole)
        return _refusals(whole.decode(errors="replace"))

    def stop(self) -> None:
        stop_process(self.popen, timeout=15)
        self._file.close()


def _refusals(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(r"\bforbidden\b", line, re.I)]


class ControlPlane:
    """etcd + kube-apiserver on 127.0.0.1; `api()` talks to it as cluster admin."""

    def __init__(self, bin_dir: Path, workdir: Path) -> None:
        self.bin = bin_dir
        self.dir = workdir
        self.processes: list[Process] = []
        self.admin_token = secrets.token_hex(16)
        self.scheduler_token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"

    # -- start and stop -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._make_credentials()
        etcd_port, peer_port = free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        self.spawn("etcd", [
            str(self.bin / "etcd"), "--data-dir", str(self.dir / "etcd"), "--listen-client-urls", etcd_url,
            "--advertise-client-urls", etcd_url, "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"default=http://127.0.0.1:{peer_port}", "--log-level", "warn",
            "--unsafe-no-fsync"])  # a throwaway store: durability costs time and buys nothing
        d = self.dir
        self.spawn("kube-apiserver", [
            str(self.bin / "kube-apiserver"), "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
            "--tls-cert-file", str(d / "apiserver.crt"), "--tls-private-key-file", str(d / "apiserver.key"),
            "--client-ca-file", str(d / "ca.crt"), "--token-auth-file", str(d / "tokens.csv"),
            "--authorization-mode", "Node,RBAC", "--service-cluster-ip-range", "10.96.0.0/16",
            "--service-account-issuer", ISSUER, "--service-account-key-file", str(d / "sa.pub"),
            "--service-account-signing-key-file", str(d / "sa.key"), "--api-audiences", ISSUER,
            # No controller-manager: nothing would create the default ServiceAccounts that admission demands,
            # nor lift the not-ready taint TaintNodesByCondition puts on every new node.
            "--disable-admission-plugins", "ServiceAccount,TaintNodesByCondition",
            # One apiserver, no Endpoints to reconcile for the `kubernetes` Service.
            "--endpoint-reconciler-type", "none", "--cert-dir", str(d / "certs"), "--v", "1"])
        self._wait_ready()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def spawn(self, name: str, argv: list[str]) -> Process:
        process = Process(name, argv, self.dir)
        self.processes.append(process)
        return process

    def _wait_ready(self, timeout: float = 90) -> None:
        http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(self.dir / "ca.crt"))

        def ready() -> bool:
            for process in self.processes:
                if not process.alive():
                    raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
            answer = http.request("GET", f"{self.url}/readyz", timeout=2,
                                  headers={"Authorization": f"Bearer {self.admin_token}"})
            return answer.status == 200

        try:
            eventually(ready, timeout, what="kube-apiserver ready", interval=0.2, failure=_NotReady,
                       ignoring=(urllib3.exceptions.HTTPError,))
        except _NotReady as error:
            raise RuntimeError(f"{error}:\n{self.processes[-1].tail()}") from None

    def _make_credentials(self) -> None:
        d = self.dir

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True)

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "ca.key"),
                "-out", str(d / "ca.crt"), "-days", "2", "-subj", "/CN=scheduler-extender-e2e-ca")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "apiserver.key"),
                "-out", str(d / "apiserver.csr"), "-subj", "/CN=kube-apiserver")
        (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", str(d / "apiserver.csr"), "-CA", str(d / "ca.crt"),
                "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-out", str(d / "apiserver.crt"), "-days", "2",
                "-extfile", str(d / "san.cnf"))
        openssl("genrsa", "-out", str(d / "sa.key"), "2048")
        openssl("rsa", "-in", str(d / "sa.key"), "-pubout", "-out", str(d / "sa.pub"))
        (d / "tokens.csv").write_text(
            f'{self.admin_token},admin,admin,"system:masters"\n'
            f"{self.scheduler_token},system:kube-scheduler,kube-scheduler\n")

    # -- clients -------------------------------------------------------------------------------------------

    def kubeconfig(self, token: str, name: str) -> Path:
        """A kubeconfig file that authenticates with `token`."""
        path = self.dir / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
            "clusters": [{"name": "e2e", "cluster": {"server": self.url,
                                                      "certificate-authority": str(self.dir / "ca.crt")}}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": name}}]}))
        return path

    def rest(self, token: str | None = None) -> Rest:
        return Rest(self.url, self.dir / "ca.crt", token or self.admin_token)

    def apply(self, manifest: Path, kinds: set[str]) -> None:
        """Create the resources of these kinds from a manifest file, as `kubectl apply` would the first time."""
        rest = self.rest()
        for doc in yaml.safe_load_all(manifest.read_text()):
            if doc and doc["kind"] in kinds:
                rest.create(doc)

    def service_account_token(self, namespace: str, name: str) -> str:
        """A bound token for a ServiceAccount, from the TokenRequest API."""
        answer = self.rest().post(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"audiences": [ISSUER], "expirationSeconds": 7200}})
        return answer["status"]["token"]

    def start_scheduler(self, name: str, config: dict[str, Any], token: str) -> Process:
        """A kube-scheduler reading `config` (a KubeSchedulerConfiguration), authenticated by `token`."""
        config = {**config, "clientConnection": {**config.get("clientConnection", {}),
                                                 "kubeconfig": str(self.kubeconfig(token, name))}}
        path = self.dir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        return self.spawn(name, [
            str(self.bin / "kube-scheduler"), f"--config={path}", "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}", "--cert-dir", str(self.dir / f"{name}-certs"), "--v=2"])


_COLLECTIONS = {  # kind -> (API prefix, plural, namespaced)
    "Namespace": ("/api/v1", "namespaces", False), "Node": ("/api/v1", "nodes", False),
    "Pod": ("/api/v1", "pods", True), "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "MutatingWebhookConfiguration": ("/apis/admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations",
                                     False),
}


class Rest:
    """Plain JSON over HTTPS to the apiserver: what the suite needs, without the generated client's models."""

    def __init__(self, url: str, ca: Path, token: str) -> None:
        self.url = url
        self._http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(ca), maxsize=4)
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def request(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201),
                content_type: str = "application/json") -> Any:
        data = None if body is None else json.dumps(body).encode()
        answer = self._http.request(method, self.url + path, body=data, timeout=30,
                                    headers={**self._headers, "Content-Type": content_type})
        if answer.status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {answer.status}: {answer.data[:500]!r}")
        return json.loads(answer.data) if answer.data else None

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def text(self, path: str) -> str:
        """A GET whose answer is not JSON (the API server's /metrics)."""
        answer = self._http.request("GET", self.url + path, timeout=30, headers=self._headers)
        if answer.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {answer.status}: {answer.data[:500]!r}")
        return str(answer.data.decode())

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def collection(self, kind: str, namespace: str | None = None) -> str:
        prefix, plural, namespaced = _COLLECTIONS[kind]
        return f"{prefix}/namespaces/{namespace or 'default'}/{plural}" if namespaced else f"{prefix}/{plural}"

    def create(self, obj: dict[str, Any]) -> Any:
        return self.post(self.collection(obj["kind"], obj["metadata"].get("namespace")), obj)

    def delete_now(self, kind: str, name: str, namespace: str | None = None) -> None:
        """Delete without the grace period no kubelet would ever end."""
        self.request("DELETE", f"{self.collection(kind, namespace)}/{name}", {"gracePeriodSeconds": 0},
                     ok=(200, 202, 404))

    def set_status(self, kind: str, name: str, namespace: str | None, status: dict[str, Any]) -> Any:
        """Merge-patch the status subresource, as the kubelet the suite does not run would."""
        return self.request("PATCH", f"{self.collection(kind, namespace)}/{name}/status", {"status": status},
                            content_type="application/merge-patch+json")


def create_node(rest: Rest, name: str, ip: str, group: str, cpu: str, memory: str) -> None:
    """A Ready Node object with that capacity, labelled `group=<group>` for the tests' nodeSelectors."""
    rest.create(make_node(name, internal_ip=ip, hostname=name, labels={"group": group}, cpu=cpu, memory=memory))


def create_worker_pod(rest: Rest, name: str, namespace: str, node: str, *, host_ip: str, pod_ip: str,
                      host_network: bool, image: str) -> None:
    """An Alluxio worker pod bound to `node` and Running there (its status written as its kubelet would)."""
    pod = make_pod(name, namespace=namespace, node=node, host_ip=host_ip, pod_ip=pod_ip, host_network=host_network,
                   labels={"app": "alluxio", "role": "alluxio-worker"}, container="alluxio-worker", image=image)
    rest.create(pod)
    rest.set_status("Pod", name, namespace, pod["status"])
