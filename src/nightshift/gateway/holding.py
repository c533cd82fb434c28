"""Holding a ``needs_approval`` call until a human decides, then forwarding it once.

The agent's ``tools/call`` stays open while the approval request it opened
(services/gateway_holds.py) waits in the approvals queue. The gateway polls
the request's status: approved, it claims the request (so it is forwarded once,
even if two processes look), checks the agent's identity and kill switch again
(a switch engaged while the human thought still stops it) and forwards the
arguments it kept in memory; rejected, expired or gone, the agent gets an MCP
error that says which (``data.reason``: ``approval_rejected``,
``approval_expired``, ``approval_lost``). An agent that hangs up while held
expires its request at once: nobody would receive the result.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.exceptions import MCPError

from nightshift.domain.agents import AgentIdentity
from nightshift.gateway.errors import refusal
from nightshift.governance.containment import ChainContext
from nightshift.governance.decisions import Decision
from nightshift.services.gateway_holds import GatewayHolds, HeldState
from nightshift.services.proposals import APPROVED, EXPIRED, PENDING, REJECTED

POLL_SECONDS = 0.2  # how often a held call looks at its approval request


@dataclass(frozen=True, slots=True)
class HeldCall:
    """One call on hold: what to forward if a human approves it."""

    agent: AgentIdentity
    token: str
    name: str
    arguments: Mapping[str, Any]
    audited: Mapping[str, Any]
    decision: Decision
    intent: str
    chain: ChainContext


def _outcome(state: HeldState, proposal: str, name: str) -> MCPError:
    who = state.decided_by or "a human"
    if state.status == REJECTED:
        return refusal(
            "approval_rejected",
            f"{who} rejected {name!r} (approval request {proposal}): {state.reason}",
            proposal=proposal,
            decided_by=state.decided_by,
        )
    if state.status == EXPIRED:
        return refusal(
            "approval_expired",
            f"nobody approved {name!r} before approval request {proposal} expired; not executed",
            proposal=proposal,
        )
    return refusal(
        "approval_lost",
        f"approval request {proposal} is {state.status}; {name!r} was not executed",
        proposal=proposal,
    )


class Holding:
    def __init__(
        self,
        holds: GatewayHolds,
        hold_seconds: float,
        forward: Callable[[HeldCall], Awaitable[types.CallToolResult]],
        recheck: Callable[[str, str], Awaitable[object]],
    ) -> None:
        self._holds = holds
        self.hold_seconds = hold_seconds
        self._forward = forward  # forwards, charges the chain, redacts
        self._recheck = recheck  # the identity again (raises the refusal)

    async def run(self, call: HeldCall) -> types.CallToolResult:
        holds = self._holds
        proposal = await anyio.to_thread.run_sync(
            lambda: holds.hold(
                call.agent, call.audited, call.decision, intent=call.intent,
                chain_id=call.chain.chain_id, hold_seconds=self.hold_seconds,
            )
        )  # fmt: skip
        try:
            state = await self._wait(proposal, time.monotonic() + self.hold_seconds)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(holds.expire, proposal)
            raise
        if state.status != APPROVED:
            raise _outcome(state, proposal, call.name)
        if not await anyio.to_thread.run_sync(holds.claim, proposal):
            raise _outcome(await anyio.to_thread.run_sync(holds.state, proposal), proposal,
                           call.name)  # fmt: skip
        try:
            await self._recheck(call.token, f"tools/call {call.name} (approved {proposal})")
        except MCPError as exc:
            why = {"summary": f"refused at forwarding: {exc.error.message}"}
            await anyio.to_thread.run_sync(lambda: holds.finish(proposal, ok=False, outcome=why))
            raise
        try:
            result = await self._forward(call)
        except BaseException:
            with anyio.CancelScope(shield=True):
                lost = {"summary": "the gateway lost the call while forwarding it"}
                await anyio.to_thread.run_sync(
                    lambda: holds.finish(proposal, ok=False, outcome=lost)
                )
            raise
        texts = " ".join(getattr(b, "text", "") for b in result.content)
        done = {"summary": texts[:500], "upstream_error": bool(result.is_error)}
        await anyio.to_thread.run_sync(
            lambda: holds.finish(proposal, ok=not result.is_error, outcome=done)
        )
        return result

    async def _wait(self, proposal: str, deadline: float) -> HeldState:
        holds = self._holds
        while True:
            state = await anyio.to_thread.run_sync(holds.state, proposal)
            if state.status != PENDING:
                return state
            if time.monotonic() >= deadline:
                await anyio.to_thread.run_sync(holds.expire, proposal)
                return await anyio.to_thread.run_sync(holds.state, proposal)
            await anyio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
