# scheduler-extender: the Alluxio locality extender for kube-scheduler.
#   docker build -t scheduler-extender:0.1.0 .
# One stage: every dependency ships as a wheel, so nothing is compiled and no build tools are installed.
#
# Reproducible: the base image is pinned by the digest of its multi-architecture index, and every Python package
# by version and hash (requirements.lock). To take a newer base image, resolve the tag's current digest and
# replace the one below (docs/operators.md, "Release"):
#   docker buildx imagetools inspect python:3.11-slim-bookworm --format '{{json .Manifest.Digest}}'
#   (or: crane digest python:3.11-slim-bookworm; skopeo inspect docker://python:3.11-slim-bookworm | jq .Digest)
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# The locked dependencies first (a layer that changes only with the lock), wheels only, each checked against its
# hash; then the package itself, built from its sources with the locked setuptools and nothing downloaded.
# (README.md is needed: setup.cfg reads it as the long description.)
WORKDIR /src
COPY requirements.lock ./
RUN pip install --require-hashes --only-binary=:all: --no-deps -r requirements.lock
COPY pyproject.toml setup.cfg README.md ./
COPY scheduler_extender ./scheduler_extender
RUN pip install --no-index --no-build-isolation --no-deps . \
 && pip check \
 && cd / && rm -rf /src
WORKDIR /

# A fixed numeric non-root user, so Kubernetes' runAsNonRoot can check it (the Deployment sets 10001 too).
RUN groupadd --system --gid 10001 extender \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin extender
USER 10001:10001

EXPOSE 8888
ENTRYPOINT ["scheduler-extender"]
# The settings file comes from the ConfigMap alluxio-locality-extender-config (manifests/).
CMD ["serve", "--config", "/etc/scheduler-extender/config.yaml"]
