"""From what a question names ("checkout", "shop/checkout", "deployment/checkout",
"checkout.shop.svc") to a pod's labels, the thing NetworkPolicies select on."""

from __future__ import annotations

from dataclasses import dataclass

from nightshift.k8s.reads import Lister, Obj, Scopes, meta
from nightshift.k8s.selectors import query_for

# alias -> (apiVersion, plural, Kind); the order is the lookup order for a bare name.
WORKLOADS: dict[str, tuple[str, str, str]] = {}
for _aliases, _entry in (
    (("pod", "pods", "po"), ("v1", "pods", "Pod")),
    (("deployment", "deployments", "deploy"), ("apps/v1", "deployments", "Deployment")),
    (("statefulset", "statefulsets", "sts"), ("apps/v1", "statefulsets", "StatefulSet")),
    (("daemonset", "daemonsets", "ds"), ("apps/v1", "daemonsets", "DaemonSet")),
    (("service", "services", "svc"), ("v1", "services", "Service")),
    (("replicaset", "replicasets", "rs"), ("apps/v1", "replicasets", "ReplicaSet")),
    (("job", "jobs"), ("batch/v1", "jobs", "Job")),
):
    for _alias in _aliases:
        WORKLOADS[_alias] = _entry
_LOOKUP_ORDER = ("pod", "deployment", "statefulset", "daemonset", "service", "replicaset", "job")


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    via: str = ""  # how the labels were found, when not the object's own

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"


def split(raw: str) -> tuple[str | None, str | None, str]:
    """(namespace, kind alias, name) from the forms above."""
    text = raw.strip().strip("/")
    parts = [p for p in text.split("/") if p]
    if len(parts) >= 3:
        return parts[-3], parts[-2].lower(), parts[-1]
    if len(parts) == 2:
        first = parts[0].lower()
        return (None, first, parts[1]) if first in WORKLOADS else (parts[0], None, parts[1])
    name = parts[0] if parts else ""
    if "." in name and ":" not in name:  # a Service DNS name: name.namespace[.svc...]
        host = name.split(".")
        return host[1], "service", host[0]
    return None, None, name.split(":")[0]


def _dns_form(raw: str) -> bool:
    text = raw.strip()
    return "/" not in text and "." in text


def resolve(lister: Lister, scopes: Scopes, raw: str) -> Target | None:
    namespace, alias, name = split(raw)
    if not name:
        return None
    if alias is not None and alias not in WORKLOADS:
        return None
    kinds = [alias] if alias else list(_LOOKUP_ORDER)
    try:
        allowed = scopes(namespace)
    except PermissionError:
        if _dns_form(raw):  # "relay-03.mail.corp" is a host outside, not namespace "mail"
            return None
        raise
    for ns in allowed:
        for kind in kinds:
            api_version, plural, kind_name = WORKLOADS[kind]
            found = lister.items(
                api_version, plural, ns, {"fieldSelector": f"metadata.name={name}"}, limit=1
            )
            if found:
                return _labels_of(lister, kind_name, found[0])
    return None


def _labels_of(lister: Lister, kind: str, obj: Obj) -> Target:
    m = meta(obj)
    ns, name = str(m.get("namespace", "")), str(m.get("name", ""))
    if kind == "Pod":
        return Target(kind, name, ns, dict(m.get("labels") or {}))
    if kind == "Service":
        selector = dict((obj.get("spec") or {}).get("selector") or {})
        if selector:
            pods = lister.items("v1", "pods", ns, {"labelSelector": query_for(selector)}, limit=1)
            if pods:
                pod = meta(pods[0])
                return Target(kind, name, ns, dict(pod.get("labels") or {}), f"pod {pod['name']}")
        return Target(kind, name, ns, selector, "its selector (no pod found)")
    template = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return Target(kind, name, ns, dict(template.get("labels") or {}), "its pod template")
