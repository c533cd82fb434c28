"""The columns of ``kubectl get`` per kind, computed the way the API server's printers do.

``kubectl get`` asks the server for a Table; these functions reproduce the
upstream printers (pkg/printers/internalversion) for the kinds an
investigation reads, from plain JSON objects. Each returns
``(cells after NAME, wide extras)``; AGE is part of the cells where kubectl
puts it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from nightshift.k8s.kubectl_pod_status import pod_columns
from nightshift.k8s.kubectl_time import human_duration, parse_time, since

Obj = dict[str, Any]
Row = tuple[list[str], list[str]]


def meta(o: Mapping[str, Any]) -> Obj:
    value: Obj = o.get("metadata") or {}
    return value


def labels_text(labels: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def selector_text(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: requirements sorted by key; ``<none>`` when empty."""
    reqs: list[tuple[str, str]] = [
        (k, f"{k}={v}") for k, v in (selector or {}).get("matchLabels", {}).items()
    ]
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op = str(expr.get("key", "")), expr.get("operator", "")
        values = ",".join(sorted(str(v) for v in expr.get("values") or []))
        text = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op, key)
        reqs.append((key, text))
    return ",".join(t for _, t in sorted(reqs, key=lambda r: r[0])) or "<none>"


def _pod(p: Obj, now: datetime | None) -> Row:
    spec, st = p.get("spec") or {}, p.get("status") or {}
    ips = st.get("podIPs") or ([{"ip": st["podIP"]}] if st.get("podIP") else [])
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        ok = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_text = f"{ok}/{len(gates)}"
    wide = [
        (ips[0].get("ip") if ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        gates_text,
    ]
    return list(pod_columns(p, now)), wide


def _template_wide(o: Obj, selector: bool = True) -> list[str]:
    containers = ((o.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers")
    cells = [
        ",".join(c.get("name", "") for c in containers or []),
        ",".join(c.get("image", "") for c in containers or []),
    ]
    if selector:
        cells.append(selector_text((o.get("spec") or {}).get("selector")))
    return cells


def _age(o: Obj, now: datetime | None) -> str:
    return since(meta(o).get("creationTimestamp"), now)


def _deployment(d: Obj, now: datetime | None) -> Row:
    spec, st = d.get("spec") or {}, d.get("status") or {}
    cells = [
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        str(st.get("updatedReplicas", 0)),
        str(st.get("availableReplicas", 0)),
        _age(d, now),
    ]
    return cells, _template_wide(d)


def _replicaset(rs: Obj, now: datetime | None) -> Row:
    spec, st = rs.get("spec") or {}, rs.get("status") or {}
    cells = [
        str(spec.get("replicas", 1)),
        str(st.get("replicas", 0)),
        str(st.get("readyReplicas", 0)),
        _age(rs, now),
    ]
    return cells, _template_wide(rs)


def _statefulset(s: Obj, now: datetime | None) -> Row:
    spec, st = s.get("spec") or {}, s.get("status") or {}
    return [f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", _age(s, now)], (
        _template_wide(s, selector=False)
    )


def _daemonset(d: Obj, now: datetime | None) -> Row:
    st = d.get("status") or {}
    node_sel = ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeSelector")
    cells = [
        str(st.get(k, 0))
        for k in (
            "desiredNumberScheduled",
            "currentNumberScheduled",
            "numberReady",
            "updatedNumberScheduled",
            "numberAvailable",
        )
    ]
    return [*cells, labels_text(node_sel), _age(d, now)], _template_wide(d)


def _job(j: Obj, now: datetime | None) -> Row:
    spec, st = j.get("spec") or {}, j.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    status = "Running"
    for kind in ("Complete", "Failed", "FailureTarget", "SuccessCriteriaMet", "Suspended"):
        if conds.get(kind) == "True":
            status = kind
            break
    if spec.get("completions") is not None:
        completions = f"{st.get('succeeded', 0)}/{spec['completions']}"
    else:
        completions = f"{st.get('succeeded', 0)}/1 of {spec.get('parallelism', 1)}"
    start, end = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    duration = ""
    if start and end:
        duration = human_duration(int((end - start).total_seconds()))
    elif start:
        duration = since(st.get("startTime"), now)
    return [status, completions, duration, _age(j, now)], _template_wide(j)


def _service_external(spec: Obj, st: Obj) -> str:
    kind = spec.get("type") or "ClusterIP"
    external = list(spec.get("externalIPs") or [])
    if kind == "ExternalName":
        return str(spec.get("externalName") or "<none>")
    if kind == "LoadBalancer":
        ingress = [
            i.get("ip") or i.get("hostname")
            for i in st.get("loadBalancer", {}).get("ingress") or []
        ]
        found = [str(x) for x in [*ingress, *external] if x]
        return ",".join(found) or "<pending>"
    return ",".join(external) or "<none>"


def service_ports(spec: Obj) -> str:
    parts = []
    for p in spec.get("ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        parts.append(f"{p.get('port')}{node}/{p.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _service(s: Obj, now: datetime | None) -> Row:
    spec, st = s.get("spec") or {}, s.get("status") or {}
    cells = [
        spec.get("type") or "ClusterIP",
        spec.get("clusterIP") or "<none>",
        _service_external(spec, st),
        service_ports(spec),
        _age(s, now),
    ]
    return cells, [labels_text(spec.get("selector"))]


def endpoints_text(e: Obj, port_names: set[str] | None = None) -> str:
    """``formatEndpoints``: at most three ``ip:port``, then ``+ N more...``."""
    subsets = e.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count, more = 0, False
    for ss in subsets:
        addrs = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:
            count += len(addrs)
            for a in addrs:
                if len(shown) == 3:
                    more = True
                    break
                shown.append(str(a.get("ip")))
            continue
        for port in ports:
            if port_names is not None and port.get("name", "") not in port_names:
                continue
            count += len(addrs)
            for a in addrs:
                if len(shown) == 3:
                    more = True
                    break
                shown.append(f"{a.get('ip')}:{port.get('port')}")
    text = ",".join(shown)
    return f"{text} + {count - 3} more..." if more else text


def _endpoints(e: Obj, now: datetime | None) -> Row:
    return [endpoints_text(e), _age(e, now)], []


def node_roles(n: Obj) -> str:
    roles = set()
    for key, value in (meta(n).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(r for r in roles if r)) or "<none>"


def node_status(n: Obj) -> str:
    conds = {
        c.get("type"): c.get("status") for c in (n.get("status") or {}).get("conditions") or []
    }
    parts = []
    if "Ready" in conds:
        parts.append("Ready" if conds["Ready"] == "True" else "NotReady")
    else:
        parts.append("Unknown")
    if (n.get("spec") or {}).get("unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def _kernel(info: Obj) -> str:
    kernel = info.get("kernelVersion") or "<unknown>"
    return f"{kernel} ({info['architecture']})" if info.get("architecture") else str(kernel)


def _node(n: Obj, now: datetime | None) -> Row:
    st = n.get("status") or {}
    info = st.get("nodeInfo") or {}
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    cells = [node_status(n), node_roles(n), _age(n, now), info.get("kubeletVersion", "")]
    wide = [
        addrs.get("InternalIP") or "<none>",
        addrs.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        _kernel(info),
        info.get("containerRuntimeVersion") or "<unknown>",
    ]
    return cells, wide


def _pvc(c: Obj, now: datetime | None) -> Row:
    spec, st = c.get("spec") or {}, c.get("status") or {}
    phase = "Terminating" if meta(c).get("deletionTimestamp") else st.get("phase", "")
    capacity = modes = ""
    if spec.get("volumeName"):
        short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}
        short["ReadWriteOncePod"] = "RWOP"
        modes = ",".join(short.get(m, m) for m in st.get("accessModes") or [])
        capacity = str((st.get("capacity") or {}).get("storage", ""))
    cells = [
        phase,
        spec.get("volumeName") or "",
        capacity,
        modes,
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(c, now),
    ]
    return cells, [spec.get("volumeMode") or "<unset>"]


def _quota(q: Obj, now: datetime | None) -> Row:
    st = q.get("status") or {}
    hard, used = st.get("hard") or {}, st.get("used") or {}
    requests: list[str] = []
    limits: list[str] = []
    for name in sorted(hard):
        part = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.split(".")[0] == "limits" and "." in name else requests).append(part)
    return [", ".join(requests), ", ".join(limits), _age(q, now)], []


def _simple(fn: Callable[[Obj], list[str]]) -> Callable[[Obj, datetime | None], Row]:
    return lambda o, now: ([*fn(o), _age(o, now)], [])


def _netpol(n: Obj) -> list[str]:
    return [selector_text((n.get("spec") or {}).get("podSelector"))]


def _created_at(o: Obj, now: datetime | None) -> Row:
    return [str(meta(o).get("creationTimestamp", ""))], []


# plural -> (headers after NAME, wide headers, row printer)
PRINTERS: dict[str, tuple[list[str], list[str], Callable[[Obj, datetime | None], Row]]] = {
    "pods": (
        ["READY", "STATUS", "RESTARTS", "AGE"],
        ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        _pod,
    ),
    "deployments": (
        ["READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _deployment,
    ),
    "replicasets": (
        ["DESIRED", "CURRENT", "READY", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _replicaset,
    ),
    "statefulsets": (["READY", "AGE"], ["CONTAINERS", "IMAGES"], _statefulset),
    "daemonsets": (
        ["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _daemonset,
    ),
    "jobs": (
        ["STATUS", "COMPLETIONS", "DURATION", "AGE"],
        ["CONTAINERS", "IMAGES", "SELECTOR"],
        _job,
    ),
    "services": (
        ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
        ["SELECTOR"],
        _service,
    ),
    "endpoints": (["ENDPOINTS", "AGE"], [], _endpoints),
    "nodes": (
        ["STATUS", "ROLES", "AGE", "VERSION"],
        ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
        _node,
    ),
    "persistentvolumeclaims": (
        [
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ],
        ["VOLUMEMODE"],
        _pvc,
    ),
    "resourcequotas": (["REQUEST", "LIMIT", "AGE"], [], _quota),
    "limitranges": (["CREATED AT"], [], _created_at),
    "namespaces": (
        ["STATUS", "AGE"],
        [],
        _simple(lambda o: [(o.get("status") or {}).get("phase", "")]),
    ),
    "configmaps": (
        ["DATA", "AGE"],
        [],
        _simple(lambda o: [str(len(o.get("data") or {}) + len(o.get("binaryData") or {}))]),
    ),
    "serviceaccounts": (["AGE"], [], _simple(lambda o: [])),
    "networkpolicies": (["POD-SELECTOR", "AGE"], [], _simple(_netpol)),
}


def row(plural: str, obj: Obj, now: datetime | None, *, wide: bool) -> list[str]:
    _, _, printer = PRINTERS.get(plural, ([], [], _simple(lambda o: [])))
    cells, extra = printer(obj, now)
    return [str(meta(obj).get("name", "")), *cells, *(extra if wide else [])]


def headers(plural: str, *, wide: bool) -> list[str]:
    cols, wide_cols, _ = PRINTERS.get(plural, (["AGE"], [], _simple(lambda o: [])))
    return ["NAME", *cols, *(wide_cols if wide else [])]
