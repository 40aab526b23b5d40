"""The extender's settings: one frozen `Settings` built from defaults, a YAML file, env vars and flags.

The fields of `Settings` are the one table of settings: each field's spec gives its flag, env var and
YAML key (all derived from one name), its default as an operator would write it, its parser and its help.
Rising precedence: defaults < YAML file (`--config` / `SCHEDULER_EXTENDER_CONFIG`) < env vars < flags.
Every value from every source is parsed, even one a higher source overrides, so a bad line in a file
fails now rather than on the day its override is removed. Errors name the setting the way it was given.
"""
from __future__ import annotations

import argparse
import difflib
import ipaddress
import json
import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import yaml

from .selectors import check_selector
from .locations import alluxio3_uri

ENV_PREFIX = "SCHEDULER_EXTENDER_"

ACCESS_MODES = ("open", "loopback", "client-cert", "off")
"""Who may call an operator endpoint (/locality, /metrics); see `Settings.locality_access`."""


class ConfigError(Exception):
    """A setting is missing, malformed or out of range; the message names it as the operator wrote it."""


@dataclass(frozen=True)
class Spec:
    """One setting: `name` is the flag without `--` and the YAML key; the env var is derived from it."""

    name: str
    parse: Callable[[str], Any]
    """Text to value; raises ValueError whose message completes the sentence '<setting>: "<text>" ...'."""
    default: str | None
    """As an operator would write it, so help shows `30s` rather than `30.0`."""
    metavar: str
    help: str
    attr: str = ""
    """The Settings attribute; filled in from the field name."""

    @property
    def flag(self) -> str:
        return "--" + self.name

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper().replace("-", "_")


# Parsers. Each takes stripped text and raises ValueError with the reason only; `_parse` adds the name.

_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<unit>ms|s|m|h)?")
_DURATION_UNITS = {"ms": Decimal("0.001"), "s": Decimal(1), None: Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
_SIZE = re.compile(r"(?P<number>[0-9]+)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?")
_SIZE_UNITS = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _duration(*, positive: bool) -> Callable[[str], float]:
    """Seconds from `50ms`, `1.5s`, `5m`, `1h` or a bare number of seconds; never negative."""

    def parse(text: str) -> float:
        match = _DURATION.fullmatch(text)
        if not match:
            raise ValueError("is not a duration (use 50ms, 30s, 5m, 1h)")
        # Decimal keeps 50ms exactly 0.05 instead of 50 * 0.001.
        seconds = float(Decimal(match["number"]) * _DURATION_UNITS[match["unit"]])
        if positive and seconds <= 0:
            raise ValueError("must be more than 0")
        return seconds

    return parse


def _integer(*, minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ValueError("is not a whole number")
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value

    return parse


def _byte_size(*, minimum: int) -> Callable[[str], int]:
    """Bytes, with Kubernetes quantity suffixes: Ki, Mi, Gi, Ti are powers of 1024; k, M, G, T of 1000."""

    def parse(text: str) -> int:
        match = _SIZE.fullmatch(text)
        if not match:
            raise ValueError("is not a byte size (use 512Ki, 64Mi, 1G or a number of bytes)")
        value = int(match["number"]) * _SIZE_UNITS[match["unit"]]
        if value < minimum:
            raise ValueError(f"must be at least {minimum} bytes")
        return value

    return parse


def _open_fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not (math.isfinite(value) and 0 < value < 1):
        raise ValueError("must be between 0 and 1, exclusive")
    return value


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(f"is not one of {', '.join(choices)}")
        return text.lower()

    return parse


def _label_selector(text: str) -> str:
    """A Kubernetes label selector (`role=alluxio-worker`, `spark-role`, `app in (a,b)`) in the API's grammar."""
    try:
        check_selector(text)
    except ValueError as error:
        raise ValueError(f"is not a label selector: {error}") from None
    return text


_HOST_PORT = re.compile(r"(?:\[(?P<ipv6>[^\]]*)\]|(?P<host>[^:\[\]\s]+)):(?P<port>[0-9]+)")


def _host_port(text: str) -> str:
    """`host:port`, with an IPv6 host in brackets (`[::]:8888`), as gunicorn binds it."""
    match = _HOST_PORT.fullmatch(text)
    if not match:
        raise ValueError("is not HOST:PORT (e.g. 0.0.0.0:8888, or [::]:8888 for IPv6)")
    if match["ipv6"] is not None:
        try:
            ipaddress.IPv6Address(match["ipv6"])
        except ValueError:
            raise ValueError("has no IPv6 address between the brackets") from None
    if not 1 <= int(match["port"]) <= 65535:
        raise ValueError("needs a port from 1 to 65535")
    return text


def _http_url(text: str) -> str:
    """An http(s) URL without query or fragment; a trailing `/` is dropped so callers can append paths."""
    try:
        parts = urlsplit(text)
        parts.port  # raises ValueError on a bad port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http(s) URL (e.g. http://alluxio-proxy:39999)")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return text.rstrip("/")


def _readable_file(text: str) -> str:
    """A path that opens for reading now, so a typo fails at startup instead of at the first sync."""
    if not os.path.exists(text):
        raise ValueError("does not exist")
    if not os.path.isfile(text):
        raise ValueError("is not a regular file")
    try:
        with open(text, "rb"):
            pass
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror})") from None
    return text


