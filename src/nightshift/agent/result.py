"""Turning the final hypothesis board into a ranked Diagnosis."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from nightshift.agent.reasoners.protocol import ReasoningSession
from nightshift.domain.diagnosis import Diagnosis, Evidence, Hypothesis, Outcome, RootCause
from nightshift.domain.taxonomy import load_taxonomy

MAX_ROOT_CAUSES = 5


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
    return Diagnosis(
        outcome=outcome,
        root_causes=tuple(causes),
        hypotheses=tuple(every),
        evidence=tuple(evidence),
        cycles=cycles,
        tool_calls=tool_calls,
        summary=_summary(outcome, causes),
    )


def _summary(outcome: Outcome, causes: Sequence[RootCause]) -> str:
    if not causes:
        return f"{outcome.value}: no candidate root cause; escalate with the evidence trail"
    top = causes[0]
    head = f"{top.fault} on {top.resource} (confidence {top.confidence:.2f})"
    if outcome in (Outcome.BREAKER_TRIPPED, Outcome.BUDGET_EXHAUSTED):
        return f"{outcome.value}: escalating; best candidate so far is {head}"
    return f"{outcome.value}: {head}"
