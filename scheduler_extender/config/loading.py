"""From what an operator gave to Settings: defaults < YAML file (`--config` / `SCHEDULER_EXTENDER_CONFIG`) < env
vars < flags, then the rules between settings. Every value from every source is parsed, even one a higher source
overrides, so a bad line in a file fails now rather than on the day its override is removed. Errors name the
setting the way it was given."""
from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .settings import BY_ATTR, BY_NAME, CONFIG, SPECS, Settings, Spec


class ConfigError(Exception):
    """A setting is missing, malformed or out of range; the message names it as the operator wrote it."""


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
    for spec in (CONFIG, *SPECS):
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
    if CONFIG.attr in given_flags:
        config_path = _parse(CONFIG, given_flags[CONFIG.attr], CONFIG.flag).value
    elif CONFIG.env in env:
        config_path = _parse(CONFIG, env[CONFIG.env], CONFIG.env).value

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
        spec = BY_NAME.get(key) if isinstance(key, str) else None
        if spec is None:
            close = difflib.get_close_matches(str(key), BY_NAME, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; known settings: {', '.join(BY_NAME)}"
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
    for attr in ("worker_namespace", "prefetch_namespaces"):
        given = chosen.get(attr)
        if given is not None and settings.kubernetes == "off":
            raise ConfigError(f"{given.where}: {_quote(given.text)} is only used with --kubernetes in-cluster or "
                              f"kubeconfig")
    cert, key, client_ca = (chosen.get(a) for a in ("tls_cert_file", "tls_private_key_file", "tls_client_ca_file"))
    if cert is not None and key is None:
        raise ConfigError(f"{cert.where}: {_quote(cert.text)} needs --tls-private-key-file too")
    if key is not None and cert is None:
        raise ConfigError(f"{key.where}: {_quote(key.text)} needs --tls-cert-file too")
    if client_ca is not None and cert is None:
        raise ConfigError(f"{client_ca.where}: {_quote(client_ca.text)} is only used when serving HTTPS: "
                          f"set --tls-cert-file and --tls-private-key-file")
    for attr in ("locality_access", "metrics_access"):
        if getattr(settings, attr) == "client-cert" and client_ca is None:
            raise ConfigError(f"{_named(attr, chosen)} needs --tls-client-ca-file to verify client certificates")
    if settings.max_buffered_bytes < settings.max_body_size:
        raise ConfigError(
            f"{_named('max_buffered_bytes', chosen)} must be at least the body limit "
            f"({_named('max_body_size', chosen, separator=' ')}), or the largest body accepted could never be held")
    if settings.max_staleness < settings.index_ttl:
        raise ConfigError(
            f"{_named('max_staleness', chosen)} must be at least the index TTL "
            f"({_named('index_ttl', chosen, separator=' ')})")


def _named(attr: str, chosen: Mapping[str, _Given], separator: str = ": ") -> str:
    """A setting and its value as the operator gave it, or as the default if they did not."""
    given = chosen.get(attr)
    if given is None:
        spec = BY_ATTR[attr]
        return f"{spec.flag} default {spec.default}"
    return f"{given.where}{separator}{_quote(given.text)}"
