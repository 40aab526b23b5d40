#!/usr/bin/env bash
# Submit a Spark job whose executors are placed by the alluxio-locality-scheduler, next to the Alluxio
# workers that cache their input, and read that input through their own node's worker.
#
#   INPUT=/data/sales/2026-11 ./spark-submit.sh             # cluster mode, domain socket as a hostPath (default)
#   DEPLOY_MODE=client ./spark-submit.sh                    # client mode: the driver runs here
#   DOMAIN_SOCKET=pvc ./spark-submit.sh                     # domain socket as a PersistentVolumeClaim
#   DOMAIN_SOCKET=template ./spark-submit.sh                # everything pod-level from executor-pod-template.yaml
#   ./spark-submit.sh --conf spark.executor.memory=4g       # any other spark-submit option, passed on as given
#   TASK_LOCALITY=component ./spark-submit.sh               # tasks to the executor on the node caching their blocks
#   TASK_LOCALITY=hostNetwork ./spark-submit.sh             # the same through hostNetwork executors
#   DRY_RUN=1 ./spark-submit.sh                             # print the command instead of running it
#
# Run it from a Spark distribution directory (4.x or 3.5; any 3.3 or later has spark.kubernetes.scheduler.name),
# or set SPARK_HOME. Arguments are spark-submit options: they come after this script's own, so a --conf given
# here overrides the script's. README.md beside this file says what each setting is for.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SPARK_HOME="${SPARK_HOME:-.}"
DEPLOY_MODE="${DEPLOY_MODE:-cluster}"                         # cluster | client
K8S_API="${K8S_API:-https://kubernetes.default.svc:443}"     # kubectl cluster-info shows yours
# How spark-submit (cluster mode) or the driver (client mode) authenticates to the API server. Unset, Spark's
# Kubernetes client finds them itself: $KUBECONFIG or ~/.kube/config, or in a pod its service account.
K8S_CA_CERT="${K8S_CA_CERT:-}"                                # CA certificate file of the API server
K8S_TOKEN_FILE="${K8S_TOKEN_FILE:-}"                          # file holding a bearer token
NAMESPACE="${NAMESPACE:-default}"                             # where the driver and executors run
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-spark}"                   # the driver pod's (cluster mode)
IMAGE="${IMAGE:-spark-alluxio}"                               # Spark image with the Alluxio client jar
EXECUTORS="${EXECUTORS:-2}"
# Alluxio master RPC address(es), host:port[,host:port...]; the Helm chart's Service is alluxio-master-<i>.
ALLUXIO_MASTERS="${ALLUXIO_MASTERS:-alluxio-master-0.alluxio.svc:19998}"
INPUT="${INPUT:-/data/sales/2026-11}"                         # Alluxio path the job reads
DOMAIN_SOCKET="${DOMAIN_SOCKET:-hostPath}"                    # hostPath | pvc | template
DOMAIN_SOCKET_PVC="${DOMAIN_SOCKET_PVC:-alluxio-worker-domain-socket}"  # the Helm chart's default PVC name
TASK_LOCALITY="${TASK_LOCALITY:-spark}"                       # spark | component | hostNetwork
SCHEDULER="alluxio-locality-scheduler"

# The examples jar is named for its Scala and Spark versions, which SPARK_HOME's spark-core jar tells: Spark 4 is
# built for Scala 2.13 only (spark-examples_2.13-4.3.0.jar), Spark 3.5 for 2.12 (spark-examples_2.12-3.5.9.jar).
core=$(compgen -G "${SPARK_HOME}/jars/spark-core_*.jar" | head -n 1 || true)
core=$(basename "${core:-spark-core_2.13-4.3.0.jar}" .jar)     # none (DRY_RUN without Spark): 4.3.0's name
core=${core#spark-core_}                                      # 2.13-4.3.0
SCALA_VERSION="${SCALA_VERSION:-${core%%-*}}"
SPARK_VERSION="${SPARK_VERSION:-${core#*-}}"
case "${DEPLOY_MODE}" in
  cluster) examples="local:///opt/spark/examples" ;;   # in the image
  client) examples="${SPARK_HOME}/examples" ;;         # in the distribution the driver runs from
  *) echo "DEPLOY_MODE must be cluster or client, not '${DEPLOY_MODE}'" >&2; exit 2 ;;
