#!/usr/bin/env bash
# Prometheus and promtool, from Debian's `prometheus` package, for tests/test_monitoring.py and .ci/run's rule
# tests. Installs only when either is missing, and never starts the package's service: the tests run their
# own Prometheus on loopback.
#
#   bash tests/monitoring/install-prometheus.sh     # progress on stderr; stdout: the version installed
set -euo pipefail

log() { echo "install-prometheus: $*" >&2; }

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
	log "already installed"
	prometheus --version 2>&1 | head -1
	exit 0
fi
command -v apt-get >/dev/null || { log "no apt-get here: install Prometheus 2.x (its server and promtool) and retry"; exit 1; }
[[ $(id -u) == 0 ]] || { log "apt-get needs root: sudo bash $0"; exit 1; }

# invoke-rc.d asks policy-rc.d whether a package may start its service; 101 says no. Kept if one exists.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\n# Written by %s for the duration of one apt-get install.\nexit 101\n' "$0" >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
start=$SECONDS
apt_log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus; } >"$apt_log" 2>&1; then
	cat "$apt_log" >&2
	log "apt-get failed (above)"
	exit 1
fi
rm -f "$apt_log"
if [[ -d /run/systemd/system ]] && systemctl is-active --quiet prometheus 2>/dev/null; then
	systemctl stop prometheus >&2
fi
log "installed in $((SECONDS - start))s"
prometheus --version 2>&1 | head -1
