"""Beliefs: evidence-weighted confidences per (resource, fault).

Signals combine by noisy-OR (independent indications), counted once per
signal kind so a log repeating one error a thousand times is one indication.
Causal adjustments then apply: a change that preceded the symptoms and can
explain them absorbs their weight (time awareness), a downstream dependency
with a concrete fault explains upstream symptoms (topology awareness), and
symptom-only faults are capped so they never end an investigation alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nightshift.agent.reasoners.offline.belief import Belief, Key, noisy_or, revised, strengthened
from nightshift.agent.reasoners.offline.change_weights import weigh_changes
from nightshift.agent.reasoners.offline.changes import names_object
from nightshift.agent.reasoners.offline.confirmation import confirm_leader
from nightshift.agent.reasoners.offline.dependency_links import (
    crash_about_dependency,
    held_pools,
    never_created,
)
from nightshift.agent.reasoners.offline.egress import lookups_behind_egress_policy
from nightshift.agent.reasoners.offline.faults import SIGNAL_FAULTS, SYMPTOM_FAULTS
from nightshift.agent.reasoners.offline.findings import Change, Finding
from nightshift.agent.reasoners.offline.localize import FIX_KIND, one_replica, relocate
from nightshift.agent.reasoners.offline.placement import irrelevant_cordons, retarget
from nightshift.agent.reasoners.offline.steps import confirm_steps
from nightshift.agent.reasoners.offline.topology import Topology, workload_name
from nightshift.domain.diagnosis import ResourceRef

SYMPTOM_CAP = 0.8
UNCHECKED_CAP = 0.84  # before the change log, or the fault's own check, was consulted
OFF_FOCUS = 0.45
BURST_GAP_S = 45 * 60  # faults on resources the request does not name
STALE_S = 6 * 3600  # began this long before the onset: history, not the live fault
STALE_WEIGHT = 0.4
# Signals that mark "something is wrong now" (their times give the onset).
SYMPTOM_SIGNALS = frozenset(
    {
        "alert-failing",
        "timeout",
        "conn-refused",
        "dep-unreachable",
        "pool-exhausted",
        "too-many-conns",
        "latency",
        "slow-op",
        "slow-db-call",
        "crashloop",
        "app-exception",
        "dns-fail",
        "auth-failed",
        "cert-expired",
        "endpoints-none",
        "readiness-failed",
        "liveness-failed",
        "oomkilled",
        "image-pull",
        "packet-loss",
        "db-locks",
        "db-slow",
        "db-down",
        "schema-error",
        "throttling",
    }
)
_BLOCKS_CREATION = frozenset(
    {
        "resource-quota-exceeded",
        "missing-service-account",
        "admission-webhook-denied",
        "pod-security-policy-violation",
        "limit-range-violation",
    }
)


_SLOW = "high-latency-dependency"
_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
_SERVICE_FAULTS = frozenset({"service-selector-mismatch", "service-port-mismatch"})
_GENERIC = ("Component", "Workload")


def _faults_of(signal: str) -> tuple[tuple[str, float], ...]:
    """Context findings add detail (and a little weight) to their signal's faults."""
    if signal.startswith("context:"):
        return tuple((fault, 0.02) for fault, _w in SIGNAL_FAULTS.get(signal[8:], ()))
    return SIGNAL_FAULTS.get(signal, ())


def _signals_of(fault: str) -> set[str]:
    """The signals that indicate ``fault``."""
    return {sig for sig, faults in SIGNAL_FAULTS.items() if any(f == fault for f, _w in faults)}


