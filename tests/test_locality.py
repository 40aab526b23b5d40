from scheduler_extender.locality import node_bytes, worker_bytes
from scheduler_extender.locations.base import PathLocations, WorkerAddress as W

A1, A2, B1 = W("a", "10.1.0.1"), W("a", "10.1.0.2"), W("b")
NODE = {A1: "node-a", A2: "node-a", B1: "node-b"}


def test_block_on_two_workers_of_one_node_counts_once_for_it():
    entry = PathLocations(by_workers={(A1, A2): 100, (A1, B1): 10, (B1,): 5})
    assert node_bytes([entry], NODE.get) == {"node-a": 110, "node-b": 15}


def test_unresolved_workers_are_left_out_and_entries_add_up():
    entries = [PathLocations(by_workers={(W("gone"),): 7, (B1,): 1}), PathLocations(by_workers={(B1,): 2})]
    assert node_bytes(entries, NODE.get) == {"node-b": 3}


def test_worker_bytes():
    entry = PathLocations(by_workers={(A1, A2): 100, (A1,): 1})
    assert worker_bytes([entry]) == {A1: 101, A2: 100}
