#!/usr/bin/env bash
# Build kube-apiserver, kube-scheduler and etcd of Kubernetes v1.28.7 from the
# published Go modules (module proxy only: no git, no release tarballs), for the
# end-to-end tests. See tests/e2e/README.md.
#
# Usage: tests/e2e/build-control-plane.sh        (from any directory)
#   Progress goes to stderr; the last line of stdout is the directory holding
#   the three binaries:
#     ${SCHEDULER_EXTENDER_E2E_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-e2e/k8s-v1.28.7}
#   A rerun with unchanged inputs (go.mod, go.sum, the mains, this script, the
#   Go version) finds the stamp file and does nothing.
set -euo pipefail

readonly K8S_VERSION=v1.28.7
readonly K8S_COMMIT=c8dcb00be9961ec36d141d2e4103f85f92bcf291 # refs/tags/v1.28.7
readonly K8S_BUILD_DATE=2024-02-14T10:32:12Z                  # commit time of that tag
readonly ETCD_GIT_SHA=bdbbde998                                # etcd v3.5.9, as its release prints
readonly MIN_GO_MAJOR=1 MIN_GO_MINOR=21
readonly BINARIES=(kube-apiserver kube-scheduler etcd)

log() { printf 'build-control-plane: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
src="${here}/controlplane"
script="${here}/$(basename "${BASH_SOURCE[0]}")"
bin="${SCHEDULER_EXTENDER_E2E_BIN:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set SCHEDULER_EXTENDER_E2E_BIN}/.cache}/scheduler-extender-e2e/k8s-${K8S_VERSION}}"

# --- Go: present and new enough; use exactly this toolchain -------------------
command -v go >/dev/null 2>&1 ||
	die "'go' not found in PATH. Install Go >= ${MIN_GO_MAJOR}.${MIN_GO_MINOR} (https://go.dev/dl/) and retry."
export GOTOOLCHAIN=local # never switch to (or download) another toolchain
export GOWORK=off        # ignore any go.work above the module
export GOFLAGS=          # flags below are explicit; ignore e.g. a global -mod=mod
export CGO_ENABLED=0     # static binaries, as upstream builds these three
go_version="$(go env GOVERSION 2>/dev/null || true)"
[[ -n "${go_version}" ]] || go_version="$(go version 2>/dev/null | awk '{print $3}' || true)" # Go < 1.16
if [[ "${go_version}" =~ ^go([0-9]+)\.([0-9]+) ]]; then
	if ((BASH_REMATCH[1] < MIN_GO_MAJOR || (BASH_REMATCH[1] == MIN_GO_MAJOR && BASH_REMATCH[2] < MIN_GO_MINOR))); then
		die "$(command -v go) is ${go_version}; Go >= ${MIN_GO_MAJOR}.${MIN_GO_MINOR} is required (https://go.dev/dl/)."
	fi
elif [[ "${go_version}" != devel* ]]; then
	die "cannot tell the version of $(command -v go) (got '${go_version}'); Go >= ${MIN_GO_MAJOR}.${MIN_GO_MINOR} is required."
fi

# --- Up to date? ---------------------------------------------------------------
inputs=("${src}/go.mod" "${src}/go.sum" "${src}"/cmd/*/main.go "${script}")
for f in "${inputs[@]}"; do [[ -f "${f}" ]] || die "missing input ${f}"; done
sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
stamp_of_inputs() {
	{
		# Paths relative to ${here}, so moving the checkout keeps the stamp valid.
		(cd "${here}" && sha256 -- "${inputs[@]#"${here}/"}")
		printf '%s %s/%s cgo=%s\n' "${go_version}" "$(go env GOOS)" "$(go env GOARCH)" "${CGO_ENABLED}"
	} | sha256 | cut -d' ' -f1
}
want="$(stamp_of_inputs)"
stamp="${bin}/.build-stamp"
up_to_date() {
	[[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]] || return 1
	local b
	for b in "${BINARIES[@]}"; do [[ -x "${bin}/${b}" && -f "${bin}/${b}" ]] || return 1; done
}
if up_to_date; then
	log "up to date: ${bin}"
	printf '%s\n' "${bin}"
	exit 0
fi

# --- Build ---------------------------------------------------------------------
mkdir -p "${bin}" || die "cannot create ${bin}"
if command -v flock >/dev/null 2>&1; then # serialise concurrent runs (e.g. test workers)
	exec 9>"${bin}/.build-lock"
	flock 9
	if up_to_date; then
		log "up to date (built by a concurrent run): ${bin}"
		printf '%s\n' "${bin}"
		exit 0
	fi
fi
rm -f "${stamp}"
work="$(mktemp -d "${bin}/.build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

# The version variables upstream's hack/lib/version.sh sets (for both packages).
ldflags=(-s -w)
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=(
		-X "${pkg}.gitVersion=${K8S_VERSION}"
		-X "${pkg}.gitMajor=1"
		-X "${pkg}.gitMinor=28"
		-X "${pkg}.gitCommit=${K8S_COMMIT}"
		-X "${pkg}.gitTreeState=clean"
		-X "${pkg}.buildDate=${K8S_BUILD_DATE}"
	)
done
ldflags+=(-X "go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_GIT_SHA}")

log "building ${BINARIES[*]} (Kubernetes ${K8S_VERSION}) with ${go_version} into ${bin}"
log "cold (empty module and build caches) this downloads ~180 MB of modules and takes ~4-5 min on 2 cores"
start=${SECONDS}
(
	cd "${src}"
	go build -trimpath -mod=readonly -ldflags="${ldflags[*]}" -o "${work}/" \
		./cmd/kube-apiserver ./cmd/kube-scheduler ./cmd/etcd
) >&2 || die "go build failed (see above)"

for b in "${BINARIES[@]}"; do
	[[ -x "${work}/${b}" ]] || die "go build did not produce ${b}"
	mv -f "${work}/${b}" "${bin}/${b}"
done
printf '%s\n' "${want}" >"${work}/stamp"
mv -f "${work}/stamp" "${stamp}"
log "built in $((SECONDS - start))s: ${bin}"
printf '%s\n' "${bin}"
