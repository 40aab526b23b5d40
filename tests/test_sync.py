"""The pieces between the serving process and the sync process: the wire, the metrics relay, the loop helper.
(The process itself, served, is in test_sync_faults.py.)"""
import socket
import threading
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from scheduler_extender.background import Loop
from scheduler_extender.metrics import SourceMetrics
from scheduler_extender.sync.frames import Channel
from scheduler_extender.sync.relay import Relay, snapshot
from tests.support.waiting import eventually


def test_messages_cross_whole_and_a_closed_end_is_eof():
    ours, theirs = socket.socketpair()
    big = bytes(range(256)) * 4096  # 1 MiB: more than a socket buffer holds at once
    sender = threading.Thread(target=Channel(theirs).send, args=(("ok", 7, big, None),))
    sender.start()
    assert Channel(ours).receive() == ("ok", 7, big, None)
    sender.join()
    theirs.close()
    with pytest.raises(EOFError):
        Channel(ours).receive()


def test_a_message_that_is_no_tuple_is_refused():
    ours, theirs = socket.socketpair()
    theirs.sendall(b"\0\0\0\0\0\0\0\1" + b"N")  # marshal of None, announced as 1 byte
    with pytest.raises(ValueError):
        Channel(ours).receive()


def exported(relay):
    registry = CollectorRegistry()
    registry.register(relay)
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in generate_latest(registry).decode().splitlines() if not line.startswith("#")}


def test_relayed_counters_stay_monotonic_across_restarts():
    relay = Relay()
    first = SourceMetrics()
    first.alluxio_errors.labels("list_status", "timeout").inc(3)
    first.alluxio_seconds.labels("list_status").observe(0.2)
    relay.update(snapshot(first.registry))
    errors = 'scheduler_extender_alluxio_call_errors_total{operation="list_status",reason="timeout"}'
    assert exported(relay)[errors] == 3
    relay.restarted()  # that child is gone; the next one counts from 0
    second = SourceMetrics()
    second.alluxio_errors.labels("list_status", "timeout").inc()
    second.snapshot_loads.labels("ok").inc()
    relay.update(snapshot(second.registry))
    samples = exported(relay)
    assert samples[errors] == 4
    assert samples['scheduler_extender_alluxio_call_duration_seconds_count{operation="list_status"}'] == 1
    assert samples['scheduler_extender_snapshot_loads_total{outcome="ok"}'] == 1
    assert not any("_created" in name for name in samples)


def test_a_loop_outlives_a_failing_round_and_folds_wake_ups_into_one_round():
    rounds = []

    def round():
        rounds.append(time.monotonic())
        if len(rounds) == 1:
            raise RuntimeError("a bad round")

    loop = Loop("test", round, pause=0.3)
    loop.start()
    try:
        loop.wake()
        eventually(lambda: rounds, 5, interval=0.01, what="a first round")
        for _ in range(50):  # a burst, while the loop pauses after its first round
            loop.wake()
        time.sleep(0.6)
        assert len(rounds) == 2 and rounds[1] - rounds[0] >= 0.3
    finally:
        loop.close()
