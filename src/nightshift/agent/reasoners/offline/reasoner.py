"""The offline reasoner: deterministic, explainable, no network.

Per investigation it keeps a topology (what exists and what calls what), the
beliefs (signal-weighted confidences per resource and fault) and what has been
asked. ``plan`` picks the most valuable unasked calls; ``observe`` runs the
analyzers over the answer and reports every belief that moved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from nightshift.agent.reasoners.offline import crossdomain
from nightshift.agent.reasoners.offline.analyzers import analyze
from nightshift.agent.reasoners.offline.belief import Belief, Key
from nightshift.agent.reasoners.offline.beliefs import Beliefs
from nightshift.agent.reasoners.offline.calls import Candidate
from nightshift.agent.reasoners.offline.mentions import read_request
from nightshift.agent.reasoners.offline.questions import candidates, fingerprint, select
from nightshift.agent.reasoners.offline.steps import step_of
from nightshift.agent.reasoners.offline.topology import Topology, workload_name
from nightshift.agent.reasoners.protocol import HypothesisUpdate, Observation, Plan
from nightshift.agent.request import InvestigationRequest
from nightshift.agent.tools.protocol import ToolCall, ToolResult, ToolSpec, ToolStatus
from nightshift.domain.diagnosis import EvidenceStance, ResourceRef
from nightshift.domain.taxonomy import load_taxonomy

CALLS_PER_PLAN = 6


class OfflineReasoner:
    name = "offline"

    def __init__(self, calls_per_plan: int = CALLS_PER_PLAN) -> None:
        self.calls_per_plan = calls_per_plan

    def start(self, request: InvestigationRequest, tools: Sequence[ToolSpec]) -> OfflineSession:
        load_taxonomy()  # parse the catalog at start-up, not inside a timed cycle
        return OfflineSession(request, {t.name for t in tools}, self.calls_per_plan)


class OfflineSession:
    def __init__(self, request: InvestigationRequest, tools: set[str], per_plan: int) -> None:
        self.request = request
        self.tools = tools
        self.per_plan = per_plan
        self.topo = Topology()
        self.beliefs = Beliefs(causes_checked="recent_changes" not in tools)
        self.current: dict[Key, Belief] = {}
        self.asked: set[str] = set()
        self.holds = 0  # plans a leading change was held for its cross-domain checks
        self.follow = False  # whether those checks are due (crossdomain.settle)
        mentions = read_request(request)
        self.topo.names.extend(mentions.names)
        self.topo.kinds.update(mentions.kinds)
        self.topo.hint_ns = mentions.namespace
        if mentions.namespace:
            self.topo.namespaces.add(mentions.namespace)

    async def plan(self) -> Plan:
        cands = [
            c
            for c in candidates(self.request, self.topo, self.current)
            if c.call.name in self.tools
        ]
        follow = self._follow_through(self.current) if self.follow else []
        self.holds += bool(follow)
        chosen = select([*cands, *follow], self.asked, self.per_plan)
        focus = max(self.current.items(), key=lambda kv: kv[1].confidence, default=None)
        reason = "; ".join(dict.fromkeys(c.why for c in chosen))
        return Plan(tuple(c.call for c in chosen), focus[0] if focus else None, reason[:400])

    async def observe(self, call: ToolCall, result: ToolResult, evidence_id: str) -> Observation:
        self.asked.add(fingerprint(call))
        self.beliefs.steps_done |= step_of(call)
        self.beliefs.evidence_steps[evidence_id] = step_of(call)
        analysis = analyze(call, result, self.topo)
        if call.name == "recent_changes":
            self.beliefs.causes_checked = True
        for finding in analysis.findings:
            self.beliefs.add_finding(finding, evidence_id)
        pod = call.params.get("pod")
        if call.name == "kubectl_logs" and isinstance(pod, str) and result.status is ToolStatus.OK:
            seen = self.beliefs.pod_logs.setdefault(pod, set())
            seen |= {f.signal for f in analysis.findings}
        self._learn_names()
        for change in analysis.changes:
            self.beliefs.add_change(change, evidence_id)
        new = self.beliefs.evaluate(self.topo)
        self.follow = crossdomain.settle(
            self.request,
            self.topo,
            new,
            lambda b: bool(self._follow_through(b)),
            self.holds < crossdomain.MAX_HOLDS,
        )
        updates: list[HypothesisUpdate] = []
        for key, belief in sorted(
            new.items(), key=lambda kv: (-kv[1].confidence, kv[0][1], kv[0][0].name)
        ):
            old = self.current.get(key)
            same_parent = old is not None and old.parent == belief.parent
            if old is not None and same_parent and abs(old.confidence - belief.confidence) < 0.005:
                continue
            down = old is not None and belief.confidence < old.confidence
            # an effect whose cause was found is explained, not refuted: it stays in the chain
            stance = EvidenceStance.SUPPORTS
            if down:
                stance = EvidenceStance.NEUTRAL if belief.parent else EvidenceStance.REFUTES
            updates.append(
                HypothesisUpdate(
                    resource=key[0],
                    fault=key[1],
                    confidence=belief.confidence,
                    stance=stance,
                    rationale=belief.rationale,
                    parent=belief.parent,
                )
            )
        for key in self.current.keys() - new.keys():  # renamed once its precise ref was learned
            updates.append(
                HypothesisUpdate(
                    resource=key[0],
                    fault=key[1],
                    confidence=0.0,
                    stance=EvidenceStance.REFUTES,
                    rationale="merged into the same resource under its precise kind/namespace",
                )
            )
        self.current = new
        findings = tuple(f"{f.signal}: {f.line}" for f in analysis.findings[:20])
        findings += tuple(f"change: {c.line}" for c in analysis.changes[:20])
        return Observation(analysis.summary, findings, tuple(updates))

    def _follow_through(self, beliefs: Mapping[Key, Belief]) -> list[Candidate]:
        """The cross-domain checks still due on a leading change (crossdomain.py)."""
        due = crossdomain.pending(self.request, self.topo, beliefs, self.asked)
        return [c for c in due if c.call.name in self.tools]

    def _learn_names(self) -> None:
        """A workload seen in a listing whose name the question uses is a named one."""
        words = set(re.findall(r"[a-z0-9][a-z0-9-]*", self.request.question.lower()))
        for pod in list(self.topo.pods):
            base = workload_name(pod)
            if base in words and base not in self.topo.names:
                self.topo.names.append(base)

    def explain(self, resource: ResourceRef, fault: str) -> str:
        spec = load_taxonomy().get(fault)
        belief = self.current.get((resource, fault))
        lines = belief.lines[:4] if belief else ()
        related = self._related_lines(resource, set(lines))
        quoted = " | ".join(f'"{line}"' for line in (*lines, *related))
        parts = [f"{spec.title} ({fault}) on {resource}."]
        if quoted:
            parts.append(f"Observed: {quoted}.")
        since = self.beliefs.first_seen.get((resource.name, fault))
        if since is not None:
            stamp = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            parts.append(f"First seen: {stamp}.")
        if belief and belief.rationale:
            parts.append(f"Why: {belief.rationale}.")
        parts.append(f"To confirm: {spec.confirm}. Suggested remediation: {spec.remediation}.")
        return " ".join(parts)

    def _related_lines(self, resource: ResourceRef, seen: set[str]) -> list[str]:
        """Other observations on the same resource, so the paragraph stands alone."""
        extra: list[str] = []
        for (ref, _fault), belief in sorted(self.current.items(), key=lambda kv: -kv[1].confidence):
            if ref.name != resource.name:
                continue
            for line in belief.lines:
                if line not in seen and line not in extra:
                    extra.append(line)
        return extra[:3]
