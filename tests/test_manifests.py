"""The deployment files, checked offline: the kustomize base in manifests/, the Dockerfile and the Spark example.

Every resource is validated against the JSON schemas of every Kubernetes minor in kubernetes-versions.txt
(strict: unknown fields fail) shipped by the kubernetes-validate package; the rest are our own rules: least
privilege, non-root containers, and the names, ports and paths that tie the scheduler, the extender, the image and
Spark together.
"""
from __future__ import annotations

import configparser
import copy
import fnmatch
import json
import os
import posixpath
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from scheduler_extender.config import SPECS
from tests.support.kube_versions import matrix, newest
from tests.support.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "manifests"
SPARK = ROOT / "examples" / "spark"
KUBERNETES_VERSIONS = [v.minor for v in matrix()]

NAMESPACE = "alluxio-locality"
EXTENDER = "alluxio-locality-extender"
EXTENDER_CONFIG = "alluxio-locality-extender-config"
SCHEDULER = "alluxio-locality-scheduler"
SCHEDULER_CONFIG = "alluxio-locality-scheduler-config"

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


# ---------------------------------------------------------------------------------------------- loading

def _documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [doc for doc in yaml.safe_load_all(file) if doc is not None]


KUSTOMIZATION = _documents(MANIFESTS / "kustomization.yaml")[0]
RESOURCE_FILES = [MANIFESTS / name for name in KUSTOMIZATION.get("resources", [])]
RESOURCES = [doc for path in RESOURCE_FILES if path.is_file() for doc in _documents(path)]


