"""Confirming the leader: its own check supports it and no rival is close."""

from __future__ import annotations

from dataclasses import replace

from nightshift.agent.reasoners.offline.belief import Belief, Key
from nightshift.agent.reasoners.offline.confirmation import LEAD, confirm_leader
from nightshift.domain.diagnosis import ResourceRef

CHANGE: Key = (ResourceRef("Change", "FW-1"), "network-policy-change")
POLICY: Key = (ResourceRef("NetworkPolicy", "egress", "shop"), "network-policy-blocking")
NODE: Key = (ResourceRef("Node", "node-7"), "node-disk-pressure")
CHECKED = {"e1": {"firewall_rules"}}  # the change's own check, per its taxonomy entry


def _scale(b: Belief, confidence: float) -> Belief:
    return replace(b, confidence=confidence)


def _board(rival: Key, parent: Key | None) -> dict[Key, Belief]:
    return {
        CHANGE: Belief(0.80, ("e1",), ("rules dropped 8443",), "change before onset"),
        rival: Belief(0.80 - LEAD / 2, ("e2",), ("egress denied",), "signals", parent),
    }


def test_the_changes_own_effect_is_its_explanation_not_a_rival() -> None:
    board = _board(POLICY, parent=CHANGE)
    assert confirm_leader(board, CHECKED, _scale) == CHANGE
    assert board[CHANGE].confidence > 0.85


def test_a_close_rival_on_another_resource_holds_confirmation_back() -> None:
    board = _board(NODE, parent=None)
    assert confirm_leader(board, CHECKED, _scale) is None
    assert board[CHANGE].confidence == 0.80
