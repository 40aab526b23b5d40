"""Where the TLS files of a rendering come from: which Secret key each file the extender and the scheduler read
is, for the chart with tls.enabled and for examples/tls alike. The layout they must follow is cert-manager's:
each Secret holds its own certificate and key and, as ca.crt, the CA that issued that certificate, so each side
trusts the other Secret's ca.crt, the one key mounted across."""
from __future__ import annotations

import posixpath
from typing import Any

Source = tuple[str, str]
"""(Secret name, key)."""

SECRET_KEYS = ("tls.crt", "tls.key", "ca.crt")


def secret_files(deployment: dict[str, Any]) -> dict[str, Source]:
    """File path -> its Secret and key, for every Secret volume the Deployment's one container mounts (all the
    Secret's keys, as files named so, unless the volume lists its items)."""
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    secrets = {volume["name"]: volume["secret"] for volume in spec.get("volumes", []) if "secret" in volume}
    files = {}
    for mount in container.get("volumeMounts", []):
        secret = secrets.get(mount["name"])
        if secret is None:
            continue
        items = secret.get("items") or [{"key": key, "path": key} for key in SECRET_KEYS]
        for item in items:
            files[posixpath.join(mount["mountPath"], item["path"])] = (secret["secretName"], item["key"])
    return files


def tls_sources(extender: dict[str, Any], settings: dict[str, str], scheduler: dict[str, Any],
                tls_config: dict[str, str]) -> dict[str, Source]:
    """The extender's TLS settings (tls-cert-file: path, ...) and the scheduler's tlsConfig fields (caFile: path,
    ...) -> the Secret key each path is; a path no Secret provides fails with a KeyError."""
    extender_files, scheduler_files = secret_files(extender), secret_files(scheduler)
    return {**{name: extender_files[path] for name, path in settings.items()},
            **{field: scheduler_files[path] for field, path in tls_config.items()}}


def cert_manager_layout(extender_secret: str, scheduler_secret: str, *, client_auth: bool = True) -> dict[str, Source]:
    """What tls_sources must be: the serving certificate from the extender's Secret, verified with its ca.crt; the
    client certificate from the scheduler's, verified with that one's ca.crt."""
    layout = {"tls-cert-file": (extender_secret, "tls.crt"), "tls-private-key-file": (extender_secret, "tls.key"),
              "caFile": (extender_secret, "ca.crt")}
    if client_auth:
        layout |= {"tls-client-ca-file": (scheduler_secret, "ca.crt"), "certFile": (scheduler_secret, "tls.crt"),
                   "keyFile": (scheduler_secret, "tls.key")}
    return layout


def mounted_across(deployment: dict[str, Any], others_secret: str) -> set[str]:
    """The keys of the other side's Secret that this Deployment mounts: {"ca.crt"} at most, never a private key."""
    return {key for secret, key in secret_files(deployment).values() if secret == others_secret}
