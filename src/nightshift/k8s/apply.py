"""Server-side apply of rendered objects, field manager ``nightshift``.

Server-side apply makes ``nightshift k8s apply`` idempotent and lets the API
server record which fields we own; ``force`` takes back fields someone else
changed by hand (that is how ``drift --fix`` reverts a widened Role).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nightshift.k8s.client import KubeApi, KubeError, resource_path

FIELD_MANAGER = "nightshift"

# kind -> (plural, namespaced). Only kinds Nightshift renders or reads.
KINDS: dict[str, tuple[str, bool]] = {
    "Namespace": ("namespaces", False),
    "ServiceAccount": ("serviceaccounts", True),
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "Pod": ("pods", True),
    "Service": ("services", True),
    "Node": ("nodes", False),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "NetworkPolicy": ("networkpolicies", True),
    "ValidatingAdmissionPolicy": ("validatingadmissionpolicies", False),
    "ValidatingAdmissionPolicyBinding": ("validatingadmissionpolicybindings", False),
    "Deployment": ("deployments", True),
    "Job": ("jobs", True),
    "PriorityClass": ("priorityclasses", False),
    "ResourceFlavor": ("resourceflavors", False),
    "ClusterQueue": ("clusterqueues", False),
    "LocalQueue": ("localqueues", True),
    "WorkloadPriorityClass": ("workloadpriorityclasses", False),
}


@dataclass(frozen=True, slots=True)
class Applied:
    kind: str
    namespace: str | None
    name: str
    changed: bool  # the object's generation (or resourceVersion) moved
    error: str | None = None

    def __str__(self) -> str:
        ref = f"{self.kind}/{self.name}" + (f" -n {self.namespace}" if self.namespace else "")
        if self.error:
            return f"{ref}: FAILED {self.error}"
        return f"{ref} {'configured' if self.changed else 'unchanged'}"


def object_path(obj: dict[str, Any]) -> str:
    kind = str(obj["kind"])
    if kind not in KINDS:
        raise ValueError(f"unsupported kind {kind!r}")
    plural, namespaced = KINDS[kind]
    meta = obj["metadata"]
    ns = meta.get("namespace") if namespaced else None
    if namespaced and not ns:
        raise ValueError(f"{kind}/{meta.get('name')} needs a namespace")
    return resource_path(str(obj["apiVersion"]), plural, ns, str(meta["name"]))


def apply_objects(
    api: KubeApi,
    objects: Iterable[dict[str, Any]],
    *,
    field_manager: str = FIELD_MANAGER,
    dry_run: bool = False,
    stop_on_error: bool = True,
) -> list[Applied]:
    results: list[Applied] = []
    for obj in objects:
        meta = obj["metadata"]
        path = object_path(obj)
        try:
            before = _version(api, path)
            live = api.apply(path, obj, field_manager=field_manager, dry_run=dry_run)
            after = _version_of(live)
            results.append(
                Applied(obj["kind"], meta.get("namespace"), meta["name"], before != after)
            )
        except KubeError as exc:
            results.append(
                Applied(obj["kind"], meta.get("namespace"), meta["name"], False, str(exc))
            )
            if stop_on_error:
                break
    return results


def _version_of(obj: dict[str, Any]) -> str:
    # generation moves only when the spec does; objects without one (ConfigMaps,
    # RBAC) have only the resourceVersion. A controller writing status is not a change.
    meta = obj.get("metadata", {})
    return str(meta.get("generation") or meta.get("resourceVersion", ""))


def _version(api: KubeApi, path: str) -> str | None:
    try:
        return _version_of(api.get(path))
    except KubeError as exc:
        if exc.status == 404:
            return None
        raise
