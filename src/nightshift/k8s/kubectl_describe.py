"""``kubectl describe`` for the kinds an investigation reads most: pod, node, deployment,
service; anything else gets kubectl's generic key/value layout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nightshift.k8s.kubectl_text import age, endpoints_text, events_table, node_status, table

Obj = dict[str, Any]


def _kv(lines: list[str], key: str, value: object) -> None:
    lines.append(f"{key + ':':<16}{value}")


def _map(values: dict[str, str] | None) -> str:
    if not values:
        return "<none>"
    return "\n".join(
        (f"{k}={v}" if i == 0 else f"{'':16}{k}={v}")
        for i, (k, v) in enumerate(sorted(values.items()))
    )


def _state(state: Obj | None) -> list[str]:
    if not state:
        return ["Waiting"]
    kind, detail = next(iter(state.items()))
    out = [kind.capitalize()]
    for key in ("reason", "exitCode", "message", "startedAt", "finishedAt"):
        if key in (detail or {}):
            out.append(f"  {key[0].upper() + key[1:]}: {detail[key]}")
    return out


def describe_pod(p: Obj, events: Sequence[Obj]) -> str:
    m, spec, st = p["metadata"], p.get("spec", {}), p.get("status", {})
    lines: list[str] = []
    _kv(lines, "Name", m["name"])
    _kv(lines, "Namespace", m.get("namespace", ""))
    _kv(lines, "Node", spec.get("nodeName") or "<none>")
    _kv(lines, "Start Time", st.get("startTime", "<unset>"))
    _kv(lines, "Labels", _map(m.get("labels")))
    _kv(lines, "Status", st.get("phase", "Unknown"))
    _kv(lines, "IP", st.get("podIP") or "<none>")
    lines.append("Containers:")
    statuses = {c["name"]: c for c in st.get("containerStatuses") or []}
    for c in spec.get("containers") or []:
        cs = statuses.get(c["name"], {})
        lines.append(f"  {c['name']}:")
        lines.append(f"    Image:          {c.get('image', '')}")
        state = _state(cs.get("state"))
        lines.append(f"    State:          {state[0]}")
        lines += [f"    {s}" for s in state[1:]]
        if cs.get("lastState"):
            last = _state(cs["lastState"])
            lines.append(f"    Last State:     {last[0]}")
            lines += [f"    {s}" for s in last[1:]]
        lines.append(f"    Ready:          {str(bool(cs.get('ready'))).lower().capitalize()}")
        lines.append(f"    Restart Count:  {cs.get('restartCount', 0)}")
        limits = (c.get("resources") or {}).get("limits")
        if limits:
            lines.append("    Limits:")
            lines += [f"      {k}:  {v}" for k, v in sorted(limits.items())]
    lines.append("Conditions:")
    rows = [[c.get("type", ""), c.get("status", "")] for c in st.get("conditions") or []]
    lines += ["  " + r for r in table(["Type", "Status"], rows).splitlines()]
    lines.append("Events:" + ("  <none>" if not events else ""))
    if events:
        lines += ["  " + r for r in events_table(events, all_ns=False).splitlines()]
    return "\n".join(lines)


def describe_node(n: Obj, events: Sequence[Obj]) -> str:
    m, st = n["metadata"], n.get("status", {})
    lines: list[str] = []
    _kv(lines, "Name", m["name"])
    _kv(lines, "Labels", _map(m.get("labels")))
    _kv(lines, "Unschedulable", str(bool(n.get("spec", {}).get("unschedulable"))).lower())
    _kv(lines, "Status", node_status(n))
    lines.append("Conditions:")
    rows = [
        [
            c.get("type", ""),
            c.get("status", ""),
            c.get("lastHeartbeatTime", ""),
            c.get("reason", ""),
            c.get("message", ""),
        ]
        for c in st.get("conditions") or []
    ]
    head = ["Type", "Status", "LastHeartbeatTime", "Reason", "Message"]
    lines += ["  " + r for r in table(head, rows).splitlines()]
    lines.append("Capacity:")
    lines += [f"  {k}:  {v}" for k, v in sorted((st.get("capacity") or {}).items())]
    lines.append("Events:" + ("  <none>" if not events else ""))
    if events:
        lines += ["  " + r for r in events_table(events, all_ns=False).splitlines()]
    return "\n".join(lines)


def describe_deployment(d: Obj, events: Sequence[Obj]) -> str:
    m, spec, st = d["metadata"], d.get("spec", {}), d.get("status", {})
    lines: list[str] = []
    _kv(lines, "Name", m["name"])
    _kv(lines, "Namespace", m.get("namespace", ""))
    _kv(lines, "Labels", _map(m.get("labels")))
    _kv(lines, "Selector", _map((spec.get("selector") or {}).get("matchLabels")))
    _kv(
        lines,
        "Replicas",
        f"{spec.get('replicas', 1)} desired | {st.get('updatedReplicas', 0)} updated | "
        f"{st.get('replicas', 0)} total | {st.get('availableReplicas', 0)} available | "
        f"{st.get('unavailableReplicas', 0)} unavailable",
    )
    _kv(lines, "StrategyType", (spec.get("strategy") or {}).get("type", "RollingUpdate"))
    lines.append("Pod Template:")
    for c in spec.get("template", {}).get("spec", {}).get("containers") or []:
        lines.append(f"  {c['name']}:")
        lines.append(f"    Image:  {c.get('image', '')}")
    lines.append("Conditions:")
    rows = [
        [c.get("type", ""), c.get("status", ""), c.get("reason", "")]
        for c in st.get("conditions") or []
    ]
    lines += ["  " + r for r in table(["Type", "Status", "Reason"], rows).splitlines()]
    lines.append("Events:" + ("  <none>" if not events else ""))
    if events:
        lines += ["  " + r for r in events_table(events, all_ns=False).splitlines()]
    return "\n".join(lines)


def describe_service(s: Obj, endpoints: Obj | None, events: Sequence[Obj]) -> str:
    m, spec = s["metadata"], s.get("spec", {})
    lines: list[str] = []
    _kv(lines, "Name", m["name"])
    _kv(lines, "Namespace", m.get("namespace", ""))
    _kv(lines, "Labels", _map(m.get("labels")))
    _kv(lines, "Selector", _map(spec.get("selector")))
    _kv(lines, "Type", spec.get("type", "ClusterIP"))
    _kv(lines, "IP", spec.get("clusterIP", "<none>"))
    for port in spec.get("ports") or []:
        _kv(
            lines,
            "Port",
            f"{port.get('name', '<unset>')}  {port.get('port')}/{port.get('protocol', 'TCP')}",
        )
        _kv(
            lines,
            "TargetPort",
            f"{port.get('targetPort', port.get('port'))}/{port.get('protocol', 'TCP')}",
        )
    _kv(lines, "Endpoints", endpoints_text(endpoints) if endpoints else "<none>")
    lines.append("Events:" + ("  <none>" if not events else ""))
    if events:
        lines += ["  " + r for r in events_table(events, all_ns=False).splitlines()]
    return "\n".join(lines)


def describe_generic(o: Obj, events: Sequence[Obj]) -> str:
    m = o["metadata"]
    lines: list[str] = []
    _kv(lines, "Name", m["name"])
    if m.get("namespace"):
        _kv(lines, "Namespace", m["namespace"])
    _kv(lines, "Labels", _map(m.get("labels")))
    _kv(lines, "Annotations", _map(m.get("annotations")))
    _kv(lines, "API Version", o.get("apiVersion", ""))
    _kv(lines, "Kind", o.get("kind", ""))
    _kv(lines, "Age", age(m.get("creationTimestamp")))
    for section in ("spec", "status", "data"):
        if isinstance(o.get(section), dict) and o[section]:
            lines.append(f"{section.capitalize()}:")
            for k, v in sorted(o[section].items()):
                lines.append(f"  {k}:  {v if not isinstance(v, dict | list) else '...'}")
    lines.append("Events:" + ("  <none>" if not events else ""))
    if events:
        lines += ["  " + r for r in events_table(events, all_ns=False).splitlines()]
    return "\n".join(lines)
