from hypothesis import given
from hypothesis import strategies as st

from scheduler_extender.scoring import SPARSE, deficits, listed, proportional, proportional_away, scores


def test_proportional_to_the_best_candidate():
    assert scores(["a", "b", "c", "d"], {"a": 1000, "b": 500, "c": 249, "d": 0}) == [10, 5, 2, 0]


def test_half_rounds_up_deterministically():
    assert scores(["a", "b", "c"], {"a": 20, "b": 1, "c": 3}) == [10, 1, 2]  # 0.5 -> 1, 1.5 -> 2


def test_any_cached_byte_scores_at_least_one():
    assert scores(["a", "b"], {"a": 10**12, "b": 1}) == [10, 1]


def test_nothing_cached_is_all_zero():
    assert scores(["a", "b"], {}) == [0, 0]
    assert scores([], {"a": 5}) == []


def test_only_candidates_set_the_scale():
    assert scores(["b"], {"a": 1000, "b": 10}) == [10]


def test_duplicate_candidates_score_alike():
    assert scores(["a", "a", "b"], {"a": 3, "b": 6}) == [5, 5, 10]


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 60) | st.integers(0, 10**18), max_size=12),
       st.lists(st.text(min_size=1, max_size=3), max_size=12))
def test_every_score_is_the_half_up_rounding_of_its_share(node_bytes, extra):
    candidates = list(node_bytes) + extra
    best = max([node_bytes.get(c, 0) for c in candidates], default=0)
    want = [0 if not node_bytes.get(c) else max(1, (20 * node_bytes[c] + best) // (2 * best)) for c in candidates]
    assert scores(candidates, node_bytes) == want


def positions_of(candidates):
    positions = {name: i for i, name in enumerate(candidates)}
    return positions if len(positions) == len(candidates) else None


def by_position(candidates):
    return lambda: positions_of(candidates)


def test_listed_names_the_candidates_holding_bytes_in_candidate_order():
    candidates = [f"n{i}" for i in range(12)]
    node_bytes = {"n9": 1000, "n2": 249, "x": 5000}  # x is no candidate: it sets no scale
    assert listed(candidates, by_position(candidates), node_bytes) == [(2, 2), (9, 10)]


def test_listed_is_empty_when_no_candidate_holds_a_byte():
    candidates = [f"n{i}" for i in range(7)]
    assert listed(candidates, by_position(candidates), {"c": 7, "n1": 0}) == []


def test_listed_leaves_it_to_scores_when_a_third_of_the_candidates_hold_bytes_or_names_repeat():
    def unasked():
        raise AssertionError("positions asked for")

    assert listed(["a", "b", "c"], unasked, {"a": 1}) is None
    assert listed([], unasked, {}) is None
    assert listed(["a", "b", "c", "d"], by_position("abcd"), {"a": 1}) == [(0, 10)]
    assert listed(["a", "b", "c", "a"], by_position("abca"), {"a": 1}) is None


@given(st.dictionaries(st.text(min_size=1, max_size=2), st.integers(0, 60) | st.integers(0, 10**18), max_size=12),
       st.lists(st.text(min_size=1, max_size=2), max_size=60))
def test_listed_gives_the_scores_above_zero(node_bytes, candidates):
    """Nodes holding bytes that are no candidates, zeros, repeated names: what it lists is what scores gives."""
    got = listed(candidates, by_position(candidates), node_bytes)
    if got is not None:
        assert got == [(i, score) for i, score in enumerate(scores(candidates, node_bytes)) if score]
    else:
        assert positions_of(candidates) is None or len(node_bytes) * SPARSE >= len(candidates)


def test_proportional_scales_the_candidates_holding_bytes_to_the_top():
    held = {"a": 40, "b": 10, "c": 0, "elsewhere": 400}
    assert proportional(["a", "b", "c", "d"], held, 1000.0) == {"a": 1000.0, "b": 250.0}
    assert proportional(["c", "d"], held, 1000.0) == {}


def test_proportional_away_lists_every_candidate_the_other_way_round():
    held = {"a": 40, "b": 10}
    assert proportional_away(["a", "b", "c"], held, 1000.0) == {"a": 0.0, "b": 750.0, "c": 1000.0}
    assert proportional_away(["c", "d"], held, 1000.0) == {}


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 1 << 50)), st.floats(1, 1e6))
def test_proportional_keeps_the_order_of_bytes_within_the_top(node_bytes, top):
    names = list("abcdefgh")
    got = proportional(names, node_bytes, top)
    assert set(got) == {n for n, b in node_bytes.items() if b > 0}
    assert all(0 < score <= top for score in got.values())
    for x in got:
        for y in got:
            if node_bytes[x] > node_bytes[y]:
                assert got[x] >= got[y]


