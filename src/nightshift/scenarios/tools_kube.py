"""The kubectl-shaped tools: get, describe, logs, events, rollout history, top."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.scenarios.api_tables import SHARED, shared_table
from nightshift.scenarios.cluster import (
    ReplicaSetView,
    find_workload,
    pod_status_column,
    restarts_of,
    statuses,
    workload_pods,
)
from nightshift.scenarios.describe_other import (
    describe_endpoints,
    describe_netpol,
    describe_node,
    describe_service,
    describe_simple,
)
from nightshift.scenarios.describe_pod import describe_pod
from nightshift.scenarios.describe_workload import describe_workload
from nightshift.scenarios.kinds import (
    Kind,
    matches_selector,
    no_resources,
    not_found,
    parse_selector,
    resolve_kind,
    select,
)
from nightshift.scenarios.kube_model import Node, Pod, Service, Workload
from nightshift.scenarios.model import WorldState
from nightshift.scenarios.quantity import cpu_millis, memory_bytes
from nightshift.scenarios.render_get import object_labels, render_get
from nightshift.scenarios.render_yaml import render_yaml
from nightshift.scenarios.tabular import table


def ok(text: str, data: Mapping[str, Any] | None = None) -> ToolResult:
    return ToolResult(ToolStatus.OK, text, data)


def error(text: str) -> ToolResult:
    return ToolResult(ToolStatus.ERROR, text, None, text)


def no_data(text: str, data: Mapping[str, Any] | None = None) -> ToolResult:
    return ToolResult(ToolStatus.NO_DATA, text, data)


def _kind(text: str) -> Kind | ToolResult:
    kind = resolve_kind(text)
    if kind is None:
        return error(f'error: the server doesn\'t have a resource type "{text}"')
    return kind


def _key(obj: Any) -> tuple[str, str]:
    return (str(getattr(obj, "namespace", "")), str(obj.name))


def _summary(state: WorldState, obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": obj.name}
    if hasattr(obj, "namespace"):
        out["namespace"] = obj.namespace
    if isinstance(obj, Pod):
        total, _ = restarts_of(state, obj)
        out.update(status=pod_status_column(state, obj), restarts=total, node=obj.node)
    return out


_ALL = ("Pod", "Service", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet", "Job")


def _get_all(state: WorldState, p: Mapping[str, Any]) -> ToolResult:
    """``kubectl get all``: the workload kinds, one table each, names prefixed by type."""
    namespace = p.get("namespace")
    blocks: list[str] = []
    for kind_name in _ALL:
        kind = resolve_kind(kind_name)
        assert kind is not None
        items = sorted(select(state, kind, namespace, None), key=_key)
        if p.get("label_selector"):
            selector = parse_selector(str(p["label_selector"]))
            items = [o for o in items if matches_selector(selector, object_labels(state, o))]
        if items:
            group = kind.resource.partition(".")[2]
            prefix = f"{kind.name.lower()}{'.' + group if group else ''}/"
            blocks.append(
                render_get(
                    state,
                    kind,
                    items,
                    all_namespaces=not namespace,
                    output=p.get("output"),
                    prefix=prefix,
                )
            )
    if not blocks:
        return no_data(
            f"No resources found in {namespace} namespace." if namespace else "No resources found"
        )
    return ok("\n\n".join(blocks))


def kubectl_get(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    if str(p["kind"]).lower() == "all" and p.get("output") != "yaml":
        return _get_all(state, p)
    kind = _kind(str(p["kind"]))
    if isinstance(kind, ToolResult):
        return kind
    if kind.name == "Event":
        return kubectl_events(state, now, {"namespace": p.get("namespace")})
    name, namespace = p.get("name"), p.get("namespace")
    items = sorted(select(state, kind, namespace, name), key=_key)
    if p.get("label_selector"):
        selector = parse_selector(str(p["label_selector"]))
        items = [o for o in items if matches_selector(selector, object_labels(state, o))]
    if not items:
        if name:
            return error(not_found(kind, str(name)))
        return no_data(no_resources(namespace, kind))
    data = {"kind": kind.name, "items": [_summary(state, o) for o in items]}
    if p.get("output") == "yaml":
        return ok(render_yaml(state, kind, items, now, single=bool(name)), data)
    if kind.name in SHARED:
        text = shared_table(
            state, kind, items, now, all_namespaces=not namespace, output=p.get("output")
        )
    else:
        text = render_get(state, kind, items, all_namespaces=not namespace, output=p.get("output"))
    return ok(text, data)


def _describe_one(state: WorldState, kind: Kind, obj: Any, now: datetime) -> str:
    if isinstance(obj, Pod):
        return describe_pod(state, obj, now)
    if isinstance(obj, Workload):
        return describe_workload(state, obj, now)
    if isinstance(obj, Node):
        return describe_node(state, obj, now)
    if isinstance(obj, Service):
        if kind.name == "Endpoints":
            return describe_endpoints(state, obj, now)
        return describe_service(state, obj, now)
    if kind.name == "NetworkPolicy":
        return describe_netpol(state, obj, now)
    if isinstance(obj, ReplicaSetView) or kind.name != "Event":
        return describe_simple(state, obj, kind.name, now)
    return str(obj)


def kubectl_describe(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    kind = _kind(str(p["kind"]))
    if isinstance(kind, ToolResult):
        return kind
    name, namespace = str(p["name"]), p.get("namespace")
    items = select(state, kind, namespace, name)
    if not items:  # kubectl describe falls back to a name-prefix match
        items = [o for o in select(state, kind, namespace, None) if o.name.startswith(name)]
    if not items:
        return error(not_found(kind, name))
    text = "\n\n\n".join(_describe_one(state, kind, o, now) for o in sorted(items, key=_key))
    return ok(text, {"kind": kind.name, "items": [_summary(state, o) for o in items]})


def _find_pod(state: WorldState, ref: str, namespace: str | None) -> Pod | None:
    if "/" in ref and not ref.startswith("pod/"):
        kind, _, name = ref.partition("/")
        for w in state.deployments:
            if (
                w.name == name
                and w.kind.lower() == kind.lower().rstrip("s")
                and (namespace is None or w.namespace == namespace)
            ):
                pods = sorted(workload_pods(state, w), key=lambda x: x.name)
                return pods[0] if pods else None
        return None
    name = ref.removeprefix("pod/")
    for pod in state.pods:
        if pod.name == name and (namespace is None or pod.namespace == namespace):
            return pod
    return None


def kubectl_logs(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    ref, namespace = str(p["pod"]), p.get("namespace")
    pod = _find_pod(state, ref, namespace)
    if pod is None:
        return error(f'Error from server (NotFound): pods "{ref.removeprefix("pod/")}" not found')
    sts = statuses(state, pod)
    names = [s.name for s in sts]
    wanted = p.get("container") or names[0]
    st = next((s for s in sts if s.name == wanted), None)
    if st is None:
        return error(f"error: container {wanted} is not valid for pod {pod.name}")
    if p.get("previous"):
        if st.previous_logs is None:
            return error(
                f"Error from server (BadRequest): previous terminated container "
                f'"{st.name}" in pod "{pod.name}" not found'
            )
        text = st.previous_logs
    elif (
        st.state == "waiting"
        and not st.logs
        and (st.restarts == 0 or st.reason != "CrashLoopBackOff")
    ):
        why = {
            "ImagePullBackOff": "trying and failing to pull image",
            "ErrImagePull": "trying and failing to pull image",
        }.get(st.reason or "", st.reason or "ContainerCreating")
        return error(
            f'Error from server (BadRequest): container "{st.name}" in pod '
            f'"{pod.name}" is waiting to start: {why}'
        )
    else:
        text = st.logs
        if not text and st.reason == "CrashLoopBackOff" and st.previous_logs:
            text = st.previous_logs  # the crashed instance is still the current one
        owner = find_workload(state, pod.namespace, pod.owner)
        if not text and not pod.containers and owner is not None:
            text = owner.logs
    lines = text.rstrip("\n").splitlines()
    if p.get("tail"):
        lines = lines[-int(p["tail"]) :]
    data = {"pod": pod.name, "namespace": pod.namespace, "container": st.name, "lines": len(lines)}
    return ok("\n".join(lines), data)


def kubectl_events(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    namespace, kind, name = p.get("namespace"), p.get("kind"), p.get("name")
    events = [e for e in state.events if not namespace or e.namespace == namespace]
    if kind:
        resolved = resolve_kind(str(kind))
        wanted = resolved.name if resolved else str(kind)
        events = [e for e in events if e.kind.lower() == wanted.lower()]
    if name:
        events = [e for e in events if e.name == name]
    if not events:
        where = f"in {namespace} namespace." if namespace else ""
        return no_data(f"No resources found {where}".strip())
    events.sort(key=lambda e: (-e.last_seen, e.name))
    event_kind = resolve_kind("events")
    assert event_kind is not None
    text = render_get(state, event_kind, events, all_namespaces=not namespace, output=None)
    data = {
        "events": [
            {
                "namespace": e.namespace,
                "object": f"{e.kind}/{e.name}",
                "type": e.type,
                "reason": e.reason,
                "count": e.count,
            }
            for e in events
        ]
    }
    return ok(text, data)


def kubectl_rollout_history(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    kind = _kind(str(p.get("kind") or "deployment"))
    if isinstance(kind, ToolResult):
        return kind
    name, namespace = str(p["name"]).split("/")[-1], p.get("namespace")
    found = [w for w in select(state, kind, namespace, name) if isinstance(w, Workload)]
    if not found:
        return error(not_found(kind, name))
    w = found[0]
    revisions = w.revisions or []
    rows = [[str(r.revision), r.change_cause or "<none>"] for r in revisions] or [["1", "<none>"]]
    group = "" if kind.name == "Pod" else ".apps"
    text = f"{kind.name.lower()}{group}/{w.name} \n" + table(["REVISION", "CHANGE-CAUSE"], rows)
    return ok(text, {"revisions": [r.model_dump() for r in revisions]})


def _pod_usage(state: WorldState, pod: Pod) -> tuple[int, int] | None:
    if pod.phase != "Running" or pod.node is None:
        return None
    cpu = mem = 0
    owner = find_workload(state, pod.namespace, pod.owner)
    for st in statuses(state, pod):
        if st.state != "running":
            continue
        usage = st.usage or (owner.usage if owner is not None else None)
        if usage is None:
            cpu, mem = cpu + 3, mem + 24 * 1024 * 1024
        else:
            cpu, mem = cpu + cpu_millis(usage.cpu), mem + memory_bytes(usage.memory)
    return cpu, mem


def kubectl_top(state: WorldState, now: datetime, p: Mapping[str, Any]) -> ToolResult:
    namespace = p.get("namespace")
    if p["kind"] == "nodes":
        rows = []
        for node in sorted(state.nodes, key=lambda n: n.name):
            if node.ready != "True":
                rows.append([node.name, "<unknown>", "<unknown>", "<unknown>", "<unknown>"])
                continue
            alloc = node.allocatable or node.capacity
            if node.usage is not None:
                cpu, mem = cpu_millis(node.usage.cpu), memory_bytes(node.usage.memory)
            else:
                used = [_pod_usage(state, x) for x in state.pods if x.node == node.name]
                cpu = 120 + sum(u[0] for u in used if u)
                mem = 900 * 1024**2 + sum(u[1] for u in used if u)
            a_cpu, a_mem = cpu_millis(alloc["cpu"]), memory_bytes(alloc["memory"])
            rows.append(
                [
                    node.name,
                    f"{cpu}m",
                    f"{cpu * 100 // a_cpu}%",
                    f"{mem // 1024**2}Mi",
                    f"{mem * 100 // a_mem}%",
                ]
            )
        return ok(table(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], rows))
    rows = []
    for pod in sorted(state.pods, key=lambda x: (x.namespace, x.name)):
        if namespace and pod.namespace != namespace:
            continue
        usage = _pod_usage(state, pod)
        if usage is None:
            continue
        row = [pod.name, f"{usage[0]}m", f"{usage[1] // 1024**2}Mi"]
        rows.append(row if namespace else [pod.namespace, *row])
    if not rows:
        return no_data(
            f"No resources found in {namespace} namespace." if namespace else "No resources found"
        )
    head = ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    return ok(table(head if namespace else ["NAMESPACE", *head], rows))
