"""The leads a run follows before any hypothesis: orientation, pods, names, the map.

Candidate calls that do not depend on what is believed yet: what every run
asks first, the unhealthy (or named) pods' descriptions, logs and events,
names the request gives that nothing has resolved, and what the topology
learned so far points at (Services without endpoints, stalled ReplicaSets,
volume claims, dependencies, addresses without a name, Services never
created). questions.py adds the calls each live hypothesis wants.
"""

from __future__ import annotations

from nightshift.agent.reasoners.offline.calls import Candidate, named
from nightshift.agent.reasoners.offline.calls import candidate as _c
from nightshift.agent.reasoners.offline.topology import Topology, looks_like_database, workload_name


def orientation(topo: Topology) -> list[Candidate]:
    """What every run asks first: alerts, changes, pods, events, nodes; and the
    pods around the names the request gives, where their namespace is known."""
    ns = topo.hint_ns
    out = [
        _c("list_alerts", 10, "orientation: what is firing"),
        _c("recent_changes", 10, "time: what changed before the symptoms"),
        _c("kubectl_get", 9.5, "orientation: pod states", kind="pods", namespace=ns, output="wide"),
        _c("kubectl_events", 8, "orientation: warning events", namespace=ns),
        # node-level components fail below the pods: node conditions, once
        _c("node_diagnostics", 7.8, "orientation: node conditions"),
    ]
    if ns is None:
        for name in topo.names[:2]:
            learned = topo.namespace_of(name)
            if learned:
                out.append(
                    _c(
                        "kubectl_get",
                        8.0,
                        f"pods around {name}",
                        kind="pods",
                        namespace=learned,
                        output="wide",
                    )
                )
    return out


def pod_leads(topo: Topology) -> list[Candidate]:
    """The unhealthy pods (named ones first): describe, the last crash, logs, events."""
    ns = topo.hint_ns
    out: list[Candidate] = []
    pods = sorted(
        topo.pods.values(), key=lambda p: (not named(p.name, topo), not p.unhealthy, p.name)
    )
    for rank, pod in enumerate(pods[:6]):
        bonus = 2.0 if named(pod.name, topo) else 0.0
        if not pod.unhealthy and not bonus:
            continue
        base = 7.0 + bonus - rank * 0.3 - (2.5 if topo.names and not bonus else 0.0)
        pns = pod.namespace or ns
        out.append(
            _c(
                "kubectl_describe",
                base + 0.5,
                f"why is {pod.name} {pod.status}",
                kind="pod",
                name=pod.name,
                namespace=pns,
            )
        )
        if pod.restarts > 0 or pod.status in ("CrashLoopBackOff", "Error"):
            out.append(
                _c(
                    "kubectl_logs",
                    base + 0.4,
                    f"last crash of {pod.name}",
                    pod=pod.name,
                    namespace=pns,
                    previous=True,
                    tail=200,
                )
            )
        if pod.status not in ("Pending", "ContainerCreating", "ImagePullBackOff", "ErrImagePull"):
            out.append(
                _c(
                    "kubectl_logs",
                    base,
                    f"what {pod.name} says",
                    pod=pod.name,
                    namespace=pns,
                    tail=200,
                )
            )
        out.append(
            _c(
                "kubectl_events",
                base - 1.5,
                f"events of {pod.name}",
                namespace=pns,
                kind="Pod",
                name=pod.name,
            )
        )
    return out


def unresolved_names(topo: Topology) -> list[Candidate]:
    """Names nothing has resolved yet: as a Deployment, then as a Service; and
    errors anywhere in the namespace."""
    ns = topo.hint_ns
    out: list[Candidate] = []
    for name in topo.names[:3]:
        if not topo.kinds.get(name) and not any(
            workload_name(p) == name or p == name for p in topo.pods
        ):
            out.append(
                _c(
                    "kubectl_describe",
                    6.0,
                    f"describe deployment {name}",
                    kind="deployment",
                    name=name,
                    namespace=ns or topo.namespace_of(name),
                )
            )
            out.append(
                _c(
                    "kubectl_get",
                    5.0,
                    f"find service {name}",
                    kind="service",
                    name=name,
                    namespace=ns,
                )
            )
    if ns:
        out.append(
            _c(
                "logs_search",
                3.0,
                "errors anywhere in the namespace",
                # a regex: real log stores take patterns literally unless told
                pattern="(?i)error|exception|timeout|refused",
                regex=True,
                namespace=ns,
            )
        )
    return out


def topology_leads(topo: Topology) -> list[Candidate]:
    """What the map learned points at: selection, creation, storage, calls, addresses."""
    ns = topo.hint_ns
    out: list[Candidate] = []
    for svc, sns in sorted(topo.no_endpoints, key=lambda s: (s[0], s[1] or "")):
        out.append(
            _c(
                "kubectl_get",
                7.5,
                f"which pods could {svc} select",
                kind="pods",
                namespace=sns or ns,
                output="labels",
            )
        )
    for rs, rns in sorted(topo.stalled, key=lambda c: (c[0], c[1] or ""))[:2]:
        out.append(
            _c(
                "kubectl_describe",
                7.2,
                f"why {rs} lacks pods",
                kind="replicaset",
                name=rs,
                namespace=rns,
            )
        )
        out.append(
            _c("kubectl_events", 6.6, f"events of {rs}", kind="ReplicaSet", name=rs, namespace=rns)
        )
    for claim, cns in sorted(topo.claims, key=lambda c: (c[0], c[1] or ""))[:3]:
        out.append(
            _c(
                "kubectl_describe",
                6.5,
                f"is volume claim {claim} bound",
                kind="persistentvolumeclaim",
                name=claim,
                namespace=cns or ns,
            )
        )
    for source, host, port in topo.dependencies()[:6]:
        short = host.split(".")[0]
        hns = topo.namespace_of(source) or ns
        out.append(
            _c(
                "kubectl_describe",
                5.5,
                f"{source} calls {host}",
                kind="service",
                name=short,
                namespace=hns,
            )
        )
        out.append(_c("dns_lookup", 4.5, f"does {host} resolve", name=host, source=source))
        out.append(
            _c(
                "network_check",
                4.5,
                f"can {source} reach {host}",
                source=source,
                destination=host,
                port=port,
            )
        )
        out.append(_c("firewall_rules", 3.5, f"rules between {source} and {host}", target=short))
        if looks_like_database(host):
            out.append(_c("db_stats", 5.0, f"health of {host}", database=short))
    wheres = {topo.namespace_of(c) or ns for c, _ip, _p in topo.unresolved}
    for ns_of in sorted(w for w in wheres if w):
        # an address in a caller's error: which Service has that ClusterIP
        out.append(
            _c(
                "kubectl_get",
                7.4,
                "which service has that address",
                kind="services",
                namespace=ns_of,
            )
        )
    for svc, sns in sorted(topo.missing_services, key=lambda s: (s[0], s[1] or "")):
        if svc not in topo.blocked:  # why was it never created: a full quota refuses it
            out.append(
                _c(
                    "kubectl_get",
                    8.2,
                    f"is a quota why {svc} does not exist",
                    kind="resourcequotas",
                    namespace=sns or ns,
                )
            )
    return out
