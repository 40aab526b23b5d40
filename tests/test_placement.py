"""Worker → node placement and bytes per node (placement.py), over entries in the form the sync process
sends them (entries.py)."""
import gc
import json
import random

import pytest

from scheduler_extender.entries import decode, encode, worker_bytes
from scheduler_extender.locations.base import PathLocations, WorkerSet
from scheduler_extender.locations.base import worker_address as W
from scheduler_extender.locations.uri_status import aggregate
from scheduler_extender.nodes import AddressBook
from scheduler_extender.placement import Placement
from tests.support.objects import make_node
from tests.support.waiting import eventually

A1, A2, B1 = W("a", "10.1.0.1"), W("a", "10.1.0.2"), W("b")
NODE = {A1: "node-a", A2: "node-a", B1: "node-b"}


def book(mapping):
    """A book placing each worker (by its containerHost, else its host) on the node given."""
    return AddressBook((worker[1] or worker[0], node) for worker, node in mapping.items())


def entry(by_workers, total=0, files=0):
    return decode(encode(PathLocations(by_workers=by_workers, total_bytes=total, files=files)))


def test_an_entry_survives_its_encoding():
    sent = PathLocations(by_workers={(A1, A2): 100, (A1, B1): 10, (B1,): 5}, total_bytes=200, files=3)
    got = decode(encode(sent))
    assert (got.cached_bytes, got.total_bytes, got.files) == (115, 200, 3)
    assert dict(zip(got.workers, got.worker_bytes, strict=True)) == {A1: 110, A2: 100, B1: 15}
    assert sorted((sorted(got.workers[i] for i in members), size) for members, size in got.shared_sets()) == \
        [([A1, A2], 100), ([A1, B1], 10)]
    with pytest.raises(ValueError):
        decode(b"not an entry")


def test_a_block_on_two_workers_of_one_node_counts_once_for_it():
    placement = Placement([book(NODE)])
    path = placement.prepare(entry({(A1, A2): 100, (A1, B1): 10, (B1,): 5}))
    assert placement.node_bytes([path], []) == {"node-a": 110, "node-b": 15}


def test_workers_the_shared_books_cannot_place_are_placed_by_the_request_once_per_node():
    gone = W("10.9.9.9")
    placement = Placement([book({B1: "node-b"})])
    path = placement.prepare(entry({(gone,): 7, (B1, gone): 3, (B1,): 1}))
    assert placement.node_bytes([path], ["node-b", "node-c"]) == {"node-b": 4}
    assert placement.node_bytes([path], ["node-b"], [make_node("node-b", internal_ip="10.9.9.9")]) == {"node-b": 11}
    assert placement.node_bytes([path], ["node-b", "node-c"], [make_node("node-b", internal_ip="10.0.0.2"),
                                                               make_node("node-c", internal_ip="10.9.9.9")]) \
        == {"node-b": 4, "node-c": 10}


def test_the_shared_books_win_over_the_request():
    placement = Placement([book({B1: "node-b"})])
    path = placement.prepare(entry({(B1,): 1}))
    assert placement.node_bytes([path], ["b"], [make_node("b", internal_ip="10.0.0.1")]) == {"node-b": 1}


def test_tables_of_several_paths_add_up():
    placement = Placement([book(NODE)])
    paths = [placement.prepare(entry({(B1,): 2})), placement.prepare(entry({(B1,): 3, (A1,): 1}))]
    assert placement.node_bytes(paths, []) == {"node-b": 5, "node-a": 1}


def test_bytes_per_node_are_what_each_block_gives_its_nodes():
    """Against a direct reading (each worker set's bytes to each distinct node of its workers), on random
    worker sets over workers of which some share a node, some are on none, and the rest are placed by
    the shared books or by the request's names."""
    rng = random.Random(7)
    workers = [W(f"w{i}", f"10.0.0.{i}") for i in range(30)]
    where = {worker: rng.choice(["n0", "n1", "n2", None, "names"]) for worker in workers}
    shared = {worker: n for worker, n in where.items() if n not in (None, "names")}
    names = [f"w{i}" for i, worker in enumerate(workers) if where[worker] == "names"]
    node_of = {**shared, **{worker: worker[0] for worker in workers if where[worker] == "names"}}
    for _ in range(20):
        by_workers: dict[WorkerSet, int] = {}
        for _ in range(rng.randint(1, 60)):
            chosen = tuple(sorted(rng.sample(workers, rng.randint(1, 4))))
            by_workers[chosen] = by_workers.get(chosen, 0) + rng.randint(1, 1000)
        expected: dict[str, int] = {}
        for chosen, size in by_workers.items():
            for n in {node_of[w] for w in chosen if w in node_of}:
                expected[n] = expected.get(n, 0) + size
        placement = Placement([book(shared)])
        assert placement.node_bytes([placement.prepare(entry(by_workers))], names) == expected