esac
# The application: Spark's JavaWordCount by default; a .py file (such as Spark's own
# examples/src/main/python/wordcount.py) runs without MAIN_CLASS.
APP="${APP:-${examples}/jars/spark-examples_${SCALA_VERSION}-${SPARK_VERSION}.jar}"
MAIN_CLASS="${MAIN_CLASS:-org.apache.spark.examples.JavaWordCount}"

# The executors' Alluxio client takes the worker whose host equals its own alluxio.user.hostname as local (the one
# to read cached blocks from, and to cache what it reads from the UFS and writes); by default that is the pod's
# hostname, which no worker has. Alluxio's Helm chart gives a worker the host status.hostIP, its node's IP, and its
# own clients (FUSE) that IP as alluxio.user.hostname; the pod template puts it in ALLUXIO_CLIENT_HOSTNAME, and
# Kubernetes expands $(...) from it, as it is defined before Spark's own variables (README.md: "Reading through
# the node's worker"); single quotes keep the shell off it. domain.socket.as.uuid=true, as the chart's workers are
# set (shortCircuit.policy: uuid, alluxio-values.yaml): the client then finds its worker's domain socket as a file
# in its own /opt/domain mount, not by hostname.
local_reads='-Dalluxio.user.hostname=$(ALLUXIO_CLIENT_HOSTNAME) -Dalluxio.worker.data.server.domain.socket.as.uuid=true'

confs=(
  --conf "spark.executor.instances=${EXECUTORS}"
  --conf "spark.kubernetes.namespace=${NAMESPACE}"
  --conf "spark.kubernetes.container.image=${IMAGE}"

  # Driver and executors go to the second scheduler, which asks the extender: executors to the nodes caching
  # their input, the driver (label spark-role=driver) away from them, so it takes no executor's slot there.
  --conf "spark.kubernetes.scheduler.name=${SCHEDULER}"
  # What the executors read: the extender scores each node by the bytes of it cached there.
  --conf "spark.kubernetes.executor.annotation.alluxio-locality.io/paths=${INPUT}"

  # Alluxio client properties as JVM system properties (Alluxio's "Running Spark on Alluxio" guide): which
  # masters to ask, so URIs can be alluxio:///path.
  --conf "spark.driver.extraJavaOptions=-Dalluxio.master.rpc.addresses=${ALLUXIO_MASTERS}"
  # The executors' client also needs to know which worker is its node's: see ${local_reads} above.
  --conf "spark.executor.extraJavaOptions=-Dalluxio.master.rpc.addresses=${ALLUXIO_MASTERS} ${local_reads}"
)

case "${DEPLOY_MODE}" in
  cluster)
    confs+=(
      --conf "spark.kubernetes.authenticate.driver.serviceAccountName=${SERVICE_ACCOUNT}"
      # The executors' paths on the driver pod too: the extender sees the driver created and fetches the block
      # locations while it starts (the first executors score on warm data), and keeps the driver off the nodes
      # caching them.
      --conf "spark.kubernetes.driver.annotation.alluxio-locality.io/paths=${INPUT}"
    )
    [[ -z ${K8S_CA_CERT} ]] || confs+=(--conf "spark.kubernetes.authenticate.submission.caCertFile=${K8S_CA_CERT}")
    [[ -z ${K8S_TOKEN_FILE} ]] || confs+=(--conf "spark.kubernetes.authenticate.submission.oauthTokenFile=${K8S_TOKEN_FILE}")
    ;;
  client)
    # No driver pod: the driver is this process, and the executors connect back to it here. In a pod, its IP.
    confs+=(--conf "spark.driver.host=${DRIVER_HOST:-$(hostname -i | cut -d' ' -f1)}")
    # The driver's own client requests the executors; client mode has no .driver. or .submission. in these names.
    [[ -z ${K8S_CA_CERT} ]] || confs+=(--conf "spark.kubernetes.authenticate.caCertFile=${K8S_CA_CERT}")
    [[ -z ${K8S_TOKEN_FILE} ]] || confs+=(--conf "spark.kubernetes.authenticate.oauthTokenFile=${K8S_TOKEN_FILE}")
    ;;
