"""The Helm chart charts/alluxio-locality, rendered by real helm 4 and helm 3 for every tested Kubernetes minor:
lint, each rendering valid against that minor's schemas (strict), the kube-scheduler image following the
cluster's minor, the values schema, the network, disruption, priority and monitoring objects, and manifests/
being exactly the chart's rendering (charts/generate.py)."""
from __future__ import annotations

import configparser
import json
import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from scheduler_extender.config import SPECS
from scheduler_extender.config.settings import BY_NAME
from scheduler_extender.config.values import byte_size
from scheduler_extender.locations.alluxio3_membership import Member
from scheduler_extender.locations.alluxio3_ring import WorkerIdentity
from tests.support.bodies import names_body
from tests.support.chart import CHART, HELMS, MINORS, by_kind, generate, one, render, run_helm
from tests.support.fake_alluxio import Block, FakeAlluxio, Loc
from tests.support.fake_alluxio3 import FakeMaster3
from tests.support.fake_kube import FakeKube, kubeconfig_file
from tests.support.loopback import StandbyWebPort
from tests.support.objects import make_node
from tests.support.served import Served
from tests.support.settings import load_settings
from tests.support.tls_layout import cert_manager_layout, mounted_across, tls_sources
from tests.support.volcano import extender_arguments, scheduler_conf

pytestmark = pytest.mark.helm

NEWEST, OLDEST = MINORS[0], MINORS[-1]
PATCH = dict(generate.tested_versions())
CRDS = {"ServiceMonitor", "PrometheusRule"}
"""prometheus-operator's kinds: no Kubernetes schema has them; tests below check what they must say."""

EXTENDER, SCHEDULER = "alluxio-locality-extender", "alluxio-locality-scheduler"
EVERYTHING = ["--set", "namespace.create=true,tls.enabled=true,metrics.serviceMonitor.enabled=true,"
              "metrics.prometheusRule.enabled=true,metrics.grafanaDashboard.enabled=true",
              "--set-json", 'networkPolicy.extraFrom=[{"namespaceSelector": {"matchLabels": '
                            '{"kubernetes.io/metadata.name": "kube-system"}}}]',
              "--set-json", 'extender.tolerations=[{"key": "dedicated", "operator": "Exists"}]',
              "--set-json", 'scheduler.nodeSelector={"node-role.kubernetes.io/control-plane": ""}',
              "--set-json", 'imagePullSecrets=[{"name": "regcred"}]',
              "--set", "extender.workerNamespace=alluxio", "--set-json", 'extender.prefetchNamespaces=["spark", "etl"]']
MINIMAL = ["--set", "scheduler.filterVerb=false,networkPolicy.enabled=false,podDisruptionBudget.enabled=false,"
                    "metrics.enabled=false,priorityClassName=,tls.enabled=true,tls.clientAuth=false,"
                    "extender.replicas=1,scheduler.replicas=1"]
VALUE_SETS = {"defaults": [], "everything": EVERYTHING, "minimal": MINIMAL}
VOLCANO = ["--set", "volcano.enabled=true,volcano.predicate=true"]
RENDERINGS = {**VALUE_SETS, "volcano": VOLCANO}
"""Volcano mode has no second scheduler, which the tests of VALUE_SETS look at; it is rendered and validated alike."""
VOLCANO_PLUGIN = "alluxio-locality-volcano-plugin"


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) == {"matchLabels"}, selector
    return selector["matchLabels"].items() <= labels.items()


def settings_file(docs: list[dict[str, Any]], release: str = "alluxio-locality") -> dict[str, Any]:
    return yaml.safe_load(one(docs, "ConfigMap", f"{release}-extender-config")["data"]["config.yaml"])


def scheduler_configuration(docs: list[dict[str, Any]], release: str = "alluxio-locality") -> dict[str, Any]:
    return yaml.safe_load(one(docs, "ConfigMap", f"{release}-scheduler-config")["data"]["config.yaml"])


# ----------------------------------------------------------------------------- one source: manifests/ and matrix

def test_the_charts_matrix_is_the_repository_matrix():
    assert generate.CHART_MATRIX.read_text() == generate.MATRIX.read_text(), \
        "run `python3 charts/generate.py`: the chart's copy of kubernetes-versions.txt is out of date"


def test_manifests_are_the_charts_rendering():
    problems = generate.drift(generate.expected(generate.helm_dir() / "helm4"))
    assert not problems, "\n".join(problems) + "\nrun `python3 charts/generate.py` and commit the result"