def _http_urls(text: str) -> tuple[str, ...]:
    """Comma-separated http(s) URLs, as alluxio.etcd.endpoints lists them."""
    urls = tuple(_http_url(part.strip()) for part in text.split(",") if part.strip())
    if not urls:
        raise ValueError("names no URL (e.g. http://etcd-0:2379,http://etcd-1:2379)")
    return urls


def _ufs_uri(text: str) -> str:
    """A UFS root as alluxio.dora.client.ufs.root takes it (s3://bucket/path, hdfs://nn:8020/path, /local/path)."""
    if not text:
        raise ValueError("is empty")
    try:
        alluxio3_uri.parse(text)
    except ValueError as error:
        raise ValueError(f"is not a URI Alluxio reads ({error})") from None
    return text


def _port(text: str) -> int:
    port = _integer(minimum=1)(text)
    if port > 65535:
        raise ValueError("must be at most 65535")
    return port


def _setting(name: str, parse: Callable[[str], Any], default: str | None, metavar: str, help: str) -> Any:
    """A Settings field whose metadata is its spec; its default is the parsed default text."""
    spec = Spec(name=name, parse=parse, default=default, metavar=metavar, help=help)
    return field(default=None if default is None else parse(default), metadata={"spec": spec})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the extender is configured with. Build it with `settings_from_args`, which validates; the
    constructor does not, so tests can make one directly."""

    bind: str = _setting(
        "bind", _host_port, "0.0.0.0:8888", "HOST:PORT",
        "address to serve kube-scheduler's extender calls on ([::]:PORT for IPv6)")
    alluxio_proxy: str | None = _setting(
        "alluxio-proxy", _http_url, None, "URL",
        "base URL of the Alluxio REST proxy that block locations are read from, e.g. http://alluxio-proxy:39999")
    alluxio_master: str | None = _setting(
        "alluxio-master", _http_url, None, "URL",
        "base URL of the Alluxio master's web port; only with --alluxio-proxy")
    locations_file: str | None = _setting(
        "locations-file", _readable_file, None, "PATH",
        "file of Alluxio URIStatus JSON to read block locations from instead of a proxy")
    node_map: str | None = _setting(
        "node-map", _readable_file, None, "PATH",
        "file mapping Alluxio worker hosts to Kubernetes node names")
    index_ttl: float = _setting(
        "index-ttl", _duration(positive=True), "30s", "DURATION",
        "how long the block locations of a path are used before they are fetched again")
    index_size: int = _setting(
        "index-size", _integer(minimum=1), "10000", "N",
        "most paths kept in the block-location index")
    request_budget: float = _setting(
        "request-budget", _duration(positive=False), "50ms", "DURATION",
        "longest a scheduling request waits for Alluxio before answering from what the index holds")
    max_staleness: float = _setting(
        "max-staleness", _duration(positive=False), "10m", "DURATION",
        "oldest block locations still used while Alluxio cannot be reached; at least --index-ttl")
    refresh_ahead: float = _setting(
        "refresh-ahead", _open_fraction, "0.8", "FRACTION",
        "fraction of --index-ttl after which a path still being asked about is refreshed in the background")
    alluxio_timeout: float = _setting(
        "alluxio-timeout", _duration(positive=True), "5s", "DURATION",
        "timeout of one request to Alluxio")
    alluxio_retries: int = _setting(
        "alluxio-retries", _integer(minimum=0), "2", "N",
        "retries of a failed request to Alluxio")
    fetch_threads: int = _setting(
        "fetch-threads", _integer(minimum=1), "4", "N",
        "threads fetching block locations from Alluxio")
    threads: int = _setting(
        "threads", _integer(minimum=1), "4", "N",
        "threads serving HTTP requests")
    max_paths_per_pod: int = _setting(
        "max-paths-per-pod", _integer(minimum=1), "1000", "N",
        "most paths read from one pod's annotation; the rest are ignored and counted (each path can cost an "
        "Alluxio call)")
    # 10,000 full Node objects (50 images, managedFields) as kube-scheduler sends them with
    # nodeCacheCapable: false come to 174.4 MiB (tests/support/full_nodes.py); 256Mi leaves a half again for bigger
    # labels, annotations and taints.
    max_body_bytes: int = _setting(
        "max-body-size", _byte_size(minimum=1024), "256Mi", "SIZE",
        "largest request body accepted, larger ones get 413: bytes, or with a suffix Ki, Mi, Gi (1024s) or "
        "k, M, G (1000s)")
    # kube-scheduler gives up on an extender call after its httpTimeout (5 s by default): a request still
    # arriving by then has no caller left waiting for it, and must not hold anything meanwhile.
    read_timeout: float = _setting(
        "read-timeout", _duration(positive=True), "5s", "DURATION",
        "longest a request may take to arrive whole, from its first byte (TLS handshake included), and an "
        "answer to be taken; slower ones are dropped and counted")
    log_level: str = _setting(
        "log-level", _one_of("debug", "info", "warning", "error"), "info", "LEVEL",
        "one of debug, info, warning, error")
    kubernetes: str = _setting(
        "kubernetes", _one_of("off", "in-cluster", "kubeconfig"), "off", "MODE",
        "watch nodes and Alluxio worker pods to map workers to nodes: off, in-cluster (service account) "
        "or kubeconfig")
    kubeconfig: str | None = _setting(
        "kubeconfig", _readable_file, None, "PATH",
        "kubeconfig file for --kubernetes kubeconfig (default: $KUBECONFIG, then ~/.kube/config)")
    worker_selector: str = _setting(
        "worker-selector", _label_selector, "role=alluxio-worker", "SELECTOR",
        "label selector of the Alluxio worker pods")
    prefetch_selector: str = _setting(
        "prefetch-selector", _label_selector, "spark-role", "SELECTOR",
        "label selector of the pods whose paths annotation warms the index as soon as they are created")
    resync_period: float = _setting(
        "resync-period", _duration(positive=True), "5m", "DURATION",
        "how often the Kubernetes watches list everything again, to mend any drift")
    tls_cert_file: str | None = _setting(
        "tls-cert-file", _readable_file, None, "PATH",
        "PEM certificate (chain) to serve HTTPS with; with --tls-private-key-file")
    tls_private_key_file: str | None = _setting(
        "tls-private-key-file", _readable_file, None, "PATH",
        "PEM private key of --tls-cert-file")
    tls_client_ca_file: str | None = _setting(
        "tls-client-ca-file", _readable_file, None, "PATH",
        "PEM CA bundle that client certificates are verified against; /filter and /prioritize then answer "
        "only callers presenting one (kube-scheduler's extenders[].tlsConfig certFile and keyFile), while "
        "/healthz and /readyz stay open to kubelet probes")
    locality_access: str = _setting(
        "locality-access", _one_of(*ACCESS_MODES), "open", "ACCESS",
        "who may GET /locality: open (anyone who reaches the port), loopback (this host or pod only, e.g. "
        "through kubectl port-forward), client-cert (a certificate --tls-client-ca-file verifies) or off")
    metrics_access: str = _setting(
        "metrics-access", _one_of(*ACCESS_MODES), "open", "ACCESS",
        "who may GET /metrics: open, loopback, client-cert or off, as --locality-access")
    alluxio3_etcd: tuple[str, ...] | None = _setting(
        "alluxio3-etcd", _http_urls, None, "URLS",
        "Alluxio 3: etcd endpoints holding its worker membership (alluxio.etcd.endpoints), comma-separated, "
        "e.g. http://etcd:2379; the ring follows them through a watch")
    alluxio3_static_workers: str | None = _setting(
        "alluxio3-static-workers", _readable_file, None, "PATH",
        "Alluxio 3: the file of worker host names of a static membership "
        "(alluxio.worker.static.membership.manager.config.file)")
    alluxio3_master: str | None = _setting(
        "alluxio3-master", _http_url, None, "URL",
        "Alluxio 3: base URL of the master's web port (19999) whose worker list is the membership (MASTER, "
        "Alluxio's default membership)")
    alluxio3_ufs_root: str | None = _setting(
        "alluxio3-ufs-root", _ufs_uri, None, "URI",
        "Alluxio 3: alluxio.dora.client.ufs.root, the UFS path the Alluxio namespace maps onto, e.g. "
        "s3://bucket/data; required with Alluxio 3")
    alluxio3_listing_file: str | None = _setting(
        "alluxio3-listing-file", _readable_file, None, "PATH",
        "Alluxio 3: JSON list of the workers' file infos (mPath, mUfsPath, mLength) to read files and lengths "
        "from, instead of the workers' HTTP API")
    alluxio3_cluster_name: str = _setting(
        "alluxio3-cluster-name", str, "DefaultAlluxioCluster", "NAME",
        "Alluxio 3: alluxio.cluster.name, which names its etcd key spaces")
    alluxio3_virtual_nodes: int = _setting(
        "alluxio3-virtual-nodes", _integer(minimum=1), "5", "N",
        "Alluxio 3: alluxio.user.consistent.hash.virtual.node.count.per.worker")
    alluxio3_hash_ring: str = _setting(
        "alluxio3-hash-ring", _one_of("live", "all"), "live", "WORKERS",
        "Alluxio 3: the workers on the ring: live (alluxio.user.dynamic.consistent.hash.ring.enabled=true, "
        "Alluxio's default) or all, lost ones too (false)")
    alluxio3_worker_http_port: int = _setting(
        "alluxio3-worker-http-port", _port, "28080", "PORT",
        "Alluxio 3: alluxio.worker.http.server.port of the workers in --alluxio3-static-workers")
    config: str | None = None
    """The YAML file the settings were read from, if any."""


SPECS: tuple[Spec, ...] = tuple(
    replace(f.metadata["spec"], attr=f.name) for f in fields(Settings) if "spec" in f.metadata)
_BY_NAME = {spec.name: spec for spec in SPECS}
_BY_ATTR = {spec.attr: spec for spec in SPECS}
_CONFIG = Spec(
    name="config", parse=_readable_file, default=None, metavar="PATH", attr="config",
    help="YAML file of settings keyed by flag name without the dashes")
"""Where the other settings may come from; not a key of that file itself."""


@dataclass(frozen=True)
class _Given:
    """A value an operator gave, with the text and the name they gave it under, for error messages."""

    value: Any
    text: str
    where: str


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _parse(spec: Spec, text: str, where: str) -> _Given:
    try:
        return _Given(spec.parse(text.strip()), text, where)
    except ValueError as error:
        raise ConfigError(f"{where}: {_quote(text)} {error}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--config` and every setting's flag. Flags default to absent, so precedence can tell a flag
    that was given from one that was not; values stay text until `settings_from_args` parses them."""
    group = parser.add_argument_group(
        "settings",
        "Each flag can also be set by its env var or by its name as a key in the --config YAML file. "
        "Flags beat env vars, which beat the file, which beats the defaults.")
    for spec in (_CONFIG, *SPECS):
        default = f"default {spec.default}" if spec.default is not None else "not set by default"
        group.add_argument(
            spec.flag, dest=spec.attr, metavar=spec.metavar, default=argparse.SUPPRESS,
            help=f"{spec.help} ({default}; env {spec.env})".replace("%", "%%"))


