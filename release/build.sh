#!/usr/bin/env bash
# Build a release's files into dist/ (or the directory given): the sdist and the wheel of the Python package,
# the packaged Helm chart, and SHA256SUMS of the three. The image is built from the Dockerfile beside them
# (docs/operators.md, "Release"); requirements.lock pins what it installs.
#
#   .venv/bin/pip install -e '.[release]' && release/build.sh [OUTDIR]
#
# The version is setup.cfg's; the chart's appVersion must be the same (the image tag it deploys), or nothing is
# built. Nothing is downloaded: the wheel is built with the release extra's setuptools (--no-isolation), helm
# comes from charts/build-helm.sh's cache ($SCHEDULER_EXTENDER_HELM_BIN). Files inside the wheel carry the
# last commit's time (SOURCE_DATE_EPOCH), so two builds of one commit give the same wheel.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
out="$(mkdir -p "${1:-${root}/dist}" && cd "${1:-${root}/dist}" && pwd -P)"
python="${PYTHON:-${root}/.venv/bin/python}"
log() { printf 'release: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

version="$("${python}" -c 'import configparser, sys; c = configparser.ConfigParser(); c.read(sys.argv[1]); print(c["metadata"]["version"])' "${root}/setup.cfg")"
app_version="$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "${root}/charts/alluxio-locality/Chart.yaml")"
[[ "${app_version}" == "${version}" ]] ||
	die "charts/alluxio-locality/Chart.yaml has appVersion ${app_version:-none}, setup.cfg version ${version}: make them equal"
"${python}" -c 'import build' 2>/dev/null || die "${python} has no 'build' module: pip install -e '.[release]'"

if [[ -z "${SOURCE_DATE_EPOCH:-}" ]] && git -C "${root}" rev-parse --git-dir >/dev/null 2>&1; then
	SOURCE_DATE_EPOCH="$(git -C "${root}" log -1 --format=%ct)"
	export SOURCE_DATE_EPOCH
fi

log "scheduler-extender ${version}: sdist and wheel"
rm -f "${out}"/scheduler_extender-"${version}"* "${out}"/alluxio-locality-*.tgz "${out}/SHA256SUMS"
"${python}" -m build --no-isolation --sdist --wheel --outdir "${out}" "${root}" >&2

log "chart alluxio-locality"
helm_bin="$(bash "${root}/charts/build-helm.sh" | tail -n 1)"
"${helm_bin}/helm4" package "${root}/charts/alluxio-locality" --destination "${out}" >&2

(cd "${out}" && sha256sum scheduler_extender-"${version}"* alluxio-locality-*.tgz >SHA256SUMS)
log "built in ${out}:"
cat "${out}/SHA256SUMS"
