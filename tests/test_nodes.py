import pytest

from scheduler_extender.cluster import summarize_node
from scheduler_extender.locations.base import worker_address as W
from scheduler_extender.nodes import (
    AddressBook,
    WorkerResolver,
    book_from_names,
    book_from_nodes,
    load_node_map,
    node_addresses,
)
from tests.support.bodies import recorded
from tests.support.objects import make_node


def test_worker_host_is_a_node_name():
    resolve = WorkerResolver([book_from_names(["node-1", "node-2"])])
    assert resolve(W("node-2")) == "node-2"
    assert resolve(W("NODE-1.")) == "node-1"
    assert resolve(W("node-3")) is None


def test_short_and_fully_qualified_names_match_each_other():
    assert AddressBook([("n1", "n1")]).node_of("n1.example.internal") == "n1"
    assert AddressBook([("n1.example.internal", "n1")]).node_of("n1") == "n1"


def test_ambiguous_short_names_do_not_match():
    book = AddressBook([("n1.a.example", "x"), ("n1.b.example", "y")])
    assert book.node_of("n1") is None
    assert book.node_of("n1.b.example") == "y"


def test_ip_addresses_are_not_shortened():
    book = AddressBook([("10", "wrong"), ("10.0.0.1", "n1")])
    assert book.node_of("10.0.0.1") == "n1"
    assert book.node_of("10.0.0.2") is None


def test_node_objects_map_their_addresses():
    book = book_from_nodes([make_node("n1", internal_ip="10.0.0.1", hostname="ip-10-0-0-1", external_ip="3.3.3.3",
                                      other_addresses=[("InternalDNS", "ignored.internal")])])
    resolve = WorkerResolver([book])
    assert [resolve(W(h)) for h in ("10.0.0.1", "ip-10-0-0-1", "3.3.3.3", "n1", "ignored.internal")] == \
        ["n1", "n1", "n1", "n1", None]


def test_container_host_is_tried_after_host():
    resolve = WorkerResolver([AddressBook([("10.1.0.7", "n7")])])
    assert resolve(W("unknown-host", "10.1.0.7")) == "n7"


def test_books_are_asked_in_order():
    static = AddressBook([("10.0.0.1", "from-map")])
    request = book_from_nodes([make_node("n1", internal_ip="10.0.0.1")])
    assert WorkerResolver([static, request])(W("10.0.0.1")) == "from-map"


def test_recorded_node_objects_resolve_by_hostname():
    book = book_from_nodes(recorded("filter-nodecachecapable-false")["Nodes"]["items"])
    assert book.node_of("node-3") == "node-3"


def test_node_map_file(tmp_path):
    (tmp_path / "map.yaml").write_text("10.0.0.1: node-a\nworker-b.example: node-b\n")
    book = load_node_map(tmp_path / "map.yaml")
    assert book.node_of("10.0.0.1") == "node-a" and book.node_of("worker-b") == "node-b"


def test_node_map_file_must_map_strings(tmp_path):
    (tmp_path / "map.yaml").write_text("- a\n- b\n")
    try:
        load_node_map(tmp_path / "map.yaml")
    except ValueError as err:
        assert "expected a mapping" in str(err)
    else:
        raise AssertionError("a list was accepted as a node map")


@pytest.mark.parametrize("name,text,says", [
    ("map.yaml", "10.0.0.1: node-a\nworker-b: [node-b\n", "line 3 column 1: not valid YAML: expected ',' or ']'"),
    ("map.yaml", "10.0.0.1:\n\t- node-a\n", "line 2 column 1: not valid YAML: found character '\\t'"),
    ("map.json", '{"10.0.0.1": "node-a",}', "line 1 column 23: not valid JSON: "),
])
def test_a_node_map_that_does_not_parse_is_named_with_the_line(tmp_path, name, text, says):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError) as raised:
        load_node_map(tmp_path / name)
    assert str(raised.value).startswith(f"{tmp_path / name}, {says}"), str(raised.value)
    assert "\n" not in str(raised.value) and "<unicode string>" not in str(raised.value)


def test_node_addresses_are_of_the_types_that_count_and_malformed_entries_are_skipped():
    node = make_node("n1", internal_ip="10.0.0.1", hostname="h1", other_addresses=[("InternalDNS", "dns-1.internal")])
    node["status"]["addresses"] += [{"type": "ExternalIP"}, {"type": "ExternalIP", "address": 7}, "3.3.3.3",
                                    {"type": "Hostname", "address": ""}]
    assert node_addresses(node) == ("10.0.0.1", "h1")
    assert node_addresses({"metadata": {"name": "n"}, "status": "?"}) == ()
    assert node_addresses({"metadata": {"name": "n"}, "status": {"addresses": {"type": "Hostname"}}}) == ()
    # a request's Node objects and the watch's read them the same way
    assert summarize_node(node).addresses == node_addresses(node)
    assert book_from_nodes([node]).node_of("dns-1.internal") is None and book_from_nodes([node]).node_of("h1") == "n1"
