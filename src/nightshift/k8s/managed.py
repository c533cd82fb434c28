"""Who touched an object, and when: its ``metadata.managedFields``.

The API server keeps one entry per (field manager, operation, subresource)
with the time of that manager's latest write and the fields it owns. That is
the cluster's own change log for objects without revisions (ConfigMaps,
NetworkPolicies, Services, RBAC): ``kubectl edit`` shows up as manager
``kubectl-edit``, ``kubectl apply`` as ``kubectl-client-side-apply`` or
``kubectl``, Argo CD and Helm under their own names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nightshift.k8s.reads import Obj, change_id, meta, parse_time

PREFIX = {
    "Deployment": "DEPLOY",
    "StatefulSet": "STS",
    "DaemonSet": "DS",
    "ConfigMap": "CM",
    "NetworkPolicy": "NETPOL",
    "Service": "SVC",
    "Ingress": "ING",
    "Role": "ROLE",
    "RoleBinding": "RB",
}
MAX_FIELDS = 8


@dataclass(frozen=True, slots=True)
class Touch:
    manager: str
    operation: str  # Apply | Update
    at: datetime
    subresource: str
    fields: tuple[str, ...]


def touches(obj: Obj) -> list[Touch]:
    """Writes to the object itself (status writes by controllers are not changes)."""
    out = []
    for entry in meta(obj).get("managedFields") or []:
        at = parse_time(entry.get("time"))
        sub = str(entry.get("subresource") or "")
        if at is None or sub == "status":
            continue
        out.append(
            Touch(
                str(entry.get("manager") or "unknown"),
                str(entry.get("operation") or ""),
                at,
                sub,
                owned_fields(entry.get("fieldsV1") or {}),
            )
        )
    return sorted(out, key=lambda t: t.at, reverse=True)


def owned_fields(fields_v1: dict[str, Any]) -> tuple[str, ...]:
    """``{"f:data": {"f:LOG_LEVEL": {}}}`` -> ``("data.LOG_LEVEL",)``: the leaves under
    data/spec/rules, two levels deep (enough to say *what* a manager changed)."""
    found: list[str] = []
    for top, below in sorted(fields_v1.items()):
        if not top.startswith("f:") or top in ("f:metadata", "f:status"):
            continue
        name = top[2:]
        children = [k for k in sorted(below or {}) if k.startswith(("f:", "k:"))]
        if not children:
            found.append(name)
            continue
        for child in children:
            found.append(f"{name}.{_key(child)}")
    if len(found) > MAX_FIELDS:
        found = [*found[:MAX_FIELDS], f"+{len(found) - MAX_FIELDS} more"]
    return tuple(found)


def _key(raw: str) -> str:
    # "k:{"port":80,"protocol":"TCP"}" names a list item by its keys
    return raw[2:] if raw.startswith("f:") else raw[2:].replace('"', "")


def touch_id(kind: str, obj: Obj, touch: Touch) -> str:
    m = meta(obj)
    return change_id(
        PREFIX.get(kind, "K8S"),
        kind,
        str(m.get("namespace", "")),
        str(m.get("name", "")),
        touch.manager,
        touch.at.isoformat(),
    )


def last_touch(obj: Obj) -> Touch | None:
    found = touches(obj)
    return found[0] if found else None
