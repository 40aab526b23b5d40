from hypothesis import given
from hypothesis import strategies as st

from scheduler_extender.scoring import scores


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
