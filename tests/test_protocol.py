import json

import orjson
import pytest

from scheduler_extender.protocol import (
    ProtocolError,
    candidate_list,
    parse_args,
    render_filter,
    render_listed,
    render_priorities,
)
from tests.support.bodies import recorded


def encode(doc) -> bytes:
    return json.dumps(doc).encode()


def test_parses_names_mode_from_a_real_scheduler():
    args = parse_args(encode(recorded("prioritize-nodecachecapable-true")))
    assert args.node_names == ["node-5", "node-1", "node-4", "node-2", "node-3"]  # zone by zone, as it sent them
    assert args.nodes is None
    assert args.pod["metadata"]["name"] == "exec-1"


def test_parses_nodes_mode_from_a_real_scheduler():
    args = parse_args(encode(recorded("filter-nodecachecapable-false")))
    assert args.nodes is not None
    assert args.node_names == [n["metadata"]["name"] for n in args.nodes]
    assert len(args.nodes) == 5
    assert args.nodes[0]["status"]["addresses"] == [{"type": "Hostname", "address": "node-5"}]


def test_unknown_fields_are_ignored():
    body = recorded("prioritize-nodecachecapable-true")
    body["SomethingNew"] = {"x": 1}
    body["Pod"]["futureField"] = [1, 2]
    assert parse_args(encode(body)).node_names[0] == "node-5"


def test_null_items_is_no_candidates():
    args = parse_args(encode({"Pod": {}, "Nodes": {"items": None}, "NodeNames": None}))
    assert args.node_names == [] and args.nodes == []


@pytest.mark.parametrize("body, reason", [
    (b"", "not valid JSON"),
    (b"{", "not valid JSON"),
    (b"\xff\xfe", "body is not UTF-8, as JSON must be: byte 0xFF at offset 0 (invalid start byte)"),
    (b"[" * 100000 + b"]" * 100000, "JSON"),  # too deep for the parser, or an array: a 400 either way
    (b"[]", "JSON array, expected an ExtenderArgs object"),
    (b'{"NodeNames": ["a"]}', "Pod is null"),
    (b'{"Pod": "x", "NodeNames": ["a"]}', "Pod is string"),
    (b'{"Pod": {"metadata": []}, "NodeNames": ["a"]}', "Pod.metadata is array"),
    (b'{"Pod": {}, "Nodes": null, "NodeNames": null}', "neither Nodes nor NodeNames"),
    (b'{"Pod": {}}', "neither Nodes nor NodeNames"),
    (b'{"Pod": {}, "NodeNames": ["a"], "Nodes": {"items": []}}', "both Nodes and NodeNames"),
    (b'{"Pod": {}, "NodeNames": "a"}', "NodeNames is string"),
    (b'{"Pod": {}, "NodeNames": ["a", 3]}', "NodeNames[1] is number"),
    (b'{"Pod": {}, "NodeNames": [""]}', "NodeNames[0] is string, expected a non-empty"),
    (b'{"Pod": {}, "Nodes": []}', "Nodes is array"),
    (b'{"Pod": {}, "Nodes": {"items": {}}}', "Nodes.items is object"),
    (b'{"Pod": {}, "Nodes": {"items": [{"metadata": {}}]}}', "Nodes.items[0].metadata.name"),
    (b'{"Pod": {}, "Nodes": {"items": [7]}}', "Nodes.items[0].metadata.name"),
])
def test_malformed_bodies_say_why(body, reason):
    with pytest.raises(ProtocolError, match=None) as caught:
        parse_args(body)
    assert reason in str(caught.value)


def test_filter_answers_names_with_names():
    args = parse_args(encode(recorded("prioritize-nodecachecapable-true")))
    result = orjson.loads(render_filter(args, [0, 4], {"node-4": "why"}, {"node-5": "never"}))
    assert result == {"NodeNames": ["node-5", "node-3"], "Nodes": None, "FailedNodes": {"node-4": "why"},
                      "FailedAndUnresolvableNodes": {"node-5": "never"}, "Error": ""}


def test_filter_answers_nodes_with_the_same_node_objects():
    body = recorded("filter-nodecachecapable-false")
    args = parse_args(encode(body))
    result = orjson.loads(render_filter(args, range(5), {}, {}))
    assert result["NodeNames"] is None
    assert result["Nodes"]["items"] == body["Nodes"]["items"]
    some = orjson.loads(render_filter(args, [3, 1], {}, {"node-1": "no"}))
    assert some["Nodes"]["items"] == [body["Nodes"]["items"][3], body["Nodes"]["items"][1]]


def test_filter_echoes_node_objects_byte_for_byte():
    """Whatever a Node carries, and however the scheduler spaced it, goes back as it came."""
    node = ('{ "metadata" : {"name":"n-1", "labels": {"x": "\\u00e9"}}, "status": {"images": [{"names": ["a"]}],'
            ' "future": [1.50, 2e3]}, "extra": {"deep": [[[[]]]]} }')
    body = b'{"Pod": {}, "NodeNames": null, "Nodes": {"items": [' + node.encode() + b']}}'
    answer = render_filter(parse_args(body), [0], {}, {})
    assert node.encode() in answer and orjson.loads(answer)["Nodes"]["items"][0]["status"]["future"] == [1.5, 2000]


def test_nodes_the_schema_is_too_strict_for_are_still_read():
    """A status that is not an object, an address that is not one: decoded whole, as before, not refused."""
    items = [{"metadata": {"name": "a"}, "status": "?"}, {"metadata": {"name": "b"}, "status": {"addresses": [7]}}]
    body = {"Pod": {}, "NodeNames": None, "Nodes": {"items": items}}
    args = parse_args(encode(body))
    assert args.node_names == ["a", "b"]
    assert orjson.loads(render_filter(args, [0, 1], {}, {}))["Nodes"]["items"] == items


def test_priorities_are_in_candidate_order_with_go_field_names():
    assert render_priorities(["b", "a"], [3, 10]) == b'[{"Host":"b","Score":3},{"Host":"a","Score":10}]'
    assert orjson.loads(render_priorities(["c", "b", "a"], [0, 3, 0])) == [{"Host": "b", "Score": 3}]
    assert orjson.loads(render_priorities(['q"\\', "é"], [1, 2])) == [{"Host": 'q"\\', "Score": 1},
                                                                   {"Host": "é", "Score": 2}]
    assert render_priorities([], []) == b"[]"
    with pytest.raises(ValueError):
        render_priorities(["a"], [])


def test_listed_priorities_take_each_candidates_fragment_by_position():
    candidates = candidate_list(["c", "b", "a"])
    assert candidates.positions == {"c": 0, "b": 1, "a": 2}
    assert render_listed(candidates, [(1, 3), (2, 10)]) == b'[{"Host":"b","Score":3},{"Host":"a","Score":10}]'
    assert render_listed(candidates, []) == b"[]"
    assert candidate_list(["c", "b", "a"]) is candidates  # made once per list


def test_a_candidate_list_with_a_repeated_name_has_no_positions():
    assert candidate_list(["a", "b", "a"]).positions is None
