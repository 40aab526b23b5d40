"""Volcano's extender plugin (volcano.sh/volcano, pkg/scheduler/plugins/extender) as a front end: parse its
predicate and prioritize requests, answer them from the middle kube-scheduler's verbs use (`Extender`), render.

The plugin POSTs `{urlPrefix}/{verb}` with bodies Go's encoding/json makes: PredicateRequest `{"task":T,"node":N}`,
PrioritizeRequest `{"task":T,"nodes":[N,...]}`. TaskInfo and NodeInfo have no JSON tags, so their keys are Go field
names: `T.Pod` is the v1.Pod, `N.Name` the node's name, `N.Node` its v1.Node, `N.Tasks` every pod on the node (skipped
here unbuilt, as is the rest). Answers: PredicateResponse `{"status":reason,"code":n}` (0 Success, 1 Error,
2 Unschedulable, 3 UnschedulableAndUnresolvable; a reason with code 0 counts as Error) and PrioritizeResponse
`{"nodeScore":{name:float},"errorMessage":""}`, where a null nodeScore or any message fails the call. Volcano adds
each node's score raw to its other plugins' scores; a node left out gets 0. Any status but 200 fails the call,
which `extender.ignorable: true` turns into "no opinion".
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import orjson

from . import scoring
from .extender import NO_LOCAL_WORKER, Extender
from .protocol import Body, NodeObject, ProtocolError, checked_pod

UNSCHEDULABLE_AND_UNRESOLVABLE = 3
"""api.UnschedulableAndUnresolvable: preempting pods would not bring a worker to the node."""

PASSED = b'{"status":"","code":0}'
REFUSED = orjson.dumps({"status": NO_LOCAL_WORKER, "code": UNSCHEDULABLE_AND_UNRESOLVABLE})
NO_SCORES = b'{"nodeScore":{},"errorMessage":""}'


class _Task(msgspec.Struct):
    Pod: dict[str, Any] | None = None


class _NodeInfo(msgspec.Struct):
    Name: str = ""
    Node: NodeObject | None = None


class _Predicate(msgspec.Struct):
    task: _Task | None = None
    node: _NodeInfo | None = None


class _Prioritize(msgspec.Struct):
    task: _Task | None = None
    nodes: list[_NodeInfo] | None = None


_PREDICATE = msgspec.json.Decoder(_Predicate)
_PRIORITIZE = msgspec.json.Decoder(_Prioritize)


class Volcano:
    """The verbs under /volcano; `max_score` is what the node caching the most of a pod's input scores."""

    def __init__(self, extender: Extender, max_score: float) -> None:
        self._extender = extender
        self._max_score = max_score

    def verbs(self) -> dict[str, Callable[[Body], bytes]]:
        """Each verb's path below the server's root, and its handler: body in, answer out."""
        return {"volcano/predicate": self.predicate, "volcano/prioritize": self.prioritize}

    def predicate(self, body: Body) -> bytes:
        """Called once per (task, node): refuses only a node without a ready worker to a pod requiring one."""
        request = _decoded(_PREDICATE, body)
        pod = _pod(request.task)
        if request.node is None:
            raise ProtocolError("node is null, expected a NodeInfo object")
        name = request.node.Name
        if not name:
            raise ProtocolError("node.Name is missing or empty, expected the node's name")
        return REFUSED if self._extender.workerless(pod, [name]) else PASSED

    def prioritize(self, body: Body) -> bytes:
        """Called once per task with its feasible nodes: scores the nodes caching its input (drivers: the others),
        an executor by its application's deficits (Extender.toward), as kube-scheduler's extender does."""
        request = _decoded(_PRIORITIZE, body)
        pod = _pod(request.task)
        infos = request.nodes or []
        names = [info.Name for info in infos]
        if not all(names):
            raise ProtocolError(f"nodes[{names.index('')}].Name is missing or empty, expected the node's name")
        objects: list[NodeObject] = [info.Node for info in infos if info.Node is not None]
        work, by_node = self._extender.cached_bytes(pod, names, objects if len(objects) == len(infos) else None)
        if not by_node:
            return NO_SCORES
        score = scoring.proportional_away if work.driver else scoring.proportional  # a driver is no app's executor
        return orjson.dumps({"nodeScore": score(names, self._extender.toward(work, by_node, names), self._max_score),
                             "errorMessage": ""})


def _decoded(decoder: msgspec.json.Decoder[Any], body: Body) -> Any:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as err:
        raise ProtocolError(str(err)[:300]) from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as err:
        raise ProtocolError(f"body is not valid JSON: {str(err)[:200]}") from None


def _pod(task: _Task | None) -> dict[str, Any]:
    if task is None:
        raise ProtocolError("task is null, expected a TaskInfo object")
    return checked_pod(task.Pod, "task.Pod")