def settings_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """Settings from parsed flags (from a parser `add_arguments` set up), env vars and the YAML file.

    Env vars that start with SCHEDULER_EXTENDER_ but name no setting are ignored, not refused: Kubernetes
    injects SCHEDULER_EXTENDER_PORT, SCHEDULER_EXTENDER_SERVICE_HOST and the like into every pod of a
    namespace with a Service called scheduler-extender.
    """
    given_flags = vars(args)
    config_path: str | None = None
    if _CONFIG.attr in given_flags:
        config_path = _parse(_CONFIG, given_flags[_CONFIG.attr], _CONFIG.flag).value
    elif _CONFIG.env in env:
        config_path = _parse(_CONFIG, env[_CONFIG.env], _CONFIG.env).value

    chosen: dict[str, _Given] = _read_yaml(config_path) if config_path else {}
    for spec in SPECS:
        if spec.env in env:
            chosen[spec.attr] = _parse(spec, env[spec.env], spec.env)
    for spec in SPECS:
        if spec.attr in given_flags:
            chosen[spec.attr] = _parse(spec, given_flags[spec.attr], spec.flag)

    settings = Settings(config=config_path, **{attr: given.value for attr, given in chosen.items()})
    _check_together(settings, chosen)
    return settings


def _read_yaml(path: str) -> dict[str, _Given]:
    try:
        with open(path, encoding="utf-8") as file:
            document = yaml.safe_load(file)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: is not valid YAML: {error}") from None
    if document is None:  # empty, or only comments
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: must be a mapping of setting names to values, not {_yaml_kind(document)}")
    chosen: dict[str, _Given] = {}
    for key, value in document.items():
        spec = _BY_NAME.get(key) if isinstance(key, str) else None
        if spec is None:
            close = difflib.get_close_matches(str(key), _BY_NAME, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; known settings: {', '.join(_BY_NAME)}"
            raise ConfigError(f"{path}: unknown setting {_quote(str(key))}{hint}")
        where = f"{path}: {key}"
        # YAML reads `off`, `yes`, an empty value and `~` as booleans and null; refuse them rather than
        # let them through as the strings "False" or "None".
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(f"{where}: expected {spec.metavar}, got {_yaml_kind(value)}")
        chosen[spec.attr] = _parse(spec, str(value), where)
    return chosen


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()} (quote it if you meant text)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


