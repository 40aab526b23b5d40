# Sourced by the scripts that build or fetch what the tests need into ~/.cache/scheduler-extender-*
# (tests/e2e/build-control-plane.sh, charts/build-helm.sh, tests/alluxio/fetch-alluxio.sh,
# tests/alluxio3/fetch-alluxio3.sh): the steps they share. Each caller defines log (and die), and for the
# builds `bin`, `stamp` and `up_to_date`.

# reuse_if_built MESSAGE: when up_to_date holds, say so, print ${bin} (the caller's result) and exit 0.
reuse_if_built() {
	if up_to_date; then
		log "$1: ${bin}"
		printf '%s\n' "${bin}"
		exit 0
	fi
}

# start_build: take ${bin}/.build-lock, so that concurrent runs (test workers, parallel checkouts) build once and
# the later ones reuse the first one's build; then forget the old stamp and make ${work}, removed on exit.
start_build() {
	mkdir -p "${bin}" || die "cannot create ${bin}"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${bin}/.build-lock"
		flock 9
		reuse_if_built "up to date (built by a concurrent run)"
	fi
	rm -f "${stamp}"
	work="$(mktemp -d "${bin}/.build.XXXXXX")"
	trap 'rm -rf "${work}"' EXIT
}

# resolve_classpath POM_DIR CACHE [MVN OPTION...]: the runtime classpath of POM_DIR/pom.xml, resolved by Maven
# into CACHE's own local repository (CACHE/m2: the cache dir is everything, deleting it a clean slate), written
# as one line to CACHE/classpath.txt.
resolve_classpath() {
	local pom_dir=$1 cache=$2
	shift 2
	command -v mvn >/dev/null || { log "mvn is not installed (apt-get install maven)"; exit 1; }
	mvn -B -q "$@" -f "${pom_dir}/pom.xml" -Dmaven.repo.local="${cache}/m2" \
		dependency:build-classpath -Dmdep.outputFile="${cache}/classpath.txt.new" -Dmdep.includeScope=runtime >&2
	mv "${cache}/classpath.txt.new" "${cache}/classpath.txt"
	rm -rf "${pom_dir}/target" # pom packaging builds nothing, but Maven may leave a target/ beside the pom
}
