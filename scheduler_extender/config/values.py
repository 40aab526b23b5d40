"""Text to setting value: the parsers of the Settings table (settings.py). Each takes stripped text and raises
ValueError with the reason only, a phrase that completes the sentence '<setting>: "<text>" ...'; loading.py adds
the setting's name as the operator gave it. Each also carries the JSON schema of the YAML values it takes, from
which the Helm chart's values.schema.json checks extender.settings (charts/generate.py writes it)."""
from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from ..locations import alluxio3_uri
from ..selectors import check_selector
from ..urls import base_url

T = TypeVar("T")


@dataclass(frozen=True)
class Parser(Generic[T]):
    """A parser, and the JSON schema of a YAML value it takes (as loading.py reads the file: text or a number).
    `exact`: the schema refuses everything the parser does; False where only the parser can tell (a file that
    does not exist, a selector's grammar), and the schema checks the type alone."""

    parse: Callable[[str], T]
    schema: Mapping[str, Any]
    exact: bool = True

    def __call__(self, text: str) -> T:
        return self.parse(text)


def _taking(schema: Mapping[str, Any], *, exact: bool = True) -> Callable[[Callable[[str], T]], Parser[T]]:
    def wrap(parse: Callable[[str], T]) -> Parser[T]:
        return Parser(parse, schema, exact)

    return wrap


