"""The Alluxio 3 source's parts on plain data and against stand-in workers and master on loopback. The expected
values below are what Alluxio 313 answers (its jars, through tests/alluxio3/RingOracle.java, which checks the same
on 12,000 paths); here they document the behaviour and run without Java."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from scheduler_extender.locations.alluxio3 import Alluxio3Source
from scheduler_extender.locations.alluxio3_http import JsonHttp
from scheduler_extender.locations.alluxio3_listing import FileEntry, ListingFile, WorkerApiListing
from scheduler_extender.locations.alluxio3_membership import (
    MasterMembership,
    Member,
    MembershipError,
    etcd_members,
    java_hash_set_order,
    static_members,
)
from scheduler_extender.locations.alluxio3_ring import Ring, WorkerIdentity, key_hash, murmur3_32, signed32
from scheduler_extender.locations.alluxio3_uri import ufs_key
from scheduler_extender.locations.base import SourceError
from scheduler_extender.metrics import SourceMetrics
from tests.support.fake_alluxio3 import FakeMaster3, FakeWorker3, Namespace, membership_entry
from tests.support.loopback import StandbyWebPort
from tests.support.served import Served

MURMUR3_VECTORS = [  # (data, seed, MurmurHash3_x86_32), the vectors published with the algorithm's ports
    (b"", 0, 0), (b"", 1, 0x514E28B7), (b"", 0xFFFFFFFF, 0x81F16F39), (b"\xff\xff\xff\xff", 0, 0x76293B50),
    (b"!Ce\x87", 0, 0xF55B516B), (b"!Ce\x87", 0x5082EDEE, 0x2362F9DE), (b"!Ce", 0, 0x7E4A8634),
    (b"!C", 0, 0xA0F7B07A), (b"!", 0, 0x72661CF4), (b"\0\0\0\0", 0, 0x2362F9DE), (b"\0\0\0", 0, 0x85F0B427),
    (b"\0\0", 0, 0x30F4C306), (b"\0", 0, 0x514E28B7), (b"aaaa", 0x9747B28C, 0x5A97808A),
    (b"aaa", 0x9747B28C, 0x283E0130), (b"aa", 0x9747B28C, 0x5D211726), (b"a", 0x9747B28C, 0x7FA09EA6),
    (b"abcd", 0x9747B28C, 0xF0478627), (b"abc", 0x9747B28C, 0xC84A62DD), (b"ab", 0x9747B28C, 0x74875592),
    (b"Hello, world!", 0x9747B28C, 0x24884CBA), ("ππππππππ".encode(), 0x9747B28C, 0xD58063C1),
    (b"a" * 256, 0x9747B28C, 0x37405BDC), (b"abc", 0, 0xB3DD93FA),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0, 0xEE925B90),
    (b"The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
]


@pytest.mark.parametrize("data, seed, expected", MURMUR3_VECTORS)
def test_murmur3_matches_the_published_vectors(data: bytes, seed: int, expected: int) -> None:
    assert murmur3_32(data, seed) == expected


def test_signed_like_java() -> None:
    assert signed32(0xB3DD93FA) == -1277324294 and signed32(0x514E28B7) == 0x514E28B7


@pytest.mark.parametrize("host, name_uuid", [  # java.util.UUID.nameUUIDFromBytes(host.getBytes(UTF_8))
    ("worker-a", "ff21fe4a-ec38-359a-aabf-cd82486490b0"), ("10.0.0.7", "00958fd0-af98-391f-9f51-7e3fe763da5c"),
    ("alluxio-worker-0.alluxio-worker.default.svc.cluster.local", "1a6e7434-9aca-3b5b-bd72-47f68969d48d"),
    ("ü", "c03410a5-204b-31cd-8229-ff754688d743")])
def test_static_identities_are_javas_name_uuids(host: str, name_uuid: str) -> None:
    assert WorkerIdentity.from_host_name(host) == WorkerIdentity.from_uuid_hex(name_uuid)


def test_static_files_are_read_in_java_hash_set_order(tmp_path: Path) -> None:
    hosts = [f"worker-{i}.example" for i in range(1, 41)] + ["10.0.0.1", "10.0.0.2", "Aa", "BB", "日本"]
    java = ("worker-37.example,Aa,BB,worker-9.example,worker-21.example,worker-38.example,worker-22.example,"
            "worker-36.example,worker-39.example,worker-8.example,worker-35.example,worker-34.example,"
            "worker-20.example,worker-18.example,worker-25.example,worker-24.example,worker-19.example,"
            "worker-2.example,worker-10.example,10.0.0.2,10.0.0.1,worker-1.example,worker-40.example,"
            "worker-23.example,worker-14.example,worker-13.example,worker-16.example,worker-11.example,"
            "worker-12.example,日本,worker-3.example,worker-17.example,worker-26.example,worker-4.example,"
            "worker-32.example,worker-27.example,worker-33.example,worker-5.example,worker-30.example,"
            "worker-6.example,worker-7.example,worker-28.example,worker-15.example,worker-29.example,"
            "worker-31.example").split(",")  # new HashSet<>(hosts), iterated, in Java 17
    assert java_hash_set_order(hosts) == java
    (tmp_path / "workers").write_text("# comment\n\n" + "\n".join(f" {h}\t" for h in hosts + hosts[:3]) + "\n")
    assert [m.host for m in static_members(tmp_path / "workers", 28081)] == java
    assert {m.http_port for m in static_members(tmp_path / "workers", 28081)} == {28081}


@pytest.mark.parametrize("path, s3, local", [  # Alluxio 313's key under s3://bucket/warehouse and under /mnt/ufs
    ("/data/x.parquet", "s3://bucket/warehouse/data/x.parquet", "/mnt/ufs/data/x.parquet"),
    ("/a//b/", "s3://bucket/warehouse/a/b", "/mnt/ufs/a/b"),
    ("\\a\\b", "s3://bucket/warehouse/a/b", "/mnt/ufs/a/b"),
    ("/a/./b/../c", "s3://bucket/warehouse/a/c", "/mnt/ufs/a/c"),
    ("/../x", "s3://bucket/x", None),
    ("/a/.", "s3://bucket/warehouse/a", "/mnt/ufs/a"),
    ("/a?b//c", "s3://bucket/warehouse/a?b//c", "/mnt/ufs/a?b//c"),
    ("/a b/%20/ü", "s3://bucket/warehouse/a b/%20/ü", "/mnt/ufs/a b/%20/ü"),
    ("/a#b", "s3://bucket/warehouse/a#b", "/mnt/ufs/a#b"),
    ("s3://bucket/warehouse/q", "s3://bucket/warehouse/q", "/mnt/ufs/s3:/bucket/warehouse/q"),
    ("s3://bucket/warehousefoo/q", "s3://bucket/warehouse/s3:/bucket/warehousefoo/q",
     "/mnt/ufs/s3:/bucket/warehousefoo/q"),
    ("//host/x", "s3://bucket/warehouse/host/x", "/mnt/ufs/host/x"),
    ("/", "s3://bucket/warehouse", "/mnt/ufs"),
    ("", "s3://bucket/warehouse", "/mnt/ufs"),
    ("a/b", "s3://bucket/warehouse/a/b", None),
    ("C:/x", "s3://bucket/warehouse/C:/x", "/mnt/ufs/C:/x"),
    ("hdfs://nn:08020/x", "s3://bucket/warehouse/hdfs:/nn:8020/x", "/mnt/ufs/hdfs:/nn:8020/x"),
    ("alluxio://m1:1;m2:2/a", "s3://bucket/warehouse/alluxio:/m1:1,m2:2/a", "/mnt/ufs/alluxio:/m1:1,m2:2/a"),
    ("//[zz]/x", None, None),
    ("s3:x", None, None),
])
def test_the_key_is_alluxios(path: str, s3: str | None, local: str | None) -> None:
    for root, expected in (("s3://bucket/warehouse", s3), ("/mnt/ufs", local)):
        if expected is None:
            with pytest.raises(ValueError):
                ufs_key(path, root)
        else:
            assert ufs_key(path, root) == expected


def entry(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_etcd_entries_are_read_as_alluxio_reads_them() -> None:
    ok = membership_entry(uuid.UUID(int=1), "10.0.0.1", 28080)
    members = etcd_members([
        json.dumps(ok).encode(), b"not json", b"[1]", entry(Identity="x", WorkerNetAddress={}),
        entry(Identity={"version": 1, "identifier": "AB" * 15}, WorkerNetAddress={}),  # 15 bytes: skipped
        entry(Identity={"version": 2, "identifier": "AB" * 16}, WorkerNetAddress={}),  # no such version
        entry(Identity={"version": 1.9, "identifier": "CD" * 16}, WorkerNetAddress={"Host": 7, "HttpServerPort": 9}),
        entry(WorkerNetAddress={"Host": "legacy"}),  # no identity: worker id 0 of the master kind
        entry(Identity={"version": 1, "identifier": "EF" * 16}, WorkerNetAddress={"Host": {}}),  # Gson fails
    ])
    assert [(m.identity, m.host, m.http_port) for m in members] == [
        (WorkerIdentity(uuid.UUID(int=1).bytes, 1), "10.0.0.1", 28080),
        (WorkerIdentity(bytes.fromhex("CD" * 16), 1), "7", 9), (WorkerIdentity(bytes(8), 0), "legacy", 0)]
    with pytest.raises(MembershipError, match="without WorkerNetAddress"):
        etcd_members([json.dumps(ok).encode(), entry(Identity={"version": 1, "identifier": "AB" * 16})])
    with pytest.raises(MembershipError, match="two membership entries"):
        etcd_members([json.dumps(ok).encode(), json.dumps(ok).encode()])


def members(count: int) -> tuple[Member, ...]:
    return tuple(Member(WorkerIdentity.from_uuid_hex(uuid.UUID(int=i + 1).hex), f"10.0.0.{i + 1}")
                 for i in range(count))


def test_the_ring_wraps_and_ignores_hosts() -> None:
    ring = Ring(members(3), 5)
    points = sorted(p for m in members(3) for p in m.identity.entry_hashes(5))
    above = next(f"/k{i}" for i in range(10_000) if key_hash(f"/k{i}") > points[-1])
    lowest = next(m for m in members(3) if points[0] in m.identity.entry_hashes(5))
    assert ring.owner(above) == lowest  # past the highest entry: the lowest one
    renamed = Ring(tuple(Member(m.identity, "elsewhere-" + m.host) for m in members(3)), 5)
    assert all(renamed.owner(f"/p{i}").identity == ring.owner(f"/p{i}").identity for i in range(200))
    with pytest.raises(ValueError):
        Ring((), 5)


@pytest.fixture
def namespace() -> Namespace:
    tree = Namespace("s3://bucket/warehouse")
    for i in range(6):
        tree.add(f"/sales/2026/part-{i}", 100 * (i + 1))
    tree.add("/sales/2026/sub/deep/x:y?z", 7)
    tree.add("/other/a", 5)
    return tree


@pytest.fixture
def workers(namespace: Namespace) -> Any:
    fakes = [FakeWorker3(namespace, host=f"127.0.3.{i}") for i in range(1, 4)]
    for fake in fakes:
        fake.start()
    yield fakes
    for fake in fakes:
        fake.stop()


def http(retries: int = 0) -> JsonHttp:
    return JsonHttp(timeout=5, retries=retries, metrics=SourceMetrics())


def ring_of(workers: list[FakeWorker3]) -> Ring[Member]:
    return Ring(etcd_members(json.dumps(w.entry()).encode() for w in workers), 5)


def test_the_worker_api_is_walked_through_each_directorys_owner(workers: list[FakeWorker3],
                                                                namespace: Namespace) -> None:
    ring = ring_of(workers)
    found = WorkerApiListing(http(), namespace.ufs_root).files("/sales/2026", ring)
    assert sorted(found, key=lambda e: e.ufs_path) == sorted(
        (FileEntry(namespace.ufs_path(p), n) for p, n in namespace.files.items() if p.startswith("/sales/")),
        key=lambda e: e.ufs_path)
    asked = {key: w.host for w in workers for key in w.received}
    for action, path in asked:
        assert asked[(action, path)] == ring.owner(ufs_key(path, namespace.ufs_root)).host, path
    assert ("files", "/sales/2026/sub/deep") in asked  # nested directories are walked
    assert WorkerApiListing(http(), namespace.ufs_root).files("/sales/2026/part-3", ring) == [
        FileEntry("s3://bucket/warehouse/sales/2026/part-3", 400)]


def test_the_worker_api_cannot_carry_every_path(workers: list[FakeWorker3], namespace: Namespace) -> None:
    listing = WorkerApiListing(http(retries=1), namespace.ufs_root)
    with pytest.raises(SourceError, match="decodes no escape but %2F %3A %3F"):
        listing.files("/sales/a b", ring_of(workers))
    with pytest.raises(SourceError, match="failed after 2 attempt"):  # missing: the worker closes, no answer
        listing.files("/nothing/here", ring_of(workers))


def test_a_listing_file_gives_files_and_may_give_cached_shares(tmp_path: Path) -> None:
    infos = [{"mType": "file", "mPath": "/d/a", "mUfsPath": "s3://b/d/a", "mLength": 10},
             {"mType": "file", "mPath": "/d/b", "mUfsPath": "s3://b/d/b", "mLength": 20, "inAlluxioPercentage": 50},
             {"mType": "directory", "mPath": "/d/e"}, {"mType": "file", "mPath": "/de", "mUfsPath": "s3://b/de",
                                                        "mLength": 1}]
    (tmp_path / "listing.json").write_text(json.dumps(infos))
    listing = ListingFile(tmp_path / "listing.json")
    ring = Ring(members(2), 5)
    assert listing.files("/d", ring) == [FileEntry("s3://b/d/a", 10), FileEntry("s3://b/d/b", 20, 50)]
    assert listing.files("/d/b", ring) == [FileEntry("s3://b/d/b", 20, 50)]
    assert listing.files("/x", ring) == []
    (tmp_path / "bad.json").write_text(json.dumps([{"mType": "file", "mPath": "/a", "mLength": -1}]))
    with pytest.raises(SourceError, match="entry 0: not a file or directory info"):
        ListingFile(tmp_path / "bad.json")


class StaticView:
    """A membership whose members a test sets."""

    def __init__(self, current: tuple[Member, ...]) -> None:
        self.current = current

    def members(self) -> tuple[Member, ...]:
        return self.current

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_bytes_go_to_each_files_owner_estimated_unless_the_listing_says(tmp_path: Path) -> None:
    infos: list[dict[str, Any]] = [{"mType": "file", "mPath": f"/d/{i}", "mUfsPath": f"s3://b/d/{i}",
                                    "mLength": 1000 + i,
              **({"inAlluxioPercentage": 10} if i == 0 else {})} for i in range(50)]
    (tmp_path / "listing.json").write_text(json.dumps(infos))
    view = StaticView(members(4))
    source = Alluxio3Source(view, ListingFile(tmp_path / "listing.json"), virtual_nodes=5)
    ring = Ring(members(4), 5)
    expected: dict[tuple[tuple[str, str], ...], int] = {}
    for info in infos:
        owner = (ring.owner(info["mUfsPath"]).address,)
        expected[owner] = expected.get(owner, 0) + (100 if info["mPath"] == "/d/0" else info["mLength"])
    found = source.fetch("/d")
    assert dict(found.by_workers) == expected and len(expected) == 4
    assert (found.total_bytes, found.files) == (sum(i["mLength"] for i in infos), 50)
    view.current = members(2)  # two workers left: the ring is built again
    assert {w for ws in source.fetch("/d").by_workers for w in ws} == {m.address for m in members(2)}
    view.current = ()
    with pytest.raises(SourceError, match="no Alluxio 3 worker is on the ring"):
        source.probe()


def test_the_master_membership_is_its_live_workers_and_survives_its_outage() -> None:
    with FakeMaster3() as master:
        master.live = list(members(3))
        master.lost = list(members(5)[3:])
        membership = MasterMembership([master.url], http(), live_only=True, refresh=0)
        assert membership.members() == members(3)
        assert MasterMembership([master.url], http(), live_only=False, refresh=0).members() == members(5)
        master.stop()
        assert membership.members() == members(3)  # the last good list
    with pytest.raises(SourceError):
        MasterMembership(["http://127.0.0.1:9"], http(), live_only=True).members()


def test_of_several_masters_the_one_that_answers_is_asked_first_from_then_on() -> None:
    """HA: a standby's web port closes the connection unanswered; whichever master is primary answers."""
    with StandbyWebPort() as standby, FakeMaster3() as primary, FakeMaster3() as other:
        primary.live, other.live = list(members(3)), list(members(2))
        membership = MasterMembership([standby.url, primary.url, other.url], http(), live_only=True, refresh=0)
        assert membership.members() == members(3)
        assert membership.members() == members(3) and primary.asked == 2 and other.asked == 0
        primary.stop()  # failed over: the other one is primary now
        assert membership.members() == members(2)
        primary.start()
        assert membership.members() == members(2) and other.asked == 2  # the one that answered last, first
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:9/.*; .*127\.0\.0\.1:10/"):
        MasterMembership(["http://127.0.0.1:9", "http://127.0.0.1:10"], http(), live_only=True).members()


