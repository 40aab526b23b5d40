"""Faults of the sync process (the child of the serving process that fetches and decodes locations), against
the served extender: killed, hung, or orphaned by its worker's death. As in test_faults.py, scheduling calls
keep answering within the budget, from the last good data where there is some, the fault shows on /readyz
and /metrics, the service recovers by itself, and each test records its worst answer and its recovery."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.bodies import names_body
from tests.support.served import Served
from tests import test_faults
from tests.test_faults import DATA, HEALTHY, NEUTRAL, NODES, WARM, Figure, Probe, metric, serve

alluxio, figures = test_faults.alluxio, test_faults.figures  # its fixtures, found here by name

UP = "scheduler_extender_sync_process_up"
RESTARTS = "scheduler_extender_sync_process_restarts_total"


def children(pid: int) -> list[int]:
    """The child processes of `pid`, whichever of its threads started them."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            pass
    return found


def sync_pid(served: Served, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = children(served.worker_pid())
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no sync process in {timeout}s")


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for a reaper counts: it runs nothing and holds nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_for(check, timeout: float, what: str) -> float:
    """Seconds until `check()` holds."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"no {what} in {timeout}s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_killed_sync_process_is_restarted_while_scores_are_served_stale(alluxio: FakeAlluxio,
                                                                       figures: list[Figure]) -> None:
    figure = Figure("sync process killed")
    with serve(alluxio) as served:
        warm = Probe(served, figure, names_body(NODES, WARM))
        warm.until(HEALTHY, since=time.monotonic())
        old = sync_pid(served)
        assert metric(served, UP) == 1 and metric(served, RESTARTS) == 0
        os.kill(old, signal.SIGKILL)
        killed = time.monotonic()
        seen: list[str] = []

        def down() -> bool:
            assert warm.ask() == HEALTHY  # the last good data, while nothing can refresh it
            status, body = served.get("/readyz")
            if status == 503 and metric(served, UP) == 0:
                seen.append(body["status"])
            return bool(seen)

        wait_for(down, 10, "503 from /readyz")
        assert "sync process" in seen[0] and "killed by signal SIGKILL" in seen[0], seen[0]
        wait_for(lambda: warm.ask() == HEALTHY and served.get("/readyz")[0] == 200, 20, "ready again")
        figure.recovery_s = time.monotonic() - killed
        figure.notes.append("recovery: killed → ready again")
        assert metric(served, UP) == 1 and metric(served, RESTARTS) == 1
        assert sync_pid(served) != old and gone(old)
        Probe(served, figure, names_body(NODES, DATA)).until(HEALTHY, since=time.monotonic())  # new paths fetch
    figures.append(figure)


def test_hung_sync_process_never_delays_a_call_and_is_replaced(alluxio: FakeAlluxio, figures: list[Figure]) -> None:
    figure = Figure("sync process hung (SIGSTOP)")
    with serve(alluxio) as served:
        warm = Probe(served, figure, names_body(NODES, WARM))
        cold = Probe(served, figure, names_body(NODES, DATA))
        warm.until(HEALTHY, since=time.monotonic())
        hung = sync_pid(served)
        os.kill(hung, signal.SIGSTOP)
        stopped = time.monotonic()
        try:
            cold.hold(2.0, NEUTRAL)  # its fetch waits on the hung process; the call does not
            warm.hold(0.5, HEALTHY)
            cold.recover(HEALTHY, since=stopped)
        finally:
            if not gone(hung):
                os.kill(hung, signal.SIGKILL)
        figure.notes.append("recovery: stopped → killed as hung, replaced, the cold path fetched")
        assert metric(served, RESTARTS) == 1 and gone(hung)
    figures.append(figure)


def test_the_sync_process_goes_with_its_worker(alluxio: FakeAlluxio, figures: list[Figure]) -> None:
    figure = Figure("gunicorn worker killed (SIGKILL)")
    with serve(alluxio) as served:
        probe = Probe(served, figure, names_body(NODES, WARM))
        probe.until(HEALTHY, since=time.monotonic())
        worker, child = served.worker_pid(), sync_pid(served)
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()
        figure.notes.append(f"old sync process gone {wait_for(lambda: gone(child), 10, 'exit'):.2f}s after")
        wait_for(lambda: served.worker_pid() != worker, 20, "new worker")
        assert sync_pid(served) != child
        wait_for(lambda: served.get("/readyz")[0] == 200, 20, "the new worker ready")  # booted: it serves
        probe.recover(HEALTHY, since=killed)  # a new worker, with a cold index, fetches again
        child = sync_pid(served)
    wait_for(lambda: gone(child), 10, "exit of the sync process once the server stopped")
    figures.append(figure)
