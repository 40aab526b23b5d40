"""Write the Go module of one tested Kubernetes version for build-control-plane.sh: controlplane/v<minor>/go.mod
and go.sum, from that version's line in kubernetes-versions.txt, then check every dependency resolves to
exactly what k8s.io/kubernetes pins. Run it after changing the matrix, and commit both files:

    python3 -m tests.e2e.pin_control_plane 1.37      # or every version: no argument

k8s.io/kubernetes replaces its staging modules (k8s.io/api, client-go, ...) with ./staging/src/..., paths that
only exist inside its repository; the module written here replaces each one it requires with its published
v0.<minor>.<patch> instead, as out-of-tree schedulers do. Its `go` and `godebug` lines are upstream's, so the
binaries keep the GODEBUG defaults they were released with whatever newer Go builds them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.kube_versions import KubeVersion, find, matrix

CONTROLPLANE = Path(__file__).resolve().parent / "controlplane"
MODULE = "example.invalid/scheduler-extender/e2e/controlplane"
ETCD_SERVER = "go.etcd.io/etcd/server/v3"


def go(*args: str, cwd: Path = CONTROLPLANE) -> str:
    env = {**os.environ, "GOWORK": "off", "GOFLAGS": "", "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local")}
    return subprocess.run(["go", *args], cwd=cwd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout


def upstream_mod(version: KubeVersion) -> dict:
    """k8s.io/kubernetes's own go.mod at that release, as `go mod edit -json` reads it."""
    info = json.loads(go("mod", "download", "-json", f"k8s.io/kubernetes@{version.kubernetes}"))
    return json.loads(go("mod", "edit", "-json", info["GoMod"]))


def module_text(version: KubeVersion, upstream: dict) -> str:
    required = {r["Path"] for r in upstream["Require"]}
    staging = sorted(r["Old"]["Path"] for r in upstream["Replace"]
                     if r["New"]["Path"].startswith("./staging/") and r["Old"]["Path"] in required)
    published = "v0." + version.kubernetes.split(".", 1)[1]
    godebug = "".join(f"godebug {d['Key']}={d['Value']}\n" for d in upstream.get("GoDebug") or ())
    replaces = "".join(f"\t{path} => {path} {published}\n" for path in staging)
    return (f"// Kubernetes {version.kubernetes} (kube-apiserver, kube-scheduler) and etcd {version.etcd}, built by\n"
            f"// ../../build-control-plane.sh {version.minor}; written by ../../pin_control_plane.py {version.minor}.\n"
            f"module {MODULE}\n\n"
            f"// k8s.io/kubernetes {version.kubernetes}'s own go and godebug lines: its GODEBUG defaults.\n"
            f"go {upstream['Go']}\n\n{godebug}\n"
            f"require (\n\t{ETCD_SERVER} {version.etcd}\n\tk8s.io/component-base {published}\n"
            f"\tk8s.io/kubernetes {version.kubernetes}\n)\n\n"
            f"// Its staging modules at their published versions, in place of its ./staging/src/... paths.\n"
            f"replace (\n{replaces})\n")


def mismatches(version: KubeVersion, upstream: dict) -> list[str]:
    """Dependencies the build resolves to another version than k8s.io/kubernetes pins (staging ones aside)."""
    pinned = {r["Path"]: r["Version"] for r in upstream["Require"] if r["Version"] != "v0.0.0"}
    modfile = f"-modfile=v{version.minor}/go.mod"
    built = dict(line.split()[:2] for line in go("list", "-m", modfile, "all").splitlines()[1:])
    return [f"{path}: {pinned[path]} pinned, {got} built" for path, got in sorted(built.items())
            if path in pinned and pinned[path] != got]


def pin(version: KubeVersion) -> None:
    upstream = upstream_mod(version)
    directory = CONTROLPLANE / f"v{version.minor}"
    directory.mkdir(exist_ok=True)
    (directory / "go.mod").write_text(module_text(version, upstream))
    (directory / "go.sum").touch()
    go("mod", "tidy", f"-modfile=v{version.minor}/go.mod")
    differ = mismatches(version, upstream)
    print(f"{version.minor}: wrote {directory.relative_to(CONTROLPLANE.parents[2])}/go.mod and go.sum; "
          + ("every dependency at the version k8s.io/kubernetes pins" if not differ else
             "dependencies off upstream's pins:\n  " + "\n  ".join(differ)))


def main(argv: list[str]) -> int:
    for version in [find(v) for v in argv] or matrix():
        pin(version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