def locate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scheduler_extender", "locate", *args], capture_output=True,
                          text=True)


def test_locate_prints_each_paths_owner_in_order(tmp_path: Path) -> None:
    entries = [membership_entry(uuid.UUID(int=i + 1), f"10.0.0.{i + 1}") for i in range(5)]
    (tmp_path / "workers.json").write_text(json.dumps(entries[::-1]))  # any order: read in etcd's key order
    paths = ["/z/b", "/a/ü 1", "/a//b/", "s3://b/r/q"]
    done = locate("--alluxio3-workers", str(tmp_path / "workers.json"), "--alluxio3-ufs-root", "s3://b/r", *paths)
    ring = Ring(etcd_members(json.dumps(e).encode() for e in entries), 5)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "".join(f"{p}\t{ring.owner(ufs_key(p, 's3://b/r')).host}\n" for p in paths)
    bare = locate("--alluxio3-workers", str(tmp_path / "workers.json"), "s3://b/r/q", "s3:x")
    assert bare.returncode == 1 and bare.stdout == done.stdout.splitlines()[-1] + "\n" and "s3:x" in bare.stderr
    (tmp_path / "bad.json").write_text("{}")
    refused = locate("--alluxio3-workers", str(tmp_path / "bad.json"), "/a")
    assert refused.returncode == 2 and "expected a JSON array" in refused.stderr


