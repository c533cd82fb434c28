"""Identity of world objects, and merging by identity.

One notion of "the same object" serves both merges a scenario needs: a shared
base cluster overlaid by the scenario file (raw YAML, before validation) and
the ground truth's after-the-fix patch applied to a live world (models).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from nightshift.scenarios.model import StatePatch, WorldState

Key = tuple[str, ...]


def _get(obj: Any, field: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(field, default)
    return getattr(obj, field, default)


def _named(obj: Any) -> Key:
    return (str(_get(obj, "namespace", "default") or "default"), str(_get(obj, "name")))


def _cluster_named(obj: Any) -> Key:
    return (str(_get(obj, "name")),)


def _labels(obj: Any) -> str:
    labels = _get(obj, "labels", {}) or {}
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


# sections absent here (events, security_events) are append-only logs
SECTION_KEYS: dict[str, Callable[[Any], Key]] = {
    "namespaces": _cluster_named,
    "nodes": _cluster_named,
    "deployments": _named,
    "pods": _named,
    "services": _named,
    "configmaps": _named,
    "secrets": _named,
    "pvcs": _named,
    "jobs": _named,
    "network_policies": _named,
    "resource_quotas": _named,
    "alerts": lambda a: (str(_get(a, "name")), str(_get(a, "target"))),
    "changes": lambda c: (str(_get(c, "id")),),
    "metrics": lambda m: (str(_get(m, "name")), _labels(m)),
    "firewall": _cluster_named,
    "network_checks": lambda n: (
        str(_get(n, "source")),
        str(_get(n, "destination")),
        str(_get(n, "port")),
    ),
    "dns": lambda d: (str(_get(d, "name")), str(_get(d, "source"))),
    "databases": _cluster_named,
    "log_streams": lambda s: (str(_get(s, "source")),),
}

# "kind" as written in remove entries -> section
KIND_SECTIONS: dict[str, str] = {
    "namespace": "namespaces",
    "node": "nodes",
    "deployment": "deployments",
    "statefulset": "deployments",
    "daemonset": "deployments",
    "pod": "pods",
    "service": "services",
    "configmap": "configmaps",
    "secret": "secrets",
    "pvc": "pvcs",
    "persistentvolumeclaim": "pvcs",
    "job": "jobs",
    "networkpolicy": "network_policies",
    "resourcequota": "resource_quotas",
    "database": "databases",
}


def upsert(items: list[Any], extra: list[Any], key: Callable[[Any], Key]) -> list[Any]:
    """``items`` with each of ``extra`` replacing the item of the same identity, or appended."""
    out = list(items)
    index = {key(item): i for i, item in enumerate(out)}
    for item in extra:
        k = key(item)
        if k in index:
            out[index[k]] = item
        else:
            index[k] = len(out)
            out.append(item)
    return out


def merge_raw(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's raw YAML over a shared base fragment (both unvalidated)."""
    merged: dict[str, Any] = dict(base)
    for section, value in overlay.items():
        if section in merged and isinstance(value, list) and isinstance(merged[section], list):
            key = SECTION_KEYS.get(section)
            merged[section] = (
                upsert(merged[section], value, key) if key else [*merged[section], *value]
            )
        else:
            merged[section] = value
    return merged


def _matches_removal(section: str, item: Any, entry: str) -> bool:
    parts = entry.split("/")
    kind = parts[0].lower()
    if section == "alerts":
        return kind == "alert" and len(parts) >= 2 and _get(item, "name") == "/".join(parts[1:])
    if KIND_SECTIONS.get(kind) != section:
        return False
    if len(parts) == 3:
        return _named(item) == (parts[1], parts[2])
    return len(parts) == 2 and _get(item, "name") == parts[1]


def apply_patch(state: WorldState, patch: StatePatch) -> list[str]:
    """Mutates ``state`` in place; returns a line per visible change."""
    notes: list[str] = []
    for entry in patch.remove:
        if entry.lower().startswith("firewall-rule/"):
            rule_id = entry.split("/", 1)[1]
            for ruleset in state.firewall:
                before = len(ruleset.rules)
                ruleset.rules = [r for r in ruleset.rules if r.id != rule_id]
                if len(ruleset.rules) != before:
                    notes.append(f"removed firewall rule {rule_id} from {ruleset.name}")
            continue
        for section in WorldState.model_fields:
            items: list[Any] = getattr(state, section)
            kept = [i for i in items if not _matches_removal(section, i, entry)]
            if len(kept) != len(items):
                setattr(state, section, kept)
                notes.append(f"removed {entry}")
    for section in WorldState.model_fields:
        extra: list[BaseModel] = getattr(patch, section)
        if not extra:
            continue
        key = SECTION_KEYS.get(section)
        current: list[Any] = getattr(state, section)
        setattr(state, section, upsert(current, extra, key) if key else [*current, *extra])
        notes.append(f"updated {len(extra)} {section}")
    if patch.resolve_symptom_alerts:
        before = len(state.alerts)
        state.alerts = [a for a in state.alerts if not a.symptom]
        if before != len(state.alerts):
            notes.append(f"resolved {before - len(state.alerts)} symptom alerts")
    return notes
