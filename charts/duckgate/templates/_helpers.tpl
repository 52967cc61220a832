{{/* The chart name, truncated to the 63 characters of a label value. */}}
{{- define "duckgate.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: <release> or <release>-duckgate. */}}
{{- define "duckgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "duckgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "duckgate.labels" -}}
helm.sh/chart: {{ include "duckgate.chart" . }}
app.kubernetes.io/name: {{ include "duckgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: duckgate
{{- end -}}

{{/* Labels that select the operator pods. The component keeps them apart from the gateway
pods, which carry app.kubernetes.io/name=duckgate too. */}}
{{- define "duckgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "duckgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "duckgate.operatorLabels" -}}
{{ include "duckgate.labels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "duckgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "duckgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The namespace watched in namespace mode. */}}
{{- define "duckgate.watchNamespace" -}}
{{- default .Release.Namespace .Values.scope.namespace -}}
{{- end -}}

{{- define "duckgate.leaseName" -}}
{{- default (include "duckgate.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/* repository[:tag][@digest] with the tag defaulting to the appVersion. */}}
{{- define "duckgate.imageRef" -}}
{{- $img := index . 0 -}}
{{- $ctx := index . 1 -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default $ctx.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The operator's rules from files/rbac/clusterrole.yaml (a copy of operator/rbac/clusterrole.yaml),
split in two: "leases" (leader election, granted in the lease namespace only) and "main"
(everything else). Argument: list (root context) ("main"|"leases"). */}}
{{- define "duckgate.rules" -}}
{{- $root := index . 0 -}}
{{- $which := index . 1 -}}
{{- $role := $root.Files.Get "files/rbac/clusterrole.yaml" | fromYaml -}}
{{- $out := list -}}
{{- range $role.rules -}}
{{- $lease := has "coordination.k8s.io" .apiGroups -}}
{{- if or (and $lease (eq $which "leases")) (and (not $lease) (eq $which "main")) -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- if not $out -}}
{{- fail (printf "files/rbac/clusterrole.yaml has no %s rules" $which) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}
