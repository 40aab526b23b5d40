"""A fake kube-apiserver that is a real HTTP server on 127.0.0.1, answering LIST and WATCH of nodes and pods.

Enough of the real wire format for the official client (`kubernetes.client.CoreV1Api` with a `Configuration`
whose host is `fake.url`, no auth) and for our reflector:

- `GET /api/v1/nodes`, `GET /api/v1/pods`, `GET /api/v1/namespaces/{ns}/pods`: a `NodeList`/`PodList` whose
  `metadata.resourceVersion` is the current one and whose items lack `kind`/`apiVersion`, as the real server
  sends them. `GET /api/v1/nodes/{name}` and `GET /api/v1/namespaces/{ns}/pods/{name}` answer one object.
- Query parameters: `labelSelector` (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma is
  AND; `!=`/`notin` also match objects without the label, as in Kubernetes), `fieldSelector` (`=`, `==`, `!=` on
  `metadata.name`, `metadata.namespace`, and for pods `spec.nodeName`, `status.phase`, `status.podIP`, ...),
  `watch` and `allowWatchBookmarks` (parsed like Go's strconv.ParseBool; client 37.x sends `true`), `resourceVersion`,
  `timeoutSeconds`. IGNORED, on purpose: `limit` and `continue` (every list is answered whole, with no
  `continue` token), `resourceVersionMatch`, and a list's `resourceVersion` (lists always show the newest
  state; the real server would wait for, or refuse, a version newer than it has). `sendInitialEvents` is
  refused with 400 (streaming lists are not modelled).
- One global resourceVersion counter across kinds, as etcd's revision; every write bumps it and stamps the object
  with it; every object gets a `uid` (kept if the caller gave one) and a `creationTimestamp`.

Watch (`watch=true`): HTTP 200, `Content-Type: application/json`, chunked transfer encoding, one JSON event per
line and per chunk: `{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": {... with kind/apiVersion}}`.
- `resourceVersion` unset or "0": synthetic ADDED events for the current objects first, then live events
  (the documented "Get State and Start at Most Recent" / "Start at Any" semantics).
- `resourceVersion=N`: every retained event newer than N is replayed, then live events follow. An N newer than
  the newest version is simply waited for (the real watch cache waits about 3 s, then fails the watch with
  "Too large resource version"); not modelled.
- A selector is applied as the watch cache applies it: a MODIFIED object that stops matching reaches the watcher
  as DELETED, one that starts matching as ADDED; a DELETED event carries the last state with the deletion's
  resourceVersion.
- The stream ends cleanly (terminating chunk) after `timeoutSeconds`, or after `default_watch_timeout` (1800 s,
  the real `--min-request-timeout`) when none is given.
- BOOKMARK events are sent only by `send_bookmark()` and only to watches that asked for them
  (`allowWatchBookmarks=true`); their object is `{"kind", "apiVersion", "metadata": {"resourceVersion"}}`, as the
  API concepts page shows them.

410 Gone, as the real server does it: a watch from a resourceVersion older than the retained history is NOT an
HTTP error. The watch cache's `getAllEventsSinceLocked` returns `errors.NewResourceExpired(fmt.Sprintf("too old
resource version: %d (%d)", resourceVersion, oldest-1))` (kubernetes/kubernetes,
staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go), and the cacher turns that into a watcher that
emits one ERROR event ("To match the uncached watch implementation, once we have passed authn/authz/admission,
and successfully parsed a resource version, other errors must fail with a watch event of type ERROR, rather than
a directly returned error." -- .../storage/cacher/cacher.go, `return newErrWatcher(err), nil`). NewResourceExpired
is a Status with code 410 (http.StatusGone) and reason "Expired" (k8s.io/apimachinery/pkg/api/errors/errors.go).
So the client gets HTTP 200 and one line
`{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
"message":"too old resource version: X (Y)","reason":"Expired","code":410}}`, then the stream ends. Here Y is the
newest resourceVersion whose events were dropped by `compact()` (or by `history_limit`): a watch from X >= Y is
served, X < Y gets the ERROR event.

What the official Python client (kubernetes 37.0.2, kubernetes/watch/watch.py, upstream
kubernetes-client/python kubernetes/base/watch/watch.py) does with that ERROR event, as tests/test_fake_kube.py
proves against this server:
- `Watch().stream(api.list_node, resource_version=X, deserialize=False)`: raises `KeyError('raw_object')`. With
  deserialize=False the line is only `json.loads`-ed, but the ERROR branch then reads `event['raw_object']`, a key
  only `unmarshal_event` (the deserialize=True path) adds. The 410 never surfaces as an ApiException on this path.
- `deserialize=True` (the default in 37.x) with `timeout_seconds`: retries are disabled, so it raises
  `ApiException` with `status == 410` and `reason == "Expired: too old resource version: X (Y)"` at once.
- `deserialize=True` without `timeout_seconds`: it silently re-watches once from its last known resourceVersion
  (the one it was given, if no event arrived), gets the ERROR again, then raises the same ApiException(410).
  Two watch requests reach the server.
- Nothing ever yields the ERROR event to the caller. Our reflector (scheduler_extender/kube_watch.py) reads the
  stream itself and treats `code == 410` in an ERROR event as "list again".

Knobs: `compact()`, `drop_watches()`, `stop()`/`start()` (same port, state kept, like an apiserver restart),
`send_bookmark()`, `inject(...)` for HTTP error answers (faults.py). Counters: `calls(verb, kind)`; every request's
query is kept in `received`. `wait_watches(n)` lets a test wait until its watch is really open before it writes.
Unknown paths get the real 404 Status ("the server could not find the requested resource").
"""
from __future__ import annotations

