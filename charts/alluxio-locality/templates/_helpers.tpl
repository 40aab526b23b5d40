{{/*
Names. Every resource is <fullname>-extender or <fullname>-scheduler; with the release named
alluxio-locality (as manifests/ is rendered) that gives the names the README and the Spark examples use.
*/}}
{{- define "alluxio-locality.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "alluxio-locality.extender" -}}
{{- include "alluxio-locality.fullname" . }}-extender
{{- end -}}

{{- define "alluxio-locality.scheduler" -}}
{{- include "alluxio-locality.fullname" . }}-scheduler
{{- end -}}

{{/*
Labels of every object: app.kubernetes.io/name (the component's own name, also its selector) is added
by each template. No managed-by label: manifests/ is this chart rendered, and is then managed by kubectl.
*/}}
{{- define "alluxio-locality.labels" -}}
app.kubernetes.io/part-of: alluxio-locality
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
The extender's URL as the scheduler calls it: the Service's cluster DNS name.
*/}}
{{- define "alluxio-locality.extenderURL" -}}
{{- printf "%s://%s.%s.svc:%d" (ternary "https" "http" .Values.tls.enabled) (include "alluxio-locality.extender" .) .Release.Namespace (int .Values.extender.port) -}}
{{- end -}}

{{/*
Volcano mode: the extender plugin's entry for the tiers of volcano-scheduler.conf. Volcano's plugin speaks plain
HTTP and presents no client certificate, so TLS cannot be on.
*/}}
{{- define "alluxio-locality.volcanoPlugin" -}}
{{- if .Values.tls.enabled -}}
{{- fail "alluxio-locality: volcano.enabled needs tls.enabled=false: Volcano's extender plugin calls over plain HTTP, without client certificates" -}}
{{- end -}}
- name: extender
  arguments:
    extender.urlPrefix: {{ include "alluxio-locality.extenderURL" . }}/volcano
    extender.httpTimeout: {{ .Values.volcano.httpTimeout }}
    extender.prioritizeVerb: prioritize
    {{- if .Values.volcano.predicate }}
    extender.predicateVerb: predicate
    {{- end }}
    extender.ignorable: {{ .Values.volcano.ignorable }}
{{- end -}}

{{- define "alluxio-locality.extenderTLSSecret" -}}
{{- default (printf "%s-tls" (include "alluxio-locality.extender" .)) .Values.tls.extenderSecret -}}
{{- end -}}

{{- define "alluxio-locality.schedulerTLSSecret" -}}
{{- default (printf "%s-tls" (include "alluxio-locality.scheduler" .)) .Values.tls.schedulerSecret -}}
{{- end -}}

{{/*
The tested Kubernetes versions: kubernetes-versions.txt beside Chart.yaml (a copy of the repository's matrix,
kept equal to it by charts/generate.py), as a list of [minor, patch] pairs, newest first.
*/}}
{{- define "alluxio-locality.testedVersions" -}}
{{- $tested := list -}}
{{- range splitList "\n" (.Files.Get "kubernetes-versions.txt") -}}
{{- $line := trim . -}}
{{- if and $line (not (hasPrefix "#" $line)) -}}
{{- $columns := regexSplit "\\s+" $line -1 -}}
{{- $tested = append $tested (list (index $columns 0) (index $columns 1)) -}}
{{- end -}}
{{- end -}}
{{- if not $tested -}}
{{- fail "alluxio-locality: kubernetes-versions.txt is missing from the chart or lists no version" -}}
{{- end -}}
{{- toJson $tested -}}
{{- end -}}

{{/*
The kube-scheduler image. A scheduler may be at most one minor older than its API server and never newer,
so by default it follows the cluster's own minor (what helm sees of it: the API server's version on install
and upgrade, --kube-version for helm template), at the newest patch tested for that minor. A minor we do not
test stops the render, unless scheduler.image.tag names a tag.
*/}}
{{- define "alluxio-locality.schedulerImage" -}}
{{- $image := .Values.scheduler.image -}}
{{- $tag := $image.tag -}}
{{- if not $tag -}}
{{- $cluster := printf "%s.%s" .Capabilities.KubeVersion.Major (regexReplaceAll "[^0-9]+$" .Capabilities.KubeVersion.Minor "") -}}
{{- $minors := list -}}
{{- range (include "alluxio-locality.testedVersions" . | fromJsonArray) -}}
{{- $minors = append $minors (index . 0) -}}
{{- if eq (index . 0) $cluster -}}
{{- $tag = index . 1 -}}
{{- end -}}
{{- end -}}
{{- if not $tag -}}
{{- fail (printf "alluxio-locality: the cluster runs Kubernetes %s (%s), and this chart's kube-scheduler is tested on %s only. Install on one of those, or set scheduler.image.tag to the kube-scheduler release of your cluster's minor (untested)." $cluster .Capabilities.KubeVersion.Version (join ", " $minors)) -}}
{{- end -}}
{{- end -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}

{{/*
The namespaces whose pods the extender reads through Roles, as a JSON list: those of workerNamespace and
prefetchNamespaces when both are set; none (pods through the ClusterRole, every namespace) otherwise.
*/}}
{{- define "alluxio-locality.podNamespaces" -}}
{{- $extender := .Values.extender -}}
{{- if and $extender.workerNamespace $extender.prefetchNamespaces -}}
{{- prepend $extender.prefetchNamespaces $extender.workerNamespace | uniq | toJson -}}
{{- else -}}
[]
{{- end -}}
{{- end -}}

{{- define "alluxio-locality.extenderImage" -}}
{{- printf "%s:%s" .Values.extender.image.repository (default .Chart.AppVersion .Values.extender.image.tag) -}}
{{- end -}}

{{/*
Pod scheduling fields shared by both Deployments: alluxio-locality.podPlacement (dict "root" . "values" <component values>).
*/}}
{{- define "alluxio-locality.podPlacement" -}}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The extender's settings file (config.yaml of its ConfigMap).
*/}}
{{- define "alluxio-locality.extenderSettings" -}}
# Serve on every address of the pod: the Service {{ include "alluxio-locality.extender" . }} sends port {{ int .Values.extender.port }} here.
bind: 0.0.0.0:{{ int .Values.extender.port }}

