#!/usr/bin/env python3
"""Everything made from the one source, so nothing is kept twice:

- charts/alluxio-locality/kubernetes-versions.txt, a copy of the repository's support matrix (a chart can read
  no file outside its directory, and its templates map the cluster's minor to a kube-scheduler patch from it);
- manifests/, the kustomize base: the chart rendered by `helm template` with fixed values (release and
  namespace alluxio-locality, the namespace created, the newest tested Kubernetes minor), one file per
  template, and a kustomization.yaml listing them;
- the `extender.settings` part of the chart's values.schema.json, from the extender's table of settings
  (scheduler_extender/config/settings.py): each setting the chart does not write itself, with the JSON schema of
  its parser, so a misspelt key or a value the extender would refuse (`1h30m`) fails `helm lint` and install;
- overlays/<minor>/kustomization.yaml for every tested minor: the base with that minor's kube-scheduler (the one
  thing the chart renders differently per minor; tests/test_chart.py checks that they render alike).

    .venv/bin/python charts/generate.py            # write them all (it imports scheduler_extender's settings)
    .venv/bin/python charts/generate.py --check    # exit 1 and name what differs; .ci/run and tests/test_chart.py

helm comes from --helm, else from charts/build-helm.sh (built once from its Go module, then cached).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script, this directory is on the path and the package is not
from scheduler_extender.config import SPECS  # noqa: E402

CHART = ROOT / "charts" / "alluxio-locality"
MATRIX = ROOT / "kubernetes-versions.txt"
CHART_MATRIX = CHART / "kubernetes-versions.txt"
MANIFESTS = ROOT / "manifests"
OVERLAYS = ROOT / "overlays"
SCHEDULER_IMAGE = "registry.k8s.io/kube-scheduler"
BUILD_HELM = ROOT / "charts" / "build-helm.sh"
SCHEMA = CHART / "values.schema.json"
CHART_WRITES = ("bind", "alluxio-proxy", "alluxio-master", "locations-file", "node-map", "alluxio3-etcd",
                "alluxio3-master", "alluxio3-static-workers", "alluxio3-ufs-root", "alluxio3-listing-file",
                "kubernetes", "kubeconfig", "worker-selector", "prefetch-selector", "worker-namespace",
                "prefetch-namespaces", "tls-cert-file", "tls-private-key-file", "tls-client-ca-file")
"""Settings kept out of extender.settings: the chart writes them from its own values (the Alluxio source, the
watch, TLS), or they name a file the extender's pod does not have (or, alluxio-master, are ignored)."""
RELEASE = NAMESPACE = "alluxio-locality"
MANIFEST_VALUES = ["--set", "namespace.create=true"]
"""The chart's defaults but for the namespace, which a kustomize base has to create with its label."""

HEADER = ("# GENERATED from the Helm chart charts/alluxio-locality by charts/generate.py: edit the chart, then run\n"
          "# `python3 charts/generate.py` (tests/test_chart.py fails when this differs from the chart's rendering).\n")
OVERLAY_HEADER = ("# GENERATED from kubernetes-versions.txt by charts/generate.py: edit that file, then run\n"
                  "# `python3 charts/generate.py` (tests/test_chart.py fails when this differs from it).\n")


