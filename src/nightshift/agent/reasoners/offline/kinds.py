"""Kubernetes kind names as the API spells them.

Tools and logs print kinds lower-case, plural or abbreviated ("pvc",
"replicasets", "networkpolicy"); a result must name the kind the way the API
and the action catalog do ("PersistentVolumeClaim"), or a fix aimed at it
misses.
"""

from __future__ import annotations

_KINDS = (
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "Ingress",
    "NetworkPolicy",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "StorageClass",
    "ResourceQuota",
    "LimitRange",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Node",
    "Namespace",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "Certificate",
    "Event",
)
_BY_LOWER = {k.lower(): k for k in _KINDS}
_SHORT = {
    "po": "pod",
    "deploy": "deployment",
    "rs": "replicaset",
    "sts": "statefulset",
    "ds": "daemonset",
    "cj": "cronjob",
    "svc": "service",
    "ep": "endpoints",
    "ing": "ingress",
    "netpol": "networkpolicy",
    "cm": "configmap",
    "sa": "serviceaccount",
    "pvc": "persistentvolumeclaim",
    "pv": "persistentvolume",
    "sc": "storageclass",
    "quota": "resourcequota",
    "limits": "limitrange",
    "hpa": "horizontalpodautoscaler",
    "pdb": "poddisruptionbudget",
    "no": "node",
    "ns": "namespace",
}


def kind_name(raw: str, default: str = "") -> str:
    """The API's spelling of a kind; ``default`` when it is not a known kind."""
    k = raw.strip().lower()
    k = _SHORT.get(k, k)
    if k in _BY_LOWER:
        return _BY_LOWER[k]
    if k.endswith("ies") and k[:-3] + "y" in _BY_LOWER:  # networkpolicies
        return _BY_LOWER[k[:-3] + "y"]
    if k.endswith("es") and k[:-2] in _BY_LOWER:  # ingresses
        return _BY_LOWER[k[:-2]]
    if k.endswith("s") and k[:-1] in _BY_LOWER:
        return _BY_LOWER[k[:-1]]
    return default or raw.strip().capitalize()


def is_kind(raw: str) -> bool:
    return bool(kind_name(raw, default="\0") != "\0")
