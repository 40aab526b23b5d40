"""Where an application's executors are, from the pod watch and the extender's own answers: plain data, and the
watch against a fake (real-HTTP) kube-apiserver."""
import pytest
from kubernetes import client

from scheduler_extender.executors import ExecutorBook, ExecutorPod, summarize_executor
from scheduler_extender.kube_watch import pod_lister
from scheduler_extender.metrics import Metrics
from scheduler_extender.prefetch import Prefetcher
from tests.support.app_cluster import INPUT, NODES, app_cluster
from tests.support.fake_kube import FakeKube, kube_config
from tests.support.objects import make_executor, make_pod
from tests.support.waiting import eventually

SHAPE = {"n1": 75, "n2": 25}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def book(remember=True):
    clock = Clock()
    metrics = Metrics()
    return ExecutorBook(remember=remember, metrics=metrics, ttl=30, clock=clock), clock, metrics


def answers(metrics, outcome):
    return metrics.registry.get_sample_value("scheduler_extender_executor_answers_total", {"outcome": outcome}) or 0


def seen(metrics, source):
    return metrics.registry.get_sample_value("scheduler_extender_app_executors_seen_total", {"source": source}) or 0


def test_a_bound_executor_is_summarized_by_its_app_and_node():
    assert summarize_executor(make_executor("e", app="a", node="n1")) == ExecutorPod("a", "n1")


def test_pending_finished_or_non_executor_pods_hold_no_place():
    assert summarize_executor(make_executor("e", app="a")) is None
    finished = make_executor("e", app="a", node="n1")
    finished["status"] = {"phase": "Succeeded"}
    assert summarize_executor(finished) is None
    assert summarize_executor(make_pod("d", labels={"spark-role": "driver", "spark-app-selector": "a"},
                                       node="n1")) is None


def test_the_watch_places_executors_per_app():
    executors, _, _ = book()
    executors.bound("spark/a-1", ExecutorPod("a", "n1"))
    executors.bound("spark/a-2", ExecutorPod("a", "n1"))
    executors.bound("spark/b-1", ExecutorPod("b", "n2"))
    assert executors.placed("a", "spark/a-3") == ({"n1": 2}, 2)
    assert executors.placed("b", "spark/b-2") == ({"n2": 1}, 1)
    executors.bound("spark/a-1", None)
    assert executors.placed("a", "spark/a-3") == ({"n1": 1}, 1)
    assert executors.placed("c", "spark/c-1") == ({}, 0)


def test_an_executor_scored_again_does_not_count_itself():
    executors, _, _ = book()
    executors.bound("spark/a-1", ExecutorPod("a", "n1"))
    executors.answered("a", "spark/a-2", "n2")
    assert executors.placed("a", "spark/a-1") == ({"n1": 0, "n2": 1}, 1)
    assert executors.placed("a", "spark/a-2") == ({"n1": 1, "n2": 0}, 1)


def test_the_answer_stands_until_the_watch_sees_the_bind():
    executors, _, metrics = book()
    assert executors.place("a", "spark/a-1", SHAPE, {"n1", "n2"}) == SHAPE  # the first scores by bytes
    # not yet bound: the second executor knows the first from the answer, and n2 falls as short as n1
    assert executors.place("a", "spark/a-2", SHAPE, {"n1", "n2"}) == {"n1": 50, "n2": 50}
    assert seen(metrics, "answer") == 1 and seen(metrics, "watch") == 0
    executors.bound("spark/a-1", ExecutorPod("a", "n1"))
    assert answers(metrics, "confirmed") == 1
    executors.bound("spark/a-2", ExecutorPod("a", "n1"))  # the answer said n2 (ties go to the later name)
    assert answers(metrics, "contradicted") == 1
    assert executors.placed("a", "spark/a-3") == ({"n1": 2}, 2)


def test_an_answer_the_watch_never_confirms_expires():
    executors, clock, metrics = book()
    executors.answered("a", "spark/a-1", "n1")
    clock.now = 29
    assert executors.placed("a", "spark/a-2") == ({"n1": 1}, 1)
    clock.now = 31
    assert executors.placed("a", "spark/a-2") == ({}, 0)
    assert answers(metrics, "expired") == 1


def test_an_app_whose_executors_were_never_bound_is_forgotten():
    executors, clock, metrics = book()
    executors.answered("gone", "spark/gone-1", "n1")
    clock.now = 31
    executors.answered("a", "spark/a-1", "n1")  # any answer sweeps what expired, whatever its app
    assert answers(metrics, "expired") == 1
    assert executors.placed("gone", "spark/gone-2") == ({}, 0)


def test_answering_again_moves_the_executor():
    executors, _, _ = book()
    executors.answered("a", "spark/a-1", "n1")
    executors.answered("a", "spark/a-1", "n2")
    assert executors.placed("a", "spark/a-2") == ({"n2": 1}, 1)