{{- if eq (int .Values.alluxio.version) 3 }}
{{- $alluxio3 := .Values.alluxio.alluxio3 }}
# Alluxio 3 (chart values alluxio.alluxio3): the workers' membership, whose consistent-hash ring names the
# worker each file is read through, and the UFS root the Alluxio namespace maps onto.
{{- if and $alluxio3.etcd $alluxio3.masters }}
{{- fail "alluxio-locality: set one of alluxio.alluxio3.etcd and alluxio.alluxio3.masters, not both" }}
{{- else if $alluxio3.etcd }}
alluxio3-etcd: {{ join "," $alluxio3.etcd | toJson }}
{{- else if $alluxio3.masters }}
alluxio3-master: {{ join "," $alluxio3.masters | toJson }}
{{- else }}
{{- fail "alluxio-locality: alluxio.version 3 needs the workers' membership: alluxio.alluxio3.etcd (alluxio.etcd.endpoints) or alluxio.alluxio3.masters (the masters' web URLs)" }}
{{- end }}
alluxio3-ufs-root: {{ required "alluxio-locality: alluxio.version 3 needs alluxio.alluxio3.ufsRoot (alluxio.dora.client.ufs.root)" $alluxio3.ufsRoot | toJson }}
{{- else }}
# Alluxio 2: block locations from the REST proxy (chart value alluxio.proxyUrl). Readiness asks the proxy too;
# the masters are never asked (with HA masters only the primary answers on its web port; the proxy finds it).
# Enable the proxy in Alluxio's chart (proxy.enabled: true); it runs as the DaemonSet alluxio-proxy on port
# 39999, but the 2.9 chart creates no Service for it. Create one next to Alluxio:
#     apiVersion: v1
#     kind: Service
#     metadata: {name: alluxio-proxy, namespace: default}
#     spec:
#       selector: {app: alluxio, role: alluxio-proxy}
#       ports: [{name: web, port: 39999, targetPort: 39999}]
# On Alluxio 2.9.3 and later also set alluxio.proxy.s3.v2.version.enabled=false and
# alluxio.proxy.s3.v2.async.processing.enabled=false on the proxy (Alluxio issues 17492, 18365).
alluxio-proxy: {{ toJson .Values.alluxio.proxyUrl }}
{{- end }}

# Watch Nodes and the Alluxio worker pods through this pod's ServiceAccount (get/list/watch on nodes
# and pods only), so workers resolve to nodes whatever their networking, and pods matching
# prefetch-selector prefetch their paths as soon as they are created.
kubernetes: in-cluster
worker-selector: {{ toJson .Values.extender.workerSelector }}
prefetch-selector: {{ toJson .Values.extender.prefetchSelector }}

# The second scheduler's name: the admission webhook (/mutate) leaves its pods alone, as they are scored already.
scheduler-name: {{ toJson .Values.scheduler.schedulerName }}
{{- if .Values.webhook.enabled }}
# Webhook mode (chart value webhook.affinity): what /mutate adds to an executor.
webhook-affinity: {{ toJson .Values.webhook.affinity }}
{{- end }}
{{- with .Values.extender.workerNamespace }}
worker-namespace: {{ toJson . }}
{{- end }}
{{- with .Values.extender.prefetchNamespaces }}
prefetch-namespaces: {{ join "," . | toJson }}
{{- end }}
{{- if .Values.tls.enabled }}

