"""Settings: precedence, parsing, the errors an operator sees, and the CLI's use of them."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from scheduler_extender import cli
from scheduler_extender.config import SPECS, ConfigError, Settings
from scheduler_extender.serve import open_inputs
from tests.support.settings import load_settings

TABLE = [  # flag, attribute, env var: the names operators script against
    ("--bind", "bind", "SCHEDULER_EXTENDER_BIND"),
    ("--alluxio-proxy", "alluxio_proxy", "SCHEDULER_EXTENDER_ALLUXIO_PROXY"),
    ("--alluxio-master", "alluxio_master", "SCHEDULER_EXTENDER_ALLUXIO_MASTER"),
    ("--locations-file", "locations_file", "SCHEDULER_EXTENDER_LOCATIONS_FILE"),
    ("--node-map", "node_map", "SCHEDULER_EXTENDER_NODE_MAP"),
    ("--index-ttl", "index_ttl", "SCHEDULER_EXTENDER_INDEX_TTL"),
    ("--index-size", "index_size", "SCHEDULER_EXTENDER_INDEX_SIZE"),
    ("--request-budget", "request_budget", "SCHEDULER_EXTENDER_REQUEST_BUDGET"),
    ("--max-staleness", "max_staleness", "SCHEDULER_EXTENDER_MAX_STALENESS"),
    ("--refresh-ahead", "refresh_ahead", "SCHEDULER_EXTENDER_REFRESH_AHEAD"),
    ("--alluxio-timeout", "alluxio_timeout", "SCHEDULER_EXTENDER_ALLUXIO_TIMEOUT"),
    ("--alluxio-retries", "alluxio_retries", "SCHEDULER_EXTENDER_ALLUXIO_RETRIES"),
    ("--fetch-threads", "fetch_threads", "SCHEDULER_EXTENDER_FETCH_THREADS"),
    ("--threads", "threads", "SCHEDULER_EXTENDER_THREADS"),
    ("--max-paths-per-pod", "max_paths_per_pod", "SCHEDULER_EXTENDER_MAX_PATHS_PER_POD"),
    ("--max-body-size", "max_body_size", "SCHEDULER_EXTENDER_MAX_BODY_SIZE"),
    ("--max-buffered-bytes", "max_buffered_bytes", "SCHEDULER_EXTENDER_MAX_BUFFERED_BYTES"),
    ("--read-timeout", "read_timeout", "SCHEDULER_EXTENDER_READ_TIMEOUT"),
    ("--log-level", "log_level", "SCHEDULER_EXTENDER_LOG_LEVEL"),
    ("--kubernetes", "kubernetes", "SCHEDULER_EXTENDER_KUBERNETES"),
    ("--kubeconfig", "kubeconfig", "SCHEDULER_EXTENDER_KUBECONFIG"),
    ("--worker-selector", "worker_selector", "SCHEDULER_EXTENDER_WORKER_SELECTOR"),
    ("--prefetch-selector", "prefetch_selector", "SCHEDULER_EXTENDER_PREFETCH_SELECTOR"),
    ("--worker-namespace", "worker_namespace", "SCHEDULER_EXTENDER_WORKER_NAMESPACE"),
    ("--prefetch-namespaces", "prefetch_namespaces", "SCHEDULER_EXTENDER_PREFETCH_NAMESPACES"),
    ("--app-placement", "app_placement", "SCHEDULER_EXTENDER_APP_PLACEMENT"),
    ("--resync-period", "resync_period", "SCHEDULER_EXTENDER_RESYNC_PERIOD"),
    ("--tls-cert-file", "tls_cert_file", "SCHEDULER_EXTENDER_TLS_CERT_FILE"),
    ("--tls-private-key-file", "tls_private_key_file", "SCHEDULER_EXTENDER_TLS_PRIVATE_KEY_FILE"),
    ("--tls-client-ca-file", "tls_client_ca_file", "SCHEDULER_EXTENDER_TLS_CLIENT_CA_FILE"),
    ("--locality-access", "locality_access", "SCHEDULER_EXTENDER_LOCALITY_ACCESS"),
    ("--metrics-access", "metrics_access", "SCHEDULER_EXTENDER_METRICS_ACCESS"),
    ("--scheduler-name", "scheduler_name", "SCHEDULER_EXTENDER_SCHEDULER_NAME"),
    ("--webhook-affinity", "webhook_affinity", "SCHEDULER_EXTENDER_WEBHOOK_AFFINITY"),
    ("--alluxio3-etcd", "alluxio3_etcd", "SCHEDULER_EXTENDER_ALLUXIO3_ETCD"),
    ("--alluxio3-static-workers", "alluxio3_static_workers", "SCHEDULER_EXTENDER_ALLUXIO3_STATIC_WORKERS"),
    ("--alluxio3-master", "alluxio3_master", "SCHEDULER_EXTENDER_ALLUXIO3_MASTER"),
    ("--alluxio3-ufs-root", "alluxio3_ufs_root", "SCHEDULER_EXTENDER_ALLUXIO3_UFS_ROOT"),
    ("--alluxio3-listing-file", "alluxio3_listing_file", "SCHEDULER_EXTENDER_ALLUXIO3_LISTING_FILE"),
    ("--alluxio3-cluster-name", "alluxio3_cluster_name", "SCHEDULER_EXTENDER_ALLUXIO3_CLUSTER_NAME"),
    ("--alluxio3-virtual-nodes", "alluxio3_virtual_nodes", "SCHEDULER_EXTENDER_ALLUXIO3_VIRTUAL_NODES"),
    ("--alluxio3-hash-ring", "alluxio3_hash_ring", "SCHEDULER_EXTENDER_ALLUXIO3_HASH_RING"),
    ("--alluxio3-worker-http-port", "alluxio3_worker_http_port", "SCHEDULER_EXTENDER_ALLUXIO3_WORKER_HTTP_PORT"),
    ("--volcano-max-score", "volcano_max_score", "SCHEDULER_EXTENDER_VOLCANO_MAX_SCORE"),
]

PROXY = "http://alluxio-proxy:39999"


@pytest.fixture
def snapshot(tmp_path: Path) -> str:
    path = tmp_path / "locations.json"
    path.write_text("[]")
    return str(path)


def load(*argv: str, env: dict[str, str] | None = None) -> Settings:
    """Settings with a proxy source unless the test names one."""
    argv_list = list(argv)
    env = env or {}
    sources = ("--alluxio-proxy", "--locations-file", "--alluxio3-etcd", "--alluxio3-static-workers",
               "--alluxio3-master")
    if not any(a.split("=")[0] in sources for a in argv_list) and not any(
            "SCHEDULER_EXTENDER_" + k[2:].upper().replace("-", "_") in env for k in sources):
        argv_list += ["--alluxio-proxy", PROXY]
    return load_settings(argv_list, env)


def error_of(*argv: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(*argv, env=env)
    return str(caught.value)


def write_yaml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "extender.yaml"
    path.write_text(text)
    return str(path)


# The names

def test_specs_keep_the_documented_flag_attribute_and_env_names() -> None:
    assert [(s.flag, s.attr, s.env) for s in SPECS] == TABLE


def test_each_attribute_is_its_flag_with_underscores() -> None:
    assert [s.attr for s in SPECS] == [s.name.replace("-", "_") for s in SPECS]


def test_settings_has_exactly_the_table_attributes_and_config() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [attr for _, attr, _ in TABLE] + ["config"]


def test_defaults() -> None:
    s = load()
    assert s == Settings(alluxio_proxy=PROXY)
    assert (s.bind, s.alluxio_master, s.locations_file, s.node_map, s.config) == \
        ("0.0.0.0:8888", None, None, None, None)
    assert (s.index_ttl, s.index_size, s.request_budget, s.max_staleness) == (30.0, 10000, 0.05, 600.0)
    assert (s.refresh_ahead, s.alluxio_timeout, s.alluxio_retries) == (0.8, 5.0, 2)
    assert (s.fetch_threads, s.threads, s.max_body_size, s.log_level) == (4, 4, 256 * 2**20, "info")
    assert (s.read_timeout, s.max_buffered_bytes) == (5.0, 256 * 2**20)
    assert (s.kubernetes, s.kubeconfig, s.worker_selector, s.prefetch_selector, s.resync_period) == \
        ("off", None, "role=alluxio-worker", "spark-role", 300.0)
    assert (s.tls_cert_file, s.tls_private_key_file, s.tls_client_ca_file) == (None, None, None)
    assert (s.locality_access, s.metrics_access) == ("open", "open")


@pytest.mark.parametrize("selector", ["role=alluxio-worker", "spark-role", "app in (a,b),!canary", "x!=y"])
def test_label_selectors(selector: str) -> None:
    assert load("--worker-selector", selector).worker_selector == selector


@pytest.mark.parametrize("selector", ["", " , ", "role=ä", "a;b", "role==", "role=alluxio worker", "app in (a"])
def test_bad_label_selector_names_the_setting(selector: str) -> None:
    with pytest.raises(ConfigError, match="--prefetch-selector: .* is not a label selector: "):
        load("--prefetch-selector", selector)


def test_kubeconfig_only_with_kubeconfig_mode(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    assert load("--kubernetes", "kubeconfig", "--kubeconfig", str(kubeconfig)).kubeconfig == str(kubeconfig)
    with pytest.raises(ConfigError, match="--kubeconfig: .* only used with --kubernetes kubeconfig"):
        load("--kubeconfig", str(kubeconfig))


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        load().threads = 8  # type: ignore[misc]


# Precedence: defaults < YAML < env < flags

@pytest.mark.parametrize(("key", "yaml_value", "env_value", "flag_value", "attr", "expected"), [
    ("index-ttl", "45s", "1m", "90s", "index_ttl", (45.0, 60.0, 90.0)),
    ("threads", "2", "3", "5", "threads", (2, 3, 5)),
    ("log-level", "debug", "warning", "error", "log_level", ("debug", "warning", "error")),
    ("bind", "127.0.0.1:9000", "[::]:9001", "0.0.0.0:9002", "bind",
     ("127.0.0.1:9000", "[::]:9001", "0.0.0.0:9002")),
    ("max-body-size", "1Mi", "2Mi", "3Mi", "max_body_size", (2**20, 2 * 2**20, 3 * 2**20)),
])
def test_yaml_beats_default_env_beats_yaml_flag_beats_env(
        tmp_path: Path, key: str, yaml_value: str, env_value: str, flag_value: str, attr: str,
        expected: tuple) -> None:
    config = write_yaml(tmp_path, f"{key}: '{yaml_value}'\n")
    env_name = "SCHEDULER_EXTENDER_" + key.upper().replace("-", "_")
    default = getattr(Settings(), attr)
    assert default not in expected
    assert getattr(load(), attr) == default
    assert getattr(load("--config", config), attr) == expected[0]
    assert getattr(load("--config", config, env={env_name: env_value}), attr) == expected[1]
    assert getattr(load("--config", config, f"--{key}", flag_value, env={env_name: env_value}), attr) == expected[2]
    assert getattr(load(f"--{key}={flag_value}", env={env_name: env_value}), attr) == expected[2]


def test_precedence_is_per_setting(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "index-ttl: 45s\nthreads: 2\nindex-size: 7\n")
    s = load("--config", config, "--threads", "6", env={"SCHEDULER_EXTENDER_INDEX_TTL": "1m"})
    assert (s.index_ttl, s.threads, s.index_size, s.fetch_threads) == (60.0, 6, 7, 4)


def test_source_can_come_from_yaml(tmp_path: Path, snapshot: str) -> None:
    config = write_yaml(tmp_path, f"locations-file: {snapshot}\n")
    s = load_settings(["--config", config], {})
    assert (s.locations_file, s.alluxio_proxy, s.config) == (snapshot, None, config)


def test_config_path_from_env_and_flag_wins(tmp_path: Path) -> None:
    from_env = write_yaml(tmp_path, "threads: 2\n")
    from_flag = tmp_path / "other.yaml"
    from_flag.write_text("threads: 3\n")
    s = load(env={"SCHEDULER_EXTENDER_CONFIG": from_env})
    assert (s.threads, s.config) == (2, from_env)
    s = load("--config", str(from_flag), env={"SCHEDULER_EXTENDER_CONFIG": from_env})
    assert (s.threads, s.config) == (3, str(from_flag))


def test_invalid_value_is_refused_even_when_overridden(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "index-ttl: soon\n")
    assert error_of("--config", config, "--index-ttl", "5s") == (
        f'{config}: index-ttl: "soon" is not a duration (use 50ms, 30s, 5m, 1h)')


def test_unrelated_prefixed_env_vars_are_ignored() -> None:
    # What Kubernetes injects for a Service named scheduler-extender.
    env = {"SCHEDULER_EXTENDER_PORT": "tcp://10.0.0.1:8888", "SCHEDULER_EXTENDER_SERVICE_HOST": "10.0.0.1"}
    assert load(env=env) == Settings(alluxio_proxy=PROXY)


# Errors name the setting as it was written: flag, env var, or file and key

def test_error_names_the_flag() -> None:
    assert error_of("--index-ttl", "abc") == '--index-ttl: "abc" is not a duration (use 50ms, 30s, 5m, 1h)'


def test_error_names_the_env_var() -> None:
    assert error_of(env={"SCHEDULER_EXTENDER_INDEX_TTL": "abc"}) == (
        'SCHEDULER_EXTENDER_INDEX_TTL: "abc" is not a duration (use 50ms, 30s, 5m, 1h)')


def test_error_names_the_yaml_file_and_key(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "index-ttl: abc\n")
    assert error_of("--config", config) == f'{config}: index-ttl: "abc" is not a duration (use 50ms, 30s, 5m, 1h)'


# Durations

@pytest.mark.parametrize(("text", "seconds"), [
    ("50ms", 0.05), ("1.5s", 1.5), ("5m", 300.0), ("1h", 3600.0), ("30", 30.0), ("0.25", 0.25),
    (".5s", 0.5), (" 2s ", 2.0), ("0", 0.0), ("1500ms", 1.5),
])
def test_durations(text: str, seconds: float) -> None:
    assert load("--request-budget", text).request_budget == seconds


@pytest.mark.parametrize("text", ["abc", "", "5 minutes", "--1s", "1d", "1.5.2s", "1m30s", "s", "inf", "nan"])
def test_bad_durations(text: str) -> None:
    assert error_of(f"--request-budget={text}") == (
        f'--request-budget: "{text}" is not a duration (use 50ms, 30s, 5m, 1h)')


@pytest.mark.parametrize("text", ["-1s", "-0", "-.5m"])
def test_negative_durations_are_said_to_be(text: str) -> None:
    assert error_of(f"--request-budget={text}") == f'--request-budget: "{text}" must not be negative'


@pytest.mark.parametrize("flag", ["--index-ttl", "--alluxio-timeout"])
def test_positive_durations_refuse_zero(flag: str) -> None:
    assert error_of(flag, "0ms") == f'{flag}: "0ms" must be more than 0'


def test_max_staleness_must_be_at_least_index_ttl() -> None:
    assert error_of("--max-staleness", "10s") == (
        '--max-staleness: "10s" must be at least the index TTL (--index-ttl default 30s)')
    assert error_of("--index-ttl", "20m") == (
        '--max-staleness default 10m must be at least the index TTL (--index-ttl "20m")')
    assert error_of("--max-staleness", "1m", env={"SCHEDULER_EXTENDER_INDEX_TTL": "2m"}) == (
        '--max-staleness: "1m" must be at least the index TTL (SCHEDULER_EXTENDER_INDEX_TTL "2m")')
    s = load("--max-staleness", "1m", "--index-ttl", "60s")
    assert s.max_staleness == s.index_ttl == 60.0


def test_max_buffered_bytes_must_hold_the_largest_body() -> None:
    assert error_of("--max-buffered-bytes", "1Mi") == (
        '--max-buffered-bytes: "1Mi" must be at least the body limit (--max-body-size default 256Mi), or the '
        'largest body accepted could never be held')
    assert error_of("--max-body-size", "300Mi") == (
        '--max-buffered-bytes default 256Mi must be at least the body limit (--max-body-size "300Mi"), or the '
        'largest body accepted could never be held')
    s = load("--max-buffered-bytes", "1Mi", "--max-body-size", "1Mi")
    assert s.max_buffered_bytes == s.max_body_size == 2**20


# Integers, fractions, sizes, choices

@pytest.mark.parametrize(("flag", "minimum"), [
    ("--index-size", 1), ("--alluxio-retries", 0), ("--fetch-threads", 1), ("--threads", 1),
])
def test_integer_minimums(flag: str, minimum: int) -> None:
    attr = flag[2:].replace("-", "_")
    assert getattr(load(flag, str(minimum)), attr) == minimum
    assert error_of(f"{flag}={minimum - 1}") == f'{flag}: "{minimum - 1}" must be at least {minimum}'


@pytest.mark.parametrize("text", ["2.0", "two", "", "1e3", "0x10"])
def test_bad_integers(text: str) -> None:
    assert error_of(f"--threads={text}") == f'--threads: "{text}" is not a whole number'


@pytest.mark.parametrize(("text", "value"), [("0.5", 0.5), ("0.01", 0.01), ("0.99", 0.99)])
def test_refresh_ahead(text: str, value: float) -> None:
    assert load("--refresh-ahead", text).refresh_ahead == value


@pytest.mark.parametrize(("text", "reason"), [
    ("0", "must be between 0 and 1, exclusive"), ("1", "must be between 0 and 1, exclusive"),
    ("1.5", "must be between 0 and 1, exclusive"), ("nan", "must be between 0 and 1, exclusive"),
    ("inf", "must be between 0 and 1, exclusive"), ("most", "is not a number"),
])
def test_bad_refresh_ahead(text: str, reason: str) -> None:
    assert error_of("--refresh-ahead", text) == f'--refresh-ahead: "{text}" {reason}'


@pytest.mark.parametrize(("text", "size"), [
    ("64Mi", 64 * 2**20), ("512Ki", 512 * 1024), ("1G", 10**9), ("1Gi", 2**30), ("2k", 2000),
    ("4096", 4096), ("1024", 1024), ("3M", 3 * 10**6),
])
def test_byte_sizes(text: str, size: int) -> None:
    assert load("--max-body-size", text, "--max-buffered-bytes", text).max_body_size == size


@pytest.mark.parametrize("text", ["64MB", "1.5Mi", "abc", "-1", "", "64 Mi", "1K"])
def test_bad_byte_sizes(text: str) -> None:
    assert error_of(f"--max-body-size={text}") == (
        f'--max-body-size: "{text}" is not a byte size (use 512Ki, 64Mi, 1G or a number of bytes)')


def test_byte_size_minimum() -> None:
    assert error_of("--max-body-size", "1023") == '--max-body-size: "1023" must be at least 1024 bytes'
    assert error_of("--max-body-size", "1k") == '--max-body-size: "1k" must be at least 1024 bytes'


def test_log_level() -> None:
    assert load("--log-level", "DEBUG").log_level == "debug"
    assert error_of("--log-level", "trace") == '--log-level: "trace" is not one of debug, info, warning, error'


# Bind address and URLs

@pytest.mark.parametrize("text", ["[::]:8888", "[::1]:1", "127.0.0.1:80", "localhost:65535", "extender.ns.svc:8888"])
def test_bind(text: str) -> None:
    assert load("--bind", text).bind == text


@pytest.mark.parametrize(("text", "reason"), [
    ("8888", "is not HOST:PORT (e.g. 0.0.0.0:8888, or [::]:8888 for IPv6)"),
    (":8888", "is not HOST:PORT (e.g. 0.0.0.0:8888, or [::]:8888 for IPv6)"),
    ("::1:8888", "is not HOST:PORT (e.g. 0.0.0.0:8888, or [::]:8888 for IPv6)"),
    ("[::1]", "is not HOST:PORT (e.g. 0.0.0.0:8888, or [::]:8888 for IPv6)"),
    ("host:http", "is not HOST:PORT (e.g. 0.0.0.0:8888, or [::]:8888 for IPv6)"),
    ("host:0", "needs a port from 1 to 65535"),
    ("host:65536", "needs a port from 1 to 65535"),
    ("[nope]:80", "has no IPv6 address between the brackets"),
])
def test_bad_bind(text: str, reason: str) -> None:
    assert error_of(f"--bind={text}") == f'--bind: "{text}" {reason}'


def test_urls_lose_a_trailing_slash() -> None:
    s = load("--alluxio-proxy", "https://proxy:39999/api/v1/", "--alluxio-master", "http://master:19999/")
    assert (s.alluxio_proxy, s.alluxio_master) == ("https://proxy:39999/api/v1", ("http://master:19999",))


@pytest.mark.parametrize(("text", "reason"), [
    ("ftp://proxy", "is not an http(s) URL (e.g. http://alluxio-proxy:39999)"),
    ("proxy:39999", "is not an http(s) URL (e.g. http://alluxio-proxy:39999)"),
    ("http://", "is not an http(s) URL (e.g. http://alluxio-proxy:39999)"),
    ("http://proxy:99999", "is not a valid URL"),
    ("http://[::1", "is not a valid URL"),
    ("http://proxy/?a=1", "must not have a query or fragment"),
])
def test_bad_urls(text: str, reason: str) -> None:
    assert error_of("--alluxio-proxy", text) == f'--alluxio-proxy: "{text}" {reason}'


# Files

def test_files(snapshot: str) -> None:
    s = load_settings(["--locations-file", snapshot, "--node-map", snapshot], {})
    assert (s.locations_file, s.node_map) == (snapshot, snapshot)


def test_missing_and_unusable_files(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    assert error_of("--node-map", missing) == f'--node-map: "{missing}" does not exist'
    assert error_of("--node-map", str(tmp_path)) == f'--node-map: "{tmp_path}" is not a regular file'
    assert error_of(env={"SCHEDULER_EXTENDER_LOCATIONS_FILE": missing}) == (
        f'SCHEDULER_EXTENDER_LOCATIONS_FILE: "{missing}" does not exist')
    assert error_of("--config", missing) == f'--config: "{missing}" does not exist'
    assert error_of(env={"SCHEDULER_EXTENDER_CONFIG": missing}) == (
        f'SCHEDULER_EXTENDER_CONFIG: "{missing}" does not exist')


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(snapshot: str) -> None:
    os.chmod(snapshot, 0)
    assert error_of("--node-map", snapshot).startswith(f'--node-map: "{snapshot}" cannot be read (')


# Which source

def test_a_source_is_required() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings([], {})
    assert str(caught.value) == (
        "set one of --alluxio-proxy (read block locations from the Alluxio REST proxy), "
        "--locations-file (read them from a file), or for Alluxio 3 its worker membership: "
        "--alluxio3-etcd, --alluxio3-static-workers or --alluxio3-master")


def test_only_one_source(tmp_path: Path, snapshot: str) -> None:
    only = ("set only one of --alluxio-proxy, --locations-file, --alluxio3-etcd, --alluxio3-static-workers and "
            "--alluxio3-master")
    assert error_of("--alluxio-proxy", PROXY, "--locations-file", snapshot) == (
        f"--alluxio-proxy and --locations-file are both set; {only}")
    config = write_yaml(tmp_path, f"locations-file: {snapshot}\n")
    assert error_of("--config", config, env={"SCHEDULER_EXTENDER_ALLUXIO_PROXY": PROXY}) == (
        f"SCHEDULER_EXTENDER_ALLUXIO_PROXY and {config}: locations-file are both set; {only}")
    assert error_of("--locations-file", snapshot, "--alluxio3-etcd", "http://etcd:2379") == (
        f"--locations-file and --alluxio3-etcd are both set; {only}")


def test_alluxio_master_is_accepted_as_several_urls_and_needs_nothing(snapshot: str) -> None:
    """Deprecated and ignored (readiness follows the proxy): settings written for one master or for HA still load."""
    assert load("--alluxio-master", "http://master-0:19999/, http://master-1:19999").alluxio_master == (
        "http://master-0:19999", "http://master-1:19999")
    assert load("--locations-file", snapshot, "--alluxio-master", "http://m:19999").alluxio_master == ("http://m:19999",)
    assert error_of("--alluxio-master", "http://m:19999,ftp://n") == (
        '--alluxio-master: "http://m:19999,ftp://n" is not an http(s) URL (e.g. http://alluxio-proxy:39999)')


def test_alluxio3_is_a_source_of_its_own(snapshot: str) -> None:
    s = load("--alluxio3-etcd", "http://etcd-0:2379, http://etcd-1:2379/", "--alluxio3-ufs-root", "s3://b/data")
    assert s.alluxio3_etcd == ("http://etcd-0:2379", "http://etcd-1:2379") and s.alluxio_proxy is None
    assert (s.alluxio3_cluster_name, s.alluxio3_virtual_nodes, s.alluxio3_hash_ring, s.alluxio3_worker_http_port) == (
        "DefaultAlluxioCluster", 5, "live", 28080)
    assert load("--alluxio3-static-workers", snapshot, "--alluxio3-ufs-root", "/mnt/ufs").alluxio3_static_workers
    assert load(env={"SCHEDULER_EXTENDER_ALLUXIO3_MASTER": "http://m:19999",
                     "SCHEDULER_EXTENDER_ALLUXIO3_UFS_ROOT": "hdfs://nn:8020/x"}).alluxio3_master == ("http://m:19999",)
    assert error_of("--alluxio3-etcd", "http://e:2379", "--alluxio3-master", "http://m:19999",
                    "--alluxio3-ufs-root", "/u").startswith("--alluxio3-etcd and --alluxio3-master are both set")
    assert error_of("--alluxio3-etcd", "http://e:2379") == (
        "--alluxio3-etcd needs --alluxio3-ufs-root (Alluxio's alluxio.dora.client.ufs.root)")


def test_alluxio3_settings_are_checked(snapshot: str) -> None:
    assert error_of("--alluxio3-etcd", "etcd:2379").startswith('--alluxio3-etcd: "etcd:2379" is not an http(s) URL')
    assert error_of("--alluxio3-etcd", " , ") == '--alluxio3-etcd: " , " names no URL (e.g. http://etcd-0:2379,' \
                                                  'http://etcd-1:2379)'
    assert error_of("--alluxio3-ufs-root", "s3:bucket", "--alluxio3-etcd", "http://e:2379").startswith(
        '--alluxio3-ufs-root: "s3:bucket" is not a URI Alluxio reads')
    assert error_of("--alluxio3-hash-ring", "some") == '--alluxio3-hash-ring: "some" is not one of live, all'
    assert error_of("--alluxio3-worker-http-port", "70000") == (
        '--alluxio3-worker-http-port: "70000" must be at most 65535')
    assert error_of("--alluxio3-virtual-nodes", "0") == '--alluxio3-virtual-nodes: "0" must be at least 1'
    assert error_of("--alluxio3-ufs-root", "/u") == (
        '--alluxio3-ufs-root: "/u" is only used with Alluxio 3 (--alluxio3-etcd, --alluxio3-static-workers or '
        '--alluxio3-master), which is not set')
    assert error_of("--locations-file", snapshot, "--alluxio3-listing-file", snapshot).startswith(
        f'--alluxio3-listing-file: "{snapshot}" is only used with Alluxio 3')


# The YAML file

def test_yaml_numbers_are_read_as_written(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "index-ttl: 45\nrefresh-ahead: 0.5\nindex-size: 20\nmax-body-size: 2048\n")
    s = load("--config", config)
    assert (s.index_ttl, s.refresh_ahead, s.index_size, s.max_body_size) == (45.0, 0.5, 20, 2048)


def test_yaml_unknown_key(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "index_ttl: 30s\n")
    assert error_of("--config", config) == f'{config}: unknown setting "index_ttl"; did you mean index-ttl?'
    config = write_yaml(tmp_path, "colour: blue\n")
    assert error_of("--config", config).startswith(f'{config}: unknown setting "colour"; known settings: bind, ')
    config = write_yaml(tmp_path, "config: other.yaml\n")
    assert error_of("--config", config).startswith(f'{config}: unknown setting "config"')


@pytest.mark.parametrize(("text", "kind"), [
    ("- index-ttl: 5s\n", "a list"), ("just text\n", "a str"), ("42\n", "a int"),
])
def test_yaml_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    config = write_yaml(tmp_path, text)
    assert error_of("--config", config) == f"{config}: must be a mapping of setting names to values, not {kind}"


def test_empty_yaml_sets_nothing(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "# everything commented out\n")
    assert load("--config", config) == Settings(alluxio_proxy=PROXY, config=config)


@pytest.mark.parametrize(("line", "got"), [
    ("log-level: off", "the boolean false (quote it if you meant text)"),
    ("alluxio-master: yes", "the boolean true (quote it if you meant text)"),
    ("node-map:", "null (an empty value)"),
    ("bind: ~", "null (an empty value)"),
    ("index-ttl: [30s]", "a list"),
    ("index-ttl: {a: 1}", "a mapping"),
    ("index-ttl: 2024-01-01", "a date"),
])
def test_yaml_values_must_be_text_or_numbers(tmp_path: Path, line: str, got: str) -> None:
    config = write_yaml(tmp_path, line + "\n")
    key = line.split(":")[0]
    metavars = {"log-level": "LEVEL", "alluxio-master": "URLS", "node-map": "PATH", "bind": "HOST:PORT"}
    metavar = metavars.get(key, "DURATION")
    assert error_of("--config", config) == f"{config}: {key}: expected {metavar}, got {got}"


def test_invalid_yaml(tmp_path: Path) -> None:
    config = write_yaml(tmp_path, "index-ttl: [30s\n")
    assert error_of("--config", config).startswith(f"{config}: is not valid YAML: ")


# Flags and help

def test_unknown_and_abbreviated_flags_are_config_errors() -> None:
    assert error_of("--colour", "blue") == "unrecognized arguments: --colour blue"
    assert error_of("--index-t", "5s") == "unrecognized arguments: --index-t 5s"
    assert error_of("--index-ttl") == "argument --index-ttl: expected one argument"


def test_help_lists_every_flag_and_env_var(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--help"])
    assert caught.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    for flag, _, env in TABLE + [("--config", "config", "SCHEDULER_EXTENDER_CONFIG")]:
        assert f"{flag} " in out
        assert env in out.replace("- ", "-")
    assert "(default 30s; env SCHEDULER_EXTENDER_INDEX_TTL)" in out
    assert "(default 256Mi; env SCHEDULER_EXTENDER_MAX_BODY_SIZE)" in out


# The CLI

@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SCHEDULER_EXTENDER_"):
            monkeypatch.delenv(name)


def test_cli_config_error_exits_2(clean_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--alluxio-proxy", PROXY, "--index-ttl", "abc"])
    assert caught.value.code == 2
    assert capsys.readouterr().err == (
        'scheduler-extender: --index-ttl: "abc" is not a duration (use 50ms, 30s, 5m, 1h)\n')


def test_cli_reads_env(clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SCHEDULER_EXTENDER_THREADS", "0")
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--alluxio-proxy", PROXY])
    assert caught.value.code == 2
    assert capsys.readouterr().err == 'scheduler-extender: SCHEDULER_EXTENDER_THREADS: "0" must be at least 1\n'


def test_cli_serves_with_settings(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Settings] = []
    monkeypatch.setattr(cli.ExtenderServer, "run", lambda self: served.append(self.settings))
    cli.main(["serve", "--alluxio-proxy", PROXY, "--threads", "8"])
    assert served == [Settings(alluxio_proxy=PROXY, threads=8)]


def test_gunicorn_runs_one_worker_of_ours_and_creates_the_app_after_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[Settings] = []
    def create_app(settings: Settings, inputs: object) -> str:
        created.append(settings)
        return "wsgi-app"

    monkeypatch.setattr(cli, "create_app", create_app)
    settings = Settings(alluxio_proxy=PROXY, bind="[::]:9999", threads=6, log_level="debug")

    server = cli.ExtenderServer(settings, open_inputs(settings))
    cfg = server.cfg
    assert (cfg.workers, cfg.worker_class_str, cfg.threads) == (1, "scheduler_extender.worker.ExtenderWorker", 6)
    assert cfg.bind == ["[::]:9999"]
    assert cfg.keepalive > 90  # kube-scheduler's Go client drops idle connections after 90 s
    assert cfg.preload_app is False
    assert cfg.accesslog is None
    assert cfg.loglevel == "debug"
    assert cfg.control_socket_disable is True
    assert created == []  # nothing built before gunicorn forks

    assert server.load() == "wsgi-app"
    assert created == [settings]


def test_namespaces_are_namespace_names() -> None:
    kube = ("--kubernetes", "kubeconfig")
    s = load(*kube, "--worker-namespace", "alluxio", "--prefetch-namespaces", "spark-a, spark-b,spark-a")
    assert (s.worker_namespace, s.prefetch_namespaces) == ("alluxio", ("spark-a", "spark-b"))
    assert error_of(*kube, "--worker-namespace", "Alluxio") == (
        '--worker-namespace: "Alluxio" is not a namespace name (lower-case letters, digits and \'-\', at most 63)')
    assert error_of(*kube, "--prefetch-namespaces", ",") == '--prefetch-namespaces: "," names no namespace (e.g. ' \
        'spark-jobs,spark-etl)'
    assert error_of("--worker-namespace", "alluxio") == (
        '--worker-namespace: "alluxio" is only used with --kubernetes in-cluster or kubeconfig')
