"""Spark drivers (label spark-role=driver): their paths are their executors' input, which they barely read, so
they are scored away from the nodes caching it, never toward; their paths still warm the index."""
import copy
import json
from pathlib import Path

import pytest

from scheduler_extender.prefetch import pending_paths
from scheduler_extender.scoring import away
from scheduler_extender.workload import PATHS_ANNOTATION, workload_of
from tests.support.bodies import scores_of
from tests.support.served import Served

DEMO = Path(__file__).parent.parent / "examples" / "demo"


def pod(labels):
    return {"metadata": {"name": "app-driver", "namespace": "spark", "labels": labels,
                         "annotations": {PATHS_ANNOTATION: "/data/sales/2026-11"}}, "spec": {}}


@pytest.mark.parametrize("labels, driver", [
    ({"spark-role": "driver"}, True),
    ({"spark-role": "executor"}, False),
    ({"spark-role": "Driver"}, False),  # label values are case-sensitive, and Spark writes "driver"
    ({}, False),
    (None, False),
    ("spark-role=driver", False),  # not an object: no labels
])
def test_driver_is_read_from_the_spark_role_label(labels, driver):
    assert workload_of(pod(labels)).driver is driver
    assert workload_of(pod(labels)).paths == ("/data/sales/2026-11",)


def test_a_driver_without_readable_annotations_is_still_a_driver():
    unreadable = pod({"spark-role": "driver"})
    unreadable["metadata"]["annotations"] = ["not", "an", "object"]
    assert workload_of(unreadable).driver and workload_of(unreadable).paths == ()


def test_away_mirrors_the_scores_toward():
    assert away([10, 5, 2, 1, 0]) == [0, 5, 8, 9, 10]


def test_away_from_nothing_is_nothing():
    # no candidate holds a byte: every node is as good for the driver, and the answer stays empty
    assert away([0, 0, 0]) == [0, 0, 0]
    assert away([]) == []


def test_a_pending_drivers_paths_are_prefetched():
    assert pending_paths(pod({"spark-role": "driver"})) == ("/data/sales/2026-11",)


@pytest.fixture(scope="module")
def demo():
    with Served("--locations-file", str(DEMO / "locations.json")) as served:
        yield served


def test_prioritize_keeps_a_driver_off_the_nodes_caching_its_input(demo):
    body = json.loads((DEMO / "prioritize-request.json").read_text())
    candidates = body["NodeNames"]  # node-1, node-4, node-5, node-3, node-2
    status, executor_ranking = demo.post("/prioritize", body)
    assert status == 200
    toward = scores_of(executor_ranking, candidates)
    assert toward == [2, 4, 0, 0, 10]
    driver = copy.deepcopy(body)
    driver["Pod"]["metadata"]["labels"]["spark-role"] = "driver"
    status, ranking = demo.post("/prioritize", driver)
    assert status == 200
    # node-2 caches the most: left out (0); node-5 and node-3 cache none: 10; kube-scheduler adds nothing to an
    # unlisted host, so the driver goes where its executors will not need the room
    assert ranking == [{"Host": "node-1", "Score": 8}, {"Host": "node-4", "Score": 6},
                       {"Host": "node-5", "Score": 10}, {"Host": "node-3", "Score": 10}]
    assert scores_of(ranking, candidates) == [10 - score for score in toward]


def test_prioritize_answers_nothing_for_a_driver_whose_input_no_candidate_caches(demo):
    body = json.loads((DEMO / "prioritize-request.json").read_text())
    body["Pod"]["metadata"]["labels"]["spark-role"] = "driver"
    body["NodeNames"] = ["node-3", "node-5"]
    assert demo.post("/prioritize", body) == (200, [])
