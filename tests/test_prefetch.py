from scheduler_extender.prefetch import pending_paths
from tests.support.objects import make_executor


def pod(node_name=None, paths="/data/x"):
    return make_executor("p", paths=paths, node=node_name)


def test_pending_pod_with_paths():
    assert pending_paths(pod()) == ("/data/x",)


def test_bound_pod_or_no_paths_is_nothing_to_prefetch():
    assert pending_paths(pod(node_name="n1")) is None
    assert pending_paths(pod(paths="")) is None
    assert pending_paths({"metadata": {"name": "p"}}) is None