def test_the_drift_check_can_fail():
    files = generate.expected(generate.helm_dir() / "helm4")
    changed = dict(files)
    deployment = generate.MANIFESTS / "extender-deployment.yaml"
    changed[deployment] = files[deployment].replace("replicas: 2", "replicas: 3")
    assert generate.drift(changed) == ["manifests/extender-deployment.yaml: differs from its source"]
    fewer = {path: text for path, text in files.items() if path.name != "pdb.yaml"}
    assert generate.drift(fewer) == ["manifests/pdb.yaml: made by nothing (no such template or tested minor)"]
    untested = {path: text for path, text in files.items() if path.parent.name != OLDEST}
    assert generate.drift(untested) == [f"overlays/{OLDEST}/kustomization.yaml: made by nothing (no such template "
                                        "or tested minor)"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (its kustomize) is not installed")
@pytest.mark.parametrize("minor", MINORS)
def test_each_minors_overlay_renders_what_the_chart_renders_for_that_minor(minor):
    """overlays/<minor>/ only retargets the kube-scheduler image: it must be all the chart changes per minor."""
    built = subprocess.run(["kubectl", "kustomize", str(generate.OVERLAYS / minor)], capture_output=True, text=True,
                           timeout=60, check=True).stdout
    overlay = sorted((doc for doc in yaml.safe_load_all(built) if doc), key=json.dumps)
    chart = sorted(render(minor, *generate.MANIFEST_VALUES), key=json.dumps)
    assert overlay == chart
    assert one(overlay, "Deployment", SCHEDULER)["spec"]["template"]["spec"]["containers"][0]["image"] == \
        f"registry.k8s.io/kube-scheduler:{PATCH[minor]}"


def test_there_is_an_overlay_for_each_tested_minor_and_no_other():
    assert sorted(path.name for path in generate.OVERLAYS.iterdir()) == sorted(MINORS)


def test_manifests_are_rendered_for_the_newest_minor_and_list_every_file():
    kustomization = yaml.safe_load((generate.MANIFESTS / "kustomization.yaml").read_text())
    images = {entry["name"]: entry["newTag"] for entry in kustomization["images"]}
    assert images["registry.k8s.io/kube-scheduler"] == PATCH[NEWEST]
    shipped = {p.name for p in generate.MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == shipped


def test_the_charts_app_version_is_the_packages():
    metadata = configparser.ConfigParser()
    metadata.read(generate.ROOT / "setup.cfg")
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == metadata["metadata"]["version"]
    assert one(render(), "Deployment", EXTENDER)["spec"]["template"]["spec"]["containers"][0]["image"] == \
        f"scheduler-extender:{chart['appVersion']}"


# ------------------------------------------------------------------------------------------ lint and schemas

@pytest.mark.parametrize("minor", MINORS)
@pytest.mark.parametrize("name", HELMS)
def test_helm_lint_passes_strict(name, minor):
    for values in ([], EVERYTHING, VOLCANO):
        result = run_helm("lint", "--strict", str(CHART), "--kube-version", f"{minor}.0", *values, name=name)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", RENDERINGS)
@pytest.mark.parametrize("minor", MINORS)
def test_every_rendering_is_valid_kubernetes_of_that_minor(minor, values):
    docs = render(minor, *RENDERINGS[values])
    assert {"Deployment", "ConfigMap", "Service", "ServiceAccount", "ClusterRole"} <= {d["kind"] for d in docs}
    for doc in docs:
        if doc["kind"] not in CRDS:
            assert kubernetes_validate.validate(doc, f"{minor}.0", strict=True) == minor, doc["kind"]


def test_validation_is_strict():
    (deployment,) = [d for d in render() if d["kind"] == "Deployment" and d["metadata"]["name"] == EXTENDER]
    pod_spec(deployment)["priorityClass"] = "system-cluster-critical"  # the typo a lax check would pass
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, f"{NEWEST}.0", strict=True)


@pytest.mark.parametrize("minor", MINORS)
def test_helm_3_and_helm_4_render_the_same(minor):
    for values in RENDERINGS.values():
        fours = generate.split_by_template(generate.render(generate.helm_dir() / "helm4", minor, *values))
        threes = generate.split_by_template(generate.render(generate.helm_dir() / "helm3", minor, *values))
        assert threes == fours


# ------------------------------------------------------------------------------- the scheduler follows the cluster

@pytest.mark.parametrize("minor", MINORS)
def test_the_scheduler_image_is_the_newest_tested_patch_of_the_clusters_minor(minor):
    for cluster in (f"{minor}.0", f"{minor}.99", f"v{minor}.3-eks-1a2b3c"):
        result = run_helm("template", "x", str(CHART), "--kube-version", cluster)
        assert result.returncode == 0, result.stderr
        (deployment,) = [d for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "Deployment"
                         and d["metadata"]["name"] == "x-scheduler"]
        assert pod_spec(deployment)["containers"][0]["image"] == f"registry.k8s.io/kube-scheduler:{PATCH[minor]}"


def _next(minor: str, step: int) -> str:
    major, number = minor.split(".")
    return f"{major}.{int(number) + step}"


@pytest.mark.parametrize("name", HELMS)
@pytest.mark.parametrize("cluster", [_next(OLDEST, -1), _next(NEWEST, 1)])
def test_an_untested_minor_fails_with_a_clear_message(name, cluster):
    result = run_helm("template", "x", str(CHART), "--kube-version", f"{cluster}.2", name=name)
    assert result.returncode != 0
    assert f"the cluster runs Kubernetes {cluster} (v{cluster}.2)" in result.stderr
    assert f"tested on {', '.join(MINORS)} only" in result.stderr and "scheduler.image.tag" in result.stderr
    forced = run_helm("template", "x", str(CHART), "--kube-version", f"{cluster}.2",
                      "--set", f"scheduler.image.tag=v{cluster}.2", name=name)
    assert forced.returncode == 0, forced.stderr
    assert f"image: registry.k8s.io/kube-scheduler:v{cluster}.2" in forced.stdout


# ------------------------------------------------------------------------------------------- the values schema

@pytest.mark.parametrize("args,says", [
    (["--set", "extender.replica=3"], "additional properties 'replica' not allowed"),
    (["--set", "scheduler.weight=0"], "/scheduler/weight"),
    (["--set", "alluxio.proxyUrl=alluxio-proxy:39999"], "/alluxio/proxyUrl"),
    (["--set", "scheduler.httpTimeout=1"], "/scheduler/httpTimeout"),
    (["--set", "extender.settings.bind=0.0.0.0:9999"], "additional properties 'bind' not allowed"),
    (["--set", "extender.image.pullPolicy=Sometimes"], "/extender/image/pullPolicy"),
    (["--set", "tls.enable=true"], "additional properties 'enable' not allowed"),
    (["--set", "extender.settings.index-tll=30s"], "additional properties 'index-tll' not allowed"),
    (["--set", "extender.settings.index-ttl=1h30m"], "/extender/settings/index-ttl"),
    (["--set", "extender.settings.threads=100000"], "/extender/settings/threads"),
    (["--set", "extender.settings.alluxio-master=http://m:19999"], "additional properties 'alluxio-master' not"),
    (["--set", "extender.settings.alluxio3-virtual-nodes=7"], "/extender/settings"),  # Alluxio 2: refused
    (["--set", "alluxio.version=4"], "/alluxio/version"),
    (["--set", "alluxio.version=3,alluxio.alluxio3.ufsRoot=s3://b/d"], "/alluxio/alluxio3"),  # no membership
    (["--set", "alluxio.version=3,alluxio.alluxio3.ufsRoot=s3://b/d,alluxio.alluxio3.etcd[0]=http://e:2379,"
               "alluxio.alluxio3.masters[0]=http://m:19999"], "/alluxio/alluxio3"),  # two memberships
    (["--set", "alluxio.version=3,alluxio.alluxio3.etcd[0]=http://e:2379"], "/alluxio/alluxio3"),  # no UFS root
    (["--set", "extender.workerNamespace=Alluxio"], "/extender/workerNamespace"),
])
@pytest.mark.parametrize("name", HELMS)
def test_the_values_schema_refuses_mistakes(name, args, says):
    result = run_helm("template", "x", str(CHART), "--kube-version", f"{NEWEST}.0", *args, name=name)
    assert result.returncode != 0 and "don't meet the specifications of the schema" in result.stderr
    assert says in result.stderr, result.stderr


SETTINGS_SCHEMA = json.loads((CHART / "values.schema.json").read_text())["properties"]["extender"]["properties"][
    "settings"]
CANDIDATES: list[Any] = [
    "30s", "50ms", "1.5s", ".5m", "1h", "90", "0", "0s", "0.0", "1h30m", "-5s", "5 minutes", "1d", 30, 0, 0.25, -1,
    1, 8, 256, 257, 100000, 0.5, "0.8", "8", "1Ki", "256Mi", "1G", "1Gb", "Mi", 2048, 1023, "http://a:1",
    "http://alluxio proxy:39999", "info", "INFO", "verbose", "open", "client-cert", "live", "all", "", "x",
    "role=alluxio-worker", "s3://bucket/data", "DefaultAlluxioCluster", 65535, 65536]
"""Values a YAML settings file may hold (loading.py reads text and numbers): right, wrong, and at the bounds."""


def _schema_takes(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema.Draft7Validator(schema).is_valid(value)


def _extender_takes(name: str, value: Any) -> bool:
    try:
        BY_NAME[name].parse(str(value))
    except ValueError:
        return False
    return True


def test_the_settings_schema_is_every_setting_the_chart_leaves_open():
    assert set(SETTINGS_SCHEMA["properties"]) == {spec.name for spec in SPECS} - set(generate.CHART_WRITES)
    assert SETTINGS_SCHEMA["additionalProperties"] is False
    jsonschema.Draft7Validator.check_schema(json.loads((CHART / "values.schema.json").read_text()))


@pytest.mark.parametrize("name", sorted(SETTINGS_SCHEMA["properties"]))
def test_every_setting_is_checked_by_the_schema_as_the_extender_checks_it(name):
    """Each value the schema takes, the extender takes (but where only the extender can tell: a file, a selector's
    grammar); each text the extender takes, so does the schema if the setting takes text; each number it takes,
    if the setting takes numbers. The default, written in YAML, passes the schema."""
    schema, parser = SETTINGS_SCHEMA["properties"][name], BY_NAME[name].parse
    types = json.dumps(schema)
    takes_text, takes_numbers = '"string"' in types, '"number"' in types or '"integer"' in types
    for value in CANDIDATES:
        schema_ok, extender_ok = _schema_takes(schema, value), _extender_takes(name, value)
        if parser.exact and schema_ok:
            assert extender_ok, f"{name}: {value!r} passes the chart's schema and fails the extender at start"
        natural = takes_text if isinstance(value, str) else takes_numbers and (
            isinstance(value, int) or '"number"' in types)
        if extender_ok and natural:
            assert schema_ok, f"{name}: {value!r} is refused by the chart's schema but the extender takes it"
    default = BY_NAME[name].default
    if default is not None:  # as values.yaml would hold it
        assert _schema_takes(schema, yaml.safe_load(default))


def test_every_value_is_in_the_schema():
    """additionalProperties: false everywhere but free-form maps, so a value the templates read is never
    missing from the schema, and the defaults pass it (they render above)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(value: Any, node: dict[str, Any], where: str) -> None:
        if node.get("type") != "object" or "properties" not in node:
            return
        assert node.get("additionalProperties") is False, where
        for key, child in value.items():
            assert key in node["properties"], f"{where}.{key}"
            walk(child, node["properties"][key], f"{where}.{key}")

    walk(values, schema, "values")


# --------------------------------------------------------------------------------- names follow the release

def test_names_and_addresses_follow_the_release_and_namespace():
    docs = render(NEWEST, release="spark", namespace="data")
    for doc in docs:
        assert doc["metadata"]["name"].startswith("spark-"), doc["metadata"]["name"]
        if doc["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert doc["metadata"]["namespace"] == ("kube-system" if doc["kind"] == "RoleBinding"
                                                    and "authentication-reader" in doc["metadata"]["name"] else "data")
        for subject in doc.get("subjects", []):
            assert subject["namespace"] == "data"
    config = scheduler_configuration(docs, "spark")
    assert config["extenders"][0]["urlPrefix"] == "http://spark-extender.data.svc:8888"
    assert config["leaderElection"]["resourceNamespace"] == "data"
    service = one(docs, "Service", "spark-extender")
    assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels(one(docs, "Deployment", "spark-extender")))


def test_the_extender_accepts_the_settings_file_the_chart_writes(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({
        "alluxio": {"proxyUrl": "https://proxy.alluxio.svc:39999"},
        "extender": {"port": 9000, "workerSelector": "app in (alluxio), role=alluxio-worker",
                     "prefetchSelector": "spark-role notin (driver)",
                     "settings": {"index-ttl": "1m", "max-staleness": "20m", "threads": 8}}}))
    docs = render(NEWEST, "-f", str(values))
    text = one(docs, "ConfigMap", f"{EXTENDER}-config")["data"]["config.yaml"]
    assert set(yaml.safe_load(text)) <= {spec.name for spec in SPECS}
    (tmp_path / "config.yaml").write_text(text)
    settings = load_settings(["--config", str(tmp_path / "config.yaml")], {})
    assert settings.bind == "0.0.0.0:9000" and settings.alluxio_master is None
    assert settings.alluxio_proxy == "https://proxy.alluxio.svc:39999"
    assert settings.worker_selector == "app in (alluxio), role=alluxio-worker"
    assert settings.index_ttl == 60 and settings.threads == 8
    (port,) = pod_spec(one(docs, "Deployment", EXTENDER))["containers"][0]["ports"]
    assert port["containerPort"] == 9000 and one(docs, "Service", EXTENDER)["spec"]["ports"][0]["port"] == 9000


PROCESSES_MIB = 160
"""The extender pod's processes with a full index, bodies aside: 129 MiB measured (docs/performance.md), and room."""


def test_bodies_the_chart_accepts_cannot_get_its_extender_oom_killed(tmp_path):
    """Bodies held at once are at most max-buffered-bytes, and answering one costs at most twice its size again
    until the answer is taken (a /filter echoing every Node: benchmarks/body_bench.py), so the memory limit must
    hold the processes and three times the cap (docs/robustness.md)."""
    docs = render(NEWEST)
    (tmp_path / "config.yaml").write_text(one(docs, "ConfigMap", f"{EXTENDER}-config")["data"]["config.yaml"])
    settings = load_settings(["--config", str(tmp_path / "config.yaml")], {})
    container = pod_spec(one(docs, "Deployment", EXTENDER))["containers"][0]
    limit = byte_size(minimum=0)(container["resources"]["limits"]["memory"])
    assert settings.max_body_size <= settings.max_buffered_bytes
    assert PROCESSES_MIB * 2**20 + 3 * settings.max_buffered_bytes <= limit


def test_scheduler_calls_follow_the_values():
    config = scheduler_configuration(render(NEWEST, "--set", "scheduler.weight=8,scheduler.filterVerb=false,"
                                                             "scheduler.httpTimeout=300ms,scheduler.ignorable=false"))
    (extender,) = config["extenders"]
    assert "filterVerb" not in extender and extender["prioritizeVerb"] == "prioritize"
    assert extender["weight"] == 8 and extender["httpTimeout"] == "300ms" and extender["ignorable"] is False
    assert config["percentageOfNodesToScore"] == 100


# ------------------------------------------------------------------------------------------------------ TLS

@pytest.mark.parametrize("client_auth", [True, False])
def test_tls_serves_https_from_the_secrets_and_the_scheduler_presents_its_certificate(client_auth):
    docs = render(NEWEST, "--set", f"tls.enabled=true,tls.clientAuth={str(client_auth).lower()}")
    plain = scheduler_configuration(render(NEWEST))
    config = scheduler_configuration(docs)
    (extender,), (plain_extender,) = config["extenders"], plain["extenders"]
    tls_fields = {"urlPrefix", "enableHTTPS", "tlsConfig"}
    assert {k: v for k, v in extender.items() if k not in tls_fields} == \
        {k: v for k, v in plain_extender.items() if k not in tls_fields}
    assert extender["urlPrefix"] == plain_extender["urlPrefix"].replace("http://", "https://")
    assert extender["enableHTTPS"] is True
    assert set(extender["tlsConfig"]) == ({"caFile", "certFile", "keyFile"} if client_auth else {"caFile"})

    scheduler, deployment = one(docs, "Deployment", SCHEDULER), one(docs, "Deployment", EXTENDER)
    tls_settings = {k: v for k, v in settings_file(docs).items() if k.startswith("tls-")}
    assert tls_sources(deployment, tls_settings, scheduler, extender["tlsConfig"]) == \
        cert_manager_layout(f"{EXTENDER}-tls", f"{SCHEDULER}-tls", client_auth=client_auth)
    assert mounted_across(scheduler, f"{EXTENDER}-tls") == {"ca.crt"}
    assert mounted_across(deployment, f"{SCHEDULER}-tls") == ({"ca.crt"} if client_auth else set())
    if client_auth:  # the 0440 key is readable
        assert pod_spec(scheduler)["securityContext"]["fsGroup"] == pod_spec(scheduler)["securityContext"]["runAsGroup"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scheme"] == "https"
    (container,) = pod_spec(deployment)["containers"]
    probes = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
    assert [probe["scheme"] for probe in probes] == ["HTTPS", "HTTPS"]
    assert pod_spec(deployment)["securityContext"]["fsGroup"] == 10001


# ------------------------------------------------------------------------------ network, disruption, priority

@pytest.mark.parametrize("values", VALUE_SETS)
def test_the_network_policy_admits_only_the_scheduler_and_the_scrapers(values):
    docs = render(NEWEST, *VALUE_SETS[values])
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())
    policies = by_kind(docs, "NetworkPolicy")
    if values == "minimal":
        assert not policies
        return
    (policy,) = policies
    extender, scheduler = one(docs, "Deployment", EXTENDER), one(docs, "Deployment", SCHEDULER)
    assert selects(policy["spec"]["podSelector"], pod_labels(extender))
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    (container_port,) = pod_spec(extender)["containers"][0]["ports"]
    assert rule["ports"] == [{"port": container_port["name"], "protocol": "TCP"}]
    first, *others = rule["from"]
    assert first == {"podSelector": {"matchLabels": {"app.kubernetes.io/name": SCHEDULER}}}
    assert selects(first["podSelector"], pod_labels(scheduler))
    assert not selects(first["podSelector"], pod_labels(extender))
    extra = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}] \
        if values == "everything" else []
    assert others == extra + chart_values["metrics"]["scrapers"]
    no_metrics = one(render(NEWEST, "--set", "metrics.enabled=false"), "NetworkPolicy")
    assert no_metrics["spec"]["ingress"][0]["from"] == [first]


