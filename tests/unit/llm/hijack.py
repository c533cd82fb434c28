"""The prompt-injection harness: plant a corpus entry in an incident's data,
let a scripted model that obeys whatever it reads drive the investigation
through the production stack (real SDK over HTTP, the worker's policy
wrapper around the toolset), and account for every call it tried."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import count
from pathlib import Path
from typing import Any

import yaml

from nightshift.agent.events import EventKind
from nightshift.agent.reasoners.llm.answer import ASSESS, parse_resource
from nightshift.agent.reasoners.llm.fake import AnalystModel
from nightshift.agent.reasoners.llm.prompt import neutralise
from nightshift.agent.reasoners.llm.provider import ChatRequest, ChatResponse, ModelToolCall
from nightshift.agent.reasoners.llm.stream import investigate_reasoned
from nightshift.agent.tools.catalog import BY_NAME
from nightshift.agent.tools.governed import tool_request
from nightshift.agent.tools.protocol import ToolCall, ToolResult, Toolset, ToolSpec, ToolStatus
from nightshift.domain.actions import ActionProposal, load_action_catalog
from nightshift.domain.agents import AgentIdentity, Boundaries, Principal
from nightshift.domain.vocabulary import AuthorityClass, Domain, PrincipalKind, TrustPhase
from nightshift.governance.decisions import Decision
from nightshift.governance.policy import (
    ActionRequest,
    PolicyContext,
    Request,
    SelfModificationRequest,
    decide,
)
from nightshift.model_backends.factory import build_reasoner
from nightshift.runtime.worker_policy import WorkerGovernance
from tests.support.fake_llm_server import FakeLLMServer, chat_responder
from tests.unit.llm.worlds import world

CORPUS = Path(__file__).parent / "data" / "injections.yaml"
CHANNEL_TOOLS = {
    "log": {"kubectl_logs", "logs_search"},
    "event": {"kubectl_events"},
    "annotation": {"kubectl_describe", "kubectl_get"},
    "alert": {"list_alerts"},
}


@dataclass(frozen=True)
class Injection:
    id: str
    channel: str
    text: str
    attempt: tuple[ToolCall, ...]

    @property
    def marker(self) -> str:
        """What the model sees of the text once fenced (first line, defused)."""
        return neutralise(self.text.splitlines()[0])[:32]


def load_corpus() -> list[Injection]:
    raw = yaml.safe_load(CORPUS.read_text())
    return [
        Injection(
            e["id"],
            e["channel"],
            e["text"],
            tuple(ToolCall(a["tool"], dict(a.get("params") or {})) for a in e["attempt"]),
        )
        for e in raw["attempts"]
    ]


def agent() -> AgentIdentity:
    return AgentIdentity(
        name="triage",
        owner=Principal("olivia", "Olivia", PrincipalKind.HUMAN, contact="olivia@example.org"),
        authority_class=AuthorityClass.SUPERVISED,
        phase=TrustPhase.ASSIST,
        boundaries=Boundaries(
            namespaces=frozenset({"shop", "data", "ingress-nginx"}),
            domains=frozenset(
                {Domain.KUBERNETES, Domain.APPLICATION, Domain.NETWORK, Domain.DATABASE}
            ),
            action_types=frozenset({"restart-pod"}),
        ),
    )


class InjectingToolset:
    """Plants the text at the top of every answer of the channel's tools."""

    def __init__(self, inner: Toolset, injection: Injection) -> None:
        self.inner = inner
        self.injection = injection
        self.executed: list[ToolCall] = []

    def specs(self) -> Sequence[ToolSpec]:
        return self.inner.specs()

    async def call(self, call: ToolCall) -> ToolResult:
        self.executed.append(call)  # reached the data sources: past policy
        result = await self.inner.call(call)
        if call.name not in CHANNEL_TOOLS[self.injection.channel]:
            return result
        text = self.injection.text
        if self.injection.channel == "event":
            header = "LAST SEEN   TYPE      REASON   OBJECT         MESSAGE"
            text = f"{header}\n2m          Warning   Notice   pod/checkout   {text}"
        elif self.injection.channel == "annotation":
            text = f"Annotations:  {text}"
        return ToolResult(ToolStatus.OK, f"{text}\n{result.text}", result.data, result.error)


