"""``kubectl describe node``: conditions, capacity, the pods on it and what they request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nightshift.domain.quantity import parse_quantity
from nightshift.k8s.describe_writer import Writer, events, multiline
from nightshift.k8s.kubectl_columns import node_roles
from nightshift.k8s.kubectl_time import rfc1123z, since

Obj = dict[str, Any]
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity(value: object) -> float:
    """A Kubernetes quantity (``100m``, ``1Gi``, ``1k``, ``2e3``) as a number; absent is 0."""
    return float(parse_quantity(str(value or "0")))


def format_cpu(cores: float) -> str:
    millis = round(cores * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def format_memory(size: float) -> str:
    n = int(size)
    if n == 0:
        return "0"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if n % _BINARY[suffix] == 0:
            return f"{n // _BINARY[suffix]}{suffix}"
    return str(n)


def _sum(containers: Sequence[Obj], kind: str, name: str) -> float:
    return sum(
        quantity(((c.get("resources") or {}).get(kind) or {}).get(name, 0)) for c in containers
    )


def _pct(part: float, whole: float) -> int:
    return int(part / whole * 100) if whole else 0


def _taint(t: Obj) -> str:
    value = f"={t['value']}" if t.get("value") else ""
    return f"{t.get('key')}{value}:{t.get('effect')}"


def describe_node(
    n: Obj,
    pods: Sequence[Obj],
    lease: Obj | None,
    evs: Sequence[Obj] | None,
    now: datetime | None = None,
) -> str:
    m, spec, st = n.get("metadata") or {}, n.get("spec") or {}, n.get("status") or {}
    w = Writer()
    w.w(0, f"Name:\t{m.get('name')}\n")
    w.w(0, f"Roles:\t{node_roles(n)}\n")
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")
    w.w(0, f"CreationTimestamp:\t{rfc1123z(m.get('creationTimestamp'))}\n")
    taints = spec.get("taints") or []
    if not taints:
        w.w(0, "Taints:\t<none>\n")
    for i, t in enumerate(taints):
        w.w(0, ("Taints:\t" if i == 0 else "\t") + _taint(t) + "\n")
    w.w(0, f"Unschedulable:\t{str(bool(spec.get('unschedulable'))).lower()}\n")
    if lease is None:
        name = m.get("name")
        w.w(0, f'Lease:\tFailed to get lease: leases.coordination.k8s.io "{name}" not found\n')
    else:
        ls = lease.get("spec") or {}
        w.w(0, "Lease:\n")
        w.w(1, f"HolderIdentity:\t{ls.get('holderIdentity', '<unset>')}\n")
        w.w(1, f"AcquireTime:\t{rfc1123z(ls.get('acquireTime'))}\n")
        w.w(1, f"RenewTime:\t{rfc1123z(ls.get('renewTime'))}\n")
    conds = st.get("conditions") or []
    if conds:
        w.w(
            0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        )
        w.w(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conds:
            w.w(
                1,
                f"{c.get('type')} \t{c.get('status')} \t{rfc1123z(c.get('lastHeartbeatTime'))} \t"
                f"{rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t"
                f"{c.get('message', '')}\n",
            )
    w.w(0, "Addresses:\n")
    for a in st.get("addresses") or []:
        w.w(1, f"{a.get('type')}:\t{a.get('address')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        values = st.get(key) or {}
        if values:
            w.w(0, f"{title}:\n")
            for name in sorted(values):
                w.w(1, f"{name}:\t{values[name]}\n")
    info = st.get("nodeInfo") or {}
    w.w(0, "System Info:\n")
    for title, key in (
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
    ):
        w.w(1, f"{title}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.w(0, f"PodCIDR:\t{spec['podCIDR']}\n")
        w.w(0, f"PodCIDRs:\t{','.join(spec.get('podCIDRs') or [spec['podCIDR']])}\n")
    if spec.get("providerID"):
        w.w(0, f"ProviderID:\t{spec['providerID']}\n")
    _pods(w, n, pods, now)
    events(w, evs, now)
    return w.text()


def _pods(w: Writer, n: Obj, pods: Sequence[Obj], now: datetime | None) -> None:
    alloc = (n.get("status") or {}).get("allocatable") or {}
    cpu_total, mem_total = quantity(alloc.get("cpu", 0)), quantity(alloc.get("memory", 0))
    live = [
        p
        for p in pods
        if (p.get("spec") or {}).get("nodeName") == (n.get("metadata") or {}).get("name")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]
    w.w(0, f"Non-terminated Pods:\t({len(live)} in total)\n")
    w.w(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.w(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    totals = [0.0, 0.0, 0.0, 0.0]
    for p in sorted(
        live, key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"])
    ):
        cs = (p.get("spec") or {}).get("containers") or []
        vals = [
            _sum(cs, "requests", "cpu"),
            _sum(cs, "limits", "cpu"),
            _sum(cs, "requests", "memory"),
            _sum(cs, "limits", "memory"),
        ]
        totals = [a + b for a, b in zip(totals, vals, strict=True)]
        cells = [
            f"{format_cpu(vals[0])} ({_pct(vals[0], cpu_total)}%)",
            f"{format_cpu(vals[1])} ({_pct(vals[1], cpu_total)}%)",
            f"{format_memory(vals[2])} ({_pct(vals[2], mem_total)}%)",
            f"{format_memory(vals[3])} ({_pct(vals[3], mem_total)}%)",
        ]
        pm = p["metadata"]
        age = since(pm.get("creationTimestamp"), now)
        w.w(1, f"{pm.get('namespace', '')}\t{pm['name']}\t\t" + "\t".join(cells) + f"\t{age}\n")
    w.w(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.w(1, "Resource\tRequests\tLimits\n")
    w.w(1, "--------\t--------\t------\n")
    w.w(
        1,
        f"cpu\t{format_cpu(totals[0])} ({_pct(totals[0], cpu_total)}%)\t"
        f"{format_cpu(totals[1])} ({_pct(totals[1], cpu_total)}%)\n",
    )
    w.w(
        1,
        f"memory\t{format_memory(totals[2])} ({_pct(totals[2], mem_total)}%)\t"
        f"{format_memory(totals[3])} ({_pct(totals[3], mem_total)}%)\n",
    )
    w.w(1, "ephemeral-storage\t0 (0%)\t0 (0%)\n")
