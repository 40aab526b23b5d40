#!/usr/bin/env bash
# Builds spark-locality.jar (Maven, Java 17) after its JUnit tests pass against each Spark of
# tests/e2e/spark-versions.txt (4.3 with Scala 2.13, 3.5 with Scala 2.12: the same jar serves both), into a cache.
# Alluxio's client jar for Spark, which it runs beside, is tests/alluxio/fetch-alluxio-client.sh's.
#
#   DIR=$(bash spark-locality/build.sh)    # progress on stderr; the last stdout line is the directory
#
# DIR (${SCHEDULER_EXTENDER_SPARK_LOCALITY_CACHE:-~/.cache/scheduler-extender-spark-locality}/<sources hash>)
# holds spark-locality.jar. Maven's local repository is the cache's m2/. A rerun
# with unchanged sources finds the stamp and does nothing. Needs mvn and Java 17; asks Maven Central and (through
# fetch-spark.sh, for the Spark jars the tests run on) PyPI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
log() { printf 'spark-locality: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=../tests/cache.sh
source "${here}/../tests/cache.sh"

cache="${SCHEDULER_EXTENDER_SPARK_LOCALITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scheduler-extender-spark-locality}"
want="$(cd "${here}" && find build.sh pom.xml src -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)"
bin="${cache}/${want}"
stamp="${bin}/complete"
up_to_date() { [[ -f "${stamp}" && -f "${bin}/spark-locality.jar" ]]; }
reuse_if_built "up to date"
command -v mvn >/dev/null || die "mvn is not installed (apt-get install maven)"
start_build

start=${SECONDS}
spark="$(bash "${here}/../tests/e2e/fetch-spark.sh")"
mvn=(mvn -B -q -f "${here}/pom.xml" "-Dmaven.repo.local=${cache}/m2" "-Dspark.locality.target=${work}/target")
# The tests run on a real Spark's jars in place of the few this module compiles against (SparkConf needs the rest).
compiled_against="org.apache.spark:spark-core_2.12,org.apache.spark:spark-common-utils_2.12,org.scala-lang:scala-library"
compiled_against+=",org.apache.hadoop:hadoop-client-api,org.slf4j:slf4j-api"
for version in $(sed 's/#.*//' "${here}/../tests/e2e/spark-versions.txt"); do
	log "JUnit tests on Spark ${version}'s jars"
	SPARK_LOCAL_IP=127.0.0.1 "${mvn[@]}" test \
		"-Dmaven.test.additionalClasspath=$(find "${spark}/${version}/pyspark/jars" -name '*.jar' | sort | paste -sd,)" \
		"-Dmaven.test.dependency.excludes=${compiled_against}" >&2 || die "tests failed on Spark ${version}"
	grep -h "Tests run" "${work}"/target/surefire-reports/*.txt | sed "s/^/  Spark ${version}: /" >&2
done
"${mvn[@]}" package -DskipTests >&2
cp "${work}"/target/spark-locality-*.jar "${bin}/spark-locality.jar"
printf '%s\n' "${want}" >"${stamp}"
log "built and tested in $((SECONDS - start))s: ${bin}"
printf '%s\n' "${bin}"