import copy
import json
import queue
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .faults import Fault
from .loopback import CuttableServer, LoopbackServer, TrackedHandler

NODES, PODS = "nodes", "pods"
LIST, WATCH, GET, OTHER = "list", "watch", "get", "other"
ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"

_KIND = {NODES: "Node", PODS: "Pod"}
_RESOURCE = {"node": NODES, "nodes": NODES, "pod": PODS, "pods": PODS}
_START_RV = 1000
_DEFAULT_NAMESPACE = "default"
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}  # Go's strconv.ParseBool, which the apiserver uses
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}
_PATH = re.compile(r"^/api/v1/(?:(nodes|pods)|namespaces/([^/]+)/(pods))(?:/([^/]+))?/?$")
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "AlreadyExists", 410: "Expired", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout"}
_FIELDS = {
    NODES: {"metadata.name": ("metadata", "name"), "spec.unschedulable": ("spec", "unschedulable")},
    PODS: {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace"),
           "spec.nodeName": ("spec", "nodeName"), "spec.restartPolicy": ("spec", "restartPolicy"),
           "spec.schedulerName": ("spec", "schedulerName"), "spec.serviceAccountName": ("spec", "serviceAccountName"),
           "spec.hostNetwork": ("spec", "hostNetwork"), "status.phase": ("status", "phase"),
           "status.podIP": ("status", "podIP"), "status.nominatedNodeName": ("status", "nominatedNodeName")},
}


def resource_of(kind: str) -> str:
    """'Node', 'node', 'nodes' -> NODES; 'Pod', 'pod', 'pods' -> PODS."""
    try:
        return _RESOURCE[kind.lower()]
    except KeyError:
        raise ValueError(f"the fake serves nodes and pods, not {kind!r}") from None


def status_object(code: int, message: str, reason: str | None = None, details: dict | None = None) -> dict:
    """A metav1.Status as the apiserver encodes a failure."""
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason or _REASONS.get(code, "Unknown")}
    if details is not None:
        status["details"] = details
    status["code"] = code
    return status


