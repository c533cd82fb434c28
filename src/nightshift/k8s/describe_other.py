"""``kubectl describe`` for services, endpoints, config and policy objects, and anything else."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nightshift.k8s.describe_writer import Writer, events, multiline
from nightshift.k8s.kubectl_columns import selector_text
from nightshift.k8s.kubectl_time import go_time, since

Obj = dict[str, Any]


def _head(w: Writer, o: Obj, namespaced: bool = True) -> None:
    m = o.get("metadata") or {}
    w.w(0, f"Name:\t{m.get('name')}\n")
    if namespaced:
        w.w(0, f"Namespace:\t{m.get('namespace', '')}\n")


def _labels(w: Writer, o: Obj) -> None:
    m = o.get("metadata") or {}
    multiline(w, "Labels", m.get("labels"))
    multiline(w, "Annotations", m.get("annotations"), sep=": ")


def slice_endpoints(slices: Sequence[Obj], port_name: str) -> str:
    """The Endpoints line of describe service, from the service's EndpointSlices."""
    if not slices:
        return "<none>"
    shown: list[str] = []
    count = 0
    for s in slices:
        for port in s.get("ports") or []:
            if (port.get("name") or "") != port_name:
                continue
            for ep in s.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                for addr in (ep.get("addresses") or [])[:1]:
                    count += 1
                    if len(shown) < 3:
                        shown.append(f"{addr}:{port.get('port')}")
    text = ",".join(shown)
    return f"{text} + {count - 3} more..." if count > 3 else text


