#!/usr/bin/env bash
# Fetches Alluxio's client jar for Spark (org.alluxio:alluxio-shaded-client, the jar Alluxio's distribution ships
# as client/alluxio-<version>-client.jar; 98 MB) from Maven Central into a cache, for the Spark drivers and
# executors of tests/cluster/ and tests/spark_locality/ (the one copy both use, tests/support/jars.py).
#
#   CACHE=$(bash tests/alluxio/fetch-alluxio-client.sh)   # progress on stderr; the last stdout line is the cache dir
#
# The cache dir holds the jar and `complete`, the stamp of what was fetched. A rerun finds the stamp and fetches
# nothing. Needs mvn; asks no address but Maven Central. The version is the real Alluxio's (tests/alluxio/pom.xml).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<alluxio.version>\(.*\)</alluxio.version>.*:\1:p' "$here/pom.xml")
cache=${SCHEDULER_EXTENDER_ALLUXIO_CLIENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-alluxio-client/$version}
jar="alluxio-shaded-client-$version.jar"
want="org.alluxio:alluxio-shaded-client:$version"

log() { echo "fetch-alluxio-client: $*" >&2; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # concurrent runs take turns
if [[ -f $cache/complete && $(cat "$cache/complete") == "$want" && -s $cache/$jar ]]; then
    log "cached in $cache"
    echo "$cache"
    exit 0
fi
command -v mvn >/dev/null || { log "mvn is not installed (apt-get install maven)"; exit 1; }
start=$(date +%s)
rm -f "$cache/complete"
mvn -B -q dependency:copy -Dartifact="$want" -DoutputDirectory="$cache" -Dmaven.repo.local="$cache/m2" >&2
rm -rf "$cache/m2"  # the jar is copied out: Maven's copy would be the same 98 MB again
echo "$want" > "$cache/complete"
log "$jar in $(( $(date +%s) - start ))s"
echo "$cache"
