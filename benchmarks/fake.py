"""The fake Alluxio of tests/support/fake_alluxio.py, loaded with the benchmark dataset and made fast enough to
serve it.

The fake builds each URIStatus as Python dicts and `json.dumps` it on every request, and a recursive
listing sorts every path it holds: with 1,000,000 blocks one directory answer (10,000 files, ~115 MB of
JSON) takes seconds, which would measure the fake rather than the extender. `IndexedFakeAlluxio`
subclasses it: the dataset goes in through the fake's own `add_file`, each file's status is the fake's own
`status(path)` encoded once, and list-status answers for files and for directories are served from those
bytes. `prepare()` checks that they are byte for byte what the fake itself answers (one file and one
directory). The handler, its request checks, call counting and faults are the fake's; it keeps no list of
the requests, which would grow by 100,000 entries per index build.
"""
from __future__ import annotations

import json
import time
from typing import Any

from tests.support.fake_alluxio import Block, FakeAlluxio, Loc

from .dataset import WORKLOADS, Spec, dir_path, generate, node_name, workload_paths


class IndexedFakeAlluxio(FakeAlluxio):
    def __init__(self) -> None:
        super().__init__(keep_requests=False)
        self.file_answers: dict[str, bytes] = {}
        """Each file's URIStatus, encoded."""
        self._answers: dict[str, bytes] = {}

    def prepare(self, directories: list[str]) -> dict[str, float]:
        """Encode every file's status, and the recursive listing of `directories`; check both against the
        fake's own answers. Returns timings."""
        started = time.perf_counter()
        paths = self.files()
        for path in paths:
            self.file_answers[path] = json.dumps(self.status(path)).encode()
        encoded = time.perf_counter()
        everything = sorted(paths + self.directories())
        for directory in directories:
            prefix = directory.rstrip("/") + "/"
            parts = []
            for path in everything:
                if path.startswith(prefix):
                    parts.append(self.file_answers.get(path) or json.dumps(self.status(path)).encode())
            self._answers[directory] = b"[" + b", ".join(parts) + b"]"
        joined = time.perf_counter()
        self._check(paths[0], directories[0])
        return {"encode_files_s": encoded - started, "join_directories_s": joined - encoded,
                "check_s": time.perf_counter() - joined}

    def _check(self, file: str, directory: str) -> None:
        for path in (file, directory):
            status, payload = super().answer_paths(path, "list-status", {"recursive": True})
            mine = self.answer_paths(path, "list-status", {"recursive": True})
            if status != 200 or mine != (status, json.dumps(payload).encode()):
                raise AssertionError(f"pre-encoded list-status of {path} differs from the fake's own answer")

    def encoded_bytes(self) -> int:
        return sum(map(len, self.file_answers.values())) + sum(map(len, self._answers.values()))

    def answer_size(self, path: str) -> int:
        return len(self._answers.get(path) or self.file_answers.get(path, b"")) + 2

    def answer_paths(self, path: str, action: str, options: Any) -> tuple[int, Any]:
        if action == "list-status" and path.startswith("/"):
            norm = "/" + "/".join(p for p in path.split("/") if p)
            if isinstance(options, dict) and options.get("recursive") is True and norm in self._answers:
                return 200, self._answers[norm]
            status = self.file_answers.get(norm)
            if status is not None:  # a file lists itself, recursive or not
                return 200, b"[" + status + b"]"
        return super().answer_paths(path, action, options)


class Truth:
    """Bytes per node of each directory and of each file the workloads read, from the generator: what the
    extender's answers must add up to."""

    def __init__(self) -> None:
        self.bytes: dict[str, dict[str, int]] = {}

    def of(self, paths: list[str]) -> dict[str, int]:
        total: dict[str, int] = {}
        for path in paths:
            for node, size in self.bytes[path].items():
                total[node] = total.get(node, 0) + size
        return total


def load(spec: Spec) -> tuple[IndexedFakeAlluxio, Truth, dict[str, Any]]:
    """A started fake holding the dataset, and the truth about it. Timings and sizes in the dict."""
    started = time.perf_counter()
    fake = IndexedFakeAlluxio()
    locs = [Loc(node_name(w)) for w in range(spec.workers)]
    truth = Truth()
    wanted = {p for w in WORKLOADS for pod in workload_paths(spec, w) for p in pod}
    per_dir: dict[int, dict[str, int]] = {}
    for d, path, blocks in generate(spec):
        fake.add_file(path, *[Block(length, *[locs[w] for w in holders]) for length, holders in blocks])
        held = per_dir.setdefault(d, {})
        mine: dict[str, int] = {}
        for length, holders in blocks:
            for w in holders:
                held[node_name(w)] = held.get(node_name(w), 0) + length
                mine[node_name(w)] = mine.get(node_name(w), 0) + length
        if path in wanted:
            truth.bytes[path] = mine
    for d, held in per_dir.items():
        truth.bytes[dir_path(d)] = held
    built = time.perf_counter()
    timings = fake.prepare([dir_path(d) for d in range(spec.dirs)])
    fake.start()
    return fake, truth, {"build_s": built - started, **timings, "encoded_bytes": fake.encoded_bytes(),
                         "directory_answer_bytes": fake.answer_size(dir_path(0)),
                         "file_answer_bytes": fake.answer_size(
                             next(p for p in sorted(wanted) if p in fake.file_answers))}