_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<unit>ms|s|m|h)?")
_DURATION_UNITS = {"ms": Decimal("0.001"), "s": Decimal(1), None: Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
_SIZE = re.compile(r"(?P<number>[0-9]+)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?")
_SIZE_UNITS = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
               "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def duration(*, positive: bool) -> Parser[float]:
    """Seconds from `50ms`, `1.5s`, `5m`, `1h` or a bare number of seconds; never negative."""

    def parse(text: str) -> float:
        match = _DURATION.fullmatch(text)
        if not match and _DURATION.fullmatch(text[1:]) and text[0] == "-":
            raise ValueError("must not be negative")
        if not match:
            raise ValueError("is not a duration (use 50ms, 30s, 5m, 1h)")
        # Decimal keeps 50ms exactly 0.05 instead of 50 * 0.001.
        seconds = float(Decimal(match["number"]) * _DURATION_UNITS[match["unit"]])
        if positive and seconds <= 0:
            raise ValueError("must be more than 0")
        return seconds

    number: dict[str, Any] = {"type": "number", ("exclusiveMinimum" if positive else "minimum"): 0}
    # _DURATION's number; when positive, with some digit other than 0 (Go's regexp, which helm uses, has no
    # lookahead to say that shorter).
    number_text = (r"[0-9]*[1-9][0-9]*(\.[0-9]*)?|[0-9]*\.[0-9]*[1-9][0-9]*" if positive
                   else r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
    text = f"({number_text})(ms|s|m|h)?"
    return Parser(parse, {"anyOf": [{"type": "string", "pattern": f"^{text}$"}, number]})


def integer(*, minimum: int, maximum: int | None = None) -> Parser[int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ValueError("is not a whole number")
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}")
        return value

    bounds = {"minimum": minimum} | ({} if maximum is None else {"maximum": maximum})
    return Parser(parse, {"type": "integer", **bounds})


def byte_size(*, minimum: int) -> Parser[int]:
    """Bytes, with Kubernetes quantity suffixes: Ki, Mi, Gi, Ti are powers of 1024; k, M, G, T of 1000."""

    def parse(text: str) -> int:
        match = _SIZE.fullmatch(text)
        if not match:
            raise ValueError("is not a byte size (use 512Ki, 64Mi, 1G or a number of bytes)")
        value = int(match["number"]) * _SIZE_UNITS[match["unit"]]
        if value < minimum:
            raise ValueError(f"must be at least {minimum} bytes")
        return value

    # The text's minimum cannot be a pattern; the few values below it are refused by the extender at start.
    return Parser(parse, {"anyOf": [{"type": "string", "pattern": "^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$"},
                                    {"type": "integer", "minimum": minimum}]}, exact=False)


@_taking({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})
def open_fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError("is not a number") from None
    if not (math.isfinite(value) and 0 < value < 1):
        raise ValueError("must be between 0 and 1, exclusive")
    return value


def one_of(*choices: str) -> Parser[str]:
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(f"is not one of {', '.join(choices)}")
        return text.lower()

    return Parser(parse, {"type": "string", "pattern": f"^(?i:{'|'.join(map(re.escape, choices))})$"})


@_taking({"type": "string", "minLength": 1}, exact=False)
def label_selector(text: str) -> str:
    """A Kubernetes label selector (`role=alluxio-worker`, `spark-role`, `app in (a,b)`) in the API's grammar."""
    try:
        check_selector(text)
    except ValueError as error:
        raise ValueError(f"is not a label selector: {error}") from None
    return text


_HOST_PORT = re.compile(r"(?:\[(?P<ipv6>[^\]]*)\]|(?P<host>[^:\[\]\s]+)):(?P<port>[0-9]+)")


@_taking({"type": "string", "pattern": r"^(\[[0-9A-Fa-f:.]*\]|[^:\[\]\s]+):[0-9]+$"}, exact=False)
def host_port(text: str) -> str:
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


@_taking({"type": "string", "minLength": 1}, exact=False)
def readable_file(text: str) -> str:
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


_URL = (r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)(:[0-9]{1,5})?"
        r"(/[^?#\s,]*)?")
"""What urls.base_url takes, for the schema; a port past 65535 is left to the extender."""
url = Parser(base_url, {"type": "string", "pattern": f"^{_URL}$"}, exact=False)


@_taking({"type": "string", "pattern": f"^ *{_URL}( *, *{_URL})* *,? *$"}, exact=False)
def http_urls(text: str) -> tuple[str, ...]:
    """Comma-separated http(s) URLs, as alluxio.etcd.endpoints lists them."""
    urls = tuple(base_url(part.strip()) for part in text.split(",") if part.strip())
    if not urls:
        raise ValueError("names no URL (e.g. http://etcd-0:2379,http://etcd-1:2379)")
    return urls


_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A Kubernetes namespace name: a DNS-1123 label."""


@_taking({"type": "string", "pattern": f"^{_NAMESPACE.pattern}$"})
def namespace(text: str) -> str:
    if not _NAMESPACE.fullmatch(text):
        raise ValueError("is not a namespace name (lower-case letters, digits and '-', at most 63)")
    return text


@_taking({"type": "string", "pattern": f"^ *{_NAMESPACE.pattern}( *, *{_NAMESPACE.pattern})* *,? *$"})
def namespaces(text: str) -> tuple[str, ...]:
    """Comma-separated namespace names, each once."""
    names = tuple(dict.fromkeys(namespace(part.strip()) for part in text.split(",") if part.strip()))
    if not names:
        raise ValueError("names no namespace (e.g. spark-jobs,spark-etl)")
    return names


_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
"""A DNS-1123 subdomain, as Kubernetes names a scheduler (its length checked apart: at most 253)."""


@_taking({"type": "string", "maxLength": 253, "pattern": f"^{_SUBDOMAIN.pattern}$"})
def scheduler_name(text: str) -> str:
    if len(text) > 253 or not _SUBDOMAIN.fullmatch(text):
        raise ValueError("is not a scheduler name (lower-case letters, digits, '-' and '.', at most 253)")
    return text


@_taking({"type": "string", "minLength": 1}, exact=False)
def ufs_uri(text: str) -> str:
    """A UFS root as alluxio.dora.client.ufs.root takes it (s3://bucket/path, hdfs://nn:8020/path, /local/path)."""
    if not text:
        raise ValueError("is empty")
    try:
        alluxio3_uri.parse(text)
    except ValueError as error:
        raise ValueError(f"is not a URI Alluxio reads ({error})") from None
    return text


port = integer(minimum=1, maximum=65535)
text = Parser(str, {"type": "string"})
"""Any text (a name)."""
