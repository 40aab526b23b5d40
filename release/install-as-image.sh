#!/usr/bin/env bash
# The image's Python install without Docker: the Dockerfile's `pip` steps, read from it and run as written, in a
# fresh venv of this machine's Python 3.11, in a directory holding what its COPY lines take. .ci/run runs it, so
# a lock whose hashes or pins are wrong, a dependency missing from it (`pip check`), or a package that cannot be
# built offline fails CI as it would fail `docker build`.
#
#   bash release/install-as-image.sh      (needs PyPI, as docker build does; pip's cache is reused)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
log() { printf 'install-as-image: %s\n' "$*" >&2; }
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' ||
	{ log "needs Python 3.11, the image's"; exit 1; }
python3 -m venv "${work}/venv"
mkdir "${work}/src"
cp -r "${root}"/{requirements.lock,pyproject.toml,setup.cfg,README.md,scheduler_extender} "${work}/src/"

# Each `pip ...` command of the Dockerfile's RUN instructions, continuation lines joined, in order.
mapfile -t steps < <(python3 - "${root}/Dockerfile" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read().replace("\\\n", " ")
for line in text.splitlines():
    if line.startswith("RUN "):
        print("\n".join(part.strip() for part in line[4:].split("&&") if part.strip().startswith("pip ")))
PY
)
(( ${#steps[@]} >= 2 )) || { log "found ${#steps[@]} pip steps in the Dockerfile"; exit 1; }
for step in "${steps[@]}"; do
	[[ -n "${step}" ]] || continue
	log "${step}"
	(cd "${work}/src" && PATH="${work}/venv/bin:${PATH}" eval "${step}") >&2
done
"${work}/venv/bin/scheduler-extender" --help >/dev/null
log "installed as the image installs it: $("${work}/venv/bin/pip" list --format=freeze | wc -l) packages"
