"""What tests/alluxio3 asks Alluxio's own client and our ring about: paths and worker sets, the same every run
(seeded), with the cases that matter spelled out."""
from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from scheduler_extender.locations.alluxio3_ring import WorkerIdentity
from tests.support.fake_alluxio3 import membership_entry

UFS_ROOTS = ("s3://bucket/warehouse", "/mnt/ufs")
"""alluxio.dora.client.ufs.root: an object store under a prefix, and a local path (no scheme, no authority)."""

COLLIDING_HOSTS = ("w3154.example", "w11474.example")
"""Two host names whose static-membership identities share two of their five ring entries (found by searching
w0.example, w1.example, ...). Whichever comes later in the membership's order takes those slots."""

_UNICODE = ("日本語", "データ", "中文", "한국어", "Ελληνικά", "кириллица", "עברית", "العربية", "हिन्दी", "ไทย",
            "😀", "🚀🌍", "👩‍👩‍👧", "e\u0301", "\u00a0", "\u200b", "\u2028", "ß", "İ", "ﬁ", "𝔘𝔫𝔦", "\U0010fffd")
_SPECIAL = (" ", "%", "%20", "#", ";", "&", "=", "+", "'", '"', "\\", "\t", "@", "!", "$", "(", ")", "[", "]", "{",
            "}", ",", "~", "`", "^", "|", "<", ">", "*", ":", "?", "\x01", "\x7f")


def paths(seed: int = 18) -> list[str]:
    """12,000 paths: table partitions, Unicode, very long, special characters, the forms Alluxio normalises,
    URIs under (and not under) the UFS roots, and oddities Alluxio parses in its own way."""
    rng = random.Random(seed)
    found: list[str] = []
    for i in range(4000):
        found.append(f"/data/{rng.choice(['sales', 'clicks', 'logs'])}/dt=2026-11-{rng.randint(1, 30):02d}/"
                     f"part-{i:05d}-{uuid.UUID(int=rng.getrandbits(128))}.parquet")
    for _ in range(2000):
        found.append("/" + "/".join("".join(rng.choice(_UNICODE) for _ in range(rng.randint(1, 4)))
                                    for _ in range(rng.randint(1, 6))))
    for _ in range(500):
        segment = "".join(rng.choice("abcdefghij0123456789-_") for _ in range(rng.randint(20, 200)))
        found.append("/long" + f"/{segment}" * rng.randint(10, 80))
    for _ in range(2000):
        found.append("/odd/" + "".join(rng.choice(_SPECIAL + ("a", "b", "/")) for _ in range(rng.randint(1, 12))))
    bases = found[:1500]
    for base in bases:
        found.append(_mangle(base, rng))
    for _ in range(1000):
        base = rng.choice(bases)
        root = rng.choice(UFS_ROOTS + ("s3://other-bucket/x", "hdfs://nn:8020/warehouse", "file:///tmp/ufs"))
        found.append(root.rstrip("/") + rng.choice(["", "/", "//"]) + base.lstrip("/"))
    found.extend(_ODDITIES)
    while len(found) < 12000:
        found.append("/" + "".join(chr(rng.randint(0x20, 0x7e)) for _ in range(rng.randint(0, 30))))
    return found


_ODDITIES = ["/", "", ".", "..", "/.", "/..", "/../x", "/a/../../b", "/a/.", "/a/b/..", "//", "///a///b///",
             "a/b", "a", "./a", "../a", "C:/data/x", "/C:/data", "c:\\data\\x", "//host/x", "//host", "//", "/a?",
             "/a?b=c&d", "?x", "/a/b?c/../d", "/a\\b\\..\\c", "\\\\server\\share\\f", "s3:x", "s3:/x", "s3://",
             "s3://bucket", "s3://bucket/warehouse", "s3://bucket/warehouse/", "s3://bucket/warehouse/../x",
             "s3://bucket/warehousefoo/x", "S3://bucket/warehouse/x", "s3://BUCKET/warehouse/x", "hdfs://nn:08020/x",
             "alluxio://master:19998/a", "alluxio://m1:19998;m2:19998/a", "alluxio://zk@z1:2181+z2:2181/a",
             "/mnt/ufs", "/mnt/ufs/", "/mnt/ufs/a", "/mnt/ufsx/a", "/mnt/../mnt/ufs/a", "file:///mnt/ufs/a",
             "//[::1]:80/x", "//u@[fe80::1]/x", "//[zz]/x", "//a[b]/x", "s3://[::1]/x", "//h:1:2/x", "//@/x"]


def _mangle(path: str, rng: random.Random) -> str:
    """A form Alluxio normalises to `path` or near it: doubled or backslashed separators, `.` and `..`
    segments, trailing slashes, a query."""
    parts = path.split("/")
    out = []
    for part in parts:
        out.append(part)
        roll = rng.random()
        if roll < 0.15:
            out.append(".")
        elif roll < 0.25:
            out.extend([rng.choice(["x", "..", "y"]), ".."])
        elif roll < 0.35:
            out.append("")
    joined = rng.choice(["/", "//", "\\"]).join(out)
    return joined + rng.choice(["", "/", "//", "/.", "?q=1", "/..", ""])


