"""Where each Spark application's executors are: what an executor's score needs beside its input's bytes
(scoring.deficits), for every front end alike.

Two feeds (docs/placement.md has the measurement that chose them):
- the pod watch (prefetch.py's, of Spark's pods): executors bound to a node (spec.nodeName), the truth, a few
  milliseconds after each bind;
- the extender's own answers: the candidate it scored highest for an executor, standing in for it until the
  watch sees that executor bound. kube-scheduler scores the pods of a burst one after another and binds each
  in the background, so the next executor of an app is scored before the watch has seen the last one bound.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import scoring
from .metrics import Metrics
from .workload import executor_app

ANSWER_TTL = 30.0
"""Seconds an answer stands for an executor the watch has not seen bound: kube-scheduler binds within
milliseconds, unless the pod failed to bind or was deleted meanwhile."""

@dataclass(frozen=True, slots=True)
class ExecutorPod:
    app: str
    node: str


def summarize_executor(pod: dict[str, Any]) -> ExecutorPod | None:
    """An executor bound to a node and not finished; None otherwise (it holds no place an executor could use)."""
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    app, node = executor_app(metadata.get("labels")), spec.get("nodeName")
    if app is None or not node or status.get("phase") in ("Succeeded", "Failed"):
        return None
    return ExecutorPod(app, node)


@dataclass
class _App:
    """One application's executors: bound as the watch has them, answered (node, expiry) until it does."""

    bound: dict[str, str] = field(default_factory=dict)
    answers: dict[str, tuple[str, float]] = field(default_factory=dict)
    """In the order answered, so in the order they expire."""
    nodes: Counter[str] = field(default_factory=Counter)
    """Executors per node, bound and answered."""


class ExecutorBook:
    """Thread-safe. `bound` is the watch's feed, `answered` the extender's; `remember`
    False ignores the answers (--app-placement watch)."""

    def __init__(self, *, remember: bool, metrics: Metrics | None = None, ttl: float = ANSWER_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._remember = remember
        self._metrics = metrics
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._apps: dict[str, _App] = {}
        self._app_of: dict[str, str] = {}
        """The app of each bound executor, by pod key, for the watch's deletions."""
        self._swept = clock()

    def bound(self, key: str, pod: ExecutorPod | None) -> None:
        """The watch saw executor `key` (namespace/name) bound to `pod.node`, or gone (None)."""
        with self._lock:
            app = self._app_of.pop(key, None)
            if app is not None:
                state = self._apps[app]
                self._take(state, state.bound.pop(key))
                self._drop_if_empty(app)
            if pod is None:
                return
            state = self._apps.setdefault(pod.app, _App())
            answer = state.answers.pop(key, None)
            if answer is not None:
                self._take(state, answer[0])
                self._count_answer("confirmed" if answer[0] == pod.node else "contradicted")
            state.bound[key] = pod.node
            state.nodes[pod.node] += 1
            self._app_of[key] = pod.app

    def answered(self, app: str, key: str, node: str) -> None:
        """The extender scored `node` highest for executor `key` of `app`: it counts there until the watch
        sees where kube-scheduler bound it, or for ANSWER_TTL."""
        if not self._remember:
            return
        with self._lock:
            self._sweep()
            state = self._apps.setdefault(app, _App())
            if key in state.bound:
                return
            previous = state.answers.pop(key, None)
            if previous is not None:
                self._take(state, previous[0])
            state.answers[key] = (node, self._clock() + self._ttl)
            state.nodes[node] += 1

    def placed(self, app: str, key: str) -> tuple[dict[str, int], int]:
        """Executors of `app` per node, and in all, other than `key` itself (a pod scored again)."""
        with self._lock:
            state = self._apps.get(app)
            if state is None:
                return {}, 0
            self._expire(state)
            nodes = dict(state.nodes)
            mine = state.bound.get(key) or state.answers.get(key, (None,))[0]
            if mine is not None:
                nodes[mine] -= 1
            if self._metrics is not None:
                seen = self._metrics.app_executors_seen
                seen.labels("watch").inc(len(state.bound) - (key in state.bound))
                seen.labels("answer").inc(len(state.answers) - (key in state.answers))
            return nodes, len(state.bound) + len(state.answers) - (mine is not None)

    def place(self, app: str, key: str, node_bytes: Mapping[str, int], candidates: Container[str], *,
              record: bool = True) -> dict[str, int]:
        """What executor `key` of `app` is scored by, among `candidates`: each node's shortfall of its share of the
        app's executors (scoring.deficits). The candidate falling shortest is where the front end's answer sends
        it: it counts there until the watch says where it went (every front end calls this once per executor).
        `record` False: the answer is no placement (a dry-run admission) and is not counted."""
        nodes, placed = self.placed(app, key)
        shortfall = scoring.deficits(node_bytes, nodes, placed)
        top = max(((short, node) for node, short in shortfall.items() if node in candidates), default=None)
        if top is not None and record:
            self.answered(app, key, top[1])
        return shortfall

    def _expire(self, state: _App) -> None:
        now = self._clock()
        while state.answers:
            key, (node, expiry) = next(iter(state.answers.items()))
            if expiry > now:
                return
            del state.answers[key]
            self._take(state, node)
            self._count_answer("expired")

    def _sweep(self) -> None:
        """Every ANSWER_TTL, expire the answers of every app, and forget the apps left empty: an app whose
        executors were deleted before they were bound is never asked about again."""
        if self._clock() - self._swept < self._ttl:
            return
        self._swept = self._clock()
        for app, state in list(self._apps.items()):
            self._expire(state)
            self._drop_if_empty(app)

    @staticmethod
    def _take(state: _App, node: str) -> None:
        state.nodes[node] -= 1
        if not state.nodes[node]:
            del state.nodes[node]

    def _drop_if_empty(self, app: str) -> None:
        state = self._apps[app]
        if not state.bound and not state.answers:
            del self._apps[app]

    def _count_answer(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.executor_answers.labels(outcome).inc()
