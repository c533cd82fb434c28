{{- define "nightshift.fullname" -}}
{{- printf "%s-nightshift" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "nightshift.labels" -}}
app.kubernetes.io/name: nightshift
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: control-plane
{{- end -}}
{{- define "nightshift.selector" -}}
app.kubernetes.io/name: nightshift
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