# HTTPS from the mounted Secret {{ include "alluxio-locality.extenderTLSSecret" . }}.
tls-cert-file: /etc/scheduler-extender-tls/tls.crt
tls-private-key-file: /etc/scheduler-extender-tls/tls.key
{{- if .Values.tls.clientAuth }}
# /filter and /prioritize answer only callers presenting a certificate this CA signed: the ca.crt of the
# scheduler's Secret {{ include "alluxio-locality.schedulerTLSSecret" . }}.
tls-client-ca-file: /etc/scheduler-extender-client-ca/ca.crt
{{- end }}
{{- end }}
{{- with .Values.extender.settings }}

# Further settings (chart value extender.settings). locality-access: loopback keeps /locality, which tells
# which nodes cache which paths and makes Alluxio calls for any path, to `kubectl port-forward`.
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The KubeSchedulerConfiguration of the second scheduler (config.yaml of its ConfigMap).
*/}}
{{- define "alluxio-locality.schedulerConfiguration" -}}
{{- $call := .Values.scheduler -}}
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  # Two replicas for availability; only the holder of the Lease schedules.
  leaderElect: true
  resourceNamespace: {{ .Release.Namespace }}
  resourceName: {{ toJson $call.schedulerName }}
# Score every feasible node. By default a large cluster stops looking after a sample of feasible nodes,
# and the nodes whose Alluxio workers hold the data may never be scored.
percentageOfNodesToScore: 100
# Every binding is one API call, and the scheduler's client is rate limited (default 50/s, burst 100):
# that limit, not the extender, caps scheduling once a burst of executors is over (benchmarks/README.md).
# Spark asks for executors in bursts of hundreds; let the scheduler keep up.
clientConnection:
  qps: {{ int $call.clientConnection.qps }}
  burst: {{ int $call.clientConnection.burst }}
profiles:
  - schedulerName: {{ toJson $call.schedulerName }}
extenders:
  - urlPrefix: {{ include "alluxio-locality.extenderURL" . }}
    {{- if $call.filterVerb }}
    # Only pods annotated alluxio-locality.io/require-local-worker need the filter call; if none of
    # yours are, leave filterVerb out (chart value scheduler.filterVerb: false) to spare one HTTP call per
    # pod (benchmarks/README.md: scheduling 1,000 executors on 1,000 nodes went from about 0.7x to 0.8x the
    # pace of the scheduler without extender).
    filterVerb: filter
    {{- end }}
    prioritizeVerb: prioritize
    # The extender scores 0..10; kube-scheduler multiplies that by weight and by 10 (its 0..100 scale),
    # so 5 makes the node holding the most data worth 500, against 0..100 per in-tree score plugin
    # times that plugin's weight (1 to 3 by default). Raise it to insist on locality, lower it to
    # let resource balance and spreading win more often.
    weight: {{ int $call.weight }}
    # Send node names, not whole Node objects: smaller, faster calls. The extender resolves workers to
    # nodes from its own watch of Nodes (kubernetes: in-cluster).
    nodeCacheCapable: {{ $call.nodeCacheCapable }}
    # If the extender is down or slow, schedule without it instead of leaving Spark pods Pending:
    # locality is an optimisation, never a reason not to run.
    ignorable: {{ $call.ignorable }}
    # A scheduling cycle waits at most this for each call; the extender answers within its 50 ms budget.
    httpTimeout: {{ $call.httpTimeout }}
    {{- if .Values.tls.enabled }}
    enableHTTPS: true
    tlsConfig:
      # Verifies the extender's serving certificate, which must name the Service's DNS name above: the ca.crt
      # of the extender's Secret.
      caFile: /etc/kubernetes/{{ include "alluxio-locality.scheduler" . }}-extender-ca/ca.crt
      {{- if .Values.tls.clientAuth }}
      # Presented to the extender, which checks it against its --tls-client-ca-file.
      certFile: /etc/kubernetes/{{ include "alluxio-locality.scheduler" . }}-tls/tls.crt
      keyFile: /etc/kubernetes/{{ include "alluxio-locality.scheduler" . }}-tls/tls.key
      {{- end }}
    {{- else }}
    # In-cluster plain HTTP to a ClusterIP Service; chart value tls.enabled turns on HTTPS both ways.
    enableHTTPS: false
    {{- end }}
{{- end -}}

{{/*
A file of files/ naming this release's objects: the files name the default release's (alluxio-locality-extender,
alluxio-locality-scheduler) and select the second scheduler's series by its default profile, the schedulerName.
*/}}
{{- define "alluxio-locality.monitoringFile" -}}
{{- $text := .root.Files.Get .file | replace "profile=\"alluxio-locality-scheduler\"" "profile=\"@PROFILE@\"" | replace "profile=\\\"alluxio-locality-scheduler\\\"" "profile=\\\"@PROFILE@\\\"" -}}
{{- $text = $text | replace "alluxio-locality-scheduler" (include "alluxio-locality.scheduler" .root) | replace "alluxio-locality-extender" (include "alluxio-locality.extender" .root) -}}
{{- $text | replace "@PROFILE@" .root.Values.scheduler.schedulerName -}}
{{- end -}}
