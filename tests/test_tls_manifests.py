"""examples/tls, the HTTPS component, added to each tested minor's overlay as its README says and rendered by
kustomize, checked offline: valid on that minor, the scheduler configuration the base one but for TLS, every file
either side reads mounted from the Secret key cert-manager's layout puts it in, and /metrics scraped over HTTPS."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from scheduler_extender.config import SPECS
from tests.support.kube_versions import matrix
from tests.support.tls_layout import cert_manager_layout, mounted_across, tls_sources
from tests.test_manifests import _kustomize_command

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = ROOT / "examples" / "tls"
BASE_SCHEDULER_CONFIG = ROOT / "manifests" / "scheduler-config.yaml"
TLS_FIELDS = {"urlPrefix", "enableHTTPS", "tlsConfig"}
EXTENDER, SCHEDULER = "alluxio-locality-extender", "alluxio-locality-scheduler"
VERSIONS = {version.minor: version for version in matrix()}

pytestmark = pytest.mark.skipif(_kustomize_command(COMPONENT) is None,
                                reason="neither kustomize nor kubectl is installed")


def user_overlay(directory: Path, minor: str) -> Path:
    """The kustomization examples/tls/README.md tells a user to write: their minor's overlay and the component."""
    directory.mkdir()
    (directory / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": [os.path.relpath(ROOT / "overlays" / minor, directory)],  # kustomize takes relative paths only
        "components": [os.path.relpath(COMPONENT, directory)]}))
    return directory


@pytest.fixture(scope="module", params=list(VERSIONS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[str, dict[tuple[str, str], dict[str, Any]]]:
    """(minor, (kind, name) -> document) of the component on that minor's overlay."""
    command = _kustomize_command(user_overlay(tmp_path_factory.mktemp("overlay") / "tls", request.param))
    assert command is not None
    out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    return request.param, {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(out) if doc}


def scheduler_config(configmap: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(configmap["data"]["config.yaml"])


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def test_every_resource_is_valid_on_its_minor_with_that_minors_scheduler(rendered: tuple[str, dict]) -> None:
    minor, docs = rendered
    for doc in docs.values():
        assert kubernetes_validate.validate(doc, minor + ".0", strict=True) == minor
    assert container(docs[("Deployment", SCHEDULER)])["image"] == VERSIONS[minor].scheduler_image


def test_scheduler_configuration_differs_from_the_base_only_in_tls(rendered: tuple[str, dict]) -> None:
    tls = scheduler_config(rendered[1][("ConfigMap", f"{SCHEDULER}-config")])
    base = scheduler_config(yaml.safe_load(BASE_SCHEDULER_CONFIG.read_text()))
    (extender,), (base_extender,) = tls["extenders"], base["extenders"]
    assert {k: v for k, v in tls.items() if k != "extenders"} == {k: v for k, v in base.items() if k != "extenders"}
    assert {k: v for k, v in extender.items() if k not in TLS_FIELDS} == \
        {k: v for k, v in base_extender.items() if k not in TLS_FIELDS}
    assert extender["urlPrefix"] == base_extender["urlPrefix"].replace("http://", "https://")
    assert extender["enableHTTPS"] is True and set(extender["tlsConfig"]) == {"caFile", "certFile", "keyFile"}


def test_each_side_trusts_the_issuer_of_the_others_certificate(rendered: tuple[str, dict]) -> None:
    """The client CA is the scheduler Secret's ca.crt, the serving certificate is verified with the extender
    Secret's: two CAs work, and one CA for both as well. Only ca.crt is mounted across."""
    docs = rendered[1]
    extender, scheduler = docs[("Deployment", EXTENDER)], docs[("Deployment", SCHEDULER)]
    env = {entry["name"]: entry["value"] for entry in container(extender)["env"]}
    by_env = {spec.env: spec.name for spec in SPECS}
    settings = {by_env[name]: path for name, path in env.items()}
    tls_config = scheduler_config(docs[("ConfigMap", f"{SCHEDULER}-config")])["extenders"][0]["tlsConfig"]
    assert tls_sources(extender, settings, scheduler, tls_config) == \
        cert_manager_layout(f"{EXTENDER}-tls", f"{SCHEDULER}-tls")
    assert mounted_across(extender, f"{SCHEDULER}-tls") == mounted_across(scheduler, f"{EXTENDER}-tls") == {"ca.crt"}
    pod = scheduler["spec"]["template"]["spec"]
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]  # the 0440 key is readable


def test_extender_serves_https_and_probes_and_scrapes_follow(rendered: tuple[str, dict]) -> None:
    extender = rendered[1][("Deployment", EXTENDER)]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container(extender)[probe]["httpGet"]["scheme"] == "HTTPS"
    assert extender["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scheme"] == "https"
    security = container(extender)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["runAsNonRoot"] is True