def describe_service(
    s: Obj, slices: Sequence[Obj], evs: Sequence[Obj] | None, now: datetime | None = None
) -> str:
    spec, st = s.get("spec") or {}, s.get("status") or {}
    w = Writer()
    _head(w, s)
    _labels(w, s)
    sel = spec.get("selector") or {}
    w.w(0, f"Selector:\t{','.join(f'{k}={v}' for k, v in sorted(sel.items()))}\n")
    kind = spec.get("type") or "ClusterIP"
    w.w(0, f"Type:\t{kind}\n")
    if spec.get("ipFamilyPolicy"):
        w.w(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    if spec.get("ipFamilies"):
        w.w(0, f"IP Families:\t{','.join(spec['ipFamilies'])}\n")
    if kind == "ExternalName":
        w.w(0, f"External Name:\t{spec.get('externalName', '')}\n")
    else:
        w.w(0, f"IP:\t{spec.get('clusterIP', '')}\n")
        w.w(0, f"IPs:\t{','.join(spec.get('clusterIPs') or [spec.get('clusterIP', '')])}\n")
    if spec.get("externalIPs"):
        w.w(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    ingress = (st.get("loadBalancer") or {}).get("ingress") or []
    if ingress:
        ips = ", ".join(str(i.get("ip") or i.get("hostname")) for i in ingress)
        w.w(0, f"LoadBalancer Ingress:\t{ips}\n")
    for p in spec.get("ports") or []:
        name = p.get("name") or "<unset>"
        proto = p.get("protocol", "TCP")
        w.w(0, f"Port:\t{name}  {p.get('port')}/{proto}\n")
        target = p.get("targetPort", p.get("port"))
        w.w(0, f"TargetPort:\t{target}/{proto}\n")
        if p.get("nodePort"):
            w.w(0, f"NodePort:\t{name}  {p['nodePort']}/{proto}\n")
        if kind != "ExternalName":
            w.w(0, f"Endpoints:\t{slice_endpoints(slices, p.get('name') or '')}\n")
    w.w(0, f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}\n")
    if kind in ("NodePort", "LoadBalancer"):
        w.w(0, f"External Traffic Policy:\t{spec.get('externalTrafficPolicy', 'Cluster')}\n")
    if spec.get("internalTrafficPolicy"):
        w.w(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    events(w, evs, now)
    return w.text()


def describe_endpoints(e: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    w = Writer()
    _head(w, e)
    _labels(w, e)
    w.w(0, "Subsets:\n")
    for ss in e.get("subsets") or []:
        ready = ",".join(str(a.get("ip")) for a in ss.get("addresses") or []) or "<none>"
        not_ready = ",".join(str(a.get("ip")) for a in ss.get("notReadyAddresses") or [])
        w.w(1, f"Addresses:\t{ready}\n")
        w.w(1, f"NotReadyAddresses:\t{not_ready or '<none>'}\n")
        ports = ss.get("ports") or []
        if ports:
            w.w(1, "Ports:\n")
            w.w(2, "Name\tPort\tProtocol\n")
            w.w(2, "----\t----\t--------\n")
            for p in ports:
                w.w(
                    2,
                    f"{p.get('name') or '<unset>'}\t{p.get('port')}\t{p.get('protocol', 'TCP')}\n",
                )
        w.w(0, "\n")
    events(w, evs, now)
    return w.text()


def describe_configmap(cm: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    w = Writer()
    _head(w, cm)
    _labels(w, cm)
    w.w(0, "\nData\n====\n")
    for key in sorted(cm.get("data") or {}):
        w.w(0, f"{key}:\n----\n{cm['data'][key]}\n\n")
    w.w(0, "\nBinaryData\n====\n")
    for key in sorted(cm.get("binaryData") or {}):
        w.w(0, f"{key}: {len(str(cm['binaryData'][key])) * 3 // 4} bytes\n")
    w.w(0, "\n")
    events(w, evs, now)
    return w.text()


def describe_serviceaccount(sa: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    w = Writer()
    _head(w, sa)
    _labels(w, sa)
    pulls = [str(s.get("name")) for s in sa.get("imagePullSecrets") or []]
    w.w(0, f"Image pull secrets:\t{', '.join(pulls) or '<none>'}\n")
    mountable = [str(s.get("name")) for s in sa.get("secrets") or []]
    if mountable:
        w.w(0, f"Mountable secrets:\t{', '.join(mountable)}\n")
    events(w, evs, now)
    return w.text()


def describe_pvc(
    c: Obj, pods: Sequence[Obj], evs: Sequence[Obj] | None, now: datetime | None = None
) -> str:
    m, spec, st = c.get("metadata") or {}, c.get("spec") or {}, c.get("status") or {}
    w = Writer()
    _head(w, c)
    w.w(0, f"StorageClass:\t{spec.get('storageClassName', '')}\n")
    phase = "Terminating" if m.get("deletionTimestamp") else st.get("phase", "")
    w.w(0, f"Status:\t{phase}\n")
    w.w(0, f"Volume:\t{spec.get('volumeName', '')}\n")
    _labels(w, c)
    w.w(0, f"Finalizers:\t[{' '.join(m.get('finalizers') or [])}]\n")
    bound = bool(spec.get("volumeName"))
    capacity = (st.get("capacity") or {}).get("storage", "") if bound else ""
    modes = ",".join(st.get("accessModes") or []) if bound else ""
    w.w(0, f"Capacity:\t{capacity}\n")
    w.w(0, f"Access Modes:\t{modes}\n")
    w.w(0, f"VolumeMode:\t{spec.get('volumeMode', 'Filesystem')}\n")
    users = [
        p["metadata"]["name"]
        for p in pods
        if any(
            (v.get("persistentVolumeClaim") or {}).get("claimName") == m.get("name")
            for v in (p.get("spec") or {}).get("volumes") or []
        )
    ]
    for i, name in enumerate(users or ["<none>"]):
        w.w(0, ("Used By:\t" if i == 0 else "\t") + name + "\n")
    events(w, evs, now)
    return w.text()


def quota_rows(w: Writer, q: Obj, level: int, dashes: tuple[str, str]) -> None:
    st = q.get("status") or {}
    hard, used = st.get("hard") or {}, st.get("used") or {}
    w.w(level, "Resource\tUsed\tHard\n")
    w.w(level, f"--------\t{dashes[0]}\t{dashes[1]}\n")
    for name in sorted(hard):
        w.w(level, f"{name}\t{used.get(name, '0')}\t{hard[name]}\n")


def describe_quota(q: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    w = Writer()
    _head(w, q)
    scopes = (q.get("spec") or {}).get("scopes") or []
    if scopes:
        w.w(0, f"Scopes:\t{', '.join(scopes)}\n")
    quota_rows(w, q, 0, ("----", "----"))
    return w.text()


def limit_rows(w: Writer, lr: Obj, level: int) -> None:
    w.w(
        level, "Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n"
    )
    w.w(
        level, "----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n"
    )
    for item in (lr.get("spec") or {}).get("limits") or []:
        keys = ("min", "max", "defaultRequest", "default", "maxLimitRequestRatio")
        names = sorted({r for k in keys for r in (item.get(k) or {})})
        for r in names:
            cells = [str((item.get(k) or {}).get(r, "-")) for k in keys]
            w.w(level, f"{item.get('type')}\t{r}\t" + "\t".join(cells) + "\n")


def describe_limitrange(lr: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    w = Writer()
    _head(w, lr)
    limit_rows(w, lr, 0)
    return w.text()


def _peers(w: Writer, peers: Sequence[Obj], word: str, indent: str) -> None:
    for peer in peers:
        w.w(0, f"{indent}{word}:\n")
        pod, ns = peer.get("podSelector"), peer.get("namespaceSelector")
        if ns is not None:
            w.w(1, f"{indent}NamespaceSelector: {selector_text(ns)}\n")
        if pod is not None:
            w.w(1, f"{indent}PodSelector: {selector_text(pod)}\n")
        if peer.get("ipBlock") is not None:
            block = peer["ipBlock"]
            w.w(1, f"{indent}IPBlock:\n")
            w.w(2, f"{indent}CIDR: {block.get('cidr')}\n")
            w.w(2, f"{indent}Except: {', '.join(block.get('except') or [])}\n")


def _rules(w: Writer, rules: Sequence[Obj], direction: str) -> None:
    indent = "    "
    word, key, anyone = (
        ("From", "from", "source") if direction == "ingress" else ("To", "to", "destination")
    )
    if not rules:
        w.w(0, f"{indent}<none> (Selected pods are isolated for {direction} connectivity)\n")
        return
    for i, rule in enumerate(rules):
        ports = rule.get("ports") or []
        if not ports:
            w.w(0, f"{indent}To Port: <any> (traffic allowed to all ports)\n")
        for p in ports:
            w.w(0, f"{indent}To Port: {p.get('port', '')}/{p.get('protocol', 'TCP')}\n")
        if not rule.get(key):
            w.w(0, f"{indent}{word}: <any> (traffic not restricted by {anyone})\n")
        else:
            _peers(w, rule[key], word, indent)
        if i != len(rules) - 1:
            w.w(0, f"{indent}----------\n")


def describe_netpol(np: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    m, spec = np.get("metadata") or {}, np.get("spec") or {}
    w = Writer()
    _head(w, np)
    w.w(0, f"Created on:\t{go_time(m.get('creationTimestamp'))}\n")
    _labels(w, np)
    w.w(0, "Spec:\n")
    sel = selector_text(spec.get("podSelector"))
    if sel == "<none>":
        sel = "<none> (Allowing the specific traffic to all pods in this namespace)"
    w.w(1, f"PodSelector:     {sel}\n")
    types = spec.get("policyTypes") or ["Ingress"]
    for direction, key in (("ingress", "ingress"), ("egress", "egress")):
        if direction.capitalize() in types:
            w.w(1, f"Allowing {direction} traffic:\n")
            _rules(w, spec.get(key) or [], direction)
        else:
            w.w(1, f"Not affecting {direction} traffic\n")
    w.w(1, f"Policy Types: {', '.join(types)}\n")
    return w.text()


def describe_namespace(
    ns: Obj, quotas: Sequence[Obj], limits: Sequence[Obj], now: datetime | None = None
) -> str:
    w = Writer()
    _head(w, ns, namespaced=False)
    _labels(w, ns)
    w.w(0, f"Status:\t{(ns.get('status') or {}).get('phase', '')}\n")
    if not quotas:
        w.w(0, "\nNo resource quota.\n")
    else:
        w.w(0, "\nResource Quotas\n")
        for q in quotas:
            w.w(1, f"Name:\t{q['metadata']['name']}\n")
            quota_rows(w, q, 1, ("---", "---"))
    if not limits:
        w.w(0, "\nNo LimitRange resource.\n")
    else:
        w.w(0, "\nResource Limits\n")
        for lr in limits:
            body = Writer()
            limit_rows(body, lr, 0)
            for line in body.text().splitlines():
                w.w(0, " " + line + "\n")
    return w.text()


def describe_generic(o: Obj, evs: Sequence[Obj] | None, now: datetime | None = None) -> str:
    """Kinds without a describer: kubectl prints the object's fields; we print the top ones."""
    m = o.get("metadata") or {}
    w = Writer()
    _head(w, o, namespaced=bool(m.get("namespace")))
    _labels(w, o)
    w.w(0, f"API Version:\t{o.get('apiVersion', '')}\n")
    w.w(0, f"Kind:\t{o.get('kind', '')}\n")
    w.w(0, f"Age:\t{since(m.get('creationTimestamp'), now)}\n")
    for section in ("spec", "status", "data"):
        value = o.get(section)
        if isinstance(value, dict) and value:
            w.w(0, f"{section.capitalize()}:\n")
            for k, v in sorted(value.items()):
                shown = v if not isinstance(v, dict | list) else "..."
                w.w(1, f"{k}:\t{shown}\n")
    events(w, evs, now)
    return w.text()
