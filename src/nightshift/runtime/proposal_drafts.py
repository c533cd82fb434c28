"""From a diagnosis to remediation proposal drafts (pure; the worker posts them).

The agent proposes, policy decides: for its top root cause(s) the worker maps
the taxonomy's remediation class and the named resource onto catalog actions.
Only what the catalog has, on a target that fits the action's blast radius
(a pod action needs a pod, a namespaced action a namespace), and nothing
that needs parameters the agent cannot know (e.g. a replica count).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nightshift.domain.actions import ActionCatalog, ActionSpec, BlastRadius
from nightshift.domain.diagnosis import Diagnosis, RootCause

MAX_PROPOSALS = 3
RELATIVE_FLOOR = 0.5  # causes below half the top confidence are not acted on
_TARGET_KINDS: dict[BlastRadius, frozenset[str]] = {
    BlastRadius.POD: frozenset({"pod"}),
    BlastRadius.DEPLOYMENT: frozenset({"deployment", "statefulset", "daemonset"}),
    BlastRadius.NODE: frozenset({"node"}),
    BlastRadius.RULE: frozenset({"change", "firewallrule", "firewallruleset", "rule"}),
    BlastRadius.CHANGE: frozenset({"change"}),
}
_NEEDS_PARAMS = frozenset({"scale-deployment"})


@dataclass(frozen=True, slots=True)
class Draft:
    action: str
    root_cause: RootCause
    hypothesis_id: str | None

    def to_dict(self) -> dict[str, Any]:
        rc = self.root_cause
        return {
            "action": self.action,
            "target": rc.resource.to_dict(),
            "confidence": round(rc.confidence, 4),
            "hypothesis_id": self.hypothesis_id,
            "rationale": f"{rc.fault} on {rc.resource}: {rc.explanation}"[:4000],
            "evidence_ids": list(rc.evidence_ids[:100]),
            "params": {},
        }


def fits(spec: ActionSpec, cause: RootCause) -> bool:
    if spec.name in _NEEDS_PARAMS:
        return False
    # A blast radius this mapping does not know yet is never targeted blindly.
    if cause.resource.kind.lower() not in _TARGET_KINDS.get(spec.scope, frozenset()):
        return False
    return not (spec.scope.namespaced and not cause.resource.namespace)


def propose_remediations(
    diagnosis: Diagnosis, catalog: ActionCatalog, *, limit: int = MAX_PROPOSALS
) -> list[Draft]:
    """Catalog actions for the leading root causes; empty when escalating."""
    if diagnosis.escalate or not diagnosis.root_causes:
        return []
    floor = diagnosis.root_causes[0].confidence * RELATIVE_FLOOR
    drafts: list[Draft] = []
    # One fix per resource, the leading cause's: a rival reading of the same object
    # (a firewall change vs a policy change on one change record) is not a second action.
    seen: set[str] = set()
    for cause in diagnosis.root_causes:
        if cause.confidence < floor or len(drafts) >= limit:
            break
        spec = next(
            (s for s in catalog.implementing(cause.remediation_class) if fits(s, cause)), None
        )
        if spec is None or str(cause.resource) in seen:
            continue
        seen.add(str(cause.resource))
        hypothesis = next(
            (
                h.id
                for h in diagnosis.hypotheses
                if h.resource == cause.resource and h.fault == cause.fault
            ),
            None,
        )
        drafts.append(Draft(spec.name, cause, hypothesis))
    return drafts