def test_a_bound_executor_is_not_moved_by_an_answer():
    executors, _, _ = book()
    executors.bound("spark/a-1", ExecutorPod("a", "n1"))
    executors.answered("a", "spark/a-1", "n2")
    assert executors.placed("a", "spark/a-2") == ({"n1": 1}, 1)


def test_watch_only_ignores_the_answers():
    executors, _, _ = book(remember=False)
    executors.place("a", "spark/a-1", SHAPE, {"n1", "n2"})
    assert executors.placed("a", "spark/a-2") == ({}, 0)


def test_the_answer_goes_to_a_candidate():
    executors, _, _ = book()
    executors.place("a", "spark/a-1", SHAPE, {"n2"})  # n1 is full: no candidate
    assert executors.placed("a", "spark/a-2") == ({"n2": 1}, 1)
    executors.place("a", "spark/a-3", SHAPE, set())
    assert executors.placed("a", "spark/a-4") == ({"n2": 1}, 1)


@pytest.fixture
def kube():
    with FakeKube() as fake:
        yield fake


class Index:
    """What the prefetch watch asks of the index: the paths of the pods waiting to be bound."""

    def __init__(self):
        self.asked = set()

    def prefetch(self, paths):
        self.asked.update(paths)
        return len(paths)


def test_the_prefetch_watch_keeps_the_book_in_step_through_binds_and_a_relist(kube):
    kube.add("pod", make_executor("a-1", app="a", node="n1"))
    kube.add("pod", make_executor("a-2", app="a", paths="/data/a"))  # not bound yet
    kube.add("pod", make_pod("web", namespace="spark", node="n1", labels={"spark-role": "driver"}))  # no executor
    executors, index = ExecutorBook(remember=False), Index()
    watch = Prefetcher([client.CoreV1Api(client.ApiClient(kube_config(kube))).list_pod_for_all_namespaces], index,
                       selector="spark-role", resync=300, executors=executors)
    watch.start()
    try:
        eventually(lambda: executors.placed("a", "spark/a-3") == ({"n1": 1}, 1))
        eventually(lambda: index.asked == {"/data/a"})  # one watch serves both
        kube.wait_watches(1)
        kube.modify("pod", make_executor("a-2", app="a", paths="/data/a", node="n2"))
        eventually(lambda: executors.placed("a", "spark/a-3") == ({"n1": 1, "n2": 1}, 2))
        kube.stop()  # the watch breaks; meanwhile a-1 goes and history is compacted: only a new list tells
        kube.start()
        kube.delete("pod", "a-1", "spark")
        kube.compact()
        eventually(lambda: executors.placed("a", "spark/a-3") == ({"n2": 1}, 1))
    finally:
        watch.close()


def test_each_namespace_watched_apart_feeds_the_book(kube):
    """--prefetch-namespaces: one watch per namespace, every one of them telling the book; other namespaces unseen."""
    kube.add("pod", make_executor("a-1", app="a", node="n1", namespace="team-1"))
    kube.add("pod", make_executor("a-2", app="a", node="n2", namespace="team-2"))
    kube.add("pod", make_executor("a-3", app="a", node="n3", namespace="elsewhere"))
    executors = ExecutorBook(remember=False)
    api = client.CoreV1Api(client.ApiClient(kube_config(kube)))
    watch = Prefetcher([pod_lister(api, "team-1"), pod_lister(api, "team-2")], Index(), selector="spark-role",
                       resync=300, executors=executors)
    watch.start()
    try:
        eventually(lambda: executors.placed("a", "team-1/a-9") == ({"n1": 1, "n2": 1}, 2))
        kube.wait_watches(2)
        kube.add("pod", make_executor("a-4", app="a", node="n1", namespace="team-2"))
        eventually(lambda: executors.placed("a", "team-1/a-9") == ({"n1": 2, "n2": 1}, 3))
        kube.delete("pod", "a-1", "team-1")
        eventually(lambda: executors.placed("a", "team-1/a-9") == ({"n1": 1, "n2": 1}, 2))
    finally:
        watch.close()


def test_the_extender_scores_an_apps_executors_by_its_deficits(tmp_path, fake_alluxio):
    """kube-scheduler's front end (/prioritize) on the 75% / 25% / 0 shape: as the webhook and Volcano do."""
    with app_cluster(tmp_path, fake_alluxio) as (served, _):
        def scores(name):
            status, ranking = served.post("/prioritize", {"Pod": make_executor(name, app="a", paths=INPUT),
                                                          "NodeNames": list(NODES)})
            assert status == 200, ranking
            return {row["Host"]: row["Score"] for row in ranking if row["Score"]}

        assert scores("a-1") == {"n1": 10, "n2": 3}
        assert scores("a-2") == {"n1": 10, "n2": 10}
        assert scores("a-3") == {"n1": 10}