_ALLUXIO3_MEMBERSHIP = ("alluxio3_etcd", "alluxio3_static_workers", "alluxio3_master")
"""Each makes the source Alluxio 3, its workers' membership read from there."""
_ALLUXIO3_OPTIONS = ("alluxio3_ufs_root", "alluxio3_listing_file", "alluxio3_cluster_name", "alluxio3_virtual_nodes",
                     "alluxio3_hash_ring", "alluxio3_worker_http_port")


def _check_together(settings: Settings, chosen: Mapping[str, _Given]) -> None:
    """Rules between settings, checked on the winning values; messages name each side as it was given."""
    proxy, snapshot = chosen.get("alluxio_proxy"), chosen.get("locations_file")
    alluxio3 = [chosen[attr] for attr in _ALLUXIO3_MEMBERSHIP if attr in chosen]
    sources = [given for given in (proxy, snapshot, *alluxio3) if given is not None]
    if not sources:
        raise ConfigError(
            "set one of --alluxio-proxy (read block locations from the Alluxio REST proxy), "
            "--locations-file (read them from a file), or for Alluxio 3 its worker membership: "
            "--alluxio3-etcd, --alluxio3-static-workers or --alluxio3-master")
    if len(sources) > 1:
        raise ConfigError(
            f"{sources[0].where} and {sources[1].where} are both set; set only one of --alluxio-proxy, "
            f"--locations-file, --alluxio3-etcd, --alluxio3-static-workers and --alluxio3-master")
    if alluxio3 and "alluxio3_ufs_root" not in chosen:
        raise ConfigError(f"{alluxio3[0].where} needs --alluxio3-ufs-root (Alluxio's alluxio.dora.client.ufs.root)")
    for attr in _ALLUXIO3_OPTIONS:
        given = chosen.get(attr)
        if given is not None and not alluxio3:
            raise ConfigError(f"{given.where}: {_quote(given.text)} is only used with Alluxio 3 (--alluxio3-etcd, "
                              f"--alluxio3-static-workers or --alluxio3-master), which is not set")
    kubeconfig = chosen.get("kubeconfig")
    if kubeconfig is not None and settings.kubernetes != "kubeconfig":
        raise ConfigError(f"{kubeconfig.where}: {_quote(kubeconfig.text)} is only used with --kubernetes kubeconfig")
    master = chosen.get("alluxio_master")
    if master is not None and proxy is None:
        raise ConfigError(f"{master.where}: {_quote(master.text)} is only used with --alluxio-proxy, which is not set")
    cert, key, client_ca = (chosen.get(a) for a in ("tls_cert_file", "tls_private_key_file", "tls_client_ca_file"))
    if (cert is None) != (key is None):
        given, missing = (cert, "--tls-private-key-file") if key is None else (key, "--tls-cert-file")
        raise ConfigError(f"{given.where}: {_quote(given.text)} needs {missing} too")
    if client_ca is not None and cert is None:
        raise ConfigError(f"{client_ca.where}: {_quote(client_ca.text)} is only used when serving HTTPS: "
                          f"set --tls-cert-file and --tls-private-key-file")
    for attr in ("locality_access", "metrics_access"):
        if getattr(settings, attr) == "client-cert" and client_ca is None:
            raise ConfigError(f"{_named(attr, chosen)} needs --tls-client-ca-file to verify client certificates")
    if settings.max_staleness < settings.index_ttl:
        raise ConfigError(
            f"{_named('max_staleness', chosen)} must be at least the index TTL "
            f"({_named('index_ttl', chosen, separator=' ')})")


def _named(attr: str, chosen: Mapping[str, _Given], separator: str = ": ") -> str:
    """A setting and its value as the operator gave it, or as the default if they did not."""
    given = chosen.get(attr)
    if given is None:
        spec = _BY_ATTR[attr]
        return f"{spec.flag} default {spec.default}"
    return f"{given.where}{separator}{_quote(given.text)}"
