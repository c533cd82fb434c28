"""Resource kinds as kubectl names them: aliases, API resource names, listing.

Endpoints and ReplicaSets are derived views (of services and deployments),
everything else is a list in the world state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nightshift.scenarios.cluster import replicasets
from nightshift.scenarios.model import WorldState


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # Pod
    resource: str  # pods, deployments.apps: what NotFound errors say
    namespaced: bool = True


_KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("Pod", "pods"),
        Kind("Deployment", "deployments.apps"),
        Kind("StatefulSet", "statefulsets.apps"),
        Kind("DaemonSet", "daemonsets.apps"),
        Kind("ReplicaSet", "replicasets.apps"),
        Kind("Service", "services"),
        Kind("Endpoints", "endpoints"),
        Kind("Node", "nodes", namespaced=False),
        Kind("Namespace", "namespaces", namespaced=False),
        Kind("ConfigMap", "configmaps"),
        Kind("Secret", "secrets"),
        Kind("PersistentVolumeClaim", "persistentvolumeclaims"),
        Kind("Job", "jobs.batch"),
        Kind("NetworkPolicy", "networkpolicies.networking.k8s.io"),
        Kind("ResourceQuota", "resourcequotas"),
        Kind("Event", "events"),
    )
}

_ALIASES: dict[str, str] = {
    "po": "Pod",
    "deploy": "Deployment",
    "sts": "StatefulSet",
    "ds": "DaemonSet",
    "rs": "ReplicaSet",
    "svc": "Service",
    "ep": "Endpoints",
    "no": "Node",
    "ns": "Namespace",
    "cm": "ConfigMap",
    "pvc": "PersistentVolumeClaim",
    "netpol": "NetworkPolicy",
    "quota": "ResourceQuota",
    "ev": "Event",
}


def resolve_kind(text: str) -> Kind | None:
    """``po``, ``pods``, ``Pod``, ``deployments.apps``, ``deployment/x`` -> Kind."""
    word = text.strip().split("/", 1)[0].split(".", 1)[0].lower()
    if word in _ALIASES:
        return _KINDS[_ALIASES[word]]
    for kind in _KINDS.values():
        lower = kind.name.lower()
        if word in (lower, lower + "s", kind.resource.split(".", 1)[0]):
            return kind
    return None


def objects(state: WorldState, kind: Kind) -> list[Any]:
    """Every object of ``kind``; each has ``.name`` and (if namespaced) ``.namespace``."""
    match kind.name:
        case "Pod":
            return list(state.pods)
        case "Deployment" | "StatefulSet" | "DaemonSet":
            return [w for w in state.deployments if w.kind == kind.name]
        case "ReplicaSet":
            return [rs for w in state.deployments for rs in replicasets(state, w)]
        case "Service" | "Endpoints":
            return list(state.services)
        case "Node":
            return list(state.nodes)
        case "Namespace":
            return list(state.namespaces)
        case "ConfigMap":
            return list(state.configmaps)
        case "Secret":
            return list(state.secrets)
        case "PersistentVolumeClaim":
            return list(state.pvcs)
        case "Job":
            return list(state.jobs)
        case "NetworkPolicy":
            return list(state.network_policies)
        case "ResourceQuota":
            return list(state.resource_quotas)
        case "Event":
            return list(state.events)
    return []


def select(state: WorldState, kind: Kind, namespace: str | None, name: str | None) -> list[Any]:
    found = objects(state, kind)
    if kind.namespaced and namespace:
        found = [o for o in found if o.namespace == namespace]
    if name:
        found = [o for o in found if o.name == name]
    return found


def not_found(kind: Kind, name: str) -> str:
    return f'Error from server (NotFound): {kind.resource} "{name}" not found'


def no_resources(namespace: str | None, kind: Kind) -> str:
    if kind.namespaced and namespace:
        return f"No resources found in {namespace} namespace."
    return "No resources found"


def parse_selector(text: str) -> list[tuple[str, str, str]]:
    """``app=web,tier!=db,canary`` -> [(key, op, value)]; op in =, !=, exists, !exists."""
    out: list[tuple[str, str, str]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "!=" in part:
            k, v = part.split("!=", 1)
            out.append((k.strip(), "!=", v.strip()))
        elif "=" in part:
            k, v = part.replace("==", "=").split("=", 1)
            out.append((k.strip(), "=", v.strip()))
        elif part.startswith("!"):
            out.append((part[1:].strip(), "!exists", ""))
        else:
            out.append((part, "exists", ""))
    return out


def matches_selector(selector: list[tuple[str, str, str]], labels: dict[str, str]) -> bool:
    for key, op, value in selector:
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!exists" and key in labels:
            return False
    return True
