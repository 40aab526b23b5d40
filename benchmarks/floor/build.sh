#!/usr/bin/env bash
# Build the Go floor of the benchmarks (main.go, standard library only) with the local Go toolchain,
# once per version of its source and of Go. The last line of stdout is the binary:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-floor/<hash of main.go, go.mod, go version>/floor
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
command -v go >/dev/null 2>&1 || { echo "build-floor: 'go' not found in PATH" >&2; exit 1; }
export GOTOOLCHAIN=local GOWORK=off GOFLAGS= CGO_ENABLED=0
hash="$( (cat "${here}/go.mod" "${here}/main.go"; go env GOVERSION) | sha256sum | cut -c1-16)"
bin="${XDG_CACHE_HOME:-${HOME}/.cache}/scheduler-extender-floor/${hash}/floor"
if [[ ! -x "${bin}" ]]; then
	mkdir -p "$(dirname "${bin}")"
	(cd "${here}" && go build -trimpath -buildvcs=false -o "${bin}.partial" .)
	mv "${bin}.partial" "${bin}"
fi
echo "${bin}"
