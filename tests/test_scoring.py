from hypothesis import given
from hypothesis import strategies as st

from scheduler_extender.scoring import SPARSE, listed, proportional, proportional_away, scores


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
