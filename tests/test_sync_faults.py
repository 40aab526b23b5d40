"""Faults of the sync process (the child of the serving process that fetches and decodes locations), against
the served extender: killed, hung, or orphaned by its worker's death. As in test_faults.py, scheduling calls
keep answering within the budget, from the last good data where there is some, the fault shows on /readyz
and /metrics, the service recovers by itself, and each test records its worst answer and its recovery."""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.bodies import names_body
from tests.support.fake_alluxio import FakeAlluxio
from tests.support.fault_probe import DATA, HEALTHY, NEUTRAL, NODES, WARM, Figure, Probe, serve
from tests.support.served import Served, children
from tests.support.waiting import eventually

UP = "scheduler_extender_sync_process_up"
RESTARTS = "scheduler_extender_sync_process_restarts_total"


def sync_pid(served: Served, timeout: float = 10.0) -> int:
    return eventually(lambda: children(served.worker_pid()), timeout, what="a sync process")[0]


def gone(pid: int) -> bool:
    """Exited (a zombie waiting for a reaper counts: it runs nothing and holds nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def metric(served: Served, name: str) -> float:
    return served.metrics().value(name)


def seconds_until(check: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds until `check()` holds."""
    started = time.monotonic()
    eventually(check, timeout, what=what)
    return time.monotonic() - started


def test_killed_sync_process_is_restarted_while_scores_are_served_stale(seeded_alluxio: FakeAlluxio,
                                                                       fault_figures: list[Figure]) -> None:
    figure = Figure("sync process killed")
    with serve(seeded_alluxio) as served:
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

        eventually(down, 10, what="503 from /readyz")
        assert "sync process" in seen[0] and "killed by signal SIGKILL" in seen[0], seen[0]
        eventually(lambda: warm.ask() == HEALTHY and served.get("/readyz")[0] == 200, 20, what="ready again")
        figure.recovery_s = time.monotonic() - killed
        figure.notes.append("recovery: killed → ready again")
        assert metric(served, UP) == 1 and metric(served, RESTARTS) == 1
        assert sync_pid(served) != old and gone(old)
        Probe(served, figure, names_body(NODES, DATA)).until(HEALTHY, since=time.monotonic())  # new paths fetch
    fault_figures.append(figure)


def test_hung_sync_process_never_delays_a_call_and_is_replaced(seeded_alluxio: FakeAlluxio,
                                                               fault_figures: list[Figure]) -> None:
    figure = Figure("sync process hung (SIGSTOP)")
    with serve(seeded_alluxio) as served:
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
    fault_figures.append(figure)


def test_the_sync_process_goes_with_its_worker(seeded_alluxio: FakeAlluxio, fault_figures: list[Figure]) -> None:
    figure = Figure("gunicorn worker killed (SIGKILL)")
    with serve(seeded_alluxio) as served:
        probe = Probe(served, figure, names_body(NODES, WARM))
        probe.until(HEALTHY, since=time.monotonic())
        worker, child = served.worker_pid(), sync_pid(served)
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()
        figure.notes.append(f"old sync process gone {seconds_until(lambda: gone(child), 10, 'exit'):.2f}s after")
        eventually(lambda: served.worker_pid() != worker, 20, what="new worker")
        assert sync_pid(served) != child
        eventually(lambda: served.get("/readyz")[0] == 200, 20, what="the new worker ready")  # booted: it serves
        probe.recover(HEALTHY, since=killed)  # a new worker, with a cold index, fetches again
        child = sync_pid(served)
    eventually(lambda: gone(child), 10, what="exit of the sync process once the server stopped")
    fault_figures.append(figure)


def test_a_sigterm_to_the_whole_process_group_stops_everything_quietly() -> None:
    """systemd's stop and `kill -- -PGID` signal every process of the group at once. The sync process must leave
    its end to the serving process: killed first, it was logged as an ERROR and restarted while shutting down."""
    demo = Path(__file__).resolve().parent.parent / "examples" / "demo" / "locations.json"
    with Served("--locations-file", str(demo)) as served:
        sync, worker = sync_pid(served), served.worker_pid()
        os.kill(sync, signal.SIGTERM)  # what the group's signal does to it, alone: ignored
        time.sleep(1.5)  # past the supervisor's ping round that would notice an exit
        assert not gone(sync) and metric(served, RESTARTS) == 0
        for pid in (served.process.pid, worker, sync):
            os.kill(pid, signal.SIGTERM)
        assert served.process.wait(20) == 0
        eventually(lambda: gone(sync), 10, what="the sync process gone with the serving process")
        assert "ERROR" not in served.output() and "Shutting down: Master" in served.output()
