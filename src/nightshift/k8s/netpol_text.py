"""``firewall_rules`` from the cluster: the NetworkPolicies that select a target's pods.

A pod is isolated for a direction as soon as one policy selecting it lists that
direction in its policyTypes; what it may then reach is the union of the
rules of those policies, and an empty union is a default deny. That verdict
comes first in the answer, then each policy's rules in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nightshift.agent.tools.protocol import ToolResult, ToolStatus
from nightshift.k8s.managed import last_touch
from nightshift.k8s.reads import Lister, Obj, Scopes, meta, rfc3339
from nightshift.k8s.selectors import SelectorError, matches, selector_text
from nightshift.k8s.targets import Target, resolve

_DIRECTIONS = (("Ingress", "ingress", "from"), ("Egress", "egress", "to"))


def firewall_rules(lister: Lister, scopes: Scopes, params: Mapping[str, Any]) -> ToolResult:
    raw = str(params.get("target") or "").strip()
    if not raw:
        why = "firewall_rules from the cluster needs a target (a pod, workload or service name)"
        return ToolResult(ToolStatus.NO_DATA, why)
    target = resolve(lister, scopes, raw)
    if target is None:
        why = f"no pod, workload or service named {raw!r} in this agent's namespaces"
        return ToolResult(ToolStatus.NO_DATA, why)
    policies = lister.items("networking.k8s.io/v1", "networkpolicies", target.namespace)
    selecting, broken = [], []
    for policy in policies:
        try:
            if matches((policy.get("spec") or {}).get("podSelector"), target.labels):
                selecting.append(policy)
        except SelectorError as exc:
            broken.append(f"{meta(policy).get('name')}: {exc}")
    head = _head(target, len(selecting), len(policies))
    if not selecting:
        text = head + (
            f"\nNo NetworkPolicy selects these pods: ingress and egress are not restricted "
            f"by NetworkPolicy in namespace {target.namespace}."
        )
        return ToolResult(ToolStatus.NO_DATA, text + _broken(broken) + lister.note())
    blocks = [head, *verdict(selecting), ""]
    blocks.append("\n\n".join(render_policy(p) for p in selecting))
    others = sorted(str(meta(p).get("name")) for p in policies if p not in selecting)
    if others:
        blocks.append(
            f"Other policies in {target.namespace} (not selecting it): {', '.join(others)}"
        )
    data = {
        "target": target.ref,
        "labels": target.labels,
        "network_policies": [f"{target.namespace}/{meta(p).get('name')}" for p in selecting],
    }
    text = "\n".join(blocks).rstrip() + _broken(broken) + lister.note()
    return ToolResult(ToolStatus.OK, text, data)


def _head(target: Target, selecting: int, total: int) -> str:
    labels = ",".join(f"{k}={v}" for k, v in sorted(target.labels.items())) or "<none>"
    via = f" (labels from {target.via})" if target.via else ""
    return (
        f"Target: {target.ref} labels {labels}{via}\n"
        f"NetworkPolicies selecting it: {selecting} of {total} in namespace {target.namespace}"
    )


def _broken(broken: Sequence[str]) -> str:
    return ("\nPolicies with invalid selectors: " + "; ".join(broken)) if broken else ""


def policy_types(policy: Obj) -> list[str]:
    spec = policy.get("spec") or {}
    declared = spec.get("policyTypes")
    if declared:
        return [str(t) for t in declared]
    # The API server's defaulting: Ingress always, Egress when egress rules exist.
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def verdict(selecting: Sequence[Obj]) -> list[str]:
    """One line per direction: open, restricted, or denied outright."""
    lines = []
    for direction, key, _ in _DIRECTIONS:
        isolating = [p for p in selecting if direction in policy_types(p)]
        if not isolating:
            lines.append(f"{direction}: not restricted (no selecting policy has {direction})")
            continue
        rules = [r for p in isolating for r in (p.get("spec") or {}).get(key) or []]
        names = ", ".join(str(meta(p).get("name")) for p in isolating)
        if not rules:
            lines.append(
                f"{direction}: DENIED for all traffic (default deny: {names} select the pod "
                f"and allow no {direction.lower()})"
            )
        else:
            lines.append(f"{direction}: restricted to {len(rules)} rule(s) of {names}")
            if direction == "Egress" and not any(_allows_dns(r) for r in rules):
                lines.append(
                    "  DNS (UDP/53) is not allowed by any egress rule: lookups will time out"
                )
    return lines


def _allows_dns(rule: Obj) -> bool:
    ports = rule.get("ports") or []
    return not ports or any(str(p.get("port", "")) in ("53", "dns", "dns-tcp", "") for p in ports)


def render_policy(policy: Obj) -> str:
    m, spec = meta(policy), policy.get("spec") or {}
    ns = str(m.get("namespace", ""))
    types = policy_types(policy)
    selector = selector_text(spec.get("podSelector")) or "<all pods in the namespace>"
    lines = [f"NetworkPolicy {ns}/{m.get('name')}", f"  podSelector: {selector}"]
    lines.append(f"  policyTypes: {', '.join(types)}")
    touch = last_touch(policy)
    if touch is not None:
        lines.append(f"  last changed: {rfc3339(touch.at)} by {touch.manager}")
    for direction, key, word in _DIRECTIONS:
        if direction not in types:
            continue
        rules = spec.get(key) or []
        if not rules:
            lines.append(f"  {direction}: default deny (selects the pod, allows no {key})")
            continue
        lines.append(f"  {direction}:")
        for rule in rules:
            peers = rule.get(word) or []
            who = "; ".join(peer_text(p, ns) for p in peers) if peers else "anywhere"
            lines.append(f"    - {word} {who}; ports: {ports_text(rule.get('ports') or [])}")
    return "\n".join(lines)


def peer_text(peer: Obj, policy_ns: str) -> str:
    block = peer.get("ipBlock")
    if block:
        excepted = block.get("except") or []
        return f"ipBlock {block.get('cidr')}" + (
            f" except {','.join(excepted)}" if excepted else ""
        )
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    pod_text = f"pods {selector_text(pods)}" if pods else "all pods"
    if namespaces is None:
        return f"{pod_text} in namespace {policy_ns}"
    ns_text = f"namespaces {selector_text(namespaces)}" if namespaces else "all namespaces"
    return f"{pod_text} in {ns_text}"


def ports_text(ports: Sequence[Obj]) -> str:
    if not ports:
        return "all"
    out = []
    for p in ports:
        proto = p.get("protocol") or "TCP"
        port, end = p.get("port"), p.get("endPort")
        if port is None:
            out.append(f"{proto}/all")
        else:
            out.append(f"{proto}/{port}" + (f"-{end}" if end else ""))
    return ", ".join(out)
