"""Turning the final hypothesis board into a ranked Diagnosis."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nightshift.agent.reasoners.protocol import ReasoningSession
from nightshift.domain.diagnosis import (
    ChainLink,
    ChainRole,
    Diagnosis,
    Evidence,
    Hypothesis,
    HypothesisState,
    Outcome,
    RootCause,
)
from nightshift.domain.taxonomy import load_taxonomy

MAX_ROOT_CAUSES = 5
CHAIN_FLOOR = 0.02  # weaker hypotheses are noise, not links of the chain
MAX_CHAIN = 6


def build_diagnosis(
    ranked: Sequence[Hypothesis],
    every: Iterable[Hypothesis],
    evidence: Sequence[Evidence],
    session: ReasoningSession,
    outcome: Outcome,
    cycles: int,
    tool_calls: int,
) -> Diagnosis:
    taxonomy = load_taxonomy()
    causes: list[RootCause] = []
    for h in ranked[:MAX_ROOT_CAUSES]:
        fault = taxonomy.get(h.fault)
        try:
            explanation = session.explain(h.resource, h.fault)
        except Exception:
            explanation = h.rationale
        causes.append(
            RootCause(
                rank=len(causes) + 1,
                resource=h.resource,
                fault=h.fault if h.fault in taxonomy else "unknown",
                category=fault.category,
                explanation=explanation or fault.title,
                confidence=h.confidence,
                evidence_ids=h.supporting,
                remediation_class=fault.remediation,
            )
        )
    every = tuple(every)
    return Diagnosis(
        outcome=outcome,
        root_causes=tuple(causes),
        hypotheses=every,
        evidence=tuple(evidence),
        cycles=cycles,
        tool_calls=tool_calls,
        summary=_summary(outcome, causes),
        causal_chain=causal_chain(ranked[0], every) if ranked else (),
    )


def causal_chain(root: Hypothesis, every: Sequence[Hypothesis]) -> tuple[ChainLink, ...]:
    """The longest path of parent links down from the root cause, one link per resource.

    Ties go to the more confident path: that is the story an operator reads
    (the change -> what it broke -> what the users saw). When the top cause
    is itself the effect of another (a migration that dropped an index), the
    chain starts there."""
    children: dict[str, list[Hypothesis]] = {}
    for h in every:
        if h.parent_id and h.state is not HypothesisState.REJECTED and h.confidence >= CHAIN_FLOOR:
            children.setdefault(h.parent_id, []).append(h)

    def path(h: Hypothesis, seen: frozenset[str]) -> list[Hypothesis]:
        if len(seen) >= MAX_CHAIN:
            return [h]
        options = [
            path(c, seen | {_where(c)}) for c in children.get(h.id, ()) if _where(c) not in seen
        ]
        best = max(options, key=lambda p: (len(p), sum(x.confidence for x in p)), default=[])
        return [h, *best]

    by_id = {h.id: h for h in every}
    above: list[Hypothesis] = []  # what the top cause is itself an effect of (a change)
    up = by_id.get(root.parent_id or "")
    while up is not None and up not in above and up.state is not HypothesisState.REJECTED:
        above.insert(0, up)
        up = by_id.get(up.parent_id or "")
    seen = frozenset({_where(root), *(_where(h) for h in above)})
    taxonomy = load_taxonomy()
    steps = [*above, *path(root, seen)]
    links: list[ChainLink] = []
    for i, h in enumerate(steps):
        role = (
            ChainRole.ROOT_CAUSE
            if i == 0
            else ChainRole.SYMPTOM
            if i == len(steps) - 1
            else ChainRole.EFFECT
        )
        title = taxonomy.get(h.fault).title if h.fault in taxonomy else h.fault
        links.append(ChainLink(h.id, h.resource, h.fault, role, h.confidence, title))
    return tuple(links)


def _where(h: Hypothesis) -> str:
    return f"{h.resource.kind}/{h.resource.name}"


def _summary(outcome: Outcome, causes: Sequence[RootCause]) -> str:
    if not causes:
        return f"{outcome.value}: no candidate root cause; escalate with the evidence trail"
    top = causes[0]
    head = f"{top.fault} on {top.resource} (confidence {top.confidence:.2f})"
    if outcome in (Outcome.BREAKER_TRIPPED, Outcome.BUDGET_EXHAUSTED):
        return f"{outcome.value}: escalating; best candidate so far is {head}"
    return f"{outcome.value}: {head}"
