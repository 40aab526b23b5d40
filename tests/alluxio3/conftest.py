"""Fixtures of the Alluxio 3 ring suite (marker `alluxio3`): Alluxio 3's own client jars (313, from Maven Central
by fetch-alluxio3.sh, cached) and our RingOracle.java compiled against them. A failed fetch or compile is a
failure, not a skip: CI runs this suite on every change."""
from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.figures import report

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/alluxio3/" in str(item.path):
            item.add_marker(pytest.mark.alluxio3)


def note(line: str) -> None:
    report("Alluxio 3 ring oracle", line)


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Asks RingOracle (Alluxio's WorkerLocationPolicy) a request; see RingOracle.java for its form."""
    began = time.monotonic()
    fetched = subprocess.run(["bash", str(HERE / "fetch-alluxio3.sh")], check=True, stdout=subprocess.PIPE,
                             text=True).stdout
    cache = Path(fetched.strip().splitlines()[-1])
    note(f"fetch (cached after the first run): {time.monotonic() - began:.1f} s, {cache}")
    java = Path((cache / "java").read_text().strip())
    classpath = (cache / "classpath.txt").read_text().strip()
    classes = tmp_path_factory.mktemp("ring-oracle")
    subprocess.run([str(java.resolve().parent / "javac"), "-nowarn", "-encoding", "UTF-8", "-d", str(classes),
                    "-cp", classpath, str(HERE / "RingOracle.java")], check=True, capture_output=True)

    def ask(request: dict[str, Any]) -> dict[str, Any]:
        path = classes / "request.json"
        path.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
        started = time.monotonic()
        answer = subprocess.run([str(java), "-cp", f"{classpath}:{classes}", "RingOracle", str(path)], check=True,
                                stdout=subprocess.PIPE).stdout
        note(f"Alluxio {json.loads(answer)['version']} answered {len(request['paths'])} paths x "
             f"{len(request['sets'])} worker sets in {time.monotonic() - started:.1f} s")
        return json.loads(answer)

    return ask
