"""The admission webhook as the e2e suite deploys it: the extender serving HTTPS on loopback, and the
MutatingWebhookConfiguration the chart renders, calling it by URL with the test CA."""
from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.e2e_pods import NS, executor
from tests.support.certs import Pki
from tests.support.control_plane import ControlPlane, Rest
from tests.support.deployment import extender_kubeconfig
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.served import Served
from tests.support.waiting import eventually
from tests.test_tls import client, tls_flags

DEFAULT = "default-scheduler"
WEBHOOK = "alluxio-locality-webhook"
HOOK = "locality.alluxio-locality.io"


def webhook_configuration(url: str, ca: bytes) -> dict[str, Any]:
    """What the chart renders (templates/mutating-webhook.yaml), calling `url` instead of the Service."""
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": WEBHOOK},
            "webhooks": [{
                "name": HOOK, "admissionReviewVersions": ["v1"], "sideEffects": "None",
                "failurePolicy": "Ignore", "timeoutSeconds": 2, "reinvocationPolicy": "Never",
                "clientConfig": {"url": url, "caBundle": base64.b64encode(ca).decode()},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                           "resources": ["pods"], "scope": "Namespaced"}],
                "namespaceSelector": {"matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [NS]}]},
                "objectSelector": {"matchExpressions": [{"key": "spark-role", "operator": "Exists"}]}}]}


def serve_webhook(control_plane: ControlPlane, alluxio: FakeAlluxio, pki: Pki, *flags: str) -> Served:
    """An extender like the session's (same ServiceAccount, cluster and Alluxio) serving HTTPS with the client
    CA set, as the chart's tls values do: /mutate answers the API server, which presents no certificate.
    `flags`: more settings."""
    kubeconfig = extender_kubeconfig(control_plane, "alluxio-locality-extender-webhook")
    return Served("--alluxio-proxy", alluxio.url, "--kubernetes", "kubeconfig",
                  "--kubeconfig", str(kubeconfig), "--request-budget", "500ms", *tls_flags(pki, client_ca=True),
                  *flags, tls=client(pki))


def dry_run(rest: Rest, pod: dict[str, Any]) -> Any:
    """The pod as the API server would store it, admission webhooks included, without storing it."""
    return rest.post(f"/api/v1/namespaces/{NS}/pods?dryRun=All", pod)


@contextmanager
def registered(rest: Rest, port: int, ca: Path) -> Iterator[None]:
    """The webhook configuration calling https://127.0.0.1:`port`/mutate, created, and once the API server calls
    it (its configuration cache follows a watch: a dry-run creation comes back patched), in use; then deleted."""
    rest.create(webhook_configuration(f"https://127.0.0.1:{port}/mutate", ca.read_bytes()))
    try:
        probe = executor(paths="/apps/one", scheduler=DEFAULT)
        eventually(lambda: dry_run(rest, probe)["spec"].get("affinity"), 30, interval=0.2,
                   what="the API server calling the webhook")
        yield
    finally:
        rest.request("DELETE", f"{rest.collection('MutatingWebhookConfiguration')}/{WEBHOOK}", ok=(200, 404))
