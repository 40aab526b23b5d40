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
