"""Confirmation: the leading hypothesis whose own check came back supporting it.

The taxonomy says how each fault is confirmed (``confirm``: the tools and
object kinds that show it). When evidence from one of those checks supports
the leading hypothesis, and no rival on another resource is close, that is
what a human would call confirmed: its confidence rises past the stopping
threshold instead of the run asking on until nothing is left. A change is
not confirmed by the change log that listed it, only by a check of what it
changed; a symptom is never confirmed (it is explained, not fixed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Protocol, TypeVar

from nightshift.agent.reasoners.offline.belief import ancestors
from nightshift.agent.reasoners.offline.faults import SYMPTOM_FAULTS
from nightshift.agent.reasoners.offline.steps import confirm_steps
from nightshift.domain.diagnosis import ResourceRef

CONFIRM_WEIGHT = 0.5  # what a supporting result of the fault's own check is worth
LEAD = 0.12  # the margin over the best rival on another resource
_LISTINGS = frozenset({"recent_changes", "list_alerts"})  # they list, they do not check


class _Belief(Protocol):
    @property
    def confidence(self) -> float: ...
    @property
    def evidence_ids(self) -> tuple[str, ...]: ...
    @property
    def parent(self) -> tuple[ResourceRef, str] | None: ...


B = TypeVar("B", bound=_Belief)
Key = tuple[ResourceRef, str]


def checked_by_own_step(
    fault: str, evidence_ids: tuple[str, ...], steps_of: Mapping[str, set[str]]
) -> bool:
    steps = confirm_steps(fault) - _LISTINGS
    return bool(steps) and any(steps_of.get(eid, set()) & steps for eid in evidence_ids)


def confirm_leader(
    out: MutableMapping[Key, B],
    steps_of: Mapping[str, set[str]],
    scale: Callable[[B, float], B],
) -> Key | None:
    """Raise the leader when its own check supports it; returns the confirmed key."""
    ranked = sorted(out.items(), key=lambda kv: -kv[1].confidence)
    if not ranked:
        return None
    key, lead = ranked[0]
    if key[1] in SYMPTOM_FAULTS or not checked_by_own_step(key[1], lead.evidence_ids, steps_of):
        return None
    rival = next(
        (
            b.confidence
            for k, b in ranked[1:]
            if k[0].name != key[0].name and not _below(out, k, key)
        ),
        0.0,
    )
    if lead.confidence - rival < LEAD:
        return None
    raised = 1.0 - (1.0 - lead.confidence) * (1.0 - CONFIRM_WEIGHT)
    out[key] = scale(lead, max(lead.confidence, raised))
    return key


def _below(out: Mapping[Key, B], k: Key, lead: Key) -> bool:
    """Whether ``k`` hangs under the leader's resource: the leader's own effect (the
    policy a change rewrote, the caller it stalled) is its explanation, not a rival."""
    return any(up[0] == lead[0] for up in ancestors(out, k))
