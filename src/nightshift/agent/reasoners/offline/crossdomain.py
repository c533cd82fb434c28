"""Cross-domain follow-through: a found cause is checked and tied to what it broke.

In a multi-domain investigation (an alert storm across network, application
and database) naming the change is half the answer: the on-call engineer
also needs it checked where it acts, and the firing symptoms tied to it. So
while the leader is a change and symptoms remain, the run does not stop
(the leader is held just under the stopping threshold, for a few plans at
most) before the change's own domain check has been made on the workloads
that show the symptoms (``firewall_rules`` for a network change) and the
databases or poolers in play have been asked for their health
(``db_stats``). The symptoms are then linked along the dependency path: the
callers' failures are effects of the change, and a pool found exhausted on
a database or pooler is an effect of the callers that hold its connections.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import replace

from nightshift.agent.reasoners.offline.belief import Belief, Key, ancestors, corroboration
from nightshift.agent.reasoners.offline.calls import Candidate
from nightshift.agent.reasoners.offline.calls import candidate as _c
from nightshift.agent.reasoners.offline.faults import SYMPTOM_FAULTS
from nightshift.agent.reasoners.offline.topology import (
    Topology,
    looks_like_database,
    workload_name,
)
from nightshift.agent.request import InvestigationRequest
from nightshift.domain.vocabulary import Tier

HOLD = 0.84  # just under the loop's stopping threshold (0.85)
MAX_HOLDS = 3  # plans the leader may be held for: the cycle budget stays small
_NETWORK_CHANGES = frozenset({"network-policy-change", "firewall-rule-change"})
_POOLS = frozenset({"connection-pool-exhaustion", "db-connection-limit"})
# a caller's calls to its dependency time out: the application symptom of a cut path
_TIMEOUTS = frozenset({"high-latency-dependency"})
# what makes calls: a Service or a Component is where calls go, not who waits on them
_CALLERS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob"})
# a connection pooler sits in front of a database: its pool is the database's
_POOLER = re.compile(r"bouncer|pgpool|proxysql|odyssey|pgcat", re.I)


def applies(req: InvestigationRequest) -> bool:
    return req.tier is Tier.MULTI_DOMAIN


def _leader(beliefs: Mapping[Key, Belief]) -> tuple[Key, Belief] | None:
    return max(beliefs.items(), key=lambda kv: kv[1].confidence, default=None)


def _symptomatic(beliefs: Mapping[Key, Belief]) -> list[Key]:
    """Symptoms on workloads (not on change records), strongest first."""
    keys = [k for k in beliefs if k[0].kind != "Change" and k[1] in SYMPTOM_FAULTS]
    return sorted(keys, key=lambda k: (-beliefs[k].confidence, k[0].name))


def _datastores(topo: Topology) -> list[str]:
    """Databases and poolers the investigation has seen (callees, workloads)."""
    names = [h.split(".")[0] for _s, h, _p in topo.calls()]
    names += [workload_name(p) for p in sorted(topo.pods)]
    names += sorted(k[9:] for k in topo.kinds if k.startswith("database:"))
    found = [n for n in names if looks_like_database(n) or _POOLER.search(n)]
    return list(dict.fromkeys(found))


def pending(
    req: InvestigationRequest, topo: Topology, beliefs: Mapping[Key, Belief], asked: set[str]
) -> list[Candidate]:
    """The checks a change leading a multi-domain run still lacks."""
    lead = _leader(beliefs)
    if not applies(req) or lead is None or lead[0][0].kind != "Change":
        return []
    symptoms = _symptomatic(beliefs)
    if not symptoms:
        return []
    out: list[Candidate] = []
    if lead[0][1] in _NETWORK_CHANGES:
        for name in dict.fromkeys(workload_name(k[0].name) for k in symptoms[:3]):
            why = f"check {lead[0][0].name} where it acts: the rules selecting {name}"
            out.append(_c("firewall_rules", 9.0, why, target=name))
    for db in _datastores(topo)[:3]:
        out.append(_c("db_stats", 8.8, f"symptoms remain: health of {db}", database=db))
    return [c for c in out if _fp(c) not in asked]


def _fp(c: Candidate) -> str:
    return c.call.name + repr(sorted((k, repr(v)) for k, v in c.call.params.items()))


def settle(
    req: InvestigationRequest,
    topo: Topology,
    out: MutableMapping[Key, Belief],
    still_pending: Callable[[Mapping[Key, Belief]], bool],
    holds_left: bool,
) -> bool:
    """Link the symptoms to the leading change; hold it while its checks are pending.

    Returns whether the follow-through applies: a change leads and no other
    rule has tied any symptom to it yet (then those rules told the story)."""
    lead = _leader(out)
    if not applies(req) or lead is None or lead[0][0].kind != "Change":
        return False
    key = lead[0]
    if any(b.parent == key for b in out.values()):
        # other rules tied the first effects to the change: the pools further down
        # are still this run's to tie
        _tie_pools(out, key, topo)
        return False
    _link(out, key)
    if not _tie_pools(out, key, topo):
        _tie_pools_to_callers(out, key)
    if holds_left and lead[1].confidence > HOLD and still_pending(out):
        why = lead[1].rationale + "; held until checked where it acts and tied to its symptoms"
        out[key] = replace(lead[1], confidence=HOLD, rationale=why)
    return True


def _link(out: MutableMapping[Key, Belief], key: Key) -> None:
    for k in _symptomatic(out):
        b = out[k]
        parent = b.parent
        # another reading of the same change record: one change, one chain
        if parent is not None and parent[0] == key[0] and parent != key:
            out[k] = replace(b, parent=key)


def _store(name: str) -> bool:
    return looks_like_database(name) or bool(_POOLER.search(name))


def _depth(out: Mapping[Key, Belief], k: Key, key: Key) -> int | None:
    """How many links below the change (any reading of its record) ``k`` hangs."""
    return next((d for d, up in enumerate(ancestors(out, k), 1) if up[0] == key[0]), None)


def _tie_pools(out: MutableMapping[Key, Belief], key: Key, topo: Topology) -> bool:
    """Change -> the callers' dependency timeouts -> the pool they exhaust.

    The caller is the workload (not a database or pooler) whose calls to its
    dependency time out under the change: one that calls a dependency the
    change itself reaches (not a store), else the one with the most
    independent signals of it, then the most confident. Its timeouts
    hang under what blocked it, when another of its readings names that (the
    policy selecting it), and the pools of the databases and poolers hang
    under its timeouts: the callers stalled on the change hold their
    connections, so the pool runs dry. Returns whether a caller was found."""
    under = {k: d for k in out if (d := _depth(out, k, key)) is not None}
    timed_out = [
        k for k in under if k[1] in _TIMEOUTS and k[0].kind in _CALLERS and not _store(k[0].name)
    ]
    if not timed_out:
        return False
    # every caller of a starved pool turns slow; the one that starved it waits on a
    # dependency cut by the change (or, without the map, logs its own timeouts)
    # (what the change cut: a dependency with a fault of its own under it, not a
    # slow caller in turn, and not the store whose pool ran dry)
    cut = {k[0].name for k in under if k[1] not in _TIMEOUTS and not _store(k[0].name)}
    calls = {(workload_name(s), workload_name(h.split(".")[0])) for s, h, _p in topo.calls()}

    def blocked(k: Key) -> bool:
        return any(c == k[0].name and d in cut and d != c for c, d in calls)

    caller = max(timed_out, key=lambda k: (blocked(k), corroboration(out[k]), k[0].name))
    name = caller[0].name
    blockers = [
        up
        for k in under
        if k[0].name == name
        and (up := out[k].parent) is not None
        and up[0] != key[0]
        and up[0].name != name
        and not _store(up[0].name)
    ]
    top = out[caller]
    if blockers and top.parent is not None and top.parent[0] == key[0]:
        out[caller] = replace(top, parent=blockers[0])  # was straight under the change
    for k, b in list(out.items()):
        if k[1] not in _POOLS or not _store(k[0].name) or k[0].name == name:
            continue
        if b.parent is None or b.parent[0] == key[0]:
            out[k] = replace(b, parent=caller)
    return True


def _tie_pools_to_callers(out: MutableMapping[Key, Belief], key: Key) -> None:
    """Without timeouts to go by: the pools hang under the strongest caller the
    change was tied to (one whose own pool reading leads)."""
    callers = [
        k for k in _symptomatic(out) if out[k].parent == key and not looks_like_database(k[0].name)
    ]
    if not callers:
        return
    caller = max(callers, key=lambda k: (k[1] in _POOLS, out[k].confidence))
    for k, b in list(out.items()):
        # the callers stalled on the change hold their connections: the pool runs dry
        if k[1] in _POOLS and _store(k[0].name) and b.parent is None and k[0] != caller[0]:
            out[k] = replace(b, parent=caller)
