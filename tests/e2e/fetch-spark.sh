#!/usr/bin/env bash
# Installs the Spark releases of spark-versions.txt (pyspark from PyPI, with pip: spark-submit, its jars and
# Kubernetes client) into a cache, for the Spark tests of the e2e suite (installed: 493 MB for 4.3.0, 347 MB for
# 3.5.9; 36 s for both from cold on this machine).
#
#   CACHE=$(bash tests/e2e/fetch-spark.sh)    # progress on stderr; the last stdout line is the cache dir
#
# The cache dir holds one directory per version, <version>/, with pip's --target install (the pyspark package
# is a Spark home: bin/spark-submit, jars/) and `complete`, the stamp of what was installed. A rerun finds the
# stamps and installs nothing. Needs python3 with pip and nothing else; asks no address but PyPI. pip's own cache
# is not used (--no-cache-dir): the 450 MB source archive would be kept twice.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${SCHEDULER_EXTENDER_SPARK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-spark}

log() { echo "fetch-spark: $*" >&2; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # concurrent runs take turns, as the control plane build does

for version in $(sed 's/#.*//' "$here/spark-versions.txt"); do
    dir="$cache/$version"
    want="pyspark==$version"
    if [[ -f $dir/complete && $(cat "$dir/complete") == "$want" && -x $dir/pyspark/bin/spark-submit ]]; then
        log "pyspark $version cached in $dir"
        continue
    fi
    start=$(date +%s)
    log "installing pyspark $version from PyPI (about 450 MB to download)"
    rm -rf "$dir"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-cache-dir \
        --target "$dir.new" "$want" >&2
    mv "$dir.new" "$dir"
    echo "$want" > "$dir/complete"
    log "pyspark $version in $(( $(date +%s) - start ))s: $(ls "$dir"/pyspark/jars/spark-core_*.jar)"
done
echo "$cache"
