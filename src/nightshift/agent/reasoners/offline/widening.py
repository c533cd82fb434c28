"""Widening: where a human looks when nothing looks wrong yet.

Healthy-looking pods can still log the failure (slow calls, errors served to
callers), so their logs are read, the named ones first. A question about
scaling is about autoscalers: HPAs and KEDA objects are listed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from nightshift.agent.reasoners.offline.beliefs import Belief, Key
from nightshift.agent.reasoners.offline.calls import Candidate, named
from nightshift.agent.reasoners.offline.calls import candidate as _c
from nightshift.agent.reasoners.offline.topology import Topology
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
