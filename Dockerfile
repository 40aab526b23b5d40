# scheduler-extender: the Alluxio locality extender for kube-scheduler.
#   docker build -t scheduler-extender:0.1.0 .
# One stage: every dependency ships as a wheel, so nothing is compiled and no build tools are installed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Install the package and the dependency versions setup.cfg allows, then drop the sources.
# (README.md is needed: setup.cfg reads it as the long description.)
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY scheduler_extender ./scheduler_extender
RUN pip install --no-cache-dir . \
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
