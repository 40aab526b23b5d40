"""Small builders shared by the tests: recorded scheduler bodies and pods with our annotation."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from scheduler_extender.workload import PATHS_ANNOTATION

DATA = Path(__file__).parent / "data"


def recorded(name: str) -> dict[str, Any]:
    """A body a real kube-scheduler sent: 'prioritize-nodecachecapable-true' or 'filter-nodecachecapable-false'."""
    return json.loads((DATA / f"{name}.json").read_text())


def with_paths(body: dict[str, Any], paths: str) -> dict[str, Any]:
    """A copy of `body` whose pod carries the paths annotation."""
    body = copy.deepcopy(body)
    body["Pod"]["metadata"].setdefault("annotations", {})[PATHS_ANNOTATION] = paths
    return body


def names_body(nodes: list[str], paths: str | None = None) -> dict[str, Any]:
    """The recorded NodeNames-mode body with other candidates (and optionally the annotation)."""
    body = recorded("prioritize-nodecachecapable-true")
    body["NodeNames"] = nodes
    return with_paths(body, paths) if paths is not None else body


def scores_of(ranking: list[dict[str, Any]], candidates: list[str]) -> list[int]:
    """Each candidate's score as kube-scheduler reads a HostPriorityList: a host left out scores 0. Also checks
    the list names only candidates, once each, in candidate order."""
    hosts = [entry["Host"] for entry in ranking]
    assert hosts == [c for c in candidates if c in set(hosts)], f"{hosts} are not candidates in order"
    given = {entry["Host"]: entry["Score"] for entry in ranking}
    assert 0 not in given.values(), "a listed host scores 0: it should have been left out"
    return [given.get(c, 0) for c in candidates]
