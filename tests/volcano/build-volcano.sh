#!/usr/bin/env bash
# Build Volcano's scheduler, vc-scheduler, from its Go module (module proxy only), with the CRDs it needs, for the
# Volcano tests (tests/volcano/, tests/e2e/test_volcano.py).
#
# Usage: tests/volcano/build-volcano.sh        (from any directory)
#   Progress goes to stderr; the last line of stdout is the directory holding `vc-scheduler` and crds/ (podgroups,
#   queues, hypernodes, numatopologies: what vc-scheduler lists and watches):
#     ${SCHEDULER_EXTENDER_VOLCANO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-volcano/volcano-<version>}
#   A rerun with unchanged inputs (this script, the Go version) finds the stamp file and does nothing.
#   volcano.sh/volcano's go.mod replaces volcano.sh/apis with ./staging/src/volcano.sh/apis, which its module zip
#   lacks: the build replaces it with the published volcano.sh/apis of the same minor instead.
set -euo pipefail

readonly VOLCANO=v1.14.1 APIS=v1.14.0
readonly CRDS=(scheduling.volcano.sh_podgroups scheduling.volcano.sh_queues topology.volcano.sh_hypernodes
	nodeinfo.volcano.sh_numatopologies)

log() { printf 'build-volcano: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=../cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cache.sh"

script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
bin="${SCHEDULER_EXTENDER_VOLCANO_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set SCHEDULER_EXTENDER_VOLCANO_CACHE}/.cache}/scheduler-extender-volcano/volcano-${VOLCANO}}"

command -v go >/dev/null 2>&1 || die "'go' not found in PATH: Go >= 1.24 builds vc-scheduler (https://go.dev/dl/)."
export GOTOOLCHAIN=local GOWORK=off GOFLAGS= CGO_ENABLED=0
go_version="$(go env GOVERSION)"

want="$({ sha256sum "${script}" | cut -d' ' -f1; printf '%s %s/%s\n' "${go_version}" "$(go env GOOS)" "$(go env GOARCH)"; } | sha256sum | cut -d' ' -f1)"
stamp="${bin}/.build-stamp"
up_to_date() {
	[[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" && -x "${bin}/vc-scheduler" ]] || return 1
	local crd
	for crd in "${CRDS[@]}"; do [[ -f "${bin}/crds/${crd}.yaml" ]] || return 1; done
}
reuse_if_built "up to date"
start_build

start=${SECONDS}
log "cold (empty module and build caches) this downloads ~300 MB of modules and compiles for ~4 CPU-minutes"
module="$(cd "${work}" && go mod download -json "volcano.sh/volcano@${VOLCANO}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[[ -d "${module}" ]] || die "cannot download volcano.sh/volcano@${VOLCANO} through the module proxy"
cp -r "${module}" "${work}/src"
chmod -R u+w "${work}/src"
# The version variables Volcano's Makefile sets; the module proxy gives the release's commit time, not its commit.
built="$(cd "${work}/src" && go list -m -json "volcano.sh/volcano@${VOLCANO}" | sed -n 's/^\t"Time": "\(.*\)",$/\1/p')"
pkg=volcano.sh/volcano/pkg/version
ldflags=(-s -w -X "${pkg}.Version=${VOLCANO}" -X "${pkg}.GitSHA=" -X "${pkg}.Built=${built:-1970-01-01T00:00:00Z}")
log "building vc-scheduler ${VOLCANO} (volcano.sh/apis ${APIS}) with ${go_version} into ${bin}"
(
	cd "${work}/src"
	go mod edit -replace "volcano.sh/apis=volcano.sh/apis@${APIS}"
	go mod download "volcano.sh/apis@${APIS}"
	# -mod=mod adds the replacement's go.sum lines; every other module is checked against the release's go.sum.
	nice go build -mod=mod -trimpath -ldflags="${ldflags[*]}" -o "${work}/vc-scheduler" ./cmd/scheduler
) >&2 || die "go build failed (see above)"
mkdir -p "${bin}/crds"
for crd in "${CRDS[@]}"; do
	cp "${work}/src/config/crd/volcano/bases/${crd}.yaml" "${bin}/crds/${crd}.yaml"
done
mv -f "${work}/vc-scheduler" "${bin}/vc-scheduler"
printf '%s\n' "${want}" >"${work}/stamp"
mv -f "${work}/stamp" "${stamp}"
log "built in $((SECONDS - start))s: ${bin}"
printf '%s\n' "${bin}"
