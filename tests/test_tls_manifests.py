"""examples/tls, the HTTPS overlay of manifests/, rendered by kustomize and checked offline: valid on every
tested Kubernetes minor, the scheduler configuration the base one but for TLS, and every file it names mounted from
a Secret."""
from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from scheduler_extender.config import SPECS
from tests.test_manifests import KUBERNETES_VERSIONS, _kustomize_command

ROOT = Path(__file__).resolve().parent.parent
OVERLAY = ROOT / "examples" / "tls"
BASE_SCHEDULER_CONFIG = ROOT / "manifests" / "scheduler-config.yaml"
TLS_FIELDS = {"urlPrefix", "enableHTTPS", "tlsConfig"}


pytestmark = pytest.mark.skipif(_kustomize_command(OVERLAY) is None,
                                reason="neither kustomize nor kubectl is installed")


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str], dict[str, Any]]:
    command = _kustomize_command(OVERLAY)
    assert command is not None, "neither kustomize nor kubectl is installed"
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(out) if doc}


def scheduler_config(configmap: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(configmap["data"]["config.yaml"])


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def secret_files(deployment: dict[str, Any]) -> dict[str, str]:
    """File path -> Secret name, for every Secret volume the container mounts (each key a file)."""
    spec = deployment["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
    return {posixpath.join(mount["mountPath"], key): secrets[mount["name"]]
            for mount in container(deployment)["volumeMounts"] if mount["name"] in secrets
            for key in ("tls.crt", "tls.key", "ca.crt")}


@pytest.mark.parametrize("minor", KUBERNETES_VERSIONS)
def test_every_rendered_resource_is_valid_on_every_tested_kubernetes(rendered: dict, minor: str) -> None:
    for doc in rendered.values():
        assert kubernetes_validate.validate(doc, minor + ".0", strict=True) == minor


def test_scheduler_configuration_differs_from_the_base_only_in_tls(rendered: dict) -> None:
    tls = scheduler_config(rendered[("ConfigMap", "alluxio-locality-scheduler-config")])
    base = scheduler_config(yaml.safe_load(BASE_SCHEDULER_CONFIG.read_text()))
    (extender,), (base_extender,) = tls["extenders"], base["extenders"]
    assert {k: v for k, v in tls.items() if k != "extenders"} == {k: v for k, v in base.items() if k != "extenders"}
    assert {k: v for k, v in extender.items() if k not in TLS_FIELDS} == \
        {k: v for k, v in base_extender.items() if k not in TLS_FIELDS}
    assert extender["urlPrefix"] == base_extender["urlPrefix"].replace("http://", "https://")
    assert extender["enableHTTPS"] is True and set(extender["tlsConfig"]) == {"caFile", "certFile", "keyFile"}


def test_scheduler_reads_its_client_certificate_from_its_secret(rendered: dict) -> None:
    tls_config = scheduler_config(rendered[("ConfigMap", "alluxio-locality-scheduler-config")])["extenders"][0][
        "tlsConfig"]
    files = secret_files(rendered[("Deployment", "alluxio-locality-scheduler")])
    assert {files[path] for path in tls_config.values()} == {"alluxio-locality-scheduler-tls"}
    pod = rendered[("Deployment", "alluxio-locality-scheduler")]["spec"]["template"]["spec"]
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]  # the 0440 key is readable


def test_extender_serves_https_from_its_secret_and_probes_follow(rendered: dict) -> None:
    deployment = rendered[("Deployment", "alluxio-locality-extender")]
    extender = container(deployment)
    env = {entry["name"]: entry["value"] for entry in extender["env"]}
    by_env = {spec.env: spec for spec in SPECS}
    assert {by_env[name].name for name in env} == {"tls-cert-file", "tls-private-key-file", "tls-client-ca-file"}
    assert {secret_files(deployment)[path] for path in env.values()} == {"alluxio-locality-extender-tls"}
    for probe in ("readinessProbe", "livenessProbe"):
        assert extender[probe]["httpGet"]["scheme"] == "HTTPS"
    security = extender["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["runAsNonRoot"] is True
