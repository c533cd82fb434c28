"""Confirmation steps: which checks the taxonomy says confirm a fault.

A fault's ``confirm`` text names tools (and object kinds); a hypothesis is
not confirmed before at least one of those checks has been made.
"""

from __future__ import annotations

import re
from functools import cache

from nightshift.agent.tools.protocol import ToolCall
from nightshift.domain.taxonomy import load_taxonomy

_KINDS = {
    "pod",
    "pvc",
    "node",
    "service",
    "deployment",
    "replicaset",
    "job",
    "hpa",
    "ingress",
    "networkpolicy",
    "resourcequota",
    "limitrange",
    "configmap",
    "secret",
    "serviceaccount",
    "rolebinding",
    "validatingwebhookconfiguration",
    "nodes",
    "pods",
}
_STEP = re.compile(
    r"\b(kubectl_\w+|db_stats|network_check|dns_lookup|firewall_rules|security_events|prometheus_query|logs_search|recent_changes)(?:\s+(\w+))?"
)


def norm_kind(kind: str) -> str:
    k = kind.lower()
    k = {"pvc": "persistentvolumeclaim", "po": "pod", "svc": "service"}.get(k, k)
    return k[:-1] if k.endswith("s") else k


@cache
def confirm_steps(fault: str) -> frozenset[str]:
    """'tool' or 'tool:kind' steps the taxonomy names as the way to confirm a fault."""
    steps = set()
    for tool, word in _STEP.findall(load_taxonomy().get(fault).confirm):
        steps.add(f"{tool}:{norm_kind(word)}" if word.lower() in _KINDS else tool)
    return frozenset(steps)


def step_of(call: ToolCall) -> set[str]:
    kind = call.params.get("kind")
    steps = {call.name}
    if call.name == "node_diagnostics":  # it prints each node's conditions, as describe does
        steps.add("kubectl_describe:node")
    if isinstance(kind, str) and kind:
        steps.add(f"{call.name}:{norm_kind(kind)}")
    return steps
