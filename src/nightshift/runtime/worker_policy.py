"""Policy inside the worker: the agent's toolset is wrapped so every call is
decided by the pure policy function before it runs, against the identity
and boundaries the control plane handed over, with the chain's budget and a
per-minute call window. Each decision is also reported back as an event,
which the control plane turns into an audit record with the intent behind it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nightshift.agent.events import AgentEvent, EventKind
from nightshift.agent.tools.governed import GovernedToolset
from nightshift.agent.tools.protocol import ToolCall, Toolset
from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import AgentIdentity
from nightshift.governance.budgets import BudgetExhaustedError
from nightshift.governance.containment import ChainContext, parse_header, start_chain, to_header
from nightshift.governance.decisions import Decision
from nightshift.governance.destinations import NO_DECLARED_DESTINATIONS, DestinationBounds
from nightshift.governance.policy import PolicyContext, ToolRequest, decide, request_to_dict

_WINDOW_SECONDS = 60.0


class WorkerGovernance:
    def __init__(
        self,
        identity: AgentIdentity,
        chain_id: str,
        catalog: ActionCatalog,
        inherited_header: str | None = None,
        destinations: DestinationBounds = NO_DECLARED_DESTINATIONS,
    ) -> None:
        self.identity = identity
        # Hosts of this worker's declared sources and the network allow-list:
        # what a probe may reach besides the agent's cluster Services.
        self.destinations = destinations
        # A delegated investigation inherits its chain's path and remaining budget.
        self.chain: ChainContext = (
            parse_header(inherited_header)
            if inherited_header
            else start_chain(chain_id, identity.name, identity.boundaries)
        )
        self._catalog = catalog
        self._calls: deque[float] = deque()
        self.intent = ""  # the reasoning behind the call being decided
        self._pending: list[AgentEvent] = []

    def wrap(self, toolset: Toolset) -> GovernedToolset:
        return GovernedToolset(toolset, self.decide, audit=self._record, audit_allowed=True)

    def decide(self, request: ToolRequest) -> Decision:
        now = time.monotonic()
        while self._calls and now - self._calls[0] > _WINDOW_SECONDS:
            self._calls.popleft()
        context = PolicyContext(
            chain=self.chain,
            catalog=self._catalog,
            calls_last_minute=len(self._calls),
            destinations=self.destinations,
        )
        decision = decide(self.identity, request, context)
        if decision.allowed:
            self._calls.append(now)
            # decide() allowed it, so at least one call is left; at zero the next
            # decision is denied with budget_exhausted and the chain stops.
            self.chain = self.chain.charged(tool_calls=1)
        return decision

    def charge_model_call(self, call: Mapping[str, Any]) -> None:
        """Spend a model call's tokens and cost from the chain budget; at zero the
        next tool decision is denied (the LLM path keeps its own hard budget)."""
        tokens = int(call.get("input_tokens") or 0) + int(call.get("output_tokens") or 0)
        cost = float(call.get("cost_usd", 0.0) or 0.0)
        try:
            self.chain = self.chain.charged(tokens=tokens, cost_usd=cost)
        except BudgetExhaustedError:
            self.chain = replace(
                self.chain, remaining=replace(self.chain.remaining, tokens=0, cost_usd=0.0)
            )

    def header(self) -> str:
        """The ``Nightshift-Chain`` value for this worker's outgoing agent hops."""
        return to_header(self.chain)

    def drain(self) -> list[AgentEvent]:
        out, self._pending = self._pending, []
        return out

    def _record(self, call: ToolCall, request: ToolRequest, decision: Decision) -> None:
        data: Mapping[str, Any] = {
            "tool": call.name,
            "params": dict(call.params),
            "request": request_to_dict(request),
            "decision": decision.to_dict(),
            "intent": self.intent,
        }
        self._pending.append(AgentEvent(EventKind.POLICY_DECISION, data))
