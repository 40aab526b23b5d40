"""What a pod asks of us, read from its annotations and its Spark role: the Alluxio paths it will read. Pure."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

PATHS_ANNOTATION = "alluxio-locality.io/paths"
"""Comma- or newline-separated Alluxio paths or alluxio:// URIs; a directory stands for every file beneath."""

REQUIRE_LOCAL_WORKER_ANNOTATION = "alluxio-locality.io/require-local-worker"
""""true": the pod reads through the worker's domain socket, so it may only run where a worker is ready."""

SPARK_ROLE_LABEL = "spark-role"
"""Spark labels its pods `driver` or `executor` (every release since 2.3)."""

SPARK_APP_LABEL = "spark-app-selector"
"""Spark labels each pod with its application's id (every release since 2.3)."""

ANNOTATION_PREFIX = "alluxio-locality.io/"
_KNOWN = (PATHS_ANNOTATION, REQUIRE_LOCAL_WORKER_ANNOTATION)

_SEPARATORS = re.compile(r"[,\n]")


@dataclass(frozen=True, slots=True)
class Rejected:
    """An annotation entry we could not read, kept so the answer and the metrics can say why."""

    entry: str
    reason: str
    kind: str
    """A fixed code (scheme, relative, not_string) for metric labels."""


class PathError(ValueError):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Workload:
    """The pod's input: normalised absolute Alluxio paths, none beneath another, in annotation order."""

    pod: str
    paths: tuple[str, ...]
    rejected: tuple[Rejected, ...] = ()
    require_local_worker: bool = False
    driver: bool = False
    """A Spark driver (label spark-role=driver): it reads almost none of its app's input, and every CPU it takes
    on a node caching that input is an executor slot the app loses there."""
    app: str | None = None
    """A Spark executor's application (label spark-app-selector): its executors are placed together, each given
    where the others are (scoring.deficits)."""


def workload_of(pod: Mapping[str, Any]) -> Workload:
    """A pod without the annotations (or with unreadable ones) reads nothing we know of and needs no worker."""
    metadata = pod.get("metadata") or {}
    name = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"
    labels = metadata.get("labels")
    driver = isinstance(labels, dict) and labels.get(SPARK_ROLE_LABEL) == "driver"
    app = executor_app(labels)
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        unreadable: tuple[Rejected, ...] = () if annotations is None else (
            Rejected(repr(annotations)[:100], "metadata.annotations is not an object", "annotations_not_object"),)
        return Workload(pod=name, paths=(), rejected=unreadable, driver=driver, app=app)
    # A misspelt key of ours (alluxio-locality.io/pathz) would otherwise silently read nothing.
    rejected = [Rejected(f"{key}={value!r:.80}", f"{key} is not an annotation this extender knows "
                         f"({', '.join(_KNOWN)})", "unknown_annotation")
                for key, value in annotations.items() if key.startswith(ANNOTATION_PREFIX) and key not in _KNOWN]
    paths: tuple[str, ...] = ()
    text = annotations.get(PATHS_ANNOTATION)
    if isinstance(text, str):
        paths, bad = _parsed(text) if len(text) <= MEMO_TEXT else parse_paths(text)
        rejected.extend(bad)
    elif text is not None:
        rejected.append(Rejected(repr(text)[:100], f"{PATHS_ANNOTATION} is not a string", "not_string"))
    flag = annotations.get(REQUIRE_LOCAL_WORKER_ANNOTATION)
    required = isinstance(flag, str) and flag.strip().lower() == "true"
    if flag is not None and not required and not (isinstance(flag, str) and flag.strip().lower() == "false"):
        rejected.append(Rejected(repr(flag)[:100], f'{REQUIRE_LOCAL_WORKER_ANNOTATION} is not "true" or "false"',
                                 "bad_flag"))
    return Workload(pod=name, paths=paths, rejected=tuple(rejected), require_local_worker=required, driver=driver,
                    app=app)


def executor_app(labels: Any) -> str | None:
    """The application of a Spark executor pod with these labels; None for any other pod."""
    if not isinstance(labels, dict) or labels.get(SPARK_ROLE_LABEL) != "executor":
        return None
    app = labels.get(SPARK_APP_LABEL)
    return app if isinstance(app, str) and app else None


MEMO_TEXT = 16 << 10
"""Annotations up to this long are parsed once (`_parsed`): every executor of an app carries the same one, and
each pod is asked about twice (/filter, /prioritize). Longer ones are rare, and would crowd the memory."""


@lru_cache(maxsize=256)
def _parsed(text: str) -> tuple[tuple[str, ...], tuple[Rejected, ...]]:
    return parse_paths(text)


def parse_paths(text: str) -> tuple[tuple[str, ...], tuple[Rejected, ...]]:
    """Split, normalise and de-nest. A path beneath another listed path is dropped: its bytes are already counted."""
    found: dict[str, None] = {}
    rejected: list[Rejected] = []
    for raw in _SEPARATORS.split(text):
        entry = raw.strip()
        if not entry:
            continue
        try:
            found.setdefault(normalise(entry))
        except PathError as err:
            rejected.append(Rejected(entry[:200], str(err), err.kind))
    return tuple(p for p in found if not _beneath_another(p, found)), tuple(rejected)


def normalise(entry: str) -> str:
    """`/a//b/./c/` and `alluxio://master:19998/a/b/c` both become `/a/b/c`; other schemes are refused."""
    if "://" in entry:
        uri = urlsplit(entry)
        if uri.scheme.lower() != "alluxio":
            raise PathError("scheme", f"scheme {uri.scheme!r} is not alluxio://")
        path = unquote(uri.path) or "/"
    else:
        path = entry
    if not path.startswith("/"):
        raise PathError("relative", "not an absolute path")
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def _beneath_another(path: str, paths: Mapping[str, None]) -> bool:
    if "/" in paths and path != "/":
        return True
    cut = path.rfind("/")
    while cut > 0:
        path = path[:cut]
        if path in paths:
            return True
        cut = path.rfind("/")
    return False
