"""What the fuzz test (tests/test_fuzz.py) and the fuzz run (benchmarks/fuzz_run.py) send, and how they judge
the answer. Shared so that the 100,000-input run tries the very inputs the suite tries, only more of them.

Inputs start from the bodies a real kube-scheduler sent (tests/data, both `nodeCacheCapable` modes) with our
annotations, and are mutated: values anywhere in the document replaced by other JSON, keys removed or
added, the annotations rewritten with path-like and hostile text, then sometimes the bytes themselves
truncated, spliced or replaced. /locality gets path and node query parameters of the same kinds.

The oracle: every answer is a 200, a 400 or (only for a body over the limit) a 413, always JSON; a 400 says
why in `Error`; a 200 to /prioritize ranks exactly the candidates sent, each 0..10, and a 200 to /filter
accounts for every candidate; a 200 never answers a body that is not JSON.
"""
from __future__ import annotations

import copy
import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from .bodies import ranking_problem, recorded
from .fake_alluxio import Block, FakeAlluxio, Loc

VERBS = ("filter", "prioritize")
PATHS = "alluxio-locality.io/paths"
REQUIRE = "alluxio-locality.io/require-local-worker"
MAX_QUERY = 3000
"""Bytes of query string at most: gunicorn refuses request lines over 4094 bytes itself (414, as HTML),
before the app sees them; that is HTTP framing, not the app's input."""

M = 1 << 20

PATH_FRAGMENTS = (
    "/data/sales/2026-11", "/data/sales", "/data", "/", "/data/clicks/part-0", "alluxio://master:19998/data/sales",
    "alluxio:///data", "ALLUXIO://m/data", "s3://bucket/data", "hdfs://nn/x", "relative/path", ".", "..",
    "/a/../../..", "//data//sales/", "/data/./sales", "/data/%2e%2e/x", "/data/sales?x=1#y", "/ünïcödé/路径",
    "/data/\x00nul", "/with space/x", "/" + "x" * 300, "/data/sales\n/data/clicks", " , ,\n", "alluxio://",
    "alluxio://[::1]:19998/data", "alluxio://host:notaport/x", "\ud7ff", "/%ZZ", "/a;b=c", "/data/sales/",
)


def load_dataset(fake: FakeAlluxio) -> None:
    """A little data on the recorded requests' nodes (node-1..node-5), so some answers score above 0."""
    for i in range(4):
        fake.add_file(f"/data/sales/2026-11/part-{i}", Block(64 * M, Loc("node-2")),
                      Block(32 * M, Loc(f"node-{i + 1}")))
    fake.add_file("/data/clicks/part-0", Block(16 * M, Loc("node-3"), Loc("node-5")))
    fake.add_file("/ünïcödé/路径", Block(8 * M, Loc("node-4")))


def seeds() -> list[dict[str, Any]]:
    """The recorded bodies, bare and annotated, in both modes."""
    bodies = []
    for name in ("prioritize-nodecachecapable-true", "filter-nodecachecapable-false"):
        bare = recorded(name)
        annotated = copy.deepcopy(bare)
        annotated["Pod"]["metadata"]["annotations"] = {PATHS: "/data/sales/2026-11, /data/clicks", REQUIRE: "true"}
        bodies += [bare, annotated]
    return bodies


_SEEDS = seeds()

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
path_text = st.lists(st.sampled_from(PATH_FRAGMENTS) | st.text(max_size=40), max_size=6).flatmap(
    lambda parts: st.sampled_from([",", "\n", ", ", ",\n"]).map(lambda sep: sep.join(parts)))
annotation_values = path_text | json_values | st.sampled_from(["true", "false", "TRUE", " true ", "yes", ""])
annotation_keys = st.sampled_from([PATHS, REQUIRE, "alluxio-locality.io/pathz", "alluxio-locality.io/", "other"]) \
    | st.text(max_size=30)


def _positions(doc: Any, trail: tuple = ()) -> list[tuple]:
    """Every place in the document, as the keys and indexes that lead there."""
    found = [trail]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _positions(value, trail + (key,))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _positions(value, trail + (i,))
    return found


def _set(doc: Any, trail: tuple, value: Any) -> Any:
    if not trail:
        return value
    parent = doc
    for step in trail[:-1]:
        parent = parent[step]
    parent[trail[-1]] = value
    return doc


