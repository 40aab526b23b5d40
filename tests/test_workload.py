import pytest

from scheduler_extender.workload import MEMO_TEXT, PATHS_ANNOTATION, normalise, parse_paths, workload_of
from tests.support.objects import make_executor


def pod(annotations=None):
    """An executor whose `metadata.annotations` is `annotations` as given, null and malformed ones too."""
    executor = make_executor("exec-1")
    executor["metadata"]["annotations"] = annotations
    return executor


def test_pod_without_annotation_reads_nothing():
    assert workload_of(pod()).paths == ()
    assert workload_of({}).paths == ()
    assert workload_of(pod({"other": "x"})).paths == ()


def test_commas_newlines_and_uris():
    text = "/data/a, alluxio://master:19998/data/b\n\n alluxio:///data/c ,/data/d/"
    assert workload_of(pod({PATHS_ANNOTATION: text})).paths == ("/data/a", "/data/b", "/data/c", "/data/d")


@pytest.mark.parametrize("entry, path", [
    ("/a//b/./c/", "/a/b/c"),
    ("/a/b/../c", "/a/c"),
    ("/../a", "/a"),
    ("/", "/"),
    ("ALLUXIO://m:19998/x%20y", "/x y"),
    ("alluxio://m:19998", "/"),
    ("/x%20y", "/x%20y"),
])
def test_normalise(entry, path):
    assert normalise(entry) == path


def test_rejected_entries_are_reported_not_fatal():
    paths, rejected = parse_paths("hdfs://nn/data/x, data/relative, /ok")
    assert paths == ("/ok",)
    assert [(r.entry, r.kind) for r in rejected] == [("hdfs://nn/data/x", "scheme"), ("data/relative", "relative")]
    assert "hdfs" in rejected[0].reason


def test_non_string_annotation_is_rejected():
    work = workload_of(pod({PATHS_ANNOTATION: 42}))
    assert work.paths == () and work.rejected[0].kind == "not_string"


def test_duplicates_and_nested_paths_are_counted_once():
    paths, _ = parse_paths("/data/sales/part-1, /data/sales, /data/sales, /data/salesman, /data/sales/x/y")
    assert paths == ("/data/sales", "/data/salesman")


def test_root_covers_everything():
    assert parse_paths("/a, /, /b")[0] == ("/",)


def test_pod_name_for_logs():
    assert workload_of(pod()).pod == "spark/exec-1"


@pytest.mark.parametrize("value, required, rejected", [
    ("true", True, ()), ("True", True, ()), (" TRUE ", True, ()), ("false", False, ()),
    ("yes", False, ("bad_flag",)), ("1", False, ("bad_flag",)), (True, False, ("bad_flag",)),
])
def test_require_local_worker_flag(value, required, rejected):
    work = workload_of(pod({"alluxio-locality.io/require-local-worker": value}))
    assert work.require_local_worker is required
    assert tuple(r.kind for r in work.rejected) == rejected


def test_flag_without_paths_and_paths_without_flag():
    assert workload_of(pod({"alluxio-locality.io/require-local-worker": "true"})).paths == ()
    assert workload_of(pod({PATHS_ANNOTATION: "/a"})).require_local_worker is False


def test_unknown_annotations_of_ours_and_non_object_annotations_are_reported():
    work = workload_of(pod({"alluxio-locality.io/pathz": "/data", "alluxio-locality.io/paths": "/a", "team": "x"}))
    assert work.paths == ("/a",)
    assert [(r.entry, r.kind) for r in work.rejected] == [("alluxio-locality.io/pathz='/data'", "unknown_annotation")]
    assert "alluxio-locality.io/paths" in work.rejected[0].reason
    assert [r.kind for r in workload_of(pod(["alluxio-locality.io/paths"])).rejected] == ["annotations_not_object"]
    assert workload_of(pod(None)).rejected == ()


def test_an_annotation_read_again_gives_the_same_paths_and_rejections():
    text = "/a/b, relative/x, /a/b/c, s3://bucket/k"
    pod = make_executor("e", paths=text)
    first, again = workload_of(pod), workload_of(make_executor("f", paths=text))
    assert first.paths == again.paths == ("/a/b",)
    assert [r.kind for r in first.rejected] == [r.kind for r in again.rejected] == ["relative", "scheme"]
    assert again.pod.endswith("/f")


def test_a_long_annotation_is_read_as_a_short_one():
    text = ",".join(f"/d/{i:05d}" for i in range(MEMO_TEXT // 8))
    assert len(text) > MEMO_TEXT
    assert workload_of(make_executor("e", paths=text)).paths == parse_paths(text)[0]