esac

# Short-circuit reads: mount the Alluxio worker's domain socket directory at /opt/domain in the executors,
# as Alluxio's "Running Spark on Alluxio in Kubernetes" guide writes it. The node's IP (above) comes from a pod
# template in every variant: the downward API has no spark-submit option.
case "${DOMAIN_SOCKET}" in
  hostPath)
    confs+=(
      --conf "spark.kubernetes.executor.podTemplateFile=${here}/executor-hostname-template.yaml"
      --conf spark.kubernetes.executor.podTemplateContainerName=spark-executor
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
      --conf "spark.kubernetes.executor.podTemplateFile=${here}/executor-hostname-template.yaml"
      --conf spark.kubernetes.executor.podTemplateContainerName=spark-executor
      --conf spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.mount.path=/opt/domain
      --conf spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.mount.readOnly=true
      --conf "spark.kubernetes.executor.volumes.persistentVolumeClaim.alluxio-domain.options.claimName=${DOMAIN_SOCKET_PVC}"
    )
    ;;
  template)
    # The require-local-worker annotation, the node's IP and the domain socket volume come from the template;
    # the paths stay per job (above).
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

# Which tasks go to which executor. Spark's own way (spark) never finds a task's node on Kubernetes: executors
# advertise their pod IP, Alluxio reports its workers' node IPs, so every task goes out at locality ANY.
# component: spark-locality.jar (spark-locality/ in this repository; in the image's /opt/spark/jars beside Alluxio's
# client jar) reports each block on the pod IPs of this application's executors on the nodes caching it, which
# they tell the driver through the attribute NODE_IP (SPARK_EXECUTOR_ATTRIBUTE_NODE_IP, from status.hostIP in the
# pod template). hostNetwork: executors in the node's network (pod IP = node IP), README.md says what that costs.
case "${TASK_LOCALITY}" in
  spark) ;;
  component)
    confs+=(
      --conf spark.hadoop.fs.alluxio.impl=io.alluxiolocality.spark.NodeLocalAlluxioFileSystem
      --conf spark.extraListeners=io.alluxiolocality.spark.ExecutorNodeListener
      # Listings wait for the executors (Spark's minRegisteredResourcesRatio of them) at most this long in all.
      --conf spark.alluxio.locality.executorWait=60s
      # Above this many paths Spark lists on the executors, where no listener runs: keep listing on the driver.
      --conf spark.sql.sources.parallelPartitionDiscovery.threshold=100000
    )
    ;;
  hostNetwork)
    confs+=(
      --conf "spark.kubernetes.executor.podTemplateFile=${here}/executor-hostnetwork-template.yaml"
      --conf spark.kubernetes.executor.podTemplateContainerName=spark-executor
      # Executors of one node share its ports and its host: a port each, and no reading another's shuffle files
      # as if they were on this pod's disk.
      --conf spark.blockManager.port=0
      --conf spark.shuffle.readHostLocalDisk=false
    )
    ;;
  *)
    echo "TASK_LOCALITY must be spark, component or hostNetwork, not '${TASK_LOCALITY}'" >&2
    exit 2
    ;;
esac

application=("${APP}")
[[ ${APP} == *.py ]] || application=(--class "${MAIN_CLASS}" "${APP}")

command=(
  "${SPARK_HOME}/bin/spark-submit"
  --master "k8s://${K8S_API}"
  --deploy-mode "${DEPLOY_MODE}"
  --name alluxio-locality-wordcount
  "${confs[@]}"
  "$@"
  "${application[@]}"
  "alluxio://${INPUT}"
)

if [[ -n "${DRY_RUN:-}" ]]; then
  printf '%s\n' "${command[@]}"
else
  exec "${command[@]}"
fi