# -- selectors ------------------------------------------------------------------------------------------------


class SelectorError(ValueError):
    pass


_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"
_SET_REQ = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_OP_REQ = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_EXISTS_REQ = re.compile(rf"^(!)?\s*({_KEY})$")


def parse_label_selector(text: str | None) -> Callable[[dict], bool]:
    """A predicate on a labels dict; raises SelectorError as the apiserver answers 400."""
    requirements: list[Callable[[dict], bool]] = []
    for part in _split_top_level(text or ""):
        part = part.strip()
        if not part:
            if text and text.strip():
                raise SelectorError(f"unable to parse requirement: empty requirement in {text!r}")
            continue
        if m := _SET_REQ.match(part):
            key, op = m[1], m[2]
            values = {v.strip() for v in m[3].split(",") if v.strip()}
            if not values:
                raise SelectorError(f"unable to parse requirement: for 'in', 'notin' operators, values set "
                                    f"can't be empty: {part!r}")
            requirements.append(_label_requirement(key, values, negated=op == "notin"))
        elif m := _OP_REQ.match(part):
            requirements.append(_label_requirement(m[1], {m[3]}, negated=m[2] == "!="))
        elif m := _EXISTS_REQ.match(part):
            requirements.append(_label_requirement(m[2], None, negated=bool(m[1])))
        else:
            raise SelectorError(f"unable to parse requirement: {part!r}")
    return lambda labels: all(req(labels) for req in requirements)


def _label_requirement(key: str, values: set[str] | None, *, negated: bool) -> Callable[[dict], bool]:
    """The labels have `key` with one of `values` (None: with any value), or, `negated`, do not: `!=` and
    `notin` match objects without the key, as in Kubernetes."""
    if values is None:
        return lambda labels: (key in labels) != negated
    return lambda labels: (key in labels and labels[key] in values) != negated


def parse_field_selector(text: str | None, resource: str) -> Callable[[dict], bool]:
    requirements: list[Callable[[dict], bool]] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([^=!]+?)\s*(==|=|!=)\s*(.*)$", part)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field_name, op, value = m[1].strip(), m[2], m[3].strip()
        path = _FIELDS[resource].get(field_name)
        if path is None:
            raise SelectorError(f'field label not supported: {field_name}')
        requirements.append(_field_requirement(_field_getter(path), value, negated=op == "!="))
    return lambda obj: all(req(obj) for req in requirements)


def _field_requirement(getter: Callable[[dict], str], value: str, *, negated: bool) -> Callable[[dict], bool]:
    return lambda obj: (getter(obj) == value) != negated


def _field_getter(path: tuple[str, str]) -> Callable[[dict], str]:
    def get(obj: dict) -> str:
        value = (obj.get(path[0]) or {}).get(path[1])
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)
    return get


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses: 'a in (x,y),b' -> ['a in (x,y)', 'b']."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts if text else []


# -- state ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    verb: str
    """LIST, WATCH, GET or OTHER."""
    resource: str | None
    """NODES, PODS, or None for an unknown path."""
    namespace: str | None
    path: str
    params: dict[str, str]
    """The query parameters, decoded (the last value wins when one is repeated)."""


@dataclass
class _Event:
    rv: int
    resource: str
    type: str
    obj: dict
    """The object after the write (for DELETED: its last state, stamped with the deletion's version)."""
    old: dict | None
    """The object before the write (MODIFIED and DELETED), to judge selector transitions."""


