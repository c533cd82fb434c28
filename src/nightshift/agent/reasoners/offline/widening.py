"""Widening: where a human looks when nothing looks wrong yet.

Healthy-looking pods can still log the failure (slow calls, errors served to
callers), so their logs are read, the named ones first. A question about
scaling is about autoscalers: HPAs and KEDA objects are listed. Beyond the
cluster, a named database's health and the scrape targets that are down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from nightshift.agent.reasoners.offline.belief import Belief, Key
from nightshift.agent.reasoners.offline.calls import Candidate, named
from nightshift.agent.reasoners.offline.calls import candidate as _c
from nightshift.agent.reasoners.offline.topology import Topology, looks_like_database
from nightshift.agent.request import InvestigationRequest

_SCALING = re.compile(r"autoscal|\bhpa\b|\bkeda\b|\bscal(e|es|ed|ing)\b|replicas?\b", re.I)
_LIVE = 0.3  # a hypothesis this strong is worth following instead of widening


def widen(
    req: InvestigationRequest, topo: Topology, beliefs: Mapping[Key, Belief]
) -> list[Candidate]:
    """When nothing looks wrong yet, look where a human would look next.

    Healthy-looking pods can still log the failure (slow calls, errors served
    to callers): read the logs of running pods, the named ones first. A
    question about scaling is about autoscalers: list HPAs and KEDA objects."""
    out: list[Candidate] = []
    ns = topo.hint_ns
    if _SCALING.search(req.question):
        for name in topo.names[:2]:
            sns = ns or topo.namespace_of(name)
            if sns is None:
                continue
            out.append(_c("kubectl_get", 8.5, f"autoscalers of {name}", kind="hpa", namespace=sns))
            out.append(
                _c(
                    "kubectl_get",
                    8.4,
                    f"KEDA objects of {name}",
                    kind="scaledobject",
                    namespace=sns,
                )
            )
    if any(b.confidence >= _LIVE for b in beliefs.values()):
        return out
    out.extend(_beyond_the_cluster(topo))
    pods = sorted(topo.pods.values(), key=lambda p: (not named(p.name, topo), p.name))
    for rank, pod in enumerate(p for p in pods if p.status == "Running"):
        if rank >= 6:
            break
        out.append(
            _c(
                "kubectl_logs",
                5.0 - rank * 0.2,
                f"nothing failing yet: what {pod.name} logs",
                pod=pod.name,
                namespace=pod.namespace or ns,
                tail=200,
            )
        )
    return out


def _beyond_the_cluster(topo: Topology) -> list[Candidate]:
    """Sources other than the cluster have an overview a human opens first: the
    health of a database the question names, and which scrape targets are down.
    (Calls to a tool the investigation has no source for are dropped upstream.)"""
    out = [
        _c("db_stats", 5.2, f"nothing failing yet: health of {name}", database=name)
        for name in topo.names[:3]
        if looks_like_database(name)
    ]
    out.append(
        _c("prometheus_query", 4.0, "nothing failing yet: scrape targets down",
           query="up == 0", range_minutes=30)
    )  # fmt: skip
    return out
