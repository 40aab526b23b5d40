"""The admission webhook's patch, built from bytes per node (pure), applied by an RFC 6902 implementation of
its own (jsonpatch), as the API server would."""
import copy

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_extender import affinity
from scheduler_extender.affinity import MAX_TERMS, PREFERRED, REQUIRED
from tests.support.objects import make_executor

G = 1 << 30


def applied(pod, ops):
    return jsonpatch.JsonPatch(ops).apply(copy.deepcopy(pod))


def node_affinity(pod):
    return pod["spec"]["affinity"]["nodeAffinity"]


def toward(node, weight):
    return {"weight": weight, "preference": {"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [node]}]}}


def test_weights_are_shares_of_the_best_node_rounded_half_up_at_least_one():
    held = {"a": 200 * G, "b": 150 * G, "c": 101 * G, "d": 99 * G, "e": 0, "f": 1}
    assert affinity.weights(held) == [("a", 100), ("b", 75), ("c", 51), ("d", 50), ("f", 1)]


def test_weights_keep_the_nodes_holding_the_most_ties_by_name():
    held = {f"n{i:04d}": 1000 + i % 7 for i in range(1000)}
    top = affinity.weights(held)
    assert len(top) == MAX_TERMS
    assert top[0] == ("n0006", 100) and all(weight >= 99 for _, weight in top)
    assert [size for size in (held[n] for n, _ in top)] == sorted((held[n] for n, _ in top), reverse=True)
    assert min(held[n] for n, _ in top) >= max(held[n] for n in held.keys() - {n for n, _ in top})
    assert affinity.weights({}) == [] and affinity.weights({"a": 0}) == []
    assert affinity.weights(held, limit=2) == [("n0006", 100), ("n0013", 100)]


def test_a_pod_without_affinity_gets_it_whole():
    pod = make_executor("e1", paths="/d")
    patched = applied(pod, affinity.affinity_patch(pod, affinity.preferred_terms([("n1", 100), ("n2", 40)])))
    assert node_affinity(patched) == {PREFERRED: [toward("n1", 100), toward("n2", 40)]}
    assert patched["spec"]["containers"] == pod["spec"]["containers"]


@pytest.mark.parametrize("existing", [
    {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
    {"nodeAffinity": None},
    {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "group", "operator": "In", "values": ["main"]}]}]}}},
    {"nodeAffinity": {PREFERRED: [toward("mine", 7)]}},
    {"nodeAffinity": {PREFERRED: []}},
])
def test_terms_merge_with_the_affinity_the_pod_has(existing):
    pod = make_executor("e1", paths="/d")
    pod["spec"]["affinity"] = copy.deepcopy(existing)
    ours = affinity.preferred_terms([("n1", 100)])
    patched = applied(pod, affinity.affinity_patch(pod, ours))
    before = (existing.get("nodeAffinity") or {})
    assert node_affinity(patched)[PREFERRED] == (before.get(PREFERRED) or []) + ours
    assert node_affinity(patched).get(REQUIRED) == before.get(REQUIRED)
    assert {k: v for k, v in patched["spec"]["affinity"].items() if k != "nodeAffinity"} == \
        {k: v for k, v in existing.items() if k != "nodeAffinity"}


def test_a_required_selector_matches_any_caching_node_and_only_where_the_pod_has_none():
    pod = make_executor("e1", paths="/d")
    required = affinity.required_terms(["n1", "n2"])
    patched = applied(pod, affinity.affinity_patch(pod, affinity.preferred_terms([("n1", 100), ("n2", 50)]),
                                                   required))
    assert node_affinity(patched)[REQUIRED] == {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}]}
    assert not affinity.has_required(pod) and affinity.has_required(patched)
    pod["spec"]["affinity"] = {"nodeAffinity": {PREFERRED: [toward("mine", 7)]}}
    patched = applied(pod, affinity.affinity_patch(pod, affinity.preferred_terms([("n1", 100)]), required))
    assert node_affinity(patched) == {PREFERRED: [toward("mine", 7), toward("n1", 100)], REQUIRED: required}


def test_away_terms_give_the_node_caching_the_most_the_least():
    weighted = affinity.weights({"a": 100, "b": 50})
    terms = affinity.preferred_terms(weighted, away=True)
    assert {t["preference"]["matchFields"][0]["operator"] for t in terms} == {"NotIn"}

    def score(node):  # NodeAffinity's raw score: the weights of the terms the node matches
        return sum(t["weight"] for t in terms if node not in t["preference"]["matchFields"][0]["values"])

    assert score("elsewhere") > score("b") > score("a")


def test_nothing_to_add_is_no_patch_and_the_patch_stays_small_at_1000_nodes():
    pod = make_executor("e1", paths="/d")
    assert affinity.affinity_patch(pod, []) == []
    held = {f"node-{i:04d}.example.internal": i * 1000 for i in range(1, 1001)}
    ops = affinity.affinity_patch(pod, affinity.preferred_terms(affinity.weights(held)))
    assert len(jsonpatch.JsonPatch(ops).to_string()) < 3000


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)
LEVEL = st.none() | JSON | st.fixed_dictionaries({}, optional={
    "nodeAffinity": st.none() | JSON | st.fixed_dictionaries({}, optional={PREFERRED: JSON, REQUIRED: JSON}),
    "podAffinity": JSON})


@given(affinity_=LEVEL, required=st.booleans())
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_the_patch_applies_to_any_affinity_a_pod_may_carry(affinity_, required):
    """Whatever spec.affinity holds (absent, null, of any shape), the patch applies and yields our terms after
    any the pod had, and leaves the rest of the pod as it was."""
    pod = make_executor("e1", paths="/d")
    if affinity_ is not None:
        pod["spec"]["affinity"] = affinity_
    ours = affinity.preferred_terms([("n1", 100), ("n2", 40)])
    wanted = affinity.required_terms(["n1", "n2"]) if required else None
    patched = applied(pod, affinity.affinity_patch(pod, ours, wanted))
    before = affinity_.get("nodeAffinity") if isinstance(affinity_, dict) else None
    had = before.get(PREFERRED) if isinstance(before, dict) else None
    kept = had if isinstance(had, list) else []
    assert node_affinity(patched)[PREFERRED] == kept + ours
    if required:
        assert node_affinity(patched)[REQUIRED] == wanted
    assert {k: v for k, v in patched["spec"].items() if k != "affinity"} == \
        {k: v for k, v in pod["spec"].items() if k != "affinity"}