def test_the_served_extender_scores_the_ring_owners_and_locality_names_them(tmp_path: Path,
                                                                            namespace: Namespace) -> None:
    """Static membership (worker host names only, one HTTP port for all, as Alluxio's conf/workers), node map;
    /locality of each file shows its bytes on the node of the owner `locate` names."""
    fakes = [FakeWorker3(namespace, host=f"127.0.4.{i}") for i in range(1, 5)]
    fakes[0].start()
    for fake in fakes[1:]:
        fake.port = fakes[0].port
        fake.start()
    try:
        (tmp_path / "workers").write_text("".join(f"{f.host}\n" for f in fakes))
        (tmp_path / "nodes.yaml").write_text("".join(f"'{f.host}': node-{i}\n" for i, f in enumerate(fakes, 1)))
        owners = static_members(tmp_path / "workers")
        (tmp_path / "entries.json").write_text(json.dumps(
            [membership_entry(uuid.UUID(bytes=m.identity.identifier), m.host) for m in owners]))
        files = sorted(p for p in namespace.files if p.startswith("/sales/"))
        located = dict(line.split("\t") for line in locate(
            "--alluxio3-workers", str(tmp_path / "entries.json"), "--alluxio3-ufs-root", namespace.ufs_root,
            *files).stdout.splitlines())
        node_of = {f.host: f"node-{i}" for i, f in enumerate(fakes, 1)}
        with Served("--alluxio3-static-workers", str(tmp_path / "workers"), "--alluxio3-worker-http-port",
                    str(fakes[0].port), "--alluxio3-ufs-root", namespace.ufs_root,
                    "--node-map", str(tmp_path / "nodes.yaml"), "--request-budget", "2s") as served:
            for path in files:
                status, report = served.get(f"/locality?path={quote(path)}")
                assert status == 200, report
                assert [(n["node"], n["cachedBytes"]) for n in report["nodes"]] == [
                    (node_of[located[path]], namespace.files[path])], path
            status, scores = served.post("/prioritize", {
                "Pod": {"metadata": {"name": "e", "annotations": {"alluxio-locality.io/paths": "/sales/2026"}}},
                "NodeNames": list(node_of.values())})
        per_node: dict[str, int] = {}
        for path in files:
            per_node[node_of[located[path]]] = per_node.get(node_of[located[path]], 0) + namespace.files[path]
        best = max(per_node, key=per_node.__getitem__)
        assert status == 200 and {s["Host"]: s["Score"] for s in scores}[best] == 10
    finally:
        for fake in fakes:
            fake.stop()
