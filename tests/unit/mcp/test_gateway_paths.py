"""Where a proposed upstream write goes in each phase, and which tokens the
gateway even looks up."""

from __future__ import annotations

import pytest

from nightshift.domain.agents import Principal, register_agent
from nightshift.domain.vocabulary import AuthorityClass, PrincipalKind, TrustPhase
from nightshift.gateway.calls import phase_path
from nightshift.services.gateway import parse_token

OWNER = Principal("olivia", "Olivia", PrincipalKind.HUMAN, contact="o@x.org")


@pytest.mark.parametrize(
    ("klass", "phase", "status", "outcome", "visible"),
    [
        (AuthorityClass.SUPERVISED, TrustPhase.SHADOW, "recorded", "deny", False),
        (AuthorityClass.ADVISORY, TrustPhase.ASSIST, "recommended", "deny", True),
        (AuthorityClass.SUPERVISED, TrustPhase.ASSIST, "recommended", "deny", True),
        (AuthorityClass.SUPERVISED, TrustPhase.LIMITED_REMEDIATION, "pending_approval",
         "needs_approval", True),
        # no upstream tool is a catalog action: even autonomy waits for a human
        (AuthorityClass.AUTONOMOUS, TrustPhase.AUTONOMOUS_L1, "pending_approval",
         "needs_approval", True),
    ],
)  # fmt: skip
def test_a_proposed_write_follows_the_phase_path_and_never_runs_by_itself(
    klass: AuthorityClass, phase: TrustPhase, status: str, outcome: str, visible: bool
) -> None:
    agent = register_agent("bot", OWNER, klass, phase=phase)
    got, decision = phase_path(agent)
    assert got == status
    assert decision.outcome.value == outcome
    assert not decision.allowed
    assert decision.visible_to_operators is visible


@pytest.mark.parametrize(
    "token",
    ["", "nsh_abc", "nsg_", "nsg_bot", "nsg_Bad_Name.xxxxxxxxxxxxxxxxxxxxxxxx", "nsg_bot.short",
     "nsg_bot." + "x" * 200],
)  # fmt: skip
def test_malformed_gateway_tokens_are_not_looked_up(token: str) -> None:
    assert parse_token(token) is None


def test_a_gateway_token_names_its_agent() -> None:
    assert parse_token("nsg_triage-bot." + "s" * 43) == ("triage-bot", "s" * 43)
