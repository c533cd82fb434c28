"""Drift by Nightshift names the investigation whose executed action changed the object."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nightshift.domain.changes import Change, ChangeKind, ChangeTarget
from nightshift.domain.vocabulary import Domain
from nightshift.gitops.attribution import investigation_lookup
from nightshift.gitops.declared import ObjectKey


@dataclass
class Executed:
    investigation_id: str
    target: dict[str, Any] = field(default_factory=dict)


FW = Change(
    id="c-1", ref="FW-77", at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC), actor="firewall-bot",
    summary="tighten", kind=ChangeKind.FIREWALL, domain=Domain.NETWORK,
    target=ChangeTarget("NetworkPolicy", "api-egress", "shop"),
)  # fmt: skip


def test_the_newest_executed_action_on_the_object_names_the_investigation() -> None:
    lookup = investigation_lookup(
        [
            Executed("inv-new", {"kind": "deployment", "name": "checkout", "namespace": "shop"}),
            Executed("inv-old", {"kind": "Deployment", "name": "checkout", "namespace": "shop"}),
            Executed("inv-revert", {"kind": "Change", "name": "FW-77"}),
            Executed("inv-gone", {"kind": "Change", "name": "FW-0"}),
        ],
        {"FW-77": FW}.get,
    )
    assert lookup(ObjectKey("apps", "Deployment", "shop", "checkout")) == "inv-new"
    assert lookup(ObjectKey("networking.k8s.io", "NetworkPolicy", "shop", "api-egress")) == (
        "inv-revert"
    )
    assert lookup(ObjectKey("apps", "Deployment", "shop", "cart")) is None