@dataclass(slots=True)
class Beliefs:
    support: dict[Key, dict[str, tuple[float, str, str]]] = field(default_factory=dict)
    changes: list[tuple[Change, str]] = field(default_factory=list)
    canonical: dict[str, ResourceRef] = field(default_factory=dict)
    workloads: dict[str, ResourceRef] = field(default_factory=dict)  # name -> its workload
    symptom_times: list[float] = field(default_factory=list)
    causes_checked: bool = False
    steps_done: set[str] = field(default_factory=set)  # "tool" / "tool:kind" already asked
    evidence_steps: dict[str, set[str]] = field(default_factory=dict)  # evidence id -> steps
    line_at: dict[str, float] = field(default_factory=dict)  # finding line -> when it began
    pod_logs: dict[str, set[str]] = field(default_factory=dict)  # pod -> signals in its logs
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)  # (name, fault)

    def resource(self, ref: ResourceRef) -> ResourceRef:
        """One ref per name: the most specific kind and any known namespace win."""
        if ref.kind in _WORKLOAD_KINDS:
            self.workloads.setdefault(ref.name, ref)
        known = self.canonical.get(ref.name)
        if known is None:
            self.canonical[ref.name] = ref
            return ref
        if ref.kind not in _GENERIC and known.kind not in _GENERIC and ref.kind != known.kind:
            # a Service and the Deployment behind it share a name, not a fault
            return ResourceRef(ref.kind, ref.name, ref.namespace or known.namespace)
        kind = ref.kind if known.kind in _GENERIC and ref.kind not in _GENERIC else known.kind
        merged = ResourceRef(kind, ref.name, known.namespace or ref.namespace)
        self.canonical[ref.name] = merged
        return merged

    def add_finding(self, finding: Finding, evidence_id: str) -> None:
        ref = (
            finding.subject if finding.subject.kind == "Change" else self.resource(finding.subject)
        )
        for fault, weight in _faults_of(finding.signal):
            at = ref
            if finding.subject.kind in _GENERIC and ref.kind == "Service":
                at = finding.subject  # resolved in evaluate, once the workload may be known
            slot = self.support.setdefault((at, fault), {})
            if finding.signal not in slot or slot[finding.signal][0] < weight:
                slot[finding.signal] = (weight, evidence_id, finding.line)
            if finding.at is not None:
                self.line_at[finding.line] = finding.at
            if finding.at is not None and finding.at >= 0 and weight >= 0.1:
                seen = self.first_seen.get((ref.name, fault))
                self.first_seen[(ref.name, fault)] = min(finding.at, seen or finding.at)
        if finding.at is not None and finding.signal in SYMPTOM_SIGNALS:
            self.symptom_times.append(finding.at)

    @property
    def onset(self) -> float | None:
        """When the incident started: the first symptom of the latest burst.

        Walking back from the newest symptom while consecutive symptoms are
        less than BURST_GAP_S apart keeps stale, unrelated alerts from hours or
        days earlier from dragging the onset back."""
        times = sorted(t for t in self.symptom_times if t >= 0) or sorted(self.symptom_times)
        if not times:
            return None
        onset = times[-1]
        for t in reversed(times[:-1]):
            if onset - t > BURST_GAP_S:
                break
            onset = t
        return onset

    def add_change(self, change: Change, evidence_id: str) -> None:
        self.changes.append((change, evidence_id))
        if names_object(change):  # the change log states what kind the changed object is
            self.resource(ResourceRef(change.object_kind, change.target, change.namespace))

    def evaluate(self, topo: Topology) -> dict[Key, Belief]:
        out: dict[Key, Belief] = {}
        merged: dict[Key, dict[str, tuple[float, str, str]]] = {}
        for (ref, fault), slot in self.support.items():  # refs learned more precise since
            canon = ref
            if ref.kind in _GENERIC:  # a name seen before its kind was known
                canon = self.canonical.get(ref.name, ref)
                if canon.kind == "Service" and fault not in _SERVICE_FAULTS:
                    # an unqualified app name: callers reach it by its Service, but a
                    # fault of the app itself (its connection limit) is its workload's
                    canon = self.workloads.get(ref.name, canon)
            elif ref.namespace is None and ref.kind != "Change":
                known = self.canonical.get(ref.name)
                if known is not None and known.kind == ref.kind:
                    canon = known
            target = merged.setdefault((canon, fault), {})
            for signal, val in slot.items():
                if signal not in target or target[signal][0] < val[0]:
                    target[signal] = val
        onset = self.onset
        for key, slot in merged.items():
            vals = sorted(slot.values(), key=lambda v: -v[0])
            conf = noisy_or([v[0] * self._recency(v[2], onset) for v in vals])
            out[key] = Belief(
                conf,
                tuple(v[1] for v in vals),
                tuple(v[2] for v in vals),
                "signals: " + ", ".join(sorted(slot)),
            )
        self._refute(out, topo)
        self._downstream(out, topo)
        never_created(out, topo)
        crash_about_dependency(out)
        lookups_behind_egress_policy(out, noisy_or, lambda b, c, parent: revised(b, c, parent))
        weigh_changes(out, self.changes, self.onset, self.resource)
        held_pools(out, topo)
        retarget(out, topo, lambda b, conf, parent: revised(b, conf, parent=parent))
        self._focus(out, topo)
        # after focus: the object to fix is reached through the named workload
        noted = frozenset(
            n.split(".")[0] for c, _e in self.changes for n in (c.target, *c.names) if n
        )
        relocate(out, lambda b, conf, parent: revised(b, conf, parent=parent), noted)
        irrelevant_cordons(
            out, topo, lambda b, conf, parent: revised(b, conf, parent=parent), noted
        )
        one_replica(
            out,
            self.pod_logs,
            _signals_of,
            workload_name,
            lambda b, conf, parent: revised(b, conf, parent=parent),
        )
        cap_all = 1.0 if self.causes_checked else UNCHECKED_CAP
        capped = {
            k: revised(b, min(b.confidence, cap_all, self._cap(k[1]))) for k, b in out.items()
        }
        # caps first: a leader that may not be confirmed yet is not raised past them
        leader = confirm_leader(capped, self.evidence_steps, revised)
        if leader is not None:
            b = capped[leader]
            capped[leader] = revised(b, min(b.confidence, cap_all, self._cap(leader[1])))
        return capped

    def _recency(self, line: str, onset: float | None) -> float:
        """Events outlive their cause: a signal that began long before the incident's
        onset (a day-old alert still firing, a warning that stopped growing) is history,
        not the live fault, and weighs less."""
        at = self.line_at.get(line)
        if at is None or onset is None or at < 0 or onset - at <= STALE_S:
            return 1.0
        return STALE_WEIGHT

    def _cap(self, fault: str) -> float:
        """Symptoms never end a run alone; nothing is confirmed before its own check."""
        cap = SYMPTOM_CAP if fault in SYMPTOM_FAULTS else 1.0
        steps = confirm_steps(fault)
        if steps and not (steps & self.steps_done):
            cap = min(cap, UNCHECKED_CAP)
        return cap

    def _downstream(self, out: dict[Key, Belief], topo: Topology) -> None:
        """An upstream symptom is explained by a concrete fault of what it calls."""
        for source, host, _port in topo.calls():
            target = workload_name(host.split(".")[0])
            concrete = [k for k in out if k[0].name == target and k[1] not in SYMPTOM_FAULTS]
            upstream = [
                k for k in out if k[0].name == workload_name(source) and k[1] in SYMPTOM_FAULTS
            ]
            if not concrete:  # a slow callee explains its slow callers (latency adds up)
                concrete = [k for k in out if k[0].name == target and k[1] == _SLOW]
                upstream = [k for k in upstream if k[1] == _SLOW]
            if not concrete or not upstream:
                continue
            strongest = max(out[k].confidence for k in upstream)
            for k in concrete:
                b = out[k]
                out[k] = strengthened(
                    b, 0.5 * strongest, f"; explains {source}'s failures calling {host}"
                )
            for k in upstream:
                out[k] = revised(out[k], out[k].confidence * 0.7, parent=concrete[0])

    def _refute(self, out: dict[Key, Belief], topo: Topology) -> None:
        """Faults that stop pods from being created cannot explain pods that exist."""
        started = {
            workload_name(p.name)
            for p in topo.pods.values()
            if p.status not in ("", "Unknown", "Pending")
        }
        for key, b in list(out.items()):
            if f"short:{key[0].name}" in topo.kinds:  # some pods exist, the rest are refused
                continue
            if key[1] in _BLOCKS_CREATION and key[0].name in started:
                out[key] = Belief(
                    b.confidence * 0.3,
                    b.evidence_ids,
                    b.lines,
                    b.rationale + "; but its pods were created, so this is not what blocks it",
                    b.parent,
                )

    def _focus(self, out: dict[Key, Belief], topo: Topology) -> None:
        """When the request names resources, faults elsewhere are less likely the answer."""
        if not topo.names:
            return
        wanted = {workload_name(n) for n in topo.names} | set(topo.names)
        for source, host, _port in topo.calls():
            if any(_same(source, w) for w in wanted):
                wanted.add(workload_name(host.split(".")[0]))
        # the nodes the named workloads run on: a node fault is below their pods
        wanted |= {n for p, n in topo.pod_nodes.items() if workload_name(p) in wanted}
        for key, b in list(out.items()):
            if key[0].kind == "Change" or any(_same(key[0].name, w) for w in wanted):
                continue
            # the object a named workload's own events blame (its quota, its node)
            if key[0].kind == FIX_KIND.get(key[1]) and any(
                _same(n, w) for line in b.lines for n in _WORD.findall(line) for w in wanted
            ):
                continue
            out[key] = revised(b, b.confidence * OFF_FOCUS)


_WORD = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")


def _same(resource: str, wanted: str) -> bool:
    return (
        resource == wanted
        or workload_name(resource) == wanted
        or (len(wanted) >= 4 and wanted in resource)
    )
