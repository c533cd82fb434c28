"""One governed call through the gateway: who, why, where in the chain, may it, then forward.

The order is the built-in tools' order: the identity (token, owner, suspension,
review hold, kill switch), the stated intent, the chain, then ``decide()`` on the
same ``ToolRequest`` a built-in tool would make. A read it allows is forwarded
and its result redacted; a write is judged as the same read would be (scope,
breakers) and then goes the phase's path: recorded or recommended (never
forwarded), or, where it needs approval, held until a human decides
(holding.py) and forwarded once if approved. Every outcome is audited with the
intent. Refusals are MCP errors carrying the reason code in ``data.reason``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import anyio
import mcp_types as types

from nightshift.agent.tools.governed import tool_request
from nightshift.agent.tools.protocol import ToolCall
from nightshift.domain.actions import ActionCatalog
from nightshift.domain.agents import AgentIdentity
from nightshift.domain.vocabulary import AuthorityClass, TrustPhase
from nightshift.gateway.audit_batch import AuditBatcher
from nightshift.gateway.chain import ChainTracker
from nightshift.gateway.errors import REFUSED, refusal
from nightshift.gateway.holding import HeldCall, Holding
from nightshift.gateway.metrics import GatewayMetrics
from nightshift.gateway.upstream import CHAIN_META, UpstreamTool, forward
from nightshift.gateway.upstream import close as close_upstreams
from nightshift.governance.containment import (
    ChainContext,
    ChainHeaderError,
    start_chain,
    to_header,
)
from nightshift.governance.decisions import Decision, Outcome, ReasonCode, deny
from nightshift.governance.policy import PolicyContext, ToolRequest, decide, request_to_dict
from nightshift.observability.redaction import Redactor
from nightshift.services.gateway import (
    GatewayCaller,
    GatewayRefusal,
    GatewayService,
    decision_record,
)
from nightshift.services.gateway_holds import GatewayHolds

__all__ = ["REFUSED", "CallInput", "GatewayCalls", "refusal"]
HOLD_SECONDS = 120.0  # how long a held call waits for a human (``--hold-seconds``)
INTENT_ARG = "intent"
INTENT_META = "nightshift/intent"
PROPOSAL_NOTE = " [Nightshift gateway: proposal only; recorded for a human, never executed]"
LIST_CHAIN = "gw-tools-list"  # listing spends nothing: a fresh chain each time


@dataclass(frozen=True, slots=True)
class CallInput:
    """What the transport knows about one ``tools/call``."""

    token: str
    name: str
    arguments: Mapping[str, Any]
    meta: Mapping[str, Any]
    chain_header: str | None
    session: str


def phase_path(agent: AgentIdentity) -> tuple[str, Decision]:
    """Where a proposed write goes in the agent's phase (services/proposals.py's
    statuses). No upstream write is a catalog action, so none runs by itself."""
    if agent.phase is TrustPhase.SHADOW:
        why = "shadow phase: the proposal is recorded for review, never shown or executed"
        return "recorded", deny(ReasonCode.SHADOW_RECORD_ONLY, why, visible=False)
    if agent.authority_class is AuthorityClass.ADVISORY or agent.phase is TrustPhase.ASSIST:
        why = f"{agent.phase.value} / {agent.authority_class.value}: a recommendation only"
        return "recommended", deny(ReasonCode.RECOMMENDATION_ONLY, why)
    why = "an upstream write runs only after a human operator approves"
    return "pending_approval", Decision(Outcome.NEEDS_APPROVAL, ReasonCode.APPROVAL_REQUIRED, why)


class GatewayCalls:
    def __init__(
        self,
        service: GatewayService,
        tools: Mapping[str, UpstreamTool],
        catalog: ActionCatalog,
        *,
        intent_required: bool = True,
        metrics: GatewayMetrics | None = None,
        holds: GatewayHolds | None = None,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        self._service = service
        self._tools = dict(tools)
        self._catalog = catalog
        self._intent_required = intent_required
        self._chains = ChainTracker()
        self._redactor = Redactor()
        self.metrics = metrics or GatewayMetrics()
        self._audit = AuditBatcher(service.append)
        # Without holds (a unit's wiring), a needs_approval write is only recorded.
        self._holds = holds
        self._holding = (
            Holding(holds, hold_seconds, self._forward_held, self._caller)
            if holds is not None
            else None
        )

    async def close(self) -> None:
        await self._audit.close()
        await close_upstreams(self._tools)

    async def _caller(self, token: str, what: str) -> GatewayCaller:
        try:
            return await anyio.to_thread.run_sync(self._service.resolve, token, what)
        except GatewayRefusal as exc:
            self.metrics.refused(exc.reason)
            raise refusal(exc.reason, exc.message) from None

    def _judge(self, caller: GatewayCaller, request: ToolRequest, chain: ChainContext) -> Decision:
        context = PolicyContext(
            chain=chain,
            catalog=self._catalog,
            kill_switch=caller.kill_switch,
            calls_last_minute=self._chains.note_call(caller.identity.name),
        )
        try:
            return decide(caller.identity, request, context)
        except Exception as exc:  # fail closed, as GovernedToolset does
            return deny(ReasonCode.POLICY_ERROR, f"policy decision failed: {exc!r}")

    # -- tools/list ---------------------------------------------------------

    async def list_tools(self, token: str) -> list[types.Tool]:
        """The tools this identity may call now (a write: may propose)."""
        caller = await self._caller(token, "tools/list")
        agent = caller.identity
        chain = start_chain(LIST_CHAIN, agent.name, agent.boundaries)
        shown: list[types.Tool] = []
        for tool in self._tools.values():
            request = replace(tool_request(ToolCall(tool.spec.name), tool.spec), namespace=None)
            context = PolicyContext(
                chain=chain, catalog=self._catalog, kill_switch=caller.kill_switch
            )
            if decide(agent, replace(request, read_only=True), context).allowed:
                shown.append(self._offered(tool))
        return shown

    def _offered(self, tool: UpstreamTool) -> types.Tool:
        schema = dict(tool.spec.parameters)
        props = dict(schema.get("properties") or {})
        if INTENT_ARG not in props:
            props[INTENT_ARG] = {
                "type": "string",
                "description": "Why you call this tool: the hypothesis or goal it serves "
                "(recorded in Nightshift's audit trail).",
            }
            if self._intent_required:
                schema["required"] = [*(schema.get("required") or []), INTENT_ARG]
        schema["properties"] = props
        note = "" if tool.spec.read_only else PROPOSAL_NOTE
        return types.Tool(
            name=tool.spec.name,
            title=getattr(tool.tool, "title", None),
            description=(tool.spec.description + note).strip(),
            input_schema=schema,
            annotations=getattr(tool.tool, "annotations", None),
        )

    # -- tools/call ---------------------------------------------------------

    async def call_tool(self, call: CallInput) -> types.CallToolResult:
        started = time.perf_counter()
        caller = await self._caller(call.token, f"tools/call {call.name}")
        agent = caller.identity
        tool = self._tools.get(call.name)
        arguments = dict(call.arguments)
        own_intent = tool is not None and INTENT_ARG in (
            tool.spec.parameters.get("properties") or {}
        )
        raw = arguments.get(INTENT_ARG) if own_intent else arguments.pop(INTENT_ARG, None)
        intent = raw if isinstance(raw, str) and raw.strip() else call.meta.get(INTENT_META)
        intent = intent.strip() if isinstance(intent, str) else ""
        spec = tool.spec if tool is not None else None
        request = tool_request(ToolCall(call.name, arguments), spec)
        audited = {**request_to_dict(request), "params": self._redactor.redact_obj(arguments)}
        if tool is not None:
            audited["source"] = tool.source
        header = call.chain_header or call.meta.get(CHAIN_META)
        try:
            chain = self._chains.context(
                agent, header if isinstance(header, str) else None, call.session
            )
        except ChainHeaderError as exc:
            decision = deny(ReasonCode.INVALID_REQUEST, str(exc))
            return await self._denied(agent, audited, decision, intent, "-")
        if not intent and self._intent_required:
            decision = deny(
                ReasonCode.INVALID_REQUEST,
                f"state why you call {call.name!r}: an {INTENT_ARG!r} argument or _meta "
                f"{INTENT_META!r}",
            )
            return await self._denied(
                agent, audited, decision, intent, chain.chain_id, "intent_required"
            )
        extra = {"chain_path": list(chain.path), "depth": chain.depth}
        if spec is not None and not spec.read_only:
            decision = self._judge(caller, replace(request, read_only=True), chain)
            if not decision.allowed and self._holds is not None:
                return await self._denied_write(agent, audited, decision, intent, chain.chain_id)
            if not decision.allowed:
                return await self._denied(
                    agent, audited, decision, intent, chain.chain_id, extra=extra
                )
            status, path = phase_path(agent)
            if status == "pending_approval" and self._holding is not None:
                self.metrics.call(agent.name, "held", path.reason.value)
                held = HeldCall(agent, call.token, call.name, arguments, audited, path, intent,
                                chain)  # fmt: skip
                return await self._holding.run(held)
            return await self._propose(agent, audited, intent, chain.chain_id, call.name)
        decision = self._judge(caller, request, chain)
        if not decision.allowed or tool is None:
            return await self._denied(agent, audited, decision, intent, chain.chain_id, extra=extra)
        record = decision_record(
            agent, audited, decision, intent=intent, chain_id=chain.chain_id, extra=extra
        )
        # The record commits while the upstream answers; the agent gets the result
        # only once it is durable, and never if it cannot be written.
        recorded = asyncio.ensure_future(self._audit.write(record))
        result, upstream_seconds = await self._send(agent, tool, arguments, chain)
        try:
            await recorded
        except Exception as exc:
            self.metrics.call(agent.name, "error", "audit_unavailable")
            why = f"the decision could not be recorded ({type(exc).__name__}); result withheld"
            raise refusal("audit_unavailable", why) from None
        if upstream_seconds is not None:
            self.metrics.call(agent.name, "allow", decision.reason.value)
            self.metrics.observe(time.perf_counter() - started, upstream_seconds)
        return result

    async def _send(
        self,
        agent: AgentIdentity,
        tool: UpstreamTool,
        arguments: Mapping[str, Any],
        chain: ChainContext,
    ) -> tuple[types.CallToolResult, float | None]:
        """Forward to the upstream, the chain charged and carried; the redacted result
        and the upstream's seconds (None: the upstream failed, a tool error result)."""
        charged = self._chains.charge(chain, calls=1)  # before the call: the header carries it
        upstream_started = time.perf_counter()
        try:
            result = await forward(tool, arguments, to_header(charged))
        except Exception as exc:  # the upstream failed: the agent learns it as a tool error
            text = f"upstream {tool.source!r} failed: {type(exc).__name__}"
            self.metrics.call(agent.name, "error", "upstream_error")
            failed = types.CallToolResult(
                content=[types.TextContent(type="text", text=text)], is_error=True
            )
            return failed, None
        finally:
            self._chains.charge(charged, wall_seconds=time.perf_counter() - upstream_started)
        return self._redacted(result), time.perf_counter() - upstream_started

    async def _forward_held(self, held: HeldCall) -> types.CallToolResult:
        tool = self._tools[held.name]  # only a known tool is ever held
        result, _ = await self._send(held.agent, tool, held.arguments, held.chain)
        self.metrics.call(held.agent.name, "approved", "approved")
        return result

    async def _denied(
        self,
        agent: AgentIdentity,
        audited: Mapping[str, Any],
        decision: Decision,
        intent: str,
        chain_id: str,
        reason: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> NoReturn:
        await self._audit.write(
            decision_record(agent, audited, decision, intent=intent, chain_id=chain_id, extra=extra)
        )
        code = reason or decision.reason.value
        self.metrics.call(agent.name, "deny", code)
        raise refusal(code, decision.message, follow_up=decision.follow_up.value)

    async def _denied_write(
        self,
        agent: AgentIdentity,
        audited: Mapping[str, Any],
        decision: Decision,
        intent: str,
        chain_id: str,
    ) -> NoReturn:
        """A denied write is a denied proposal (audited with it), so it counts for
        the agent's phase gates and demotion as our own agents' do."""
        holds = self._holds
        assert holds is not None
        await anyio.to_thread.run_sync(
            lambda: holds.deny(agent, audited, decision, intent=intent, chain_id=chain_id)
        )
        self.metrics.call(agent.name, "deny", decision.reason.value)
        raise refusal(decision.reason.value, decision.message, follow_up=decision.follow_up.value)

    async def _propose(
        self,
        agent: AgentIdentity,
        audited: Mapping[str, Any],
        intent: str,
        chain_id: str,
        name: str,
    ) -> types.CallToolResult:
        status, decision = phase_path(agent)
        item = await anyio.to_thread.run_sync(
            lambda: self._service.record_proposal(
                agent, audited, decision, status=status, intent=intent, chain_id=chain_id
            )
        )
        self.metrics.call(agent.name, "proposed", status)
        text = (
            f"not executed: {name!r} changes things, so the Nightshift gateway recorded it as a "
            f"proposal ({status}; review item {item}). {decision.message}"
        )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content={"executed": False, "proposal": status, "review_item": item,
                                "reason": decision.reason.value},
            is_error=True,
        )  # fmt: skip

    def _redacted(self, result: Any) -> types.CallToolResult:
        """The upstream's result with secrets removed; non-text blocks are dropped
        (an image or a resource could carry what no redactor can read)."""
        content: list[types.ContentBlock] = []
        for block in result.content:
            text = getattr(block, "text", None)
            if isinstance(text, str):
                content.append(types.TextContent(type="text", text=self._redactor.redact(text)))
            else:
                note = f"[{block.type} content omitted by the Nightshift gateway]"
                content.append(types.TextContent(type="text", text=note))
        structured = result.structured_content
        return types.CallToolResult(
            content=content,
            structured_content=self._redactor.redact_obj(structured) if structured else None,
            is_error=bool(result.is_error),
        )