# -- an application's executors: each node's shortfall of its share -------------------------------------------

SHAPE = {"n1": 75, "n2": 25, "n3": 0}
"""The input cached 75% / 25% / 0 over three nodes."""


def place_in_turn(node_bytes, candidates, executors):
    """Where `executors` executors of one app land, each on the candidate scoring highest given the ones before it
    (ties to the first candidate)."""
    where: dict[str, int] = {}
    for placed in range(executors):
        got = scores(candidates, deficits(node_bytes, where, placed))
        node = candidates[got.index(max(got))]
        where[node] = where.get(node, 0) + 1
    return where


def test_the_first_executor_scores_as_any_pod():
    assert deficits(SHAPE, {}, 0) == {"n1": 75, "n2": 25}
    assert scores(list(SHAPE), deficits(SHAPE, {}, 0)) == scores(list(SHAPE), SHAPE) == [10, 3, 0]


def test_a_node_short_of_its_share_outranks_one_holding_it():
    # one executor on n1 (due 1.5 of 2): n2 (due 0.5, holding none) is as short as n1
    assert scores(["n1", "n2", "n3"], deficits(SHAPE, {"n1": 1}, 1)) == [10, 10, 0]
    # two on n1 (due 2.25 of 3): n2, due 0.75 and holding none, comes first
    assert scores(["n1", "n2", "n3"], deficits(SHAPE, {"n1": 2}, 2)) == [3, 10, 0]


def test_four_executors_spread_in_proportion_to_the_bytes():
    assert place_in_turn(SHAPE, ["n1", "n2", "n3"], 4) == {"n1": 3, "n2": 1}
    assert place_in_turn(SHAPE, ["n2", "n1", "n3"], 4) == {"n1": 3, "n2": 1}


def test_a_node_over_its_share_scores_nothing():
    assert deficits(SHAPE, {"n1": 3}, 3) == {"n2": 25 * 4}  # n1 due 3 of 4, holding 3: no shortfall
    assert deficits(SHAPE, {"n1": 5}, 5) == {"n2": 25 * 6}


def test_executors_on_nodes_caching_nothing_raise_every_share():
    # two executors elsewhere: the next is the third, n1 due 2.25 and holding none
    assert deficits(SHAPE, {"n3": 2}, 2) == {"n1": 3 * 75, "n2": 3 * 25}


def test_a_full_node_still_sets_the_shares():
    # n1 holds its share of 4 and is no candidate: n2 is due 1, and scores as the one candidate falling short
    assert scores(["n2", "n3"], deficits(SHAPE, {"n1": 3}, 3)) == [10, 0]


def test_nothing_cached_is_nothing_to_fall_short_of():
    assert deficits({}, {"n1": 2}, 2) == {}
    assert deficits({"n1": 0}, {}, 0) == {}


@given(st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 10**12), max_size=6),
       st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 20), max_size=8))
def test_some_node_caching_the_input_always_falls_short(node_bytes, executors):
    placed = sum(executors.values())
    short = deficits(node_bytes, executors, placed)
    total = sum(node_bytes.values())
    assert all(node_bytes[n] > 0 and v > 0 for n, v in short.items())
    # the shares add up to one more executor than are placed: those on caching nodes leave a shortfall
    assert bool(short) == (total > 0)
    assert all(v == (placed + 1) * node_bytes[n] - executors.get(n, 0) * total for n, v in short.items())
