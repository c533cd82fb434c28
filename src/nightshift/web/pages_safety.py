"""Console pages for cases handed to humans: escalations and the shadow review queue.

The roles are the API's (routes/escalations.py, routes/reviews.py): anyone
with the viewer role reads the escalations and the review list (which carries
no diagnosis); acknowledging and resolving take the operator role; reading a
shadow item's output and marking it reviewed take the ops-lead role, since
reviewing means reading output hidden from everyone else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from nightshift.api.deps import EscalationsDep, ProposalsDep, ReviewsDep
from nightshift.domain.vocabulary import Role
from nightshift.services.concealment import UNCONCEALED
from nightshift.services.errors import Invalid, ServiceError
from nightshift.services.escalations import EscalationView
from nightshift.web.forms import Operator, OpsLead, Text
from nightshift.web.responses import page
from nightshift.web.session import require, signed_in

router = APIRouter(include_in_schema=False)
Status = Annotated[str, Query(max_length=16)]
ESCALATION_STATUSES = ("open", "acked", "resolved")
REVIEW_STATUSES = ("open", "reviewed")


@router.get("/escalations")
def escalations(request: Request, svc: EscalationsDep, status: Status = "") -> Response:
    found = signed_in(request)
    require(found, Role.VIEWER)
    wanted = status if status in ESCALATION_STATUSES else None  # "" or junk: every status
    items = svc.list(status=wanted, agent=None, limit=200)
    return page(
        request,
        "escalations.html",
        found,
        items=items,
        status=wanted or "",
        statuses=ESCALATION_STATUSES,
    )


def _handled(v: EscalationView) -> str:
    return f"escalation {v.id} {v.status}"


@router.post("/escalations/{esc_id}/ack")
def acknowledge(
    esc_id: str, post: Operator, escalations: EscalationsDep, note: Text = ""
) -> Response:
    return post.answer("/escalations", lambda: _handled(escalations.ack(esc_id, post.caller, note)))


@router.post("/escalations/{esc_id}/resolve")
def resolve(
    esc_id: str,
    post: Operator,
    escalations: EscalationsDep,
    resolution: Text = "",
    warranted: Text = "",
) -> Response:
    def act() -> str:
        if not resolution.strip():  # the API's ResolveIn: min_length=1
            raise Invalid("say how it was resolved")
        was = {"yes": True, "no": False}.get(warranted)  # anything else: not judged
        return _handled(
            escalations.resolve(esc_id, post.caller, warranted=was, resolution=resolution)
        )

    return post.answer("/escalations", act)


@router.get("/reviews")
def reviews(request: Request, svc: ReviewsDep, status: Status = "open") -> Response:
    found = signed_in(request)
    require(found, Role.VIEWER)
    wanted = status if status in REVIEW_STATUSES else None  # "any" as in the API
    items = svc.list(status=wanted, limit=200)
    return page(
        request,
        "reviews.html",
        found,
        items=items,
        status=status if wanted else "any",
        statuses=REVIEW_STATUSES,
        can_review=found.caller.has(Role.OPS_LEAD),
    )


@router.get("/reviews/{item_id}")
def review(request: Request, item_id: str, svc: ReviewsDep, proposals: ProposalsDep) -> Response:
    """The hidden output itself: ops leads only (403 for others, as GET /v1/reviews/shadow/ID)."""
    found = signed_in(request)
    require(found, Role.OPS_LEAD)
    try:
        item = svc.get(item_id)
    except ServiceError as exc:
        return page(request, "error.html", found, status_code=404, problem=str(exc))
    props = (
        # The reviewer's read, as GET /v1/reviews/shadow/ID.
        proposals.of_investigation(item.investigation_id, UNCONCEALED)
        if item.investigation_id
        else []
    )
    from nightshift.web.views import diagnosis_of

    return page(
        request, "review.html", found, item=item, diag=diagnosis_of(item.result), proposals=props
    )


@router.post("/reviews/{item_id}/review")
def mark_reviewed(item_id: str, post: OpsLead, svc: ReviewsDep, note: Text = "") -> Response:
    def act() -> str:
        v = svc.mark_reviewed(item_id, post.caller, note)
        return f"shadow output of {v.investigation_id or v.id} {v.status}"

    return post.answer("/reviews", act)