@pytest.mark.parametrize("values", VALUE_SETS)
def test_each_deployment_has_one_pdb_that_never_counts_unhealthy_pods(values):
    docs = render(NEWEST, *VALUE_SETS[values])
    pdbs = by_kind(docs, "PodDisruptionBudget")
    if values == "minimal":
        assert not pdbs
        return
    for deployment in by_kind(docs, "Deployment"):
        (pdb,) = [p for p in pdbs if selects(p["spec"]["selector"], pod_labels(deployment))]
        assert pdb["metadata"]["namespace"] == deployment["metadata"]["namespace"]
        assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
        assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]
    assert len(pdbs) == 2


def test_priority_class_defaults_to_system_cluster_critical_and_can_be_unset():
    for deployment in by_kind(render(NEWEST), "Deployment"):
        assert pod_spec(deployment)["priorityClassName"] == "system-cluster-critical"
    for deployment in by_kind(render(NEWEST, *MINIMAL), "Deployment"):
        assert "priorityClassName" not in pod_spec(deployment)


def test_placement_values_reach_the_pods():
    docs = render(NEWEST, *EVERYTHING)
    assert pod_spec(one(docs, "Deployment", EXTENDER))["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    assert pod_spec(one(docs, "Deployment", SCHEDULER))["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    for deployment in by_kind(docs, "Deployment"):
        assert pod_spec(deployment)["imagePullSecrets"] == [{"name": "regcred"}]
    (namespace,) = by_kind(docs, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert not by_kind(render(NEWEST), "Namespace")


def test_a_new_configuration_rolls_the_pods():
    def checksums(*values: str) -> dict[str, str]:
        return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
                for d in by_kind(render(NEWEST, *values), "Deployment")}
    before, after = checksums(), checksums("--set", "scheduler.weight=7,extender.settings.index-ttl=1m")
    assert before.keys() == after.keys() == {EXTENDER, SCHEDULER}
    assert all(before[name] != after[name] for name in before)
    assert checksums("--set", "extender.replicas=3") == before


# --------------------------------------------------------------------------------------------- monitoring

def test_scrape_annotations_name_the_metrics_port():
    extender = one(render(NEWEST), "Deployment", EXTENDER)
    annotations = extender["spec"]["template"]["metadata"]["annotations"]
    (port,) = pod_spec(extender)["containers"][0]["ports"]
    assert {k: v for k, v in annotations.items() if k.startswith("prometheus.io/")} == {
        "prometheus.io/scrape": "true", "prometheus.io/port": str(port["containerPort"]),
        "prometheus.io/path": "/metrics", "prometheus.io/scheme": "http"}
    quiet = one(render(NEWEST, "--set", "metrics.enabled=false"), "Deployment", EXTENDER)
    assert not [k for k in quiet["spec"]["template"]["metadata"]["annotations"] if k.startswith("prometheus.io/")]
    assert not by_kind(render(NEWEST), "ServiceMonitor") and not by_kind(render(NEWEST), "PrometheusRule")


@pytest.mark.parametrize("tls", [False, True])
def test_the_service_monitor_scrapes_the_extenders_service(tls):
    docs = render(NEWEST, "--set", f"metrics.serviceMonitor.enabled=true,tls.enabled={str(tls).lower()}")
    monitor, service = one(docs, "ServiceMonitor", EXTENDER), one(docs, "Service", EXTENDER)
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"] and endpoint["path"] == "/metrics"
    assert endpoint["scheme"] == ("https" if tls else "http")
    if tls:
        url = urlsplit(scheduler_configuration(docs)["extenders"][0]["urlPrefix"])
        assert endpoint["tlsConfig"]["serverName"] == url.hostname
        assert endpoint["tlsConfig"]["ca"]["secret"] == {"name": f"{EXTENDER}-tls", "key": "ca.crt"}


def test_the_second_schedulers_metrics_are_scraped_over_its_secure_port():
    docs = render(NEWEST, "--set", "metrics.serviceMonitor.enabled=true")
    monitor, service = one(docs, "ServiceMonitor", SCHEDULER), one(docs, "Service", f"{SCHEDULER}-metrics")
    scheduler = one(docs, "Deployment", SCHEDULER)
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert service["spec"]["selector"].items() <= pod_labels(scheduler).items()
    ((container_port,),) = [c["ports"] for c in pod_spec(scheduler)["containers"]]
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == container_port["name"] and port["port"] == container_port["containerPort"] == 10259
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == port["name"] and endpoint["scheme"] == "https" and endpoint["path"] == "/metrics"
    assert endpoint["bearerTokenFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    assert not by_kind(render(NEWEST), "ServiceMonitor")


def test_the_prometheus_rule_is_the_rule_file_with_the_releases_names():
    """No rule names a scrape job; the scheduler's are by its profile, which follows scheduler.schedulerName."""
    rules = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    enabled = ["--set", "metrics.prometheusRule.enabled=true"]
    assert one(render(NEWEST, *enabled), "PrometheusRule")["spec"] == rules
    spec = one(render(NEWEST, *enabled, "--set", "scheduler.schedulerName=spark-locality", release="spark"),
               "PrometheusRule")["spec"]
    exprs = [rule["expr"] for group in spec["groups"] for rule in group["rules"]]
    assert exprs and not [expr for expr in exprs if "job=" in expr or "alluxio-locality" in expr]
    assert len([expr for expr in exprs if 'profile="spark-locality"' in expr]) == 2
    texts = json.dumps(spec["groups"])
    assert "deploy/spark-scheduler" in texts and "alluxio-locality-scheduler" not in texts


def test_the_dashboard_follows_the_scheduler_name():
    enabled = ["--set", "metrics.grafanaDashboard.enabled=true,scheduler.schedulerName=spark-locality"]
    (dashboard,) = one(render(NEWEST, *enabled, release="spark"), "ConfigMap", "spark-extender-dashboard")[
        "data"].values()
    exprs = [target["expr"] for panel in json.loads(dashboard)["panels"] for target in panel.get("targets", [])]
    assert len([expr for expr in exprs if 'profile="spark-locality"' in expr]) == 3
    assert not [expr for expr in exprs if "job=" in expr or "alluxio-locality" in expr]


def test_the_dashboard_config_map_is_the_dashboard_file():
    docs = render(NEWEST, "--set", "metrics.grafanaDashboard.enabled=true")
    configmap = one(docs, "ConfigMap", f"{EXTENDER}-dashboard")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = configmap["data"].values()
    assert json.loads(text) == json.loads((CHART / "files" / "dashboard.json").read_text())


def test_notes_tell_the_operator_how_to_check_it_works(tmp_path):
    result = run_helm("install", "alluxio-locality", str(CHART), "--dry-run=client", "-n", "alluxio-locality",
                      "--kubeconfig", str(tmp_path / "none"))
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert f"kubectl -n alluxio-locality wait --for=condition=Available deploy/{EXTENDER} deploy/{SCHEDULER}" in notes
    assert f"port-forward svc/{EXTENDER} 8888" in notes and "/locality?path=" in notes
    assert f"spark.kubernetes.scheduler.name={SCHEDULER}" in notes
    assert "unresolvedWorkers" in notes and f"registry.k8s.io/kube-scheduler:{PATCH[NEWEST]}" in notes


# ------------------------------------------------------------------------------------------------ webhook mode

CERT_MANAGER = ["--set", "tls.enabled=true,webhook.enabled=true,"
                         "webhook.certManagerCertificate=alluxio-locality/alluxio-locality-extender-tls"]
CA_BUNDLE = ["--set", "tls.enabled=true,webhook.enabled=true,webhook.caBundle=LS0tLS1CRUdJTg==,"
                      "webhook.affinity=required"]


@pytest.mark.parametrize("minor", MINORS)
@pytest.mark.parametrize("values", [CERT_MANAGER, CA_BUNDLE], ids=["cert-manager", "ca-bundle"])
def test_webhook_mode_renders_a_valid_mutating_webhook_calling_the_extenders_service(minor, values):
    docs = render(minor, *values)
    configuration = one(docs, "MutatingWebhookConfiguration", EXTENDER)
    assert kubernetes_validate.validate(configuration, f"{minor}.0", strict=True) == minor
    (webhook,) = configuration["webhooks"]
    assert webhook["failurePolicy"] == "Ignore" and webhook["timeoutSeconds"] == 2
    assert webhook["sideEffects"] == "None" and webhook["admissionReviewVersions"] == ["v1"]
    assert webhook["rules"] == [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                                 "resources": ["pods"], "scope": "Namespaced"}]
    assert webhook["objectSelector"] == {"matchExpressions": [{"key": "spark-role", "operator": "Exists"}]}
    assert webhook["namespaceSelector"] == {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}
    service = one(docs, "Service", EXTENDER)
    assert webhook["clientConfig"]["service"] == {
        "namespace": service["metadata"]["namespace"], "name": service["metadata"]["name"], "path": "/mutate",
        "port": service["spec"]["ports"][0]["port"]}
    if values is CERT_MANAGER:
        assert configuration["metadata"]["annotations"] == {
            "cert-manager.io/inject-ca-from": "alluxio-locality/alluxio-locality-extender-tls"}
        assert "caBundle" not in webhook["clientConfig"]
    else:
        assert webhook["clientConfig"]["caBundle"] == "LS0tLS1CRUdJTg=="
        assert "annotations" not in configuration["metadata"]
    assert settings_file(docs)["webhook-affinity"] == ("preferred" if values is CERT_MANAGER else "required")


def test_webhook_mode_is_off_by_default_and_the_settings_name_the_scheduler(tmp_path):
    docs = render(NEWEST)
    assert not by_kind(docs, "MutatingWebhookConfiguration")
    written = settings_file(docs)
    assert "webhook-affinity" not in written
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(written))
    settings = load_settings(["--config", str(tmp_path / "config.yaml")], {})
    assert settings.scheduler_name == SCHEDULER and settings.webhook_affinity == "preferred"
    renamed = render(NEWEST, *CA_BUNDLE, "--set", "scheduler.schedulerName=spark-local")
    assert settings_file(renamed)["scheduler-name"] == "spark-local"


