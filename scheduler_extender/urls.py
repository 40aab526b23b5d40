"""The one check of the base URLs the extender is given (Alluxio's proxy and masters, etcd endpoints): http(s), a
host, no query or fragment. Its reasons complete the sentence '<the URL> ...', for config's messages and the
sources' own."""
from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")
"""A DNS name or IPv4 address as the URL gives it (urlsplit lets a space or `<` through as part of the host)."""


def base_url(text: str) -> str:
    """`text` without a trailing `/`, so callers can append paths; raises ValueError with the reason."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (reading it raises ValueError on a bad port)
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http(s) URL (e.g. http://alluxio-proxy:39999)")
    if not _good_host(parts.hostname):
        raise ValueError(f"has {parts.hostname!r} for a host, which is no host name or IP address")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return text.rstrip("/")


def _good_host(host: str) -> bool:
    if ":" in host:  # urlsplit took it from between brackets
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return bool(_HOST_NAME.fullmatch(host))
