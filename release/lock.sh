#!/usr/bin/env bash
# Write requirements.lock: every package the extender needs at run time (setup.cfg's install_requires and what
# they require) and to build its wheel (pyproject.toml's build-system.requires), each pinned to one version with
# the sha256 of every file PyPI publishes for it, which the Dockerfile installs with --require-hashes; the image
# then builds the package itself with nothing downloaded (--no-index --no-build-isolation). Run it after changing install_requires, or to take newer releases
# (`release/lock.sh --upgrade`, or `--upgrade-package NAME`); commit the result. tests/test_release.py checks
# that the lock still satisfies setup.cfg.
#
# Needs the release extra: .venv/bin/pip install -e '.[release]' (pip-tools). Resolve with the image's Python
# minor (3.11, the Dockerfile's base): markers such as python_version are evaluated for the resolving Python.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
"${python}" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"resolve with Python 3.11, not {sys.version}"'
CUSTOM_COMPILE_COMMAND="release/lock.sh" "${python}" -m piptools compile --quiet --generate-hashes --allow-unsafe --build-deps-for wheel \
	--strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements.lock "$@" pyproject.toml
