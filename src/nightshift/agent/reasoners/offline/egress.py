"""Name lookups that time out behind a policy that denies the pod's egress.

A pod's DNS queries are egress traffic to kube-dns (UDP/TCP 53): a
NetworkPolicy that selects the pod and restricts egress without allowing
that port makes every lookup time out ("Temporary failure in name
resolution", ``EAI_AGAIN`` / ``[Errno -3] Try again``, "i/o timeout" on
port 53). The resolver errors printed by the caller are then the effect and
the policy is what to fix. A lookup answered "no such name" (NXDOMAIN,
``[Errno -2]``, "Name or service not known") reached a DNS server, so a
policy did not cause it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nightshift.agent.reasoners.offline.belief import Belief, Key

_LOOKUP_EFFECTS = frozenset({"dns-resolution-failure", "wrong-dependency-address"})
_LOOKUP_FAILED = re.compile(
    r"NameResolutionError|Failed to resolve|Temporary failure in name resolution|"
    r"EAI_AGAIN|\[Errno -3\]|could not resolve|lookup \S+ on \S+:53: .*timeout",
    re.I,
)
_ANSWERED = re.compile(r"NXDOMAIN|\[Errno -2\]|Name or service not known|ENOTFOUND", re.I)
# The policy's listing or spec says it restricts egress (or all traffic).
_EGRESS = re.compile(r"egress|deny-all|default-deny(?!-ingress)", re.I)

With = Callable[["Belief", float, "Key | None"], "Belief"]


def lookups_behind_egress_policy(
    out: dict[Key, Belief], noisy_or: Callable[[list[float]], float], with_: With
) -> None:
    policies = [
        k
        for k, b in out.items()
        if k[1] == "network-policy-blocking"
        and k[0].kind == "NetworkPolicy"
        and any(_EGRESS.search(f"{k[0].name} {line}") for line in b.lines)
    ]
    for policy in policies:
        effects = [
            k
            for k, b in out.items()
            if k[1] in _LOOKUP_EFFECTS
            and k[0].namespace == policy[0].namespace
            and any(_LOOKUP_FAILED.search(line) for line in b.lines)
            and not any(_ANSWERED.search(line) for line in b.lines)
        ]
        if not effects:
            continue
        strongest = max(out[k].confidence for k in effects)
        p = out[policy]
        out[policy] = type(p)(
            noisy_or([p.confidence, 0.7 * strongest]),
            p.evidence_ids,
            p.lines,
            p.rationale + "; name lookups in its namespace time out: DNS is egress it denies",
            p.parent,
        )
        for k in effects:
            out[k] = with_(out[k], out[k].confidence * 0.6, policy)
