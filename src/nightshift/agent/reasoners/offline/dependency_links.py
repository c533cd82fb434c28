"""Effects tied to their cause along a dependency.

Three rules of the offline reasoner that read the map of who calls whom: a
crash whose error line is a dependency failure, callers of a Service a quota
kept from existing, and a pool drained by the callers stalled on another
dependency. Each re-parents the effect under its cause, so the causal chain
runs from what to fix to what was seen.
"""

from __future__ import annotations

from nightshift.agent.reasoners.offline.belief import (
    Belief,
    Key,
    corroboration,
    revised,
    strengthened,
)
from nightshift.agent.reasoners.offline.topology import Topology, workload_name

_SLOW = "high-latency-dependency"
_CRASHES = frozenset({"crashloop-app-error", "job-failed"})
_DEPENDENCY = frozenset(
    {
        "db-unavailable",
        "wrong-dependency-address",
        "dns-resolution-failure",
        "network-policy-blocking",
        "certificate-expired",
        "credential-rotation-auth-failure",
        "db-connection-limit",
        "connection-pool-exhaustion",
        "missing-env-var",
    }
)


def crash_about_dependency(out: dict[Key, Belief]) -> None:
    """A crash whose error line is itself a dependency failure is explained by it.

    "All hosts tried failed", "connection refused", "no such host" printed as
    the exception that ended the process: the caller is the symptom, what it
    could not reach (or was told to reach) is where the fix is."""
    for key, b in list(out.items()):
        if key[1] not in _CRASHES:
            continue
        lines = set(b.lines)
        deps = [
            k
            for k in out
            if k[0].name == key[0].name and k[1] in _DEPENDENCY and lines & set(out[k].lines)
        ]
        if not deps:
            continue
        best = max(deps, key=lambda k: out[k].confidence)
        d = out[best]
        out[best] = strengthened(
            d, 0.5 * b.confidence, f"; the {key[1]} error line is this failure"
        )
        out[key] = revised(b, b.confidence * 0.7, parent=best)


_MISSING_EFFECTS = frozenset(
    {"wrong-dependency-address", "dns-resolution-failure", "crashloop-app-error", "db-unavailable"}
)


def never_created(out: dict[Key, Belief], topo: Topology) -> None:
    """Callers of a Service a quota kept from being created fail because it is missing."""
    for svc, quota in topo.blocked.items():
        cause = (quota, "resource-quota-exceeded")
        if cause not in out:
            continue
        callers = {workload_name(s) for s, h, _p in topo.dependencies() if h.split(".")[0] == svc}
        effects = [k for k in out if k[0].name in callers and k[1] in _MISSING_EFFECTS]
        strongest = max((out[k].confidence for k in effects), default=0.0)
        b = out[cause]
        out[cause] = strengthened(b, 0.5 * strongest, f"; explains why {svc} is missing")
        for k in effects:
            out[k] = revised(out[k], out[k].confidence * 0.5, parent=cause)


_POOLS = frozenset({"connection-pool-exhaustion", "db-connection-limit"})


def held_pools(out: dict[Key, Belief], topo: Topology) -> None:
    """A caller stalled on one dependency drains the pool of another.

    A request blocked on a slow call keeps its database connection (often
    inside an open transaction), so the pooler it connects through runs dry:
    the pool exhaustion there is an effect of the caller's stall, one link
    further down the causal chain, not a separate cause."""
    stalled_on: dict[str, list[Key]] = {}  # callee -> the stalls of its callers
    for source, host, _port in topo.calls():
        caller, callee = workload_name(source), workload_name(host.split(".")[0])
        if any(s == source and h != host for s, h, _p in topo.calls()):
            stalls = stalled_on.setdefault(callee, [])
            stalls += [k for k in out if k[0].name == caller and k[1] == _SLOW]
    for callee, stalls in stalled_on.items():
        pools = [k for k in out if k[0].name == callee and k[1] in _POOLS]
        if not stalls or not pools:
            continue
        # of the callers sharing the pool, the one whose own stall is best attested
        # (every caller of a starved pool turns slow; the staller also logs why)
        stall = max(stalls, key=lambda k: corroboration(out[k]))
        for k in pools:
            b = out[k]
            out[k] = Belief(
                b.confidence,
                b.evidence_ids,
                b.lines,
                b.rationale + f"; {stall[0].name} holds its connections while it waits",
                stall,
            )
