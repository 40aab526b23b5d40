#!/usr/bin/env bash
# Fetches the Alluxio 3 client jars that choose a file's worker (org.alluxio 313 and the few libraries their ring
# code loads, pinned in pom.xml) from Maven Central through mvn, into a cache, for the ring oracle of tests/alluxio3.
#
#   CACHE=$(bash tests/alluxio3/fetch-alluxio3.sh)    # progress on stderr; the last stdout line is the cache dir
#
# The cache dir holds:
#   classpath.txt   the classpath, one line, jars under m2/ (Maven's local repository, kept there)
#   java            the path of the `java` binary to run them with (a JDK on PATH: javac compiles the oracle)
#   versions        what was fetched
# A rerun with the same pom.xml finds the stamp and fetches nothing. Maven is told to use Maven Central only: the
# Alluxio poms name other repositories, which would otherwise be asked for anything Central lacks.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
alluxio_version=$(sed -n 's:.*<alluxio.version>\(.*\)</alluxio.version>.*:\1:p' "$here/pom.xml")
cache=${SCHEDULER_EXTENDER_ALLUXIO3_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-alluxio3/$alluxio_version}
stamp="$cache/complete"
want="alluxio=$alluxio_version pom=$(sha256sum "$here/pom.xml" | cut -c1-16)"

log() { echo "fetch-alluxio3: $*" >&2; }
# shellcheck source=../cache.sh
source "$here/../cache.sh"

# The 313 jars are Java 8 class files: any JDK from 8 on runs them and compiles the oracle (here, Java 17).
java=$(command -v java || true)
[[ -n $java && -x $(dirname "$(readlink -f "$java")")/javac ]] || { log "no JDK (java and javac) on PATH"; exit 1; }
java_version=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')

if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    log "cached in $cache ($want)"
    echo "$java" > "$cache/java"
    echo "$cache"
    exit 0
fi

mkdir -p "$cache"
rm -f "$stamp"
start=$(date +%s)
cat > "$cache/settings.xml" <<'XML'
<settings>
  <mirrors>
    <mirror><id>central-only</id><mirrorOf>*</mirrorOf><url>https://repo.maven.apache.org/maven2</url></mirror>
  </mirrors>
</settings>
XML
log "resolving Alluxio $alluxio_version client jars with Maven (about 85 MB the first time)"
resolve_classpath "$here" "$cache" -s "$cache/settings.xml"

echo "$java" > "$cache/java"
printf 'Alluxio %s client (org.alluxio:*:%s from Maven Central, %s jars)\nJava %s (%s)\n' \
    "$alluxio_version" "$alluxio_version" "$(tr ':' '\n' < "$cache/classpath.txt" | wc -l)" "$java_version" "$java" \
    > "$cache/versions"
echo "$want" > "$stamp"
log "done in $(( $(date +%s) - start ))s: $(tr '\n' ';' < "$cache/versions")"
echo "$cache"
