"""What a release is made of, checked offline: the licence setup.cfg declares, a changelog entry for the version,
the locked dependencies the image installs
(requirements.lock against setup.cfg and pyproject.toml), the pinned base image, and release/build.sh's files."""
from __future__ import annotations

import configparser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.chart import CHART
from tests.support.paths import ROOT

BUILD = ROOT / "release" / "build.sh"
LOCK = ROOT / "requirements.lock"
SETUP = configparser.ConfigParser()
SETUP.read(ROOT / "setup.cfg")
VERSION = SETUP["metadata"]["version"]
CHART_META = yaml.safe_load((CHART / "Chart.yaml").read_text())
SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def requirements(option: str, section: str = "options") -> list[Requirement]:
    return [Requirement(line) for line in SETUP[section][option].splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------- licence, changelog

def test_license_is_the_unmodified_apache_2_0_text_setup_cfg_declares() -> None:
    assert SETUP["metadata"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_bytes()
    # apache.org/licenses/LICENSE-2.0.txt (Debian ships the same file as /usr/share/common-licenses/Apache-2.0).
    assert hashlib.sha256(text).hexdigest() == "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def test_changelog_has_an_entry_for_the_version_in_keep_a_changelog_form() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[([^\]]+)\](.*)$", text, flags=re.M)
    assert releases[0][0] == "Unreleased"
    assert VERSION in [name for name, _ in releases], f"no '## [{VERSION}]' entry"
    for name, rest in releases[1:]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", name) and re.fullmatch(r" - (\d{4}-\d\d-\d\d|unreleased)", rest), name
    assert set(re.findall(r"^### (.+)$", text, flags=re.M)) <= SECTIONS


# ------------------------------------------------------------------------------------------- requirements.lock

@dataclass(frozen=True)
class Pin:
    version: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]
    """What requires it, as pip-compile annotates it: package names, or `scheduler-extender (<file>)`."""


def locked() -> dict[str, Pin]:
    """Package name (canonical) -> its pin, from requirements.lock."""
    pins: dict[str, Pin] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 1)[1]):
        head = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", entry)
        if head is None:
            continue
        comments = [line.strip().removeprefix("#").strip() for line in re.findall(r"^ +#.*$", entry, flags=re.M)]
        via_lines = [comment.removeprefix("via ").strip() for comment in comments if comment != "via"]
        pins[canonicalize_name(head.group(1))] = Pin(head.group(2), tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})",
                                                                                      entry)), tuple(via_lines))
    return pins


def test_lock_pins_every_dependency_of_setup_cfg_and_pyproject_at_an_allowed_version() -> None:
    pins = locked()
    build_system = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"][
        "requires"]]
    for requirement in requirements("install_requires") + build_system:
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement} is not in requirements.lock: run release/lock.sh"
        assert requirement.specifier.contains(pin.version, prereleases=True), \
            f"requirements.lock has {requirement.name}=={pin.version}, setup.cfg wants {requirement}: release/lock.sh"


def test_lock_holds_hashes_for_every_pin_and_nothing_no_one_requires() -> None:
    pins = locked()
    assert len(pins) >= 10 and all(pin.hashes for pin in pins.values()), "a pin without --hash"
    for name, pin in pins.items():
        requirers = {canonicalize_name(via) for via in pin.via if not via.startswith("scheduler-extender")}
        assert pin.via and requirers <= set(pins), f"{name}: required by {pin.via}, not all of them locked"


def test_release_tools_build_with_the_setuptools_the_image_builds_with() -> None:
    pins = locked()
    for requirement in requirements("release", "options.extras_require"):
        name = canonicalize_name(requirement.name)
        if name in pins:
            assert requirement.specifier.contains(pins[name].version) and str(requirement.specifier).startswith("=="), \
                f"the release extra's {requirement} differs from requirements.lock's {pins[name].version}"


def test_image_installs_the_lock_by_hash_on_a_base_pinned_by_digest() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    image = re.fullmatch(r"python:(3\.\d+)\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", base)
    assert image, f"FROM {base}: pin the base image by tag and digest"
    assert f"autogenerated by pip-compile with Python {image.group(1)}\n" in LOCK.read_text(), \
        "requirements.lock was resolved for another Python than the image's"
    runs = re.findall(r"^RUN (.+(?:\\\n.+)*)", dockerfile, flags=re.M)
    assert any("--require-hashes" in run and "-r requirements.lock" in run for run in runs)
    assert any(re.search(r"pip install --no-index --no-build-isolation --no-deps \.", run) for run in runs), \
        "the package itself must install with nothing downloaded"
    assert re.search(r"^COPY requirements\.lock ", dockerfile, flags=re.M)


# --------------------------------------------------------------------------------------------- release/build.sh

def run_build(out: Path, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["bash", str(root / "release" / "build.sh"), str(out)], capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        import build  # noqa: F401
    except ImportError:
        message = "the release extra is not installed: pip install -e '.[release]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("dist")
    result = run_build(out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.helm
def test_release_builds_the_sdist_the_wheel_and_the_chart_with_their_sums(built: Path) -> None:
    wheel = built / f"scheduler_extender-{VERSION}-py3-none-any.whl"
    sdist = built / f"scheduler_extender-{VERSION}.tar.gz"
    chart = built / f"alluxio-locality-{CHART_META['version']}.tgz"
    assert sorted(built.iterdir()) == sorted([wheel, sdist, chart, built / "SHA256SUMS"])
    lines = (built / "SHA256SUMS").read_text().splitlines()
    sums = {name: digest for digest, name in (line.split("  ") for line in lines)}
    assert sums == {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (wheel, sdist, chart)}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"scheduler_extender-{VERSION}.dist-info/METADATA").decode()
    assert {"scheduler_extender/py.typed", "scheduler_extender/cli.py"} <= names
    assert f"\nVersion: {VERSION}\n" in metadata and "\nLicense: Apache-2.0\n" in metadata
    with tarfile.open(sdist) as archive:
        assert f"scheduler_extender-{VERSION}/LICENSE" in archive.getnames()
    with tarfile.open(chart) as archive:
        packaged = yaml.safe_load(archive.extractfile("alluxio-locality/Chart.yaml").read())  # type: ignore[union-attr]
        assert "alluxio-locality/kubernetes-versions.txt" in archive.getnames()
    assert packaged["appVersion"] == VERSION


@pytest.mark.helm
def test_a_second_build_of_the_commit_gives_the_same_wheel(built: Path, tmp_path: Path) -> None:
    again = run_build(tmp_path)
    assert again.returncode == 0, again.stderr
    wheel = f"scheduler_extender-{VERSION}-py3-none-any.whl"
    assert (tmp_path / wheel).read_bytes() == (built / wheel).read_bytes()


def test_release_refuses_a_chart_whose_app_version_is_not_the_package_version(tmp_path: Path) -> None:
    for path in ("setup.cfg", "release/build.sh", "charts/alluxio-locality/Chart.yaml"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    chart = tmp_path / "charts/alluxio-locality/Chart.yaml"
    chart.write_text(chart.read_text().replace(f'appVersion: "{VERSION}"', 'appVersion: "9.9.9"'))
    result = run_build(tmp_path / "dist", root=tmp_path)
    assert result.returncode == 1 and f"appVersion 9.9.9, setup.cfg version {VERSION}" in result.stderr
    assert not list((tmp_path / "dist").iterdir())