@pytest.mark.parametrize("args, says", [
    (["--set", "webhook.enabled=true,webhook.caBundle=x"], "webhook.enabled needs tls.enabled"),
    (["--set", "tls.enabled=true,webhook.enabled=true"], "exactly one of webhook.certManagerCertificate"),
    (CA_BUNDLE + ["--set", "webhook.certManagerCertificate=a/b"], "exactly one of webhook.certManagerCertificate"),
])
def test_webhook_mode_without_https_or_a_ca_fails_with_the_reason(args, says):
    result = run_helm("template", "x", str(CHART), "--kube-version", f"{NEWEST}.0", *args)
    assert result.returncode != 0 and says in result.stderr, result.stderr


@pytest.mark.parametrize("args, says", [
    (["--set", "webhook.affinity=strict"], "/webhook/affinity"),
    (["--set", "webhook.certManagerCertificate=no-namespace"], "/webhook/certManagerCertificate"),
    (["--set", "webhook.timeoutSeconds=31"], "/webhook/timeoutSeconds"),
])
def test_the_values_schema_refuses_webhook_mistakes(args, says):
    result = run_helm("template", "x", str(CHART), "--kube-version", f"{NEWEST}.0", *args)
    assert result.returncode != 0 and says in result.stderr, result.stderr