def _id(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata", {})
    return f"{doc.get('kind')}/{meta.get('namespace', '-')}/{meta.get('name')}"


def find(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    found = [doc for doc in RESOURCES if doc["kind"] == kind and doc["metadata"]["name"] == name
             and (namespace is None or doc["metadata"].get("namespace") == namespace)]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def of_kind(*kinds: str) -> list[dict[str, Any]]:
    return [doc for doc in RESOURCES if doc["kind"] in kinds]


def config_file(configmap: dict[str, Any], key: str = "config.yaml") -> dict[str, Any]:
    return yaml.safe_load(configmap["data"][key])


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def only_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, _id(deployment)
    return containers[0]


def scheduler_configuration() -> dict[str, Any]:
    return config_file(find("ConfigMap", SCHEDULER_CONFIG, NAMESPACE))


# --------------------------------------------------------------------------------------- the kustomize base

def test_kustomization_lists_every_yaml_file_and_nothing_else():
    on_disk = {p.name for p in MANIFESTS.iterdir() if p.suffix in (".yaml", ".yml")} - {"kustomization.yaml"}
    listed = KUSTOMIZATION.get("resources", [])
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert set(listed) == on_disk, f"not listed: {sorted(on_disk - set(listed))}; " \
                                   f"listed but missing: {sorted(set(listed) - on_disk)}"
    assert not [p for p in MANIFESTS.iterdir() if p.is_dir()], "subdirectories would not be applied"


def test_kustomization_sets_no_namespace_so_the_kube_system_binding_stays_there():
    assert "namespace" not in KUSTOMIZATION
    for doc in RESOURCES:
        meta = doc["metadata"]
        if doc["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in meta, _id(doc)
        elif doc["kind"] == "RoleBinding" and meta["namespace"] == "kube-system":
            assert doc["roleRef"]["name"] == "extension-apiserver-authentication-reader"
        else:
            assert meta.get("namespace") == NAMESPACE, _id(doc)


def test_no_resource_is_defined_twice():
    ids = [_id(doc) for doc in RESOURCES]
    assert len(ids) == len(set(ids))


def test_kustomization_images_match_the_deployments():
    images = {entry["name"]: entry["newTag"] for entry in KUSTOMIZATION["images"]}
    assert only_container(find("Deployment", EXTENDER)).get("image") == "scheduler-extender:0.1.0"
    assert images["scheduler-extender"] == "0.1.0"
    # The second scheduler defaults to the newest tested release (README: older minors set the tag).
    assert only_container(find("Deployment", SCHEDULER)).get("image") == newest().scheduler_image
    assert images["registry.k8s.io/kube-scheduler"] == newest().kubernetes


def _kustomize_command(directory: Path = MANIFESTS) -> list[str] | None:
    """The command rendering the kustomization in `directory`, or None without kustomize or kubectl."""
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(directory)]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(directory)]
    return None


@pytest.mark.skipif(_kustomize_command() is None, reason="neither kustomize nor kubectl is installed")
def test_kustomize_renders_every_resource_unchanged_in_name_and_namespace():
    command = _kustomize_command()
    assert command is not None
    rendered = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert sorted(map(_id, docs)) == sorted(map(_id, RESOURCES))
    for doc in docs:
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "alluxio-locality"


# ---------------------------------------------------------------------------------- schema validation

def validate(doc: dict[str, Any], minor: str = KUBERNETES_VERSIONS[0]) -> str:
    """Validate against one minor's schemas, strictly; returns the schema version used."""
    return kubernetes_validate.validate(doc, minor + ".0", strict=True)


@pytest.mark.parametrize("minor", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("doc", RESOURCES, ids=_id)
def test_resource_is_valid_on_every_tested_kubernetes(doc, minor):
    assert validate(doc, minor) == minor, "validated against another Kubernetes version's schemas"


SPARK_TEMPLATES = ["executor-pod-template.yaml", "executor-hostname-template.yaml",
                   "executor-hostnetwork-template.yaml"]


@pytest.mark.parametrize("minor", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", SPARK_TEMPLATES)
def test_executor_pod_template_is_a_valid_pod(minor, name):
    (template,) = _documents(SPARK / name)
    assert validate(template, minor) == minor


def test_validation_is_strict_and_can_fail():
    deployment = copy.deepcopy(find("Deployment", EXTENDER))
    only_container(deployment)["readOnlyRootFileSystem"] = True  # the typo a lax check would let through
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    service = copy.deepcopy(find("Service", EXTENDER))
    service["spec"]["ports"][0]["port"] = "8888"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(service)


# ------------------------------------------------------------------------------ the scheduler configuration

# Fields of kubescheduler.config.k8s.io/v1, the same in Kubernetes 1.28 and 1.35 to 1.37
# (k8s.io/kube-scheduler/config/v1/types.go); the e2e suite runs this configuration on each tested version.
SCHEDULER_CONFIGURATION_FIELDS = {
    "apiVersion", "kind", "parallelism", "leaderElection", "clientConnection", "enableProfiling",
    "enableContentionProfiling", "percentageOfNodesToScore", "podInitialBackoffSeconds", "podMaxBackoffSeconds",
    "profiles", "extenders", "delayCacheUntilActive"}
LEADER_ELECTION_FIELDS = {
    "leaderElect", "leaseDuration", "renewDeadline", "retryPeriod", "resourceLock", "resourceName",
    "resourceNamespace"}
PROFILE_FIELDS = {"schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"}
EXTENDER_FIELDS = {
    "urlPrefix", "filterVerb", "preemptVerb", "prioritizeVerb", "weight", "bindVerb", "enableHTTPS",
    "tlsConfig", "httpTimeout", "nodeCacheCapable", "managedResources", "ignorable"}


def test_scheduler_configuration_uses_only_known_fields():
    config = scheduler_configuration()
    assert config["apiVersion"] == "kubescheduler.config.k8s.io/v1"
    assert config["kind"] == "KubeSchedulerConfiguration"
    assert set(config) <= SCHEDULER_CONFIGURATION_FIELDS, set(config) - SCHEDULER_CONFIGURATION_FIELDS
    assert set(config["leaderElection"]) <= LEADER_ELECTION_FIELDS
    for profile in config["profiles"]:
        assert set(profile) <= PROFILE_FIELDS, set(profile) - PROFILE_FIELDS
    for extender in config["extenders"]:
        assert set(extender) <= EXTENDER_FIELDS, set(extender) - EXTENDER_FIELDS


def test_scheduler_configuration_calls_the_extender_from_the_top_level():
    config = scheduler_configuration()
    assert config["percentageOfNodesToScore"] == 100
    assert [p["schedulerName"] for p in config["profiles"]] == [SCHEDULER]
    assert not any("extenders" in p or "percentageOfNodesToScore" in p for p in config["profiles"])
    assert config["extenders"] == [{
        "urlPrefix": f"http://{EXTENDER}.{NAMESPACE}.svc:8888",
        "filterVerb": "filter",
        "prioritizeVerb": "prioritize",
        "weight": 5,
        "nodeCacheCapable": True,
        "ignorable": True,
        "httpTimeout": "1s",
        "enableHTTPS": False,
    }]
    assert config["leaderElection"] == {
        "leaderElect": True, "resourceNamespace": NAMESPACE, "resourceName": SCHEDULER}


def test_extender_url_reaches_the_extender_service_and_container():
    (extender,) = scheduler_configuration()["extenders"]
    url = urlsplit(extender["urlPrefix"])
    service = find("Service", EXTENDER, NAMESPACE)
    assert url.scheme == "http" and not extender["enableHTTPS"]
    assert url.hostname == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    (port,) = service["spec"]["ports"]
    assert url.port == port["port"] == 8888
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    deployment = find("Deployment", EXTENDER, NAMESPACE)
    (container_port,) = only_container(deployment)["ports"]
    assert container_port == {"name": "http", "containerPort": 8888, "protocol": "TCP"}
    assert port["targetPort"] in (container_port["name"], container_port["containerPort"])
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_scheduler_name_is_the_one_spark_is_told_to_use():
    assert find("Deployment", SCHEDULER, NAMESPACE)
    assert pod_spec(find("Deployment", SCHEDULER))["serviceAccountName"] == SCHEDULER
    submitted = spark_submit("hostPath")
    assert f"spark.kubernetes.scheduler.name={SCHEDULER}" in submitted
    (template,) = _documents(SPARK / "executor-pod-template.yaml")
    assert template["spec"]["schedulerName"] == SCHEDULER
    assert f"spark.kubernetes.scheduler.name={SCHEDULER}" in (SPARK / "README.md").read_text()


# -------------------------------------------------------------------------------------------------- RBAC

Granted = dict[tuple[str, str], list[dict[str, Any]] | None]


def rules_granted_to(service_account: str) -> Granted:
    """(binding namespace or '*', role name) -> the rules of every role bound to this ServiceAccount (None: a binding
    to a role the manifests lack)."""
    granted: Granted = {}
    for binding in of_kind("RoleBinding", "ClusterRoleBinding"):
        if not any(s.get("kind") == "ServiceAccount" and s.get("name") == service_account
                   and s.get("namespace") == NAMESPACE for s in binding.get("subjects", [])):
            continue
        ref = binding["roleRef"]
        scope = binding["metadata"].get("namespace", "*")
        role = [doc for doc in RESOURCES if doc["kind"] == ref["kind"] and doc["metadata"]["name"] == ref["name"]
                and (ref["kind"] == "ClusterRole" or doc["metadata"]["namespace"] == scope)]
        granted[(scope, f"{ref['kind']}/{ref['name']}")] = role[0]["rules"] if role else None
    return granted


def permissions(rules: list[dict[str, Any]] | None) -> set[tuple[str, str, str, str]]:
    """Every (apiGroup, resource, verb, resourceName or '*') a list of rules allows (None: a missing role's)."""
    allowed = set()
    for rule in rules or ():
        assert "nonResourceURLs" not in rule
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                for verb in rule.get("verbs", []):
                    for name in rule.get("resourceNames") or ["*"]:
                        allowed.add((group, resource, verb, name))
    return allowed


EXTENDER_PERMISSIONS = {("", resource, verb, "*") for resource in ("nodes", "pods")
                        for verb in ("get", "list", "watch")}


def check_extender_rbac(resources_granted: Granted) -> None:
    assert list(resources_granted) == [("*", f"ClusterRole/{EXTENDER}")], resources_granted
    assert permissions(resources_granted[("*", f"ClusterRole/{EXTENDER}")]) == EXTENDER_PERMISSIONS


def test_extender_may_only_get_list_watch_nodes_and_pods():
    check_extender_rbac(rules_granted_to(EXTENDER))
    assert pod_spec(find("Deployment", EXTENDER))["serviceAccountName"] == EXTENDER
    assert find("ServiceAccount", EXTENDER, NAMESPACE)


def test_extender_rbac_check_can_fail():
    granted = rules_granted_to(EXTENDER)
    (key,) = granted
    wider = copy.deepcopy(granted)
    wider_rules = wider[key]
    assert wider_rules is not None
    wider_rules[0]["verbs"].append("patch")
    with pytest.raises(AssertionError):
        check_extender_rbac(wider)
    more = copy.deepcopy(granted)
    more_rules = more[key]
    assert more_rules is not None
    more_rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    with pytest.raises(AssertionError):
        check_extender_rbac(more)


def test_second_scheduler_has_what_the_multiple_schedulers_task_grants_and_its_own_lease():
    granted = rules_granted_to(SCHEDULER)
    leader = scheduler_configuration()["leaderElection"]
    lease_role = ("alluxio-locality", "Role/alluxio-locality-scheduler-leader-election")
    assert set(granted) == {
        ("*", "ClusterRole/system:kube-scheduler"),            # built in: not in our files
        ("*", "ClusterRole/system:volume-scheduler"),          # built in
        ("kube-system", "Role/extension-apiserver-authentication-reader"),  # built in
        lease_role,
    }
    assert lease_role[0] == leader["resourceNamespace"]
    assert permissions(granted[lease_role]) == {
        ("coordination.k8s.io", "leases", "create", "*"),
        ("coordination.k8s.io", "leases", "get", leader["resourceName"]),
        ("coordination.k8s.io", "leases", "update", leader["resourceName"]),
    }
    assert find("ServiceAccount", SCHEDULER, NAMESPACE)


# ---------------------------------------------------------------------------------------- the workloads

DEPLOYMENTS = [(EXTENDER, 10001), (SCHEDULER, 65532)]


@pytest.mark.parametrize("name,uid", DEPLOYMENTS)
def test_containers_run_as_non_root_with_a_read_only_root_and_no_privileges(name, uid):
    spec = pod_spec(find("Deployment", name, NAMESPACE))
    pod = spec.get("securityContext", {})
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
    for container in spec.get("initContainers", []) + spec["containers"]:
        own = container.get("securityContext", {})
        effective = {**pod, **own}
        assert effective.get("runAsNonRoot") is True, container["name"]
        assert effective.get("runAsUser") == uid, container["name"]
        assert own.get("readOnlyRootFilesystem") is True, container["name"]
        assert own.get("allowPrivilegeEscalation") is False, container["name"]
        assert not own.get("privileged"), container["name"]
        assert own.get("capabilities") == {"drop": ["ALL"]}, container["name"]
        assert effective.get("seccompProfile") == {"type": "RuntimeDefault"}, container["name"]


@pytest.mark.parametrize("name,uid", DEPLOYMENTS)
def test_containers_have_probes_requests_and_limits(name, uid):
    for container in pod_spec(find("Deployment", name, NAMESPACE))["containers"]:
        assert container.get("readinessProbe") and container.get("livenessProbe"), container["name"]
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) >= {"cpu", "memory"}, (container["name"], kind)


def test_extender_deployment_is_highly_available():
    deployment = find("Deployment", EXTENDER, NAMESPACE)
    spec = pod_spec(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    spreads = spec.get("topologySpreadConstraints", [])
    anti = spec.get("affinity", {}).get("podAntiAffinity")
    assert anti or any(c["topologyKey"] == "kubernetes.io/hostname"
                       and c["labelSelector"]["matchLabels"].items() <= labels.items() for c in spreads)
    pdbs = [pdb for pdb in of_kind("PodDisruptionBudget")
            if pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()]
    assert len(pdbs) == 1 and pdbs[0]["metadata"]["namespace"] == NAMESPACE
    assert pdbs[0]["spec"].get("minAvailable", 0) >= 1 or pdbs[0]["spec"].get("maxUnavailable") == 1


def test_extender_pod_details():
    spec = pod_spec(find("Deployment", EXTENDER, NAMESPACE))
    container = only_container(find("Deployment", EXTENDER))
    assert spec["enableServiceLinks"] is False
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert len(tmp) == 1
    (volume,) = [v for v in spec["volumes"] if v["name"] == tmp[0]["name"]]
    assert "emptyDir" in volume


def test_second_scheduler_runs_kube_scheduler_with_its_mounted_configuration():
    deployment = find("Deployment", SCHEDULER, NAMESPACE)
    container = only_container(deployment)
    assert container["command"][0] == "kube-scheduler"
    (config_flag,) = [arg for arg in container["command"] if arg.startswith("--config=")]
    path = config_flag.removeprefix("--config=")
    assert path == "/etc/kubernetes/alluxio-locality-scheduler/config.yaml"
    assert_config_mounted(deployment, path, SCHEDULER_CONFIG)
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": 10259, "scheme": "HTTPS"}


def assert_config_mounted(deployment: dict[str, Any], path: str, configmap: str) -> None:
    """`path` is the key config.yaml of `configmap`, mounted read-only into the only container."""
    container = only_container(deployment)
    directory, filename = posixpath.split(path)
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == directory]
    assert mount.get("readOnly") is True and "subPath" not in mount
    (volume,) = [v for v in pod_spec(deployment)["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"]["name"] == configmap
    items = volume["configMap"].get("items")
    assert items is None and filename == "config.yaml" or items == [{"key": "config.yaml", "path": filename}]
    assert "config.yaml" in find("ConfigMap", configmap, NAMESPACE)["data"]


# ------------------------------------------------------------------------------- the extender's settings

SETTINGS_BEING_ADDED = {"kubernetes", "kubeconfig", "worker-selector", "prefetch-selector", "resync-period"}
"""Keys the ConfigMap may use before scheduler_extender.config knows them; any other unknown key is an error."""


def test_extender_settings_file_is_accepted_by_the_extender(tmp_path):
    settings_text = find("ConfigMap", EXTENDER_CONFIG, NAMESPACE)["data"]["config.yaml"]
    keys = set(yaml.safe_load(settings_text))
    unknown = keys - {spec.name for spec in SPECS}
    assert unknown <= SETTINGS_BEING_ADDED, f"not settings of the extender: {sorted(unknown - SETTINGS_BEING_ADDED)}"
    if unknown:
        pytest.skip(f"scheduler_extender.config does not know {', '.join(sorted(unknown))} yet (being added)")
    path = tmp_path / "config.yaml"
    path.write_text(settings_text)
    settings = load_settings(["--config", str(path)], {})
    assert settings.bind == "0.0.0.0:8888"
    assert settings.kubernetes == "in-cluster"
    assert urlsplit(settings.alluxio_proxy).port == 39999
    assert settings.alluxio_master is None  # readiness follows the proxy (an HA standby answers no web call)
    assert settings.worker_selector == "role=alluxio-worker"
    assert settings.locations_file is None and settings.node_map is None  # no files to mount
    port = int(settings.bind.rsplit(":", 1)[1])
    assert port == only_container(find("Deployment", EXTENDER))["ports"][0]["containerPort"]


# ------------------------------------------------------------------------------------------- Dockerfile

def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends in a continuation"
    return instructions


def last(keyword: str) -> str:
    found = [rest for key, rest in dockerfile_instructions() if key == keyword]
    assert found, f"no {keyword} in the Dockerfile"
    return found[-1]


def test_dockerfile_runs_as_the_non_root_uid_the_deployment_expects():
    user = last("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "USER must be a numeric non-root UID for runAsNonRoot"
    assert int(uid) == pod_spec(find("Deployment", EXTENDER))["securityContext"]["runAsUser"] == 10001


def test_dockerfile_command_reads_the_mounted_settings_file():
    entrypoint, cmd = json.loads(last("ENTRYPOINT")), json.loads(last("CMD"))
    assert entrypoint == ["scheduler-extender"]
    scripts = configparser.ConfigParser()
    scripts.read(ROOT / "setup.cfg")
    assert re.search(r"^scheduler-extender\s*=", scripts["options.entry_points"]["console_scripts"], re.M)
    assert cmd[:2] == ["serve", "--config"] and len(cmd) == 3
    deployment = find("Deployment", EXTENDER, NAMESPACE)
    args = only_container(deployment).get("args")
    assert args is None or args == cmd, "the Deployment's args and the image's CMD disagree"
    assert "command" not in only_container(deployment)
    assert_config_mounted(deployment, cmd[2], EXTENDER_CONFIG)


def test_dockerfile_is_small_and_installs_the_package():
    """One stage; what it installs and from which base image is tests/test_release.py's."""
    instructions = dockerfile_instructions()
    assert len([rest for key, rest in instructions if key == "FROM"]) == 1
    runs = " ".join(rest for key, rest in instructions if key == "RUN")
    assert "--no-deps ." in runs
    assert not re.search(r"apt-get|apk |gcc|build-essential", runs), "no build tools in the image"
    env = " ".join(rest for key, rest in instructions if key == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PYTHONUNBUFFERED=1" in env
    assert last("EXPOSE") == "8888"


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, enough for our file: the last matching pattern (or its `!` negation) wins."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
               for prefix in prefixes):
            ignored = not negate
    return ignored


def test_dockerfile_copies_files_that_exist_and_are_not_dockerignored():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    sources = []
    for key, rest in dockerfile_instructions():
        if key in ("COPY", "ADD"):
            words = [w for w in rest.split() if not w.startswith("--")]
            sources += words[:-1]
    assert set(sources) >= {"pyproject.toml", "setup.cfg", "README.md", "scheduler_extender"}
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source, patterns), f"{source} is excluded by .dockerignore"
    assert dockerignored(".git", patterns) and dockerignored(".venv", patterns)


# ------------------------------------------------------------------------------------- the Spark example

def spark_submit(variant: str, task_locality: str = "spark") -> list[str]:
    env = {**os.environ, "DRY_RUN": "1", "DOMAIN_SOCKET": variant, "INPUT": "/data/sales/2026-11",
           "TASK_LOCALITY": task_locality}
    result = subprocess.run(["bash", str(SPARK / "spark-submit.sh")], env=env, capture_output=True, text=True,
                            timeout=30, check=True)
    return result.stdout.splitlines()


def confs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == "--conf"]


# As Alluxio's "Running Spark on Alluxio in Kubernetes" guide writes them.
HOSTPATH_CONFS = [
    "spark.kubernetes.executor.volumes.hostPath.alluxio-domain.mount.path=/opt/domain",
    "spark.kubernetes.executor.volumes.hostPath.alluxio-domain.mount.readOnly=true",
    "spark.kubernetes.executor.volumes.hostPath.alluxio-domain.options.path=/tmp/alluxio-domain",
    "spark.kubernetes.executor.volumes.hostPath.alluxio-domain.options.type=Directory",
]
PVC_CONFS = [
    "spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.mount.path=/opt/domain",
    "spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.mount.readOnly=true",
    "spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.options.claimName="
    "alluxio-worker-domain-socket",
]


@pytest.mark.parametrize("variant", ["hostPath", "pvc", "template"])
def test_spark_submit_annotates_driver_and_executors(variant):
    given = confs(spark_submit(variant))
    assert f"spark.kubernetes.scheduler.name={SCHEDULER}" in given
    assert "spark.kubernetes.executor.annotation.alluxio-locality.io/paths=/data/sales/2026-11" in given
    assert "spark.kubernetes.driver.annotation.alluxio-locality.io/paths=/data/sales/2026-11" in given
    for side in ("driver", "executor"):
        assert any(c.startswith(f"spark.{side}.extraJavaOptions=-Dalluxio.") for c in given), side


def test_spark_submit_mounts_the_domain_socket_as_the_alluxio_guide_says():
    hostpath, pvc = confs(spark_submit("hostPath")), confs(spark_submit("pvc"))
    assert [c for c in hostpath if ".volumes." in c] == HOSTPATH_CONFS
    assert "spark.kubernetes.executor.annotation.alluxio-locality.io/require-local-worker=true" in hostpath
    assert [c for c in pvc if ".volumes." in c] == PVC_CONFS
    readme = (SPARK / "README.md").read_text()
    for conf in HOSTPATH_CONFS + PVC_CONFS[:2]:
        assert conf in readme


def test_spark_pod_template_variant_matches_the_guide_volume():
    given = confs(spark_submit("template"))
    (template_conf,) = [c for c in given if c.startswith("spark.kubernetes.executor.podTemplateFile=")]
    template_path = Path(template_conf.split("=", 1)[1])
    assert template_path.resolve() == (SPARK / "executor-pod-template.yaml").resolve()
    assert not [c for c in given if ".volumes." in c]
    (template,) = _documents(template_path)
    (container,) = template["spec"]["containers"]
    assert f"spark.kubernetes.executor.podTemplateContainerName={container['name']}" in given
    (mount,) = container["volumeMounts"]
    assert mount == {"name": "alluxio-domain", "mountPath": "/opt/domain", "readOnly": True}
    (volume,) = template["spec"]["volumes"]
    assert volume == {"name": "alluxio-domain", "hostPath": {"path": "/tmp/alluxio-domain", "type": "Directory"}}
    assert template["metadata"]["annotations"]["alluxio-locality.io/require-local-worker"] == "true"


def template_env(path: Path) -> dict[str, str]:
    """Each env var of a pod template's one container: its downward-API field path."""
    (template,) = _documents(path)
    (container,) = template["spec"]["containers"]
    return {var["name"]: var["valueFrom"]["fieldRef"]["fieldPath"] for var in container["env"]}


def last_template(given: list[str]) -> Path:
    """The pod template Spark uses: the last podTemplateFile conf wins."""
    return Path([c for c in given if c.startswith("spark.kubernetes.executor.podTemplateFile=")][-1].split("=", 1)[1])


@pytest.mark.parametrize("variant", ["hostPath", "pvc", "template"])
def test_spark_submit_sends_tasks_to_their_node_with_the_component(variant):
    today, component = confs(spark_submit(variant)), confs(spark_submit(variant, "component"))
    added = [c for c in component if c not in today]
    assert "spark.hadoop.fs.alluxio.impl=io.alluxiolocality.spark.NodeLocalAlluxioFileSystem" in added
    assert "spark.extraListeners=io.alluxiolocality.spark.ExecutorNodeListener" in added
    # every executor reports its node, whichever template it gets, with or without the component
    assert template_env(last_template(component))["SPARK_EXECUTOR_ATTRIBUTE_NODE_IP"] == "status.hostIP"
    assert not [c for c in today if "alluxiolocality" in c]


def test_spark_submit_hostnetwork_executors_get_their_settings():
    given = confs(spark_submit("hostPath", "hostNetwork"))
    (template,) = _documents(last_template(given))
    assert template["spec"]["hostNetwork"] is True
    assert {"spark.blockManager.port=0", "spark.shuffle.readHostLocalDisk=false"} <= set(given)
    readme = (SPARK / "README.md").read_text()
    assert "spark.blockManager.port=0" in readme and "spark.shuffle.readHostLocalDisk=false" in readme


def test_spark_submit_refuses_an_unknown_task_locality():
    result = subprocess.run(["bash", str(SPARK / "spark-submit.sh")], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "DRY_RUN": "1", "TASK_LOCALITY": "rack"})
    assert result.returncode == 2 and "TASK_LOCALITY" in result.stderr


def test_spark_submit_refuses_an_unknown_variant():
    result = subprocess.run(["bash", str(SPARK / "spark-submit.sh")], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "DRY_RUN": "1", "DOMAIN_SOCKET": "nfs"})
    assert result.returncode == 2 and "DOMAIN_SOCKET" in result.stderr
