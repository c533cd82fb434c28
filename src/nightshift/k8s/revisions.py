"""Workload revisions and what changed between them.

Deployments keep one ReplicaSet per revision (``deployment.kubernetes.io/revision``),
StatefulSets and DaemonSets one ControllerRevision (``.revision``); each holds
the pod template of its revision, so comparing neighbours says what a rollout
changed: images, environment, ConfigMap and Secret references (names only:
Secret values are never read), resources, restarts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nightshift.k8s.reads import Obj, meta, parse_time

CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# Literal env values under names like these are not shown (they may be credentials).
_SENSITIVE = re.compile(r"pass|secret|token|key|cred|auth|cert|private|dsn|url", re.I)
_MAX_VALUE = 60


@dataclass(frozen=True, slots=True)
class Revision:
    number: int
    created: datetime
    template: Obj
    change_cause: str


def replicaset_revisions(deployment: Obj, replicasets: list[Obj]) -> list[Revision]:
    uid = meta(deployment).get("uid")
    out = []
    for rs in replicasets:
        m = meta(rs)
        if not any(o.get("uid") == uid for o in m.get("ownerReferences") or []):
            continue
        ann = m.get("annotations") or {}
        number = str(ann.get("deployment.kubernetes.io/revision", ""))
        created = parse_time(m.get("creationTimestamp"))
        if number.isdigit() and created is not None:
            template = (rs.get("spec") or {}).get("template") or {}
            out.append(Revision(int(number), created, template, str(ann.get(CHANGE_CAUSE, ""))))
    return sorted(out, key=lambda r: r.number)


def controller_revisions(owner: Obj, revisions: list[Obj]) -> list[Revision]:
    uid = meta(owner).get("uid")
    out = []
    for cr in revisions:
        m = meta(cr)
        if not any(o.get("uid") == uid for o in m.get("ownerReferences") or []):
            continue
        created = parse_time(m.get("creationTimestamp"))
        if created is None:
            continue
        template = ((cr.get("data") or {}).get("spec") or {}).get("template") or {}
        cause = str((m.get("annotations") or {}).get(CHANGE_CAUSE, ""))
        out.append(Revision(int(cr.get("revision") or 0), created, template, cause))
    return sorted(out, key=lambda r: r.number)


def template_diff(old: Obj | None, new: Obj) -> list[str]:
    """What a rollout changed, one short phrase each (first revision: what it runs)."""
    new_spec = new.get("spec") or {}
    if old is None:
        return [f"image {c['name']}={c.get('image', '')}" for c in _containers(new_spec).values()]
    old_spec = old.get("spec") or {}
    out: list[str] = []
    before, after = _containers(old_spec), _containers(new_spec)
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None:
            out.append(f"container {name} added (image {b.get('image') if b else ''})")
            continue
        if b is None:
            out.append(f"container {name} removed")
            continue
        if a.get("image") != b.get("image"):
            out.append(f"image {name}: {a.get('image')} -> {b.get('image')}")
        out += _env_diff(name, _env(a), _env(b))
        for field in ("command", "args"):
            if a.get(field) != b.get(field):
                out.append(f"{field} {name} changed")
        out += _resources_diff(name, a.get("resources") or {}, b.get("resources") or {})
    out += _refs_diff("configmap", _refs(old_spec, "configMap"), _refs(new_spec, "configMap"))
    out += _refs_diff("secret", _refs(old_spec, "secret"), _refs(new_spec, "secret"))
    old_ann = (old.get("metadata") or {}).get("annotations") or {}
    new_ann = (new.get("metadata") or {}).get("annotations") or {}
    if old_ann.get(RESTARTED_AT) != new_ann.get(RESTARTED_AT) and new_ann.get(RESTARTED_AT):
        out.append(f"restart (kubectl rollout restart at {new_ann[RESTARTED_AT]})")
    return out or ["pod template changed (labels, annotations or other fields)"]


def _containers(spec: Mapping[str, Any]) -> dict[str, Obj]:
    found: dict[str, Obj] = {}
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            found[str(c.get("name", ""))] = c
    return found


def _env(container: Obj) -> dict[str, tuple[str, str]]:
    """name -> (what to show, what to compare); hidden values compare but never show."""
    out = {}
    for var in container.get("env") or []:
        name = str(var.get("name", ""))
        source = var.get("valueFrom") or {}
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            shown = f"<configmap {ref.get('name')} key {ref.get('key')}>"
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            shown = f"<secret {ref.get('name')} key {ref.get('key')}>"
        elif source:
            shown = f"<{next(iter(source))}>"
        elif _SENSITIVE.search(name):
            out[name] = ("<value hidden>", "literal:" + str(var.get("value", "")))
            continue
        else:
            value = str(var.get("value", ""))
            shown = value if len(value) <= _MAX_VALUE else value[:_MAX_VALUE] + "..."
        out[name] = (shown, shown)
    return out


def _env_diff(
    container: str, a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]
) -> list[str]:
    out = []
    for name in sorted(set(a) | set(b)):
        if name not in a:
            out.append(f"env {container}: +{name}={b[name][0]}")
        elif name not in b:
            out.append(f"env {container}: -{name}")
        elif a[name][1] != b[name][1]:
            out.append(f"env {container}: {name} {a[name][0]} -> {b[name][0]}")
    return out


def _resources_diff(container: str, a: Obj, b: Obj) -> list[str]:
    out = []
    for group in ("requests", "limits"):
        ga, gb = a.get(group) or {}, b.get(group) or {}
        for res in sorted(set(ga) | set(gb)):
            if ga.get(res) != gb.get(res):
                out.append(
                    f"resources {container}: {group}.{res} {ga.get(res, '-')} -> {gb.get(res, '-')}"
                )
    return out


def _refs(spec: Mapping[str, Any], kind: str) -> set[str]:
    """Names of ConfigMaps (``kind="configMap"``) or Secrets a pod template uses."""
    key_ref = f"{kind}KeyRef"
    names: set[str] = set()
    for c in _containers(spec).values():
        for var in c.get("env") or []:
            ref = (var.get("valueFrom") or {}).get(key_ref)
            if ref and ref.get("name"):
                names.add(str(ref["name"]))
        for source in c.get("envFrom") or []:
            ref = source.get(f"{kind}Ref")
            if ref and ref.get("name"):
                names.add(str(ref["name"]))
    for volume in spec.get("volumes") or []:
        ref = volume.get(kind)
        if ref:
            names.add(str(ref.get("name") if kind == "configMap" else ref.get("secretName")))
        for projected in (volume.get("projected") or {}).get("sources") or []:
            ref = projected.get(kind)
            if ref and ref.get("name"):
                names.add(str(ref["name"]))
    return names


def _refs_diff(label: str, a: set[str], b: set[str]) -> list[str]:
    if a == b:
        return []
    parts = [f"+{n}" for n in sorted(b - a)] + [f"-{n}" for n in sorted(a - b)]
    return [f"{label} refs: {' '.join(parts)}"]
