#!/usr/bin/env bash
# Submit a Spark job whose executors are placed by the alluxio-locality-scheduler, next to the Alluxio
# workers that cache their input, and read that input through the worker's domain socket.
#
#   INPUT=/data/sales/2026-11 ./spark-submit.sh              # domain socket as a hostPath (default)
#   DOMAIN_SOCKET=pvc ./spark-submit.sh                      # domain socket as a PersistentVolumeClaim
#   DOMAIN_SOCKET=template ./spark-submit.sh                 # everything pod-level from executor-pod-template.yaml
#   DRY_RUN=1 ./spark-submit.sh                              # print the command instead of running it
#
# Run it from a Spark (3.3 or later: spark.kubernetes.scheduler.name) distribution directory, or set
# SPARK_HOME. See README.md beside this file for what each setting is for.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SPARK_HOME="${SPARK_HOME:-.}"
K8S_API="${K8S_API:-https://kubernetes.default.svc:443}"     # kubectl cluster-info shows yours
NAMESPACE="${NAMESPACE:-default}"                             # where the driver and executors run
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-spark}"
IMAGE="${IMAGE:-spark-alluxio}"                               # Spark image with the Alluxio client jar
EXECUTORS="${EXECUTORS:-2}"
# Alluxio master RPC address(es), host:port[,host:port...]; the Helm chart's Service is alluxio-master-<i>.
ALLUXIO_MASTERS="${ALLUXIO_MASTERS:-alluxio-master-0.default.svc:19998}"
INPUT="${INPUT:-/data/sales/2026-11}"                         # Alluxio path the job reads
EXAMPLES_JAR="${EXAMPLES_JAR:-local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar}"
DOMAIN_SOCKET="${DOMAIN_SOCKET:-hostPath}"                    # hostPath | pvc | template
DOMAIN_SOCKET_PVC="${DOMAIN_SOCKET_PVC:-alluxio-worker-domain-socket}"  # the Helm chart's default PVC name
SCHEDULER="alluxio-locality-scheduler"

confs=(
  --conf "spark.executor.instances=${EXECUTORS}"
  --conf "spark.kubernetes.namespace=${NAMESPACE}"
  --conf "spark.kubernetes.authenticate.driver.serviceAccountName=${SERVICE_ACCOUNT}"
  --conf "spark.kubernetes.container.image=${IMAGE}"

  # Driver and executors go to the second scheduler, which asks the extender.
  --conf "spark.kubernetes.scheduler.name=${SCHEDULER}"
  # What the executors read: the extender scores each node by the bytes of it cached there.
  --conf "spark.kubernetes.executor.annotation.alluxio-locality.io/paths=${INPUT}"
  # The same on the driver: the extender sees the driver pod created (label spark-role=driver) and
  # fetches the block locations while the driver starts, so even the first executors score on warm data.
  --conf "spark.kubernetes.driver.annotation.alluxio-locality.io/paths=${INPUT}"

  # Alluxio client properties as JVM system properties (Alluxio's "Running Spark on Alluxio" guide,
  # "Configure Spark for Alluxio with HA"): which masters to ask, so URIs can be alluxio:///path.
  --conf "spark.driver.extraJavaOptions=-Dalluxio.master.rpc.addresses=${ALLUXIO_MASTERS}"
  --conf "spark.executor.extraJavaOptions=-Dalluxio.master.rpc.addresses=${ALLUXIO_MASTERS}"
)

# Short-circuit reads: mount the Alluxio worker's domain socket directory at /opt/domain in the executors,
# as Alluxio's "Running Spark on Alluxio in Kubernetes" guide writes it.
case "${DOMAIN_SOCKET}" in
  hostPath)
    confs+=(
      --conf spark.kubernetes.executor.volumes.hostPath.alluxio-domain.mount.path=/opt/domain
      --conf spark.kubernetes.executor.volumes.hostPath.alluxio-domain.mount.readOnly=true
      --conf spark.kubernetes.executor.volumes.hostPath.alluxio-domain.options.path=/tmp/alluxio-domain
      --conf spark.kubernetes.executor.volumes.hostPath.alluxio-domain.options.type=Directory
      # The hostPath (type Directory) exists only where a worker runs: keep executors off other nodes,
      # or they would hang in ContainerCreating. The extender refuses nodes without a ready worker.
      --conf spark.kubernetes.executor.annotation.alluxio-locality.io/require-local-worker=true
    )
    ;;
  pvc)
    confs+=(
      --conf spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.mount.path=/opt/domain
      --conf spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.mount.readOnly=true
      --conf "spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.options.claimName=${DOMAIN_SOCKET_PVC}"
    )
    ;;
  template)
    # Scheduler name, the require-local-worker annotation and the domain socket volume come from the
    # template; the paths stay per job (above).
    confs+=(
      --conf "spark.kubernetes.executor.podTemplateFile=${here}/executor-pod-template.yaml"
      --conf spark.kubernetes.executor.podTemplateContainerName=spark-executor
    )
    ;;
  *)
    echo "DOMAIN_SOCKET must be hostPath, pvc or template, not '${DOMAIN_SOCKET}'" >&2
    exit 2
    ;;
esac

command=(
  "${SPARK_HOME}/bin/spark-submit"
  --master "k8s://${K8S_API}"
  --deploy-mode cluster
  --name alluxio-locality-wordcount
  --class org.apache.spark.examples.JavaWordCount
  "${confs[@]}"
  "${EXAMPLES_JAR}"
  "alluxio://${INPUT}"
)

if [[ -n "${DRY_RUN:-}" ]]; then
  printf '%s\n' "${command[@]}"
else
  exec "${command[@]}"
fi
