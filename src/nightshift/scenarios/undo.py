"""Undoing the last action: the inverse restores the world as it was before it.

The domain action catalog pairs actions with inverses (cordon / uncordon, a
second rollback, scaling back, re-applying a reverted firewall change). Their
generic effects cannot bring back symptoms a fix removed, so an inverse of the
most recent action restores the snapshot taken just before that action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightshift.domain.vocabulary import Domain
from nightshift.scenarios.actions import ActionOutcome, Target, symptoms
from nightshift.scenarios.actions_catalog import normalize_action
from nightshift.scenarios.model import Change, WorldState

INVERSES: dict[str, str] = {
    "cordon-node": "uncordon-node",
    "uncordon-node": "cordon-node",
    "scale-deployment": "scale-deployment",
    "rollback-deployment": "rollback-deployment",
    "revert-firewall-rule": "revert-firewall-rule",
}


@dataclass(frozen=True, slots=True)
class Done:
    """One executed action and the world just before it."""

    action: str
    target: Target
    before: WorldState


def _replicas_before(done: Done) -> int | None:
    for w in done.before.deployments:
        if w.name == done.target.name and done.target.namespace in (None, w.namespace):
            return w.replicas
    return None


def is_undo(last: Done | None, action_type: str, target: Target, params: Mapping[str, Any]) -> bool:
    if last is None:
        return False
    action = normalize_action(action_type)
    if INVERSES.get(last.action) != action or last.target.name != target.name:
        return False
    if last.target.namespace and target.namespace and last.target.namespace != target.namespace:
        return False
    if action == "scale-deployment":  # only scaling back to where it was is an undo
        return params.get("replicas") == _replicas_before(last)
    return True


def undo_message(action: str, target: Target) -> str:
    match action:
        case "cordon-node":
            return f"node/{target.name} cordoned"
        case "uncordon-node":
            return f"node/{target.name} uncordoned"
        case "scale-deployment":
            return f"deployment.apps/{target.name} scaled"
        case "rollback-deployment":
            return f"deployment.apps/{target.name} rolled back"
    return f"change {target.name} re-applied (the revert was undone)"


def record(state: WorldState, action: str, target_text: str, counter: int) -> None:
    """The undo is an action too: it goes into the change log like any other."""
    name = normalize_action(action)
    domain = Domain.NETWORK if name == "revert-firewall-rule" else Domain.KUBERNETES
    kind = {
        "revert-firewall-rule": "firewall",
        "cordon-node": "infrastructure",
        "uncordon-node": "infrastructure",
    }.get(name, "deployment")
    state.changes.append(
        Change(
            id=f"ACT-{counter}",
            at=0,
            domain=domain,
            kind=kind,
            actor="nightshift-remediation",
            target=target_text,
            summary=f"{name} {target_text} (undoes the previous action)",
        )
    )


def undone(last: Done, action: str, target_text: str, dry_run: bool) -> ActionOutcome:
    target = last.target
    message = undo_message(normalize_action(action), target)
    if dry_run:
        return ActionOutcome(
            normalize_action(action),
            target_text,
            True,
            True,
            message + " (server dry run)",
            (),
            False,
            True,
        )
    return ActionOutcome(
        normalize_action(action),
        target_text,
        False,
        True,
        message,
        (f"restored the state from before {last.action} {target_text}",),
        False,
        symptoms(last.before),
    )