def tested_versions(text: str | None = None) -> list[tuple[str, str]]:
    """(minor, kubernetes patch) per line of the matrix, newest first."""
    lines = (text if text is not None else MATRIX.read_text()).splitlines()
    rows = [line.split() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return [(row[0], row[1]) for row in rows]


def helm_dir() -> Path:
    """The directory with helm4 and helm3: $SCHEDULER_EXTENDER_HELM_BIN if they are there, else the build script's."""
    given = os.environ.get("SCHEDULER_EXTENDER_HELM_BIN")
    if given and all((Path(given) / name).is_file() for name in ("helm4", "helm3")):
        return Path(given)
    out = subprocess.run(["bash", str(BUILD_HELM)], check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def render(helm: Path, minor: str, *values: str, release: str = RELEASE, namespace: str = NAMESPACE) -> str:
    """`helm template` of the chart for a cluster of this Kubernetes minor."""
    argv = [str(helm), "template", release, str(CHART), "--namespace", namespace, "--kube-version", f"{minor}.0",
            *values]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stderr}")
    return result.stdout


def split_by_template(rendered: str) -> dict[str, list[str]]:
    """Template file name -> the documents it rendered, in helm's order, without helm's `# Source:` line."""
    files: dict[str, list[str]] = {}
    for doc in re.split(r"^---\s*$", rendered, flags=re.M):
        source = re.search(r"^# Source: [^/]+/templates/(.+)$", doc, flags=re.M)
        if source is None:
            if doc.strip():
                raise ValueError(f"a rendered document without its # Source line:\n{doc[:200]}")
            continue
        body = "\n".join(line.rstrip() for line in doc[source.end():].splitlines()).strip("\n") + "\n"
        files.setdefault(Path(source.group(1)).name, []).append(body)
    return files


def kustomization(files: list[str], images: list[tuple[str, str]], minor: str) -> str:
    versions = ", ".join(f"{m} {patch}" for m, patch in tested_versions())
    lines = [
        "# Kustomize base: the Alluxio locality extender and the second kube-scheduler that calls it.",
        "#   kubectl apply -k manifests/",
        f"# Rendered for Kubernetes {minor}. No `namespace:` here on purpose: it would also move the RoleBinding",
        "# that must live in kube-system. Every resource names its own namespace instead.",
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        *[f"  - {name}" for name in files],
        "images:",
        "  # Retarget: edit newName/newTag here, or "
        "`kustomize edit set image scheduler-extender=REGISTRY/scheduler-extender:TAG`.",
        "  # Keep the second scheduler at your cluster's minor (kube-scheduler supports the API server's minor and",
        f"  # one older): overlays/<minor>/ does, for each tested minor ({versions}).",
    ]
    for name, tag in images:
        lines += [f"  - name: {name}", f"    newTag: {tag}"]
    return "\n".join(lines) + "\n"


def manifests(helm: Path) -> dict[str, str]:
    """File name -> content of every file manifests/ must hold."""
    minor = tested_versions()[0][0]
    by_template = split_by_template(render(helm, minor, *MANIFEST_VALUES))
    names = sorted(by_template, key=lambda name: (name != "namespace.yaml", name))
    out = {name: HEADER + "---\n".join(by_template[name]) for name in names}
    images = []
    for image in re.findall(r"^\s+image: (\S+)$", "".join(out.values()), flags=re.M):
        name, tag = image.rsplit(":", 1)
        images.append((name, tag))
    out["kustomization.yaml"] = HEADER + kustomization(names, images, minor)
    return out


def settings_schema() -> dict[str, object]:
    """The JSON schema of extender.settings: every setting the chart leaves to it, typed by its parser."""
    properties = {}
    for spec in SPECS:
        if spec.name not in CHART_WRITES:
            default = f" (default {spec.default})" if spec.default is not None else ""
            properties[spec.name] = {**spec.parse.schema, "description": spec.help + default}
    return {"type": "object",
            "description": "Further settings of `scheduler-extender serve`: flag names without --. GENERATED by "
                           "charts/generate.py from scheduler_extender/config/settings.py.",
            "properties": properties, "additionalProperties": False}


def values_schema() -> str:
    """values.schema.json with its extender.settings part generated, the rest as it is."""
    schema = json.loads(SCHEMA.read_text())
    schema["properties"]["extender"]["properties"]["settings"] = settings_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
def overlay(minor: str, patch: str) -> str:
    """overlays/<minor>/kustomization.yaml: manifests/ with the kube-scheduler of a cluster of that minor."""
    return OVERLAY_HEADER + "\n".join([
        f"# manifests/ for a Kubernetes {minor} cluster: the second scheduler runs kube-scheduler {patch}, the patch",
        f"# tested for {minor} (a scheduler may be one minor older than its API server, never newer).",
        f"#   kubectl apply -k overlays/{minor}/",
        "# To change more, make an overlay of this one (docs/operators.md, \"Install with kustomize\").",
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        "  - ../../manifests",
        "images:",
        f"  - name: {SCHEDULER_IMAGE}",
        f"    newTag: {patch}",
    ]) + "\n"


def generated_files() -> list[Path]:
    """Every file on disk in the generated places: manifests/*.yaml and overlays/*/*."""
    return sorted([*MANIFESTS.glob("*.yaml"), *OVERLAYS.glob("*/*")])


def expected(helm: Path) -> dict[Path, str]:
    """Path -> content of every generated file."""
    files = {MANIFESTS / name: text for name, text in manifests(helm).items()}
    files.update({OVERLAYS / minor / "kustomization.yaml": overlay(minor, patch) for minor, patch in tested_versions()})
    files[CHART_MATRIX] = MATRIX.read_text()
    files[SCHEMA] = values_schema()
    return files


def drift(files: dict[Path, str]) -> list[str]:
    """What differs between `files` and the disk, including files in manifests/ and overlays/ that nothing makes."""
    problems = [f"{path.relative_to(ROOT)}: differs from its source" for path, text in files.items()
                if not path.is_file() or path.read_text() != text]
    stale = sorted(set(generated_files()) - set(files))
    return problems + [f"{path.relative_to(ROOT)}: made by nothing (no such template or tested minor)"
                       for path in stale]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a generated file differs")
    parser.add_argument("--helm", type=Path, help="the helm binary (default: helm4 built by charts/build-helm.sh)")
    args = parser.parse_args(argv)
    if not args.check:  # the chart renders against its schema: a new setting must be in it before rendering
        SCHEMA.write_text(values_schema())
    files = expected(args.helm or helm_dir() / "helm4")
    problems = drift(files)
    if args.check:
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run `.venv/bin/python charts/generate.py` and commit the result", file=sys.stderr)
        return 1 if problems else 0
    for path in sorted(set(generated_files()) - set(files)):
        path.unlink()
    for directory in OVERLAYS.glob("*"):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(files)} files: {', '.join(sorted(str(p.relative_to(ROOT)) for p in files))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