@dataclass
class HijackedModel:
    """Obeys the planted instruction whenever it can see it; otherwise it
    behaves like a cooperative analyst."""

    injection: Injection
    emitted: list[ToolCall] = field(default_factory=list)
    saw: int = 0
    analyst: AnalystModel = field(default_factory=AnalystModel)
    ids: Any = field(default_factory=lambda: count(1))

    def answer(self, request: ChatRequest) -> ChatResponse:
        cooperative = self.analyst.answer(request)
        if self.injection.marker not in request.user:
            return cooperative
        self.saw += 1
        self.emitted.extend(self.injection.attempt)
        calls = [
            ModelToolCall(f"h{next(self.ids)}", c.name, json.dumps(dict(c.params)))
            for c in self.injection.attempt
        ]
        assess = next(c for c in cooperative.tool_calls if c.name == ASSESS)
        undone = json.dumps(json.loads(assess.arguments) | {"done": False})
        calls.append(replace(assess, arguments=undone))
        return replace(cooperative, tool_calls=tuple(calls))


@dataclass
class Outcome:
    injection: Injection
    saw: int
    tried: list[ToolCall]
    reached_policy: list[tuple[ToolCall, Mapping[str, Any]]]  # (call, decision as recorded)
    stopped_by_validation: list[ToolCall]
    direct_decisions: list[tuple[ToolCall, Decision]]
    executed: list[ToolCall]


def _same(a: ToolCall, name: str, params: Mapping[str, Any]) -> bool:
    return a.name == name and dict(a.params) == dict(params)


def policy_request(call: ToolCall) -> Request:
    """What a tried call amounts to for policy, whatever its name."""
    params = dict(call.params)
    if call.name == "propose_action":
        target = parse_resource(str(params["target"]))
        assert target is not None
        proposal = ActionProposal(str(params["action"]), target, float(params["confidence"]))
        return ActionRequest(proposal)
    if call.name == "update_own_config":
        return SelfModificationRequest(str(params["parameter"]), str(params["value"]))
    return tool_request(call, BY_NAME.get(call.name))


async def run_injection(injection: Injection, server: FakeLLMServer) -> Outcome:
    request, simulated, _ = world("two-am-cascade")
    question = request.question
    if injection.channel == "alert":
        question = f"{question}\n{injection.text}"
    # The agent may read its own namespaces only, so the request names one (as the
    # control plane's spec does); cluster-wide reads are denied like the attacks.
    request = replace(request, question=question, namespace="shop")
    governance = WorkerGovernance(agent(), "chain-injection-01", load_action_catalog())
    planted = InjectingToolset(simulated, injection)
    hijacked = HijackedModel(injection)
    server.responder = chat_responder(hijacked.answer)
    config = {
        "provider": "openai",
        "model": "gpt-test",
        "base_url": server.openai_base,
        "always": True,
        "consult_after_cycles": 1,
        "excerpts": "all",  # worst case: every answer's raw text reaches the model
        "excerpts_total_chars": 50_000,
        "token_budget": 200_000,
    }
    reasoner = build_reasoner(config, {"api_key": "sk-test"})
    try:
        await investigate_reasoned(request, governance.wrap(planted), reasoner)
    finally:
        await reasoner.model.close()  # type: ignore[attr-defined]
    decided = [e.data for e in governance.drain() if e.kind is EventKind.POLICY_DECISION]
    tried = list({repr((c.name, sorted(c.params.items()))): c for c in hijacked.emitted}.values())
    reached: list[tuple[ToolCall, Mapping[str, Any]]] = []
    stopped: list[ToolCall] = []
    direct: list[tuple[ToolCall, Decision]] = []
    for call in tried:
        seen = [d for d in decided if _same(call, d["tool"], d["params"])]
        if seen:
            reached.append((call, seen[0]["decision"]))
        else:
            stopped.append(call)
            direct.append((call, governance_decide(governance, call)))
    executed = [c for c in planted.executed if any(_same(c, t.name, t.params) for t in tried)]
    return Outcome(injection, hijacked.saw, tried, reached, stopped, direct, executed)


def governance_decide(governance: WorkerGovernance, call: ToolCall) -> Decision:
    """The decision point asked directly, for calls the reasoner already refused."""
    request = policy_request(call)
    context = PolicyContext(chain=governance.chain, catalog=load_action_catalog())
    return decide(governance.identity, request, context)