def _remove(doc: Any, trail: tuple) -> Any:
    if not trail:
        return doc
    parent = doc
    for step in trail[:-1]:
        parent = parent[step]
    del parent[trail[-1]]
    return doc


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A recorded body with 0 to 4 mutations."""
    doc = copy.deepcopy(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(("replace", "remove", "annotate", "annotations", "names")))
        if kind == "annotate" and isinstance(doc, dict) and isinstance(doc.get("Pod"), dict) \
                and isinstance(doc["Pod"].get("metadata"), dict):
            annotations = doc["Pod"]["metadata"].setdefault("annotations", {})
            if isinstance(annotations, dict):
                annotations[draw(annotation_keys)] = draw(annotation_values)
        elif kind == "annotations" and isinstance(doc, dict) and isinstance(doc.get("Pod"), dict) \
                and isinstance(doc["Pod"].get("metadata"), dict):
            doc["Pod"]["metadata"]["annotations"] = draw(json_values)
        elif kind == "names" and isinstance(doc, dict):
            doc["NodeNames"] = draw(st.lists(st.text(max_size=12) | json_scalars, max_size=8) | json_values)
        else:
            trail = draw(st.sampled_from(_positions(doc)))
            doc = _remove(doc, trail) if kind == "remove" else _set(doc, trail, draw(json_values))
    return doc


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """Valid JSON of a mutated document, or those bytes broken: cut, spliced, a byte swapped, or noise."""
    text = json.dumps(draw(documents()), ensure_ascii=draw(st.booleans())).encode()
    how = draw(st.sampled_from(("as is", "as is", "as is", "cut", "splice", "swap", "noise", "nested")))
    if how == "cut":
        return text[:draw(st.integers(0, len(text)))]
    if how == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.binary(max_size=16)) + text[at:]
    if how == "swap" and text:
        at = draw(st.integers(0, len(text) - 1))
        return text[:at] + bytes([draw(st.integers(0, 255))]) + text[at + 1:]
    if how == "noise":
        return draw(st.binary(max_size=64))
    if how == "nested":
        depth = draw(st.integers(1, 2000))
        return b'{"Pod": {}, "NodeNames": ["n"], "x": ' + b"[" * depth + b"]" * depth + b"}"
    return text


@st.composite
def locality_queries(draw: st.DrawFn) -> str:
    """A query string of `path` and `node` parameters, sometimes with broken percent-escapes."""
    params = draw(st.lists(st.tuples(st.sampled_from(("path", "path", "node", "other")),
                                     st.sampled_from(PATH_FRAGMENTS) | st.text(max_size=30)), max_size=8))
    query = urllib.parse.urlencode(params, errors="surrogatepass")
    if draw(st.booleans()):
        query += draw(st.sampled_from(("&path=%ZZ", "&path=%ff%fe", "&path", "&&&", "&node=%00", "&path=/data%2F..")))
    return query[:MAX_QUERY]


@dataclass(frozen=True)
class Exchange:
    status: int
    content_type: str
    body: bytes
    seconds: float


class Client:
    """One keep-alive HTTP connection to the served extender, reopened when the server closes it."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port, self.timeout = port, timeout
        self._conn: http.client.HTTPConnection | None = None

    def send(self, method: str, target: str, body: bytes | None = None) -> Exchange:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (1, 2):
            conn = self._conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self._conn = conn
            start = time.perf_counter()
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._conn = None
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                conn.close()
                self._conn = None
            return Exchange(response.status, response.getheader("Content-Type") or "", data,
                            time.perf_counter() - start)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def problem(verb: str, sent: bytes | str, got: Exchange, limit: int) -> str | None:
    """What is wrong with the answer `got` to `sent` (a body, or /locality's query), or None if nothing."""
    if got.status not in (200, 400, 413):
        return f"HTTP {got.status}"
    if got.status == 413 and (verb == "locality" or len(sent) <= limit):
        return f"413 for {len(sent)} bytes, under the {limit}-byte limit"
    if not got.content_type.startswith("application/json"):
        return f"HTTP {got.status} answered as {got.content_type!r}"
    try:
        answer = json.loads(got.body)
    except ValueError:
        return f"HTTP {got.status} with a body that is not JSON: {got.body[:100]!r}"
    if got.status != 200:
        ok = isinstance(answer, dict) and isinstance(answer.get("Error"), str) and answer["Error"]
        return None if ok else f"HTTP {got.status} without an Error reason: {answer!r:.200}"
    if verb == "locality":
        ok = isinstance(answer, dict) and {"paths", "rejected", "nodes", "unresolvedWorkers"} <= set(answer)
        return None if ok else f"/locality answered {answer!r:.200}"
    try:
        candidates = _candidates(json.loads(sent))
    except (ValueError, TypeError, KeyError, AttributeError):
        return "200 to a body that is not an ExtenderArgs"
    return ranking_problem(answer, candidates) if verb == "prioritize" else _filter_problem(answer, candidates)


def _candidates(doc: dict[str, Any]) -> list[str]:
    if doc.get("NodeNames") is not None:
        return list(doc["NodeNames"])
    return [node["metadata"]["name"] for node in doc["Nodes"].get("items") or []]


def _filter_problem(answer: Any, candidates: list[str]) -> str | None:
    if not isinstance(answer, dict) or set(answer) != {"NodeNames", "Nodes", "FailedNodes",
                                                       "FailedAndUnresolvableNodes", "Error"}:
        return f"filter result {answer!r:.200} is not an ExtenderFilterResult"
    if answer["NodeNames"] is not None:
        passed = answer["NodeNames"]
    else:
        passed = [node["metadata"]["name"] for node in answer["Nodes"]["items"]]
    refused = {**answer["FailedNodes"], **answer["FailedAndUnresolvableNodes"]}
    if sorted(passed + list(refused)) != sorted(candidates):
        return f"filter passed {passed!r:.100} and refused {list(refused)!r:.100} of {candidates!r:.100}"
    return None
