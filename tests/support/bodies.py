"""Small builders shared by the tests: recorded scheduler bodies and pods with our annotation."""
from __future__ import annotations

import copy
import json
from typing import Any

from scheduler_extender.workload import PATHS_ANNOTATION

from .paths import DATA


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


def ranking_problem(answer: Any, candidates: list[str]) -> str | None:
    """What makes `answer` no HostPriorityList for `candidates` as we answer it (None if nothing): entries
    naming candidates in candidate order, each at most once, with integer scores 1..10 (a host scoring 0 is
    left out, and kube-scheduler reads it as 0)."""
    if not isinstance(answer, list) or not all(isinstance(entry, dict) for entry in answer):
        return f"ranking {answer!r:.200} is not a HostPriorityList"
    hosts = [entry.get("Host") for entry in answer]
    listed = set(hosts)
    if len(listed) != len(hosts) or hosts != [c for c in candidates if c in listed]:
        return f"ranking {answer!r:.200} is not of the candidates {candidates!r:.200}"
    scores = [entry.get("Score") for entry in answer]
    if not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 10 for s in scores):
        return f"scores {scores!r:.200} are not integers 1..10 (a host scoring 0 is left out)"
    return None


def scores_of(ranking: list[dict[str, Any]], candidates: list[str]) -> list[int]:
    """Each candidate's score as kube-scheduler reads a HostPriorityList: a host left out scores 0. Fails the
    test when the list is not one (ranking_problem)."""
    problem = ranking_problem(ranking, candidates)
    assert problem is None, problem
    given = {entry["Host"]: entry["Score"] for entry in ranking}
    return [given.get(c, 0) for c in candidates]


def admission_review(pod: dict[str, Any], *, uid: str = "705ab4f5-6393-11e8-b7cc-42010a800002",
                     operation: str = "CREATE", resource: str = "pods", dry_run: bool = False) -> dict[str, Any]:
    """An AdmissionReview v1 as kube-apiserver sends a mutating webhook for `pod` (`dry_run`: for a creation
    with ?dryRun=All)."""
    namespace = pod["metadata"].get("namespace", "default")
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": resource},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": resource},
        "name": pod["metadata"].get("name", ""), "namespace": namespace, "operation": operation,
        "userInfo": {"username": "system:serviceaccount:spark:spark", "groups": ["system:serviceaccounts"]},
        "object": pod, "oldObject": None, "dryRun": dry_run,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}}
