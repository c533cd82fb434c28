"""Fetch what ``kubectl describe`` reads for one object, then print it.

kubectl describe makes several reads: the object, the events whose
involvedObject is exactly that object (name, namespace, kind and uid), and per
kind the pods, replica sets, EndpointSlices, quotas or node lease it
summarises. A related read the agent may not make (RBAC, namespace bounds)
leaves that part empty rather than failing the whole describe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from nightshift.k8s.client import KubeError, resource_path
from nightshift.k8s.kubectl_columns import selector_text
from nightshift.k8s.kubectl_describe import Related, describe, needs

Obj = dict[str, Any]


class Reads(Protocol):
    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Obj: ...


def _items(api: Reads, path: str, query: Mapping[str, str] | None = None) -> list[Obj]:
    try:
        items: list[Obj] = api.get(path, query or {}).get("items", [])
    except KubeError:
        return []
    return items


def events_about(api: Reads, obj: Obj, kind: str) -> list[Obj]:
    m = obj.get("metadata") or {}
    ns = m.get("namespace")
    selector = [f"involvedObject.name={m.get('name')}", f"involvedObject.kind={kind}"]
    if ns:
        selector.append(f"involvedObject.namespace={ns}")
    if m.get("uid"):
        selector.append(f"involvedObject.uid={m['uid']}")
    return _items(api, resource_path("v1", "events", ns), {"fieldSelector": ",".join(selector)})


def related_for(
    api: Reads, plural: str, obj: Obj, kind: str, allowed: Callable[[str], bool] | None = None
) -> Related:
    """Everything ``describe`` needs for ``obj`` besides the object itself."""
    m, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    ns, name = m.get("namespace"), m.get("name")
    want = needs(plural)
    pods: list[Obj] = []
    if "pods" in want and plural == "nodes":
        path = resource_path("v1", "pods", None)
        pods = _items(api, path, {"fieldSelector": f"spec.nodeName={name}"})
        if allowed is not None:
            pods = [p for p in pods if allowed(str(p["metadata"].get("namespace", "")))]
    elif "pods" in want:
        sel = spec.get("selector")
        query = {}
        if plural != "persistentvolumeclaims" and sel:
            query = {"labelSelector": selector_text(sel)}
        pods = _items(api, resource_path("v1", "pods", ns), query)
    lease = None
    if "lease" in want:
        try:
            lease = api.get(
                resource_path("coordination.k8s.io/v1", "leases", "kube-node-lease", name)
            )
        except KubeError:
            lease = None
    slices: list[Obj] = []
    if "endpointslices" in want:
        query = {"labelSelector": f"kubernetes.io/service-name={name}"}
        slices = _items(api, resource_path("discovery.k8s.io/v1", "endpointslices", ns), query)
    return Related(
        events=events_about(api, obj, kind),
        pods=pods,
        replicasets=_items(api, resource_path("apps/v1", "replicasets", ns))
        if "replicasets" in want
        else [],
        endpointslices=slices,
        quotas=_items(api, resource_path("v1", "resourcequotas", name)) if "quotas" in want else [],
        limitranges=_items(api, resource_path("v1", "limitranges", name))
        if "limitranges" in want
        else [],
        lease=lease,
    )


def describe_object(
    api: Reads,
    api_version: str,
    plural: str,
    kind: str,
    namespace: str | None,
    name: str,
    *,
    now: datetime | None = None,
    allowed: Callable[[str], bool] | None = None,
) -> str:
    obj = api.get(resource_path(api_version, plural, namespace, name))
    return describe(plural, obj, related_for(api, plural, obj, kind, allowed), now)