def test_in_webhook_mode_the_network_policy_admits_the_api_server():
    (rule,) = one(render(NEWEST), "NetworkPolicy")["spec"]["ingress"]
    scheduler_only, anyone = one(render(NEWEST, *CA_BUNDLE), "NetworkPolicy")["spec"]["ingress"]
    assert scheduler_only == rule and anyone == {"ports": rule["ports"]}
    control_plane = [{"ipBlock": {"cidr": "10.0.0.0/24"}}]
    _, narrowed = one(render(NEWEST, *CA_BUNDLE, "--set-json", f"webhook.from={json.dumps(control_plane)}"),
                      "NetworkPolicy")["spec"]["ingress"]
    assert narrowed == {"ports": rule["ports"], "from": control_plane}


def test_webhook_mode_without_the_second_scheduler_renders_none_of_it(tmp_path):
    with_scheduler = render(NEWEST, *CA_BUNDLE)
    docs = render(NEWEST, *CA_BUNDLE, "--set", "scheduler.enabled=false")
    gone = {(d["kind"], d["metadata"]["name"]) for d in with_scheduler} - {(d["kind"], d["metadata"]["name"])
                                                                         for d in docs}
    assert gone and all(name.startswith(SCHEDULER) for _, name in gone)
    assert {"Deployment", "ConfigMap", "ServiceAccount", "PodDisruptionBudget"} <= {kind for kind, _ in gone}
    assert not [d for d in docs if d["metadata"]["name"].startswith(SCHEDULER)]
    one(docs, "MutatingWebhookConfiguration", EXTENDER)
    result = run_helm("install", "alluxio-locality", str(CHART), "--dry-run=client", "-n", "alluxio-locality",
                      "--kubeconfig", str(tmp_path / "none"), *CA_BUNDLE, "--set", "scheduler.enabled=false")
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "without a second scheduler" in notes and "Webhook mode" in notes and f"deploy/{SCHEDULER}" not in notes
    assert "masterUrl" not in notes


