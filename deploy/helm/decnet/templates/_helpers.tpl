{{/* Name of the chart, cut to the 63 characters a label value allows. */}}
{{- define "decnet.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the release's objects. */}}
{{- define "decnet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "decnet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "decnet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controlplane
{{- end -}}

{{- define "decnet.labels" -}}
{{ include "decnet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
Check the settings that would otherwise fail only at run time: several
replicas on one database need Redis, because without it each replica takes
the database lock alone.
*/}}
{{- define "decnet.validate" -}}
{{- if not .Values.database.existingSecret -}}
{{- fail "database.existingSecret is required: the control plane keeps its state in PostgreSQL" -}}
{{- end -}}
{{- if not .Values.ca.existingSecret -}}
{{- fail "ca.existingSecret is required: every replica must sign with the same CA" -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (or .Values.redis.url .Values.redis.existingSecret)) -}}
{{- fail "replicaCount above 1 needs redis.url or redis.existingSecret" -}}
{{- end -}}
{{- end -}}
