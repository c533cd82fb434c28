"""NetworkPolicies that restrict a workload's traffic, from ``firewall_rules``.

The answer names the policies that select the target and whether its ingress
or egress is restricted by them. A restricting policy is where the fix of a
blocked path applies (``fix-network-policy`` edits the NetworkPolicy), so it
becomes a finding on that policy; the caller's timeouts are its effects.
"""

from __future__ import annotations

import re

from nightshift.agent.reasoners.offline.findings import Analysis, Finding
from nightshift.domain.diagnosis import ResourceRef

_RESTRICTED = re.compile(r"^(Ingress|Egress): restricted to [^\n]*? of ([a-z0-9][\w.,\s-]*)$", re.M)
_POLICY = re.compile(r"^NetworkPolicy ([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9.-]*)$", re.M)


def restricting_policies(text: str, out: Analysis) -> None:
    restricted = {m.group(1): m.group(0) for m in _RESTRICTED.finditer(text)}
    if not restricted:
        return
    for m in _POLICY.finditer(text):
        ns, name = m.group(1), m.group(2)
        block = text[m.end() : text.find("\nNetworkPolicy ", m.end()) % (len(text) + 1)]
        types = re.search(r"policyTypes:\s*([^\n]+)", block)
        kinds = {t.strip() for t in types.group(1).split(",")} if types else set(restricted)
        for kind in sorted(kinds & set(restricted)):
            line = f"NetworkPolicy {ns}/{name}: {restricted[kind]}"
            out.findings.append(
                Finding("netpol-restricts", ResourceRef("NetworkPolicy", name, ns), line)
            )