def test_values_of_earlier_releases_naming_the_master_still_install_and_are_told_to_drop_it(tmp_path):
    """alluxio.masterUrl is ignored now (readiness asks the proxy): `helm upgrade --reuse-values` must not fail."""
    result = run_helm("install", "alluxio-locality", str(CHART), "--dry-run=client", "-n", "alluxio-locality",
                      "--kubeconfig", str(tmp_path / "none"), "--set", "alluxio.masterUrl=http://alluxio-master-0:19999")
    assert result.returncode == 0, result.stderr
    assert "alluxio.masterUrl is ignored" in result.stdout.split("NOTES:", 1)[1]
    assert "alluxio-master" not in settings_file(render(NEWEST, "--set", "alluxio.masterUrl=http://m:19999"))


# ---------------------------------------------------------------------------- Alluxio 2 or 3, served as rendered

ALLUXIO3_ETCD = ["--set", "alluxio.version=3,alluxio.alluxio3.ufsRoot=s3://bucket/data",
                 "--set-json", 'alluxio.alluxio3.etcd=["http://alluxio-etcd-0:2379", "http://alluxio-etcd-1:2379"]']


def test_alluxio_2_reads_the_proxy_and_names_no_master():
    settings = settings_file(render(NEWEST))
    assert settings["alluxio-proxy"] == "http://alluxio-proxy.default.svc:39999"
    assert not {key for key in settings if key.startswith("alluxio3-") or key == "alluxio-master"}


