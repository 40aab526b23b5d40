"""The benchmark runner still runs: a quick pass of its request sections, whose every answer is checked
against the dataset's own truth (speed is reported by `python -m benchmarks`, never asserted here)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_run_answers_match_the_dataset(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick",
                          "--sections", "http,inprocess,naive,floor,webhook",
                          "--nodes", "100", "--duration", "0.2", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["errors"] == {}
    http = results["sections"]["http"]["cells"]
    assert len(http) == 8  # 2 verbs x 2 modes x 1 size x 2 workloads
    assert {row["answer"] for row in http} == {"ok"}
    assert {row["answer"] for row in results["sections"]["naive"]["cells"]} == {"ok"}
    assert len(results["sections"]["inprocess"]["cells"]) == 8
    floor = results["sections"]["floor"]  # the Go floor answers what we answer, and what the dataset says
    assert [row["answer"] for row in floor["cells"]] == [{"ours": "ok", "floor": "ok"}] * 2
    assert [(row["ours_answer"], row["floor_answer"]) for row in floor["nodes_mode"]["cells"]] == [("ok", "ok")] * 2
    webhook = results["sections"]["webhook"]["cells"]  # /mutate's patches name the dataset's top nodes, weighted
    assert [(row["workload"], row["answer"]) for row in webhook] == [("dir", "ok"), ("paths20", "ok")]
    report = (tmp_path / "results.md").read_text()
    assert "## Targets" in report and "## Against a naive peer" in report and "## Against the Go floor" in report
    assert "## Admission webhook" in report