def test_the_sum_of_several_tables_is_made_once_until_a_table_or_the_candidates_change():
    books = {"watch": book({B1: "node-b"})}
    placement = Placement([], lambda: books["watch"])
    paths = [placement.prepare(entry({(B1,): 2})), placement.prepare(entry({(B1,): 3, (W("n1"),): 1}))]
    first = placement.node_bytes(paths, ["node-b", "n1"])
    assert first == {"node-b": 5, "n1": 1}
    assert placement.node_bytes(paths, ["node-b", "n1"]) is first  # the same tables and candidates
    assert placement.node_bytes(paths, ["node-b"]) == {"node-b": 5}  # n1 is no candidate now
    books["watch"] = book({B1: "node-c"})
    assert placement.rebuild(paths) == 2
    assert placement.node_bytes(paths, ["node-b", "n1"]) == {"node-c": 5, "n1": 1}  # new tables, a new sum
    paths.append(placement.prepare(entry({(B1,): 1})))
    assert placement.node_bytes(paths, ["node-b", "n1"]) == {"node-c": 6, "n1": 1}


def test_tables_are_built_before_an_entry_is_served_and_a_request_reuses_them():
    placement = Placement([book(NODE)])
    path = placement.prepare(entry({(B1,): 2}))
    table = path.table
    assert table is not None and table.placed == {"node-b": 2}
    assert placement.node_bytes([path], []) is table.placed and path.table is table


def test_a_candidate_list_is_placed_once_and_new_entries_get_the_latest_one_before_they_are_served():
    placement = Placement([])
    path = placement.prepare(entry({(W("n1"),): 1, (W("n2"),): 2}))
    first = placement.node_bytes([path], ["n1", "n2"])
    assert first == {"n1": 1, "n2": 2}
    assert placement.node_bytes([path], ["n1", "n2"]) is first  # the same list: nothing placed again
    assert placement.node_bytes([path], ["n2", "n3"]) == {"n2": 2}
    fresh = placement.prepare(entry({(W("n2"),): 5, (W("n3"),): 1}))  # a refresh landing
    assert fresh.table is not None and fresh.table.request is not None
    assert fresh.table.request[1] == {"n2": 5, "n3": 1}  # placed for the latest candidates already
    assert placement.node_bytes([fresh], ["n2", "n3"]) is fresh.table.request[1]
    placement.node_bytes([fresh], ["n1"], scheduling=False)  # an operator's /locality
    table = placement.prepare(entry({(W("n3"),): 1})).table
    assert table is not None and table.request is not None and table.request[1] == {"n3": 1}


def test_new_books_are_applied_beside_the_requests_which_read_the_previous_tables_meanwhile():
    books = {"watch": book({B1: "node-b"})}
    placement = Placement([], lambda: books["watch"])
    path = placement.prepare(entry({(B1,): 4}))
    books["watch"] = book({B1: "node-c"})
    assert placement.node_bytes([path], []) == {"node-b": 4}  # the previous table, whole
    assert placement.rebuild([path]) == 1 and placement.rebuild([path]) == 0
    assert placement.node_bytes([path], []) == {"node-c": 4}


def test_the_background_rebuild_follows_the_books():
    books = {"watch": book({B1: "node-b"})}
    placement = Placement([], lambda: books["watch"])
    paths = [placement.prepare(entry({(B1,): 4}))]
    placement.start()
    try:
        books["watch"] = book({B1: "node-c"})
        placement.books_changed()
        eventually(lambda: placement.node_bytes(paths, []) == {"node-c": 4}, 5, interval=0.01,
                   what="the table rebuilt from the new book")
    finally:
        placement.close()


def test_node_of_asks_the_shared_books_then_the_names():
    placement = Placement([book({B1: "node-b"})])
    assert placement.node_of(B1, ["b"]) == "node-b"
    assert placement.node_of(W("n1"), ["n1"]) == "n1"
    assert placement.node_of(W("n1"), ["n2"]) is None


def test_worker_bytes():
    assert worker_bytes([entry({(A1, A2): 100, (A1,): 1})]) == {A1: 101, A2: 100}


def test_what_the_index_keeps_is_left_alone_by_the_garbage_collector():
    """A warm index holds hundreds of thousands of workers and node tables; tracked, every full collection
    walked them."""
    copies = [[("a", "10.1.0.1")], [("a", "10.1.0.1"), ("b", "")], [("c", "")]]
    status = {"folder": False, "length": 3, "fileBlockInfos": [
        {"blockInfo": {"blockId": i, "length": 1,
                       "locations": [{"workerAddress": {"host": h, "containerHost": c}} for h, c in hosts]}}
        for i, hosts in enumerate(copies)]}
    placement = Placement([book({W("a", "10.1.0.1"): "node-a"})])
    path = placement.prepare(decode(encode(aggregate(json.loads(json.dumps([status]))))))
    placement.node_bytes([path], ["c"])
    for _ in range(4):  # CPython untracks a tuple once its items are untracked: a nesting level per pass at worst
        gc.collect()
    table = path.table
    assert table is not None and table.request is not None
    kept = [path.workers, *path.workers, path.worker_bytes, table.nodes, table.placed, table.request[1]]
    assert not table.complete and not any(map(gc.is_tracked, kept))