def test_alluxio_3_reads_its_membership_and_no_proxy():
    settings = settings_file(render(NEWEST, *ALLUXIO3_ETCD))
    assert "alluxio-proxy" not in settings and "alluxio3-master" not in settings
    assert settings["alluxio3-etcd"] == "http://alluxio-etcd-0:2379,http://alluxio-etcd-1:2379"
    assert settings["alluxio3-ufs-root"] == "s3://bucket/data"
    masters = settings_file(render(NEWEST, "--set", "alluxio.version=3,alluxio.alluxio3.ufsRoot=s3://b/d",
                                   "--set-json", 'alluxio.alluxio3.masters=["http://m-0:19999", "http://m-1:19999"]',
                                   "--set", "extender.settings.alluxio3-virtual-nodes=7"))
    assert masters["alluxio3-master"] == "http://m-0:19999,http://m-1:19999" and masters["alluxio3-virtual-nodes"] == 7
    for minor, values in ((NEWEST, ALLUXIO3_ETCD), (OLDEST, [*ALLUXIO3_ETCD, *EVERYTHING])):
        for doc in render(minor, *values):
            if doc["kind"] not in CRDS:
                kubernetes_validate.validate(doc, f"{minor}.0", strict=True)


def served_as_rendered(tmp_path, kube: FakeKube, *values: str, ready: bool = True) -> Served:
    """`scheduler-extender serve` of the settings file the chart renders with `values`, as its pod runs it, but
    for the Kubernetes credentials (a kubeconfig of the fake API server instead of the pod's service account) and
    the address it binds (loopback)."""
    config = tmp_path / "config.yaml"
    config.write_text(one(render(NEWEST, *values), "ConfigMap", f"{EXTENDER}-config")["data"]["config.yaml"])
    return Served("--config", str(config), "--kubernetes", "kubeconfig",
                  "--kubeconfig", kubeconfig_file(kube, tmp_path), ready=ready)


@pytest.fixture
def kube():
    with FakeKube() as fake:
        for name in ("n1", "n2"):
            fake.add("node", make_node(name, internal_ip=f"10.0.0.{name[1]}", hostname=name))
        yield fake


def test_the_extender_serves_the_alluxio_2_settings_the_chart_renders(tmp_path, kube):
    with FakeAlluxio() as proxy:
        proxy.add_file("/d/f", Block(64, Loc("n1")))
        scoped = ["--set", "extender.workerNamespace=alluxio", "--set-json", 'extender.prefetchNamespaces=["spark"]']
        with served_as_rendered(tmp_path, kube, "--set", f"alluxio.proxyUrl={proxy.url}", *scoped) as served:
            assert served.get("/readyz") == (200, {"status": "ready"})
            assert served.get("/locality?path=/d")[1]["nodes"][0]["node"] == "n1"
            assert served.post("/prioritize", names_body(["n2", "n1"], "/d"))[0] == 200
    assert {r.namespace for r in kube.received if r.resource == "pods"} == {"alluxio", "spark"}


