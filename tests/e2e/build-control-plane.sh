#!/usr/bin/env bash
# Build kube-apiserver, kube-scheduler and etcd of one tested Kubernetes version from the
# published Go modules (module proxy only: no git, no release tarballs), for the
# end-to-end tests and the benchmarks. See tests/e2e/README.md.
#
# Usage: tests/e2e/build-control-plane.sh [VERSION]     (from any directory)
#   VERSION is a minor of kubernetes-versions.txt (1.37, v1.37) or its patch (v1.37.2);
#   default: the newest, the file's first line. `--list` prints the minors, newest first.
#   Progress goes to stderr; the last line of stdout is the directory holding the
#   three binaries:
#     ${SCHEDULER_EXTENDER_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-e2e}/k8s-<patch>
#   A rerun with unchanged inputs (the version's go.mod and go.sum, the mains, this
#   script, its matrix line, the Go version) finds the stamp file and does nothing.
#   GOTOOLCHAIN, if set, picks the Go toolchain (e.g. GOTOOLCHAIN=go1.27.3, fetched
#   through the module proxy); unset, the local `go` builds, and must be at least
#   the version's `go` line.
set -euo pipefail

readonly BINARIES=(kube-apiserver kube-scheduler etcd)
# The Git SHA each etcd release prints (`git rev-parse --short` of its tag, as etcd's
# scripts/build_lib.sh stamps it); the module proxy knows only versions.
declare -rA ETCD_GIT_SHA=([v3.6.5]=a0614505a [v3.6.8]=4e814e204 [v3.7.0]=4d71f7c83)

log() { printf 'build-control-plane: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=../cache.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cache.sh"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
src="${here}/controlplane"
script="${here}/$(basename "${BASH_SOURCE[0]}")"
matrix="$(cd "${here}/../.." && pwd -P)/kubernetes-versions.txt"

# --- Which version: a line of the matrix ---------------------------------------
[[ $# -le 1 ]] || die "usage: $0 [VERSION | --list] (VERSION: one of the minors in ${matrix})"
[[ -f "${matrix}" ]] || die "missing ${matrix}"
lines() { sed -e 's/#.*//' "${matrix}" | awk 'NF >= 3 { print $1, $2, $3 }'; } # minor k8s etcd
if [[ "${1:-}" == --list ]]; then
	lines | cut -d' ' -f1
	exit 0
fi
wanted="${1:-}"
wanted="${wanted#v}"
line="$(lines | awk -v want="${wanted}" 'want == "" || want == $1 || "v" want == $2 { print; exit }')"
[[ -n "${line}" ]] || die "Kubernetes '${1:-}' is not in ${matrix} (tested: $(lines | cut -d' ' -f1 | paste -sd' '))"
read -r MINOR K8S_VERSION ETCD_VERSION <<<"${line}"
readonly MINOR K8S_VERSION ETCD_VERSION
[[ -n "${ETCD_GIT_SHA[${ETCD_VERSION}]:-}" ]] || die "no Git SHA known for etcd ${ETCD_VERSION}: add it to ETCD_GIT_SHA in ${script}"
modfile="v${MINOR}/go.mod"
bin="${SCHEDULER_EXTENDER_E2E_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set SCHEDULER_EXTENDER_E2E_CACHE}/.cache}/scheduler-extender-e2e}/k8s-${K8S_VERSION}"

# --- Go: present and new enough for the version's module -----------------------
command -v go >/dev/null 2>&1 || die "'go' not found in PATH. Install Go (https://go.dev/dl/) and retry."
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" # unset: never switch to (or download) another toolchain
export GOWORK=off                          # ignore any go.work above the module
export GOFLAGS=                            # flags below are explicit; ignore e.g. a global -mod=mod
export CGO_ENABLED=0                       # static binaries, as upstream builds these three
[[ -f "${src}/${modfile}" ]] || die "missing ${src}/${modfile}: run python3 -m tests.e2e.pin_control_plane ${MINOR}"
need_go="$(awk '$1 == "go" { print $2; exit }' "${src}/${modfile}")"
go_version="$(cd "${src}" && go env GOVERSION 2>/dev/null)" || go_version=
too_old="${go_version:-no Go} is older than the go ${need_go} of ${modfile}: install a newer Go, or set GOTOOLCHAIN=go1.27.3 to have Go fetch one"
[[ "${go_version}" =~ ^go[0-9]+\.[0-9]+ || "${go_version}" == devel* ]] || die "${too_old}"
if [[ "${go_version}" != devel* && "$(printf '%s\n' "${need_go}" "${go_version#go}" | sort -V | head -n1)" != "${need_go}" ]]; then
	die "${too_old}"
fi

# --- Up to date? ---------------------------------------------------------------
inputs=("${src}/${modfile}" "${src}/v${MINOR}/go.sum" "${src}/go.mod" "${src}"/cmd/*/main.go "${script}")
for f in "${inputs[@]}"; do [[ -f "${f}" ]] || die "missing input ${f}"; done
sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
stamp_of_inputs() {
	{
		# Paths relative to ${here}, so moving the checkout keeps the stamp valid.
		(cd "${here}" && sha256 -- "${inputs[@]#"${here}/"}")
		printf '%s\n' "${line}"
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
reuse_if_built "up to date"

# --- Build ---------------------------------------------------------------------
start_build

# The version variables upstream's hack/lib/version.sh sets (for both packages). The
# module proxy gives the release's commit time (its build date here) but not its
# commit, so gitCommit stays empty and the tree state is `archive`, what version.sh
# reports for a source tree without git metadata, which a module zip is.
build_date="$(cd "${src}" && go list -m -modfile="${modfile}" -mod=readonly \
	-f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)" ||
	die "cannot resolve k8s.io/kubernetes ${K8S_VERSION} through the module proxy"
ldflags=(-s -w)
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=(
		-X "${pkg}.gitVersion=${K8S_VERSION}"
		-X "${pkg}.gitMajor=1"
		-X "${pkg}.gitMinor=${MINOR#1.}"
		-X "${pkg}.gitCommit="
		-X "${pkg}.gitTreeState=archive"
		-X "${pkg}.buildDate=${build_date:-1970-01-01T00:00:00Z}"
	)
done
ldflags+=(-X "go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_GIT_SHA[${ETCD_VERSION}]}")

log "building ${BINARIES[*]} (Kubernetes ${K8S_VERSION}, etcd ${ETCD_VERSION}) with ${go_version} into ${bin}"
log "cold (empty module and build caches) this fetches ~600 MB of modules and compiles for 6-8 CPU-minutes (4-5 min on 2 idle cores)"
start=${SECONDS}
(
	cd "${src}"
	go build -trimpath -mod=readonly -modfile="${modfile}" -ldflags="${ldflags[*]}" -o "${work}/" \
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
