#!/usr/bin/env bash
# Build the helm CLI, Helm 4 and Helm 3, from their Go modules (module proxy only), for the chart tests.
#
# Usage: charts/build-helm.sh        (from any directory)
#   Progress goes to stderr; the last line of stdout is the directory holding `helm4` and `helm3`:
#     ${SCHEDULER_EXTENDER_HELM_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-helm/<versions>}
#   A rerun with unchanged inputs (this script, the Go version) finds the stamp file and does nothing.
#   Both modules ask for go >= 1.26.0, which the local toolchain has: no toolchain is downloaded.
set -euo pipefail

readonly HELM4=v4.3.2 HELM3=v3.22.0
# Helm 3's Makefile sets the Kubernetes version that lint and template assume without --kube-version from
# its client-go (v0.37.0); Helm 4 reads it from its build information itself.
readonly HELM3_KUBE_MAJOR=1 HELM3_KUBE_MINOR=37

log() { printf 'build-helm: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=../tests/cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/cache.sh"

script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")"
bin="${SCHEDULER_EXTENDER_HELM_BIN:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set SCHEDULER_EXTENDER_HELM_BIN}/.cache}/scheduler-extender-helm/helm-${HELM4}-${HELM3}}"

command -v go >/dev/null 2>&1 || die "'go' not found in PATH: Go >= 1.26 builds helm (https://go.dev/dl/)."
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0
go_version="$(go env GOVERSION)"

want="$({ sha256sum "${script}" | cut -d' ' -f1; printf '%s %s/%s\n' "${go_version}" "$(go env GOOS)" "$(go env GOARCH)"; } | sha256sum | cut -d' ' -f1)"
stamp="${bin}/.build-stamp"
up_to_date() { [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" && -x "${bin}/helm4" && -x "${bin}/helm3" ]]; }
reuse_if_built "up to date"
start_build

# build MAJOR VERSION [extra -X flags...]: `go install` of cmd/helm at that version, with the version
# variables upstream's Makefile sets for a tagged release.
build() {
	local major=$1 version=$2 pkg="helm.sh/helm/v$1"
	shift 2
	local ldflags=(-s -w -X "${pkg}/internal/version.version=${version}" -X "${pkg}/internal/version.metadata="
		-X "${pkg}/internal/version.gitTreeState=clean" "$@")
	log "building helm ${version} with ${go_version}"
	mkdir -p "${work}/v${major}"
	GOBIN="${work}/v${major}" go install -trimpath -ldflags="${ldflags[*]}" "${pkg}/cmd/helm@${version}" >&2 ||
		die "go install ${pkg}/cmd/helm@${version} failed (see above)"
	mv -f "${work}/v${major}/helm" "${bin}/helm${major}"
}

start=${SECONDS}
log "cold (empty module and build caches) this downloads ~150 MB of modules and builds for a few minutes"
build 4 "${HELM4}"
build 3 "${HELM3}" \
	-X "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${HELM3_KUBE_MAJOR}" \
	-X "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${HELM3_KUBE_MINOR}" \
	-X "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${HELM3_KUBE_MAJOR}" \
	-X "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${HELM3_KUBE_MINOR}"
printf '%s\n' "${want}" >"${work}/stamp"
mv -f "${work}/stamp" "${stamp}"
log "built in $((SECONDS - start))s: ${bin}"
printf '%s\n' "${bin}"