def test_the_extender_serves_the_alluxio_3_settings_the_chart_renders(tmp_path, kube):
    with StandbyWebPort() as standby, FakeMaster3() as master:
        master.live = [Member(WorkerIdentity.from_uuid_hex("0" * 31 + "1"), "n1")]
        values = ["--set", "alluxio.version=3,alluxio.alluxio3.ufsRoot=s3://bucket/data",
                  "--set-json", f'alluxio.alluxio3.masters=["{standby.url}", "{master.url}"]']
        with served_as_rendered(tmp_path, kube, *values) as served:
            assert served.get("/readyz") == (200, {"status": "ready"}) and master.asked >= 1
    with served_as_rendered(tmp_path, kube, *ALLUXIO3_ETCD, ready=False) as served:  # no etcd here: starts, unready
        assert served.get("/healthz")[0] == 200 and served.process.poll() is None


# ------------------------------------------------------------------------------------ namespace-scoped watching

def test_pods_are_read_cluster_wide_unless_both_namespaces_are_given():
    for values in ([], ["--set", "extender.workerNamespace=alluxio"]):
        docs = render(NEWEST, *values)
        assert one(docs, "ClusterRole", EXTENDER)["rules"] == [
            {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list", "watch"]}]
        assert not [r for r in by_kind(docs, "Role") if r["metadata"]["name"].startswith(EXTENDER)]


def test_namespaced_watching_reads_pods_through_roles_in_those_namespaces_only():
    docs = render(NEWEST, "--set", "extender.workerNamespace=alluxio",
                  "--set-json", 'extender.prefetchNamespaces=["spark", "alluxio", "etl"]')
    assert one(docs, "ClusterRole", EXTENDER)["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}]
    roles = [r for r in by_kind(docs, "Role") if r["metadata"]["name"] == f"{EXTENDER}-pods"]
    bindings = [b for b in by_kind(docs, "RoleBinding") if b["metadata"]["name"] == f"{EXTENDER}-pods"]
    assert [r["metadata"]["namespace"] for r in roles] == ["alluxio", "spark", "etl"]
    assert all(r["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
               for r in roles)
    assert [b["metadata"]["namespace"] for b in bindings] == ["alluxio", "spark", "etl"]
    assert all(b["subjects"] == [{"kind": "ServiceAccount", "name": EXTENDER, "namespace": "alluxio-locality"}]
               and b["roleRef"]["name"] == f"{EXTENDER}-pods" for b in bindings)
    settings = settings_file(docs)
    assert (settings["worker-namespace"], settings["prefetch-namespaces"]) == ("alluxio", "spark,alluxio,etl")
# ------------------------------------------------------------------------------------------------ Volcano mode

def test_volcano_mode_installs_no_second_scheduler_and_renders_the_plugin_the_e2e_runs():
    docs = render(NEWEST, *VOLCANO)
    assert not [doc["metadata"]["name"] for doc in docs if doc["metadata"]["name"].startswith(SCHEDULER)]
    assert [d["metadata"]["name"] for d in by_kind(docs, "Deployment")] == [EXTENDER]
    data = one(docs, "ConfigMap", VOLCANO_PLUGIN)["data"]
    arguments = extender_arguments(f"http://{EXTENDER}.alluxio-locality.svc:8888")
    assert yaml.safe_load(data["extender-plugin.yaml"]) == [{"name": "extender", "arguments": arguments}]
    # tests/e2e/test_volcano.py runs vc-scheduler on this very configuration
    assert yaml.safe_load(data["volcano-scheduler.conf"]) == scheduler_conf(arguments)
    assert [pdb["metadata"]["name"] for pdb in by_kind(docs, "PodDisruptionBudget")] == [EXTENDER]


def test_volcano_plugin_arguments_follow_the_values():
    docs = render(NEWEST, "--set", "volcano.enabled=true,volcano.httpTimeout=300ms,volcano.ignorable=false",
                  release="spark", namespace="data")
    (entry,) = yaml.safe_load(one(docs, "ConfigMap", "spark-volcano-plugin")["data"]["extender-plugin.yaml"])
    assert entry["arguments"] == {**extender_arguments("http://spark-extender.data.svc:8888", predicate=False,
                                                       timeout="300ms"), "extender.ignorable": False}


def test_volcano_mode_admits_vc_scheduler_and_the_scrapers():
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())
    (rule,) = one(render(NEWEST, *VOLCANO), "NetworkPolicy")["spec"]["ingress"]
    assert rule["from"] == chart_values["volcano"]["schedulerPeers"] + chart_values["metrics"]["scrapers"]
    assert rule["from"][0]["podSelector"] == {"matchLabels": {"app": "volcano-scheduler"}}


@pytest.mark.parametrize("name", HELMS)
def test_volcano_mode_refuses_tls_which_volcanos_plugin_cannot_speak(name):
    result = run_helm("template", "x", str(CHART), "--kube-version", f"{NEWEST}.0", "--set",
                      "volcano.enabled=true,tls.enabled=true", name=name)
    assert result.returncode != 0 and "volcano.enabled needs tls.enabled=false" in result.stderr


def test_volcano_notes_show_the_plugin_and_spark_confs(tmp_path):
    result = run_helm("install", "alluxio-locality", str(CHART), "--dry-run=client", "-n", "alluxio-locality",
                      "--kubeconfig", str(tmp_path / "none"), *VOLCANO)
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "without a second scheduler" in notes and SCHEDULER not in notes
    assert f"extender.urlPrefix: http://{EXTENDER}.alluxio-locality.svc:8888/volcano" in notes
    assert f"configmap {VOLCANO_PLUGIN}" in notes and "custom.scheduler_config_override" in notes
    assert "spark.kubernetes.scheduler.name=volcano" in notes and "VolcanoFeatureStep" in notes
    assert 'verb="volcano/prioritize"' in notes
