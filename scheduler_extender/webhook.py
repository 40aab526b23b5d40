"""The admission webhook front end (POST /mutate): for any scheduler, the pod carries our preference itself.

    AdmissionReview ──► pod ──► Extender.cached_bytes (workload ──► index ──► placement) ──► Extender.toward
    (an executor: its app's deficits) ──► affinity terms ──► JSONPatch ──► AdmissionReview answer

It must never stand in the way of a pod's creation: whatever goes wrong inside a readable review (no data,
Alluxio slow, a bug) admits the pod unchanged, and is counted. The API server waits on it for each pod (its
timeoutSeconds), so it waits on Alluxio no longer than the request budget, as a scheduling call does: a
cold path admits the pod unchanged, while its fetch warms the index for the next executor.

An executor's terms are weighted by its application's deficits, as our scheduler's scores are (docs/placement.md).
A required term (--webhook-affinity required) names every node caching the input, whatever the deficits: a
node holding its share already is still where an executor should wait for room, not elsewhere.
The webhook sees each executor at its creation, before any of its burst is bound, so "already placed" here is:
the app's executors the watch has seen bound, and those this replica patched before, each counted on the node
it gave the most weight until the watch sees where the scheduler bound it (or for 30 s). That is a preference,
not a placement: the scheduler weighs it against its other plugins and may bind elsewhere; the watch then
corrects the count (`executor_answers_total{outcome="contradicted"}`). A dry-run creation counts nowhere.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson

from . import affinity
from .admission import ReviewError, parse_review, render_answer
from .extender import Extender
from .metrics import Metrics
from .protocol import Body

log = logging.getLogger(__name__)

VERB = "mutate"


class Webhook:
    """Stateless per request. `own_scheduler`: the schedulerName whose pods our extender scores already;
    `required`: add a required term too (for YuniKorn, which ignores preferred terms)."""

    def __init__(self, extender: Extender, metrics: Metrics, *, own_scheduler: str, required: bool) -> None:
        self._extender = extender
        self._metrics = metrics
        self._own_scheduler = own_scheduler
        self._required = required

    def mutate(self, body: Body) -> tuple[int, bytes]:
        """HTTP status and body answering one AdmissionReview: 400 with the reason when it is not one we can
        answer, else 200 allowing the pod, with our patch when there is one."""
        start = time.perf_counter()
        try:
            review = parse_review(body)
        except ReviewError as err:
            self._count(start, "bad_request")
            return 400, orjson.dumps({"Error": f"bad AdmissionReview: {err}"})
        try:
            decision, patch = self._decide(review.pod, record=not review.dry_run)
            outcome = "ok"
        except Exception:  # a bug: the pod is still admitted as it is, and the log has the traceback
            log.exception("internal error deciding the affinity of pod %s", _name(review.pod))
            decision, patch, outcome = "error", [], "error"
        self._metrics.webhook_pods.labels(decision).inc()
        self._count(start, outcome)
        return 200, render_answer(review.uid, patch)

    def _decide(self, pod: Mapping[str, Any] | None, *, record: bool) -> tuple[str, list[dict[str, Any]]]:
        """What to do with the pod (the decision counted) and the patch doing it; `record` False for a dry run,
        whose pod is never scheduled: it is not counted among its app's executors."""
        if pod is None:
            return "not_pod_creation", []
        spec = pod.get("spec")
        if isinstance(spec, dict) and spec.get("schedulerName") == self._own_scheduler:
            return "own_scheduler", []
        if isinstance(spec, dict) and spec.get("nodeName"):
            return "bound", []
        work, by_node = self._extender.cached_bytes(pod, None, scheduling=False)
        if not work.paths:
            return "no_paths", []
        weighted = affinity.weights(by_node)
        if not weighted:
            return "no_cached_bytes", []
        if work.driver:
            return "driver_away", affinity.affinity_patch(pod, affinity.preferred_terms(weighted, away=True))
        required = None
        if self._required and not affinity.has_required(pod):  # every node caching the input: room to wait for
            required = affinity.required_terms([node for node, _ in weighted])
        preferred = affinity.weights(self._extender.toward(work, by_node, None, record=record))
        return "patched", affinity.affinity_patch(pod, affinity.preferred_terms(preferred), required)

    def _count(self, start: float, outcome: str) -> None:
        self._metrics.request_seconds.labels(VERB).observe(time.perf_counter() - start)
        self._metrics.requests.labels(VERB, outcome).inc()


def _name(pod: Mapping[str, Any] | None) -> str:
    metadata = pod.get("metadata") if pod is not None else None
    if not isinstance(metadata, dict):
        return "?"
    return f"{metadata.get('namespace') or ''}/{metadata.get('name') or metadata.get('generateName') or ''}"
