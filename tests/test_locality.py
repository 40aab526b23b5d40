import gc
import json

from scheduler_extender.locality import NodeTable, TableCache, node_bytes, node_table, place_more, worker_bytes
from scheduler_extender.locations.base import PathLocations, worker_address as W
from scheduler_extender.locations.uri_status import aggregate

A1, A2, B1 = W("a", "10.1.0.1"), W("a", "10.1.0.2"), W("b")
NODE = {A1: "node-a", A2: "node-a", B1: "node-b"}


def nothing(worker):
    return None


def test_block_on_two_workers_of_one_node_counts_once_for_it():
    entry = PathLocations(by_workers={(A1, A2): 100, (A1, B1): 10, (B1,): 5})
    table = node_table(entry, NODE.get)
    assert table.placed == {"node-a": 110, "node-b": 15} and table.unplaced == ()
    assert node_bytes([table], nothing) == {"node-a": 110, "node-b": 15}


def test_unplaced_worker_sets_are_resolved_per_request_once_per_node():
    gone = W("10.9.9.9")
    entry = PathLocations(by_workers={(gone,): 7, (B1, gone): 3, (B1,): 1})
    table = node_table(entry, NODE.get)
    assert table.placed == {"node-b": 4}  # the set on b and an unknown worker counts for b already
    assert node_bytes([table], None) == {"node-b": 4}
    assert node_bytes([table], nothing) == {"node-b": 4}
    assert node_bytes([table], {gone: "node-b"}.get) == {"node-b": 11}  # one set, once per node
    assert node_bytes([table], {gone: "node-c"}.get) == {"node-b": 4, "node-c": 10}


def test_tables_of_several_paths_add_up():
    tables = [node_table(PathLocations(by_workers={(B1,): 2}), NODE.get),
              node_table(PathLocations(by_workers={(B1,): 3, (A1,): 1}), NODE.get)]
    assert node_bytes(tables, nothing) == {"node-b": 5, "node-a": 1}


def test_table_cache_rebuilds_only_for_a_new_entry_or_book():
    cache, builds = TableCache(4), []
    entry, book = PathLocations(by_workers={(B1,): 2}), object()

    def shared(entry=entry):
        builds.append(1)
        return node_table(entry, NODE.get)

    first = cache.table("/p", entry, (book,), shared)
    assert cache.table("/p", entry, (book,), shared) is first and len(builds) == 1
    cache.table("/p", PathLocations(by_workers={(B1,): 2}), (book,), shared)
    cache.table("/p", entry, (object(),), shared)
    assert len(builds) == 3


def test_worker_bytes():
    entry = PathLocations(by_workers={(A1, A2): 100, (A1,): 1})
    assert worker_bytes([entry]) == {A1: 101, A2: 100}


def test_place_more_places_the_sets_the_shared_books_could_not_once_per_node():
    gone = W("10.9.9.9")
    table = node_table(PathLocations(by_workers={(gone,): 7, (B1, gone): 3, (B1,): 1}), NODE.get)
    assert place_more(table, {gone: "node-b"}.get) == NodeTable({"node-b": 11}, ())
    assert place_more(table, {gone: "node-c"}.get) == NodeTable({"node-b": 4, "node-c": 10}, ())
    assert place_more(table, nothing) == NodeTable({"node-b": 4}, ())


def test_what_the_index_keeps_is_left_alone_by_the_garbage_collector():
    """A warm index holds hundreds of thousands of worker sets; tracked, every full collection walked them."""
    copies = [[("a", "10.1.0.1")], [("a", "10.1.0.1"), ("b", "")], [("c", "")]]
    status = {"folder": False, "length": 3, "fileBlockInfos": [
        {"blockInfo": {"blockId": i, "length": 1,
                       "locations": [{"workerAddress": {"host": h, "containerHost": c}} for h, c in hosts]}}
        for i, hosts in enumerate(copies)]}
    entry = aggregate(json.loads(json.dumps([status])))
    table = node_table(entry, {W("a", "10.1.0.1"): "node-a"}.get)
    for _ in range(4):  # CPython untracks a tuple once its items are untracked: a nesting level per pass at worst
        gc.collect()
    kept = [entry.by_workers, *entry.by_workers, table.placed, table.unplaced, *table.unplaced]
    assert len(table.unplaced) == 2 and not any(map(gc.is_tracked, kept))
