"""What a caller may see of unreviewed shadow output (pure).

In shadow the agent runs on real data but its output goes nowhere: until an ops
lead reviews a shadow investigation, its diagnosis (result, hypotheses,
proposals, the reason in the final status) is hidden from everyone but admins.
The services decide this in their caller-facing reads
(``InvestigationService.get/search/events``, ``ProposalService.of_investigation``;
the approvals queue, ``ProposalService.get/list``, keeps shadow records for
admins even after review, as they are never anyone's to act on), so
no route or page can forget it; this module holds the rule and the hiding of
one event.

Those reads take the reader as a required argument. A person or worker is a
:class:`Caller`; the control plane reading for itself (dispatch, execution,
the CLI on the host, tests) passes :data:`UNCONCEALED`, so a read that hides
nothing says so where it is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from nightshift.domain.access import Caller
from nightshift.domain.vocabulary import InvestigationStatus, Role, TrustPhase
from nightshift.governance.permissions import output_visible

Reader = Caller | None
UNCONCEALED: Final[None] = None  # the control plane itself reads: nothing is hidden
CONCEALED = "shadow output: hidden until reviewed"
# Event kinds that carry the diagnosis; tool traffic and status stay visible.
HIDDEN_EVENT_KINDS = frozenset(
    {
        "result",
        "hypothesis.created",
        "hypothesis.updated",
        "hypothesis.confirmed",
        "hypothesis.rejected",
        "cycle.finished",
        "action.proposed",
    }
)


def conceals(trust_phase: TrustPhase | str, reviewed_at: datetime | None, caller: Reader) -> bool:
    """Hide the output of an investigation run in ``trust_phase`` from this reader?"""
    if caller is None or caller.has(Role.ADMIN):
        return False
    try:
        phase = TrustPhase(trust_phase)
    except ValueError:
        return True  # fail closed on an unknown phase
    return not output_visible(phase, reviewed=reviewed_at is not None)


def conceal_event(kind: str, data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The event as a concealed caller may see it, or ``None`` to drop it."""
    if kind in HIDDEN_EVENT_KINDS:
        return None
    if kind == "status" and data.get("reason"):
        try:
            terminal = InvestigationStatus(str(data.get("status"))).terminal
        except ValueError:
            terminal = True
        if terminal:
            return {**data, "reason": CONCEALED}
    return data