def _uuids(count: int, rng: random.Random) -> list[uuid.UUID]:
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(count)]


def _etcd(identities: list[uuid.UUID], hosts: list[str]) -> list[dict[str, Any]]:
    """Entries as etcd returns them: in key order, i.e. by ServiceEntityName."""
    entries = [membership_entry(identity, host) for identity, host in zip(identities, hosts, strict=True)]
    return sorted(entries, key=lambda entry: entry["ServiceEntityName"])


def worker_sets(tmp: Path, seed: int = 18) -> list[dict[str, Any]]:
    """The memberships, as the oracle takes them (etcd values as JSON text, or a static file)."""
    rng = random.Random(seed)
    base = _uuids(12, rng)
    hosts = [f"10.0.0.{i}" for i in range(1, 13)]
    extra = _uuids(3, rng)
    static = tmp / "workers"
    names = [f"alluxio-worker-{i}.alluxio-worker.alluxio.svc.cluster.local" for i in range(28)] + list(COLLIDING_HOSTS)
    static.write_text("# a static membership file, as conf/workers\n\n" + "\n".join(f"  {n} " for n in names) + "\n")
    colliding = [uuid.UUID(bytes=WorkerIdentity.from_host_name(host).identifier) for host in COLLIDING_HOSTS]
    malformed = [json.dumps(entry) for entry in _etcd(base, hosts)] + [
        "not json", '{"Identity": "x"}', json.dumps({"Identity": {"version": 1}}),
        json.dumps({"Identity": {"version": 2, "identifier": "00" * 16}}),
        json.dumps({"Identity": {"version": 1, "identifier": "0f" * 15}}),
        json.dumps({"Identity": {"version": 1, "identifier": "zz" * 16}}),
        json.dumps({"Identity": {"version": 1, "identifier": "abc"}}),
        json.dumps({"Identity": {"version": 1, "identifier": "AB" * 16}, "WorkerNetAddress": {"Host": "10.0.9.9"}}),
        json.dumps({"Identity": {"version": 1.7, "identifier": "CD" * 16}, "WorkerNetAddress": {"Host": 7}}),
        json.dumps({"Identity": {"version": 1, "identifier": "EF" * 16}, "WorkerNetAddress": {}}),
        json.dumps({"Identity": {"version": 1, "identifier": "0A" * 16}, "WorkerNetAddress": {"Host": {}}}),
        json.dumps({"Identity": {"version": 1, "identifier": "0B" * 16}, "WorkerNetAddress": "h"}),
        json.dumps({"Identity": {"version": "1", "identifier": "0C" * 16}, "WorkerNetAddress": {"Host": "h"}}),
        json.dumps({"Identity": {"version": 1, "identifier": "AB AB"}, "WorkerNetAddress": {"Host": "h"}}),
        json.dumps({"WorkerNetAddress": {"Host": "10.0.9.8"}}),  # no identity: legacy worker id 0
        "[1]", '"x"', "3",
    ]
    sets: list[dict[str, Any]] = [
        {"name": "base", "etcd": _etcd(base, hosts)},
        {"name": "added", "etcd": _etcd(base + extra, hosts + ["10.0.1.1", "10.0.1.2", "10.0.1.3"])},
        {"name": "removed", "etcd": _etcd(base[4:], hosts[4:])},
        {"name": "readdressed", "etcd": _etcd(base, [f"node-{i}.example" for i in range(12)])},
        {"name": "single", "etcd": _etcd(base[:1], hosts[:1])},
        {"name": "one-vnode", "etcd": _etcd(base, hosts), "virtualNodes": 1},
        {"name": "many-vnodes", "etcd": _etcd(base, hosts), "virtualNodes": 64},
        {"name": "colliding",
         "etcd": [membership_entry(u, h) for u, h in zip(colliding, COLLIDING_HOSTS, strict=True)]},
        {"name": "colliding-reversed",
         "etcd": [membership_entry(u, h) for u, h in reversed(list(zip(colliding, COLLIDING_HOSTS, strict=True)))]},
        {"name": "master-ids", "etcd": [
            {"Identity": {"version": 0, "identifier": f"{i:016x}"}, "WorkerNetAddress": {"Host": f"10.0.2.{i}"}}
            for i in range(1, 9)]},
        {"name": "static", "staticFile": str(static)},
        {"name": "malformed", "etcd": malformed},
        {"name": "no-address", "etcd": [json.dumps(entry) for entry in _etcd(base[:3], hosts[:3])]
         + [json.dumps({"Identity": {"version": 1, "identifier": "AB" * 16}})]},
    ]
    for workers in sets:
        if "etcd" in workers:
            workers["etcd"] = [e if isinstance(e, str) else json.dumps(e) for e in workers["etcd"]]
    return sets


def hash_inputs(seed: int = 18) -> list[bytes]:
    """Byte strings for murmur3 itself: every length to 64 (each tail case many times), and some long ones."""
    rng = random.Random(seed)
    return [rng.randbytes(n % 65) for n in range(2000)] + [rng.randbytes(rng.randint(65, 5000)) for _ in range(200)]