class _Watcher:
    def __init__(self, resource: str, namespace: str | None, labels: Callable[[dict], bool],
                 fields: Callable[[dict], bool], bookmarks: bool, connection: socket.socket) -> None:
        self.resource = resource
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.bookmarks = bookmarks
        self.connection = connection
        self.queue: queue.Queue[Any] = queue.Queue()

    def matches(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        metadata = obj.get("metadata") or {}
        if self.namespace is not None and metadata.get("namespace") != self.namespace:
            return False
        return self.labels(metadata.get("labels") or {}) and self.fields(obj)

    def convert(self, event: _Event) -> tuple[str, dict] | None:
        """The event this watcher sees, as the watch cache's cacheWatcher.convertToWatchEvent decides it."""
        if event.type == ADDED:
            return (ADDED, event.obj) if self.matches(event.obj) else None
        before = self.matches(event.old)
        if event.type == DELETED:
            return (DELETED, event.obj) if before else None
        now = self.matches(event.obj)
        if now and before:
            return MODIFIED, event.obj
        if now:
            return ADDED, event.obj
        if before and event.old is not None:
            gone = copy.deepcopy(event.old)
            gone["metadata"]["resourceVersion"] = str(event.rv)
            return DELETED, gone
        return None


_DROP = object()
"""Queued to a watcher: end the stream abruptly, without the terminating chunk."""


class FakeKube(LoopbackServer):
    """Start with `with FakeKube() as kube:`; point a `kubernetes.client.Configuration` at `kube.url`."""

    def __init__(self, *, history_limit: int | None = None, default_watch_timeout: float = 1800.0) -> None:
        """`history_limit`: keep at most this many events (like the watch cache's ring buffer); None: all of them
        until `compact()`. `default_watch_timeout`: seconds a watch lasts when the request names no
        timeoutSeconds."""
        super().__init__(_Handler, "fake-kube", fault_attributes=("verb", "kind"),
                         unmodelled_faults=("truncate", "garbage", "body"))
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[str, dict[tuple[str, str], dict]] = {NODES: {}, PODS: {}}
        self._rv = _START_RV
        self._floor = _START_RV
        self._history: list[_Event] = []
        self._history_limit = history_limit
        self._watchers: list[_Watcher] = []
        self.received: list[Received] = []
        self.default_watch_timeout = default_watch_timeout

    def _before_cut(self) -> None:
        self.drop_watches()

    # -- objects ----------------------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out (what a list answers now)."""
        with self._lock:
            return self._rv

    def add(self, kind: str, obj: dict) -> dict:
        """Create an object ('Node' or 'Pod'); `kind`/`apiVersion` in it are ignored; a pod without namespace goes
        to 'default'. Returns the stored object (with its resourceVersion and uid)."""
        resource = resource_of(kind)
        obj = self._clean(resource, obj)
        key = _key(obj)
        with self._lock:
            if key in self._objects[resource]:
                raise ValueError(f'{resource} "{key[1]}" already exists')
            obj["metadata"].setdefault("uid", str(uuid.uuid4()))
            obj["metadata"].setdefault("creationTimestamp", _now())
            self._write_locked(resource, ADDED, key, obj, None)
            return copy.deepcopy(obj)

    def modify(self, kind: str, obj: dict) -> dict:
        """Replace an existing object (matched by namespace and name); uid and creationTimestamp are kept."""
        resource = resource_of(kind)
        obj = self._clean(resource, obj)
        key = _key(obj)
        with self._lock:
            old = self._objects[resource].get(key)
            if old is None:
                raise KeyError(f'{resource} "{key[1]}" not found')
            for kept in ("uid", "creationTimestamp"):
                obj["metadata"][kept] = old["metadata"][kept]
            self._write_locked(resource, MODIFIED, key, obj, old)
            return copy.deepcopy(obj)

    def delete(self, kind: str, name: str, namespace: str | None = None) -> dict:
        """Remove an object; a pod's namespace defaults to 'default'. Returns its last state."""
        resource = resource_of(kind)
        key = ("" if resource == NODES else namespace or _DEFAULT_NAMESPACE, name)
        with self._lock:
            old = self._objects[resource].get(key)
            if old is None:
                raise KeyError(f'{resource} "{name}" not found')
            gone = copy.deepcopy(old)
            self._write_locked(resource, DELETED, key, gone, old)
            return copy.deepcopy(gone)

    def load(self, source: str | Path | dict) -> list[dict]:
        """Add every item of a NodeList/PodList/List (a path to a JSON file, or the parsed document)."""
        doc = json.loads(Path(source).read_text()) if isinstance(source, (str, Path)) else source
        list_kind = doc.get("kind", "")
        added = []
        for item in doc.get("items") or ():
            kind = item.get("kind") or list_kind.removesuffix("List")
            added.append(self.add(kind, item))
        return added

    def objects(self, kind: str) -> list[dict]:
        """Copies of the current objects of a kind, in key order."""
        resource = resource_of(kind)
        with self._lock:
            return [copy.deepcopy(obj) for _, obj in sorted(self._objects[resource].items())]

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        resource = resource_of(kind)
        key = ("" if resource == NODES else namespace or _DEFAULT_NAMESPACE, name)
        with self._lock:
            obj = self._objects[resource].get(key)
            return copy.deepcopy(obj) if obj is not None else None

    def _clean(self, resource: str, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        obj.pop("kind", None)
        obj.pop("apiVersion", None)
        metadata = obj.setdefault("metadata", {})
        if not metadata.get("name"):
            raise ValueError("an object needs metadata.name")
        if resource == NODES:
            metadata.pop("namespace", None)
        else:
            metadata.setdefault("namespace", _DEFAULT_NAMESPACE)
        return obj

    def _write_locked(self, resource: str, type_: str, key: tuple[str, str], obj: dict, old: dict | None) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        if type_ == DELETED:
            del self._objects[resource][key]
        else:
            self._objects[resource][key] = obj
        event = _Event(self._rv, resource, type_, copy.deepcopy(obj), copy.deepcopy(old) if old else None)
        self._history.append(event)
        if self._history_limit is not None:
            while len(self._history) > self._history_limit:
                self._floor = self._history.pop(0).rv
        for watcher in self._watchers:
            if watcher.resource == resource and (converted := watcher.convert(event)):
                watcher.queue.put(_wire_event(resource, *converted))

    # -- faults and knobs -------------------------------------------------------------------------------------

    def compact(self) -> int:
        """Forget every event so far, as an etcd compaction (or a watch cache that wrapped around) does: a watch
        from any resourceVersion older than the current one now gets the 410 ERROR event. Returns that version."""
        with self._lock:
            self._history.clear()
            self._floor = self._rv
            return self._floor

    def drop_watches(self) -> int:
        """Cut every open watch connection abruptly (no terminating chunk), as a load balancer or a crashing
        apiserver does. Returns how many were cut."""
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher.queue.put(_DROP)
            try:
                watcher.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(watchers)

    def send_bookmark(self) -> int:
        """Send a BOOKMARK with the current resourceVersion to every open watch that allowed bookmarks."""
        with self._lock:
            sent = 0
            for watcher in self._watchers:
                if watcher.bookmarks:
                    watcher.queue.put({"type": BOOKMARK, "object": {
                        "kind": _KIND[watcher.resource], "apiVersion": "v1",
                        "metadata": {"resourceVersion": str(self._rv)}}})
                    sent += 1
            return sent

    def open_watches(self, kind: str | None = None) -> int:
        with self._lock:
            return sum(1 for w in self._watchers if kind is None or w.resource == resource_of(kind))

    def wait_watches(self, count: int = 1, kind: str | None = None, timeout: float = 5.0) -> bool:
        """Wait until at least `count` watches (of `kind`) are registered: every later write reaches them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.open_watches(kind) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def inject(self, **fault: Any) -> Fault:
        """Add a Fault (faults.py) for list, watch or get requests, matching by `verb` (LIST, WATCH, GET) and `kind`
        (NODES or PODS, or 'Node'/'Pod'): a `status` is answered with a Status body, `drop` closes the connection
        unanswered; `truncate`, `garbage` and `body` are not modelled."""
        if fault.get("kind") is not None:
            fault["kind"] = resource_of(fault["kind"])
        return super().inject(**fault)

    def calls(self, verb: str, kind: str | None = None) -> int:
        """How many LIST, WATCH, GET (or OTHER) requests reached the server, for one kind or for all."""
        return self.faults.calls(verb=verb, **({} if kind is None else {"kind": resource_of(kind)}))

    def record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    # -- answers ----------------------------------------------------------------------------------------------

    def list_answer(self, resource: str, namespace: str | None, labels: Callable, fields: Callable) -> dict:
        """The NodeList or PodList a LIST answers."""
        probe = _Watcher(resource, namespace, labels, fields, False, None)  # type: ignore[arg-type]
        with self._lock:
            items = [copy.deepcopy(obj) for _, obj in sorted(self._objects[resource].items()) if probe.matches(obj)]
            version = self._rv
        return {"kind": f"{_KIND[resource]}List", "apiVersion": "v1",
                "metadata": {"resourceVersion": str(version)}, "items": items}

    def open_watch(self, resource: str, namespace: str | None, labels: Callable, fields: Callable,
                    bookmarks: bool, version: int | None, connection: socket.socket
                    ) -> tuple[_Watcher | None, list[dict]]:
        """Registers a watcher and returns the events it must be sent first; (None, [ERROR]) when expired."""
        watcher = _Watcher(resource, namespace, labels, fields, bookmarks, connection)
        with self._lock:
            if version is None:
                first = [_wire_event(resource, ADDED, obj) for _, obj in sorted(self._objects[resource].items())
                         if watcher.matches(obj)]
            elif version < self._floor:
                return None, [{"type": ERROR, "object": status_object(
                    410, f"too old resource version: {version} ({self._floor})", "Expired")}]
            else:
                first = [_wire_event(resource, *converted) for event in self._history
                         if event.rv > version and event.resource == resource
                         and (converted := watcher.convert(event))]
            self._watchers.append(watcher)
            self._changed.notify_all()
        return watcher, first

    def close_watch(self, watcher: _Watcher) -> None:
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)
            self._changed.notify_all()


def _wire_event(resource: str, type_: str, obj: dict) -> dict:
    return {"type": type_, "object": {"kind": _KIND[resource], "apiVersion": "v1", **copy.deepcopy(obj)}}


def _key(obj: dict) -> tuple[str, str]:
    metadata = obj["metadata"]
    return metadata.get("namespace") or "", metadata["name"]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- HTTP -----------------------------------------------------------------------------------------------------


class _Handler(TrackedHandler):
    server: CuttableServer

    def do_GET(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        match = _PATH.match(url.path)
        if not match:
            fake.faults.count(verb=OTHER, kind=None)
            fake.record(Received(OTHER, None, None, url.path, params))
            self._json(404, status_object(404, "the server could not find the requested resource", details={}))
            return
        resource = match[1] or match[3]
        namespace = unquote(match[2]) if match[2] else None
        name = unquote(match[4]) if match[4] else None
        if resource == NODES and namespace is not None:  # not reachable through _PATH, kept for clarity
            namespace = None
        watching = params.get("watch", "")
        if watching and watching not in _TRUE | _FALSE:
            self._bad(OTHER, resource, namespace, url.path, params, f"invalid boolean value for watch: {watching}")
            return
        verb = GET if name is not None else WATCH if watching in _TRUE else LIST
        fake.record(Received(verb, resource, namespace, url.path, params))
        fault = self.take_fault(verb=verb, kind=resource)
        if fault is not None and fault.status is not None:
            self._json(fault.status, status_object(fault.status, "injected failure"))
            return
        if verb == GET:
            obj = fake.get(resource, name, namespace) if (resource == NODES) == (namespace is None) else None
            if obj is None:
                self._json(404, status_object(404, f'{resource} "{name}" not found',
                                              details={"name": name, "kind": resource}))
            else:
                self._json(200, {"kind": _KIND[resource], "apiVersion": "v1", **obj})
            return
        try:
            labels = parse_label_selector(params.get("labelSelector"))
            fields = parse_field_selector(params.get("fieldSelector"), resource)
        except SelectorError as err:
            self._json(400, status_object(400, str(err)))
            return
        raw_version = params.get("resourceVersion", "")
        if raw_version and not raw_version.isdigit():
            self._json(400, status_object(400, f'resourceVersion: Invalid value: "{raw_version}": '
                                               f'invalid resource version'))
            return
        if verb == LIST:
            self._json(200, fake.list_answer(resource, namespace, labels, fields))
            return
        if params.get("sendInitialEvents"):
            self._json(400, status_object(400, "sendInitialEvents (streaming lists) is not modelled by this fake"))
            return
        try:
            timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else fake.default_watch_timeout
        except ValueError:
            self._json(400, status_object(400, f"invalid timeoutSeconds: {params['timeoutSeconds']}"))
            return
        version = int(raw_version) if raw_version and raw_version != "0" else None
        self._watch(resource, namespace, labels, fields, params.get("allowWatchBookmarks", "") in _TRUE, version,
                    timeout)

    def do_POST(self) -> None:
        self._not_allowed()

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _not_allowed(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = urlsplit(self.path)
        self.server.fake.faults.count(verb=OTHER, kind=None)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        self.server.fake.record(Received(OTHER, None, None, url.path, params))
        if _PATH.match(url.path):
            self._json(405, status_object(405, "the server does not allow this method on the requested resource"))
        else:
            self._json(404, status_object(404, "the server could not find the requested resource", details={}))

    def _watch(self, resource: str, namespace: str | None, labels: Callable, fields: Callable, bookmarks: bool,
               version: int | None, timeout: float) -> None:
        fake = self.server.fake
        watcher, first = fake.open_watch(resource, namespace, labels, fields, bookmarks, version, self.connection)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in first:
                self._chunk(event)
            if watcher is None:  # expired: one ERROR event, then the stream ends
                self._end_chunks()
                return
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._end_chunks()
                    return
                try:
                    item = watcher.queue.get(timeout=remaining)
                except queue.Empty:
                    continue
                if item is _DROP:
                    self.close_connection = True
                    return
                self._chunk(item)
        except OSError:  # the client went away, or drop_watches cut the socket
            self.close_connection = True
        finally:
            if watcher is not None:
                fake.close_watch(watcher)

    def _chunk(self, event: dict) -> None:
        data = json.dumps(event, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _bad(self, verb: str, resource: str | None, namespace: str | None, path: str, params: dict[str, str],
             message: str) -> None:
        self.server.fake.faults.count(verb=OTHER, kind=resource)
        self.server.fake.record(Received(verb, resource, namespace, path, params))
        self._json(400, status_object(400, message))

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode() + b"\n"
        self.send_body(status, body, headers=(("Cache-Control", "no-cache, private"),))


def kubeconfig_file(fake: FakeKube, directory: Path) -> str:
    """A kubeconfig file in `directory` for the fake (no auth), for `serve --kubernetes kubeconfig`."""
    path = directory / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "{fake.url}"}}}}]
users: [{{name: nobody, user: {{}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: nobody}}}}]
current-context: fake
""")
    return str(path)


def kube_config(fake: FakeKube) -> Any:
    """A kubernetes.client.Configuration for the fake (no auth, no proxy)."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = fake.url
    return configuration


__all__ = (
    "FakeKube", "Fault", "Received", "NODES", "PODS", "LIST", "WATCH", "GET", "OTHER", "ADDED", "MODIFIED",
    "DELETED", "BOOKMARK", "ERROR", "kube_config", "kubeconfig_file", "status_object",
    "parse_label_selector", "parse_field_selector", "SelectorError", "resource_of",
)
